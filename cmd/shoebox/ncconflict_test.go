package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// ncMetric sums shoebox_http_requests_total for method on the Nextcloud
// front door, from /metrics.
func ncMetric(t *testing.T, s *server, method string) int {
	t.Helper()
	_, body := s.do("GET", "/metrics", nil)
	n := 0
	re := regexp.MustCompile(`shoebox_http_requests_total\{method="` + method + `",protocol="nextcloud",status="2[0-9]+"\} ([0-9]+)`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

// TestNextcloudCmdConflictAndChunks: with Debian's nextcloudcmd, a 40 MiB
// file goes up through chunked upload (MKCOL, chunk PUTs, MOVE of .file)
// byte-identical, and a file changed on both sides between two runs
// yields the client's conflict copy locally, losing neither version.
func TestNextcloudCmdConflictAndChunks(t *testing.T) {
	bin := needTool(t, "nextcloudcmd")
	s := startServer(t)
	s.mkcol("/dav/sync")
	local, home := t.TempDir(), t.TempDir()
	big := make([]byte, 40<<20)
	rand.Read(big)
	if err := os.WriteFile(filepath.Join(local, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(local, "note.txt"), []byte("first version\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sync := func(what string) string {
		t.Helper()
		cmd := exec.Command(bin, "--non-interactive", "-u", "admin", "-p", adminPW, "--path", "/sync", local, s.url(""))
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nextcloudcmd (%s): %v\n%s", what, err, lastLines(out, 40))
		}
		return string(out)
	}

	moves := ncMetric(t, s, "MOVE")
	sync("first run")
	if got := s.get("/dav/sync/big.bin"); !bytes.Equal([]byte(got), big) {
		t.Errorf("big.bin on the server: %d bytes, not the 40 MiB uploaded", len(got))
	}
	if got := ncMetric(t, s, "MOVE"); got <= moves {
		t.Errorf("Nextcloud MOVEs after uploading 40 MiB: %d; want a chunked upload's MOVE of .file", got)
	}
	// The upload collection: the only MKCOL on the front door here.
	if mk, puts := ncMetric(t, s, "MKCOL"), ncMetric(t, s, "PUT"); mk == 0 || puts < 2 {
		t.Errorf("Nextcloud MKCOLs %d, PUTs %d after the first run; want an upload collection and its chunks", mk, puts)
	} else {
		t.Logf("first run: %d MKCOL, %d PUT, %d MOVE on the Nextcloud front door", mk, puts, ncMetric(t, s, "MOVE")-moves)
	}

	// Changed on both sides between runs.
	time.Sleep(1100 * time.Millisecond) // a different modification time second
	const mine, theirs = "changed on the computer, longer than before\n", "changed on the server\n"
	if err := os.WriteFile(filepath.Join(local, "note.txt"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	s.put("/dav/sync/note.txt", theirs)
	out := sync("after changes on both sides")

	got, err := os.ReadFile(filepath.Join(local, "note.txt"))
	if err != nil || string(got) != theirs {
		t.Errorf("note.txt locally after the conflict: %q, %v; want the server's %q", got, err, theirs)
	}
	copies, _ := filepath.Glob(filepath.Join(local, "note (conflicted copy *).txt"))
	if len(copies) != 1 {
		ents, _ := os.ReadDir(local)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("conflict copies: %v; want one \"note (conflicted copy …).txt\" (local files %v)\n%s", copies, names, lastLines([]byte(out), 30))
	}
	if b, _ := os.ReadFile(copies[0]); string(b) != mine {
		t.Errorf("%s: %q; want the local version %q", filepath.Base(copies[0]), b, mine)
	}
	if got := s.get("/dav/sync/note.txt"); got != theirs {
		t.Errorf("note.txt on the server: %q; want %q", got, theirs)
	}
	// The big file was not sent again.
	if got := s.get("/dav/sync/big.bin"); !bytes.Equal([]byte(got), big) {
		t.Errorf("big.bin on the server after the second run: %d bytes", len(got))
	}
}
