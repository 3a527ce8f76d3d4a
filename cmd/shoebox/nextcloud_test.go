package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// ncPuts is the number of PUTs the server has answered on the Nextcloud
// front door, from /metrics.
func ncPuts(t *testing.T, s *server) int {
	t.Helper()
	_, body := s.do("GET", "/metrics", nil)
	n := 0
	re := regexp.MustCompile(`shoebox_http_requests_total\{method="PUT",protocol="nextcloud",status="[0-9]+"\} ([0-9]+)`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

// TestNextcloudCmd syncs a folder of photos with Debian's nextcloudcmd: the
// first run uploads everything byte-identical with the modification times,
// a second transfers nothing, and deletions travel both ways.
func TestNextcloudCmd(t *testing.T) {
	bin := needTool(t, "nextcloudcmd")
	s := startServer(t)
	s.mkcol("/dav/photos")
	local, home := t.TempDir(), t.TempDir()
	media := filepath.Join("..", "..", "..", "shared", "testdata", "media")
	names := []string{"beach_original.jpg", "canon_eos.jpg", "IMG_20180704_101500.jpg", "PXL_20230115_083000123.jpg"}
	mtime := time.Date(2015, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(media, n))
		if err != nil {
			t.Skipf("test media: %v", err)
		}
		if err := os.WriteFile(filepath.Join(local, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(local, n), mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	sync := func(what string) string {
		t.Helper()
		cmd := exec.Command(bin, "--non-interactive", "-u", "admin", "-p", adminPW, "--path", "/photos", local, s.url(""))
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nextcloudcmd (%s): %v\n%s", what, err, lastLines(out, 40))
		}
		return string(out)
	}

	sync("first run")
	if got := ncPuts(t, s); got != len(names) {
		t.Errorf("PUTs after the first run: got %d; want %d", got, len(names))
	}
	for _, n := range names {
		want, _ := os.ReadFile(filepath.Join(local, n))
		if got := s.get("/dav/photos/" + n); got != string(want) {
			t.Errorf("%s on the server: %d bytes, not the %d uploaded", n, len(got), len(want))
		}
		resp, _ := s.do("HEAD", "/dav/photos/"+n, nil)
		if lm, _ := time.Parse(time.RFC1123, resp.Header.Get("Last-Modified")); !lm.Equal(mtime) {
			t.Errorf("%s: Last-Modified %s; want %s", n, resp.Header.Get("Last-Modified"), mtime)
		}
	}

	sync("second run")
	if got := ncPuts(t, s); got != len(names) {
		t.Errorf("PUTs after a second run: got %d; want %d (nothing to transfer)", got, len(names))
	}

	// Deleted on the server: deleted locally.
	resp, _ := s.do("DELETE", "/dav/photos/"+names[0], nil)
	want(t, resp, "", 204)
	sync("after a delete on the server")
	if _, err := os.Stat(filepath.Join(local, names[0])); !os.IsNotExist(err) {
		t.Errorf("%s deleted on the server is still local (%v)", names[0], err)
	}
	// Deleted locally: deleted on the server.
	if err := os.Remove(filepath.Join(local, names[1])); err != nil {
		t.Fatal(err)
	}
	sync("after a local delete")
	if resp, _ := s.do("HEAD", "/dav/photos/"+names[1], nil); resp.StatusCode != 404 {
		t.Errorf("%s deleted locally: HEAD on the server answered %d; want 404", names[1], resp.StatusCode)
	}
	for _, n := range names[2:] {
		if fi, err := os.Stat(filepath.Join(local, n)); err != nil || !fi.ModTime().Equal(mtime) {
			t.Errorf("%s after the syncs: %v; want it kept with mtime %s", n, err, mtime)
		}
	}
	if got := ncPuts(t, s); got != len(names) {
		t.Errorf("PUTs after the deletes: got %d; want %d", got, len(names))
	}
}

func lastLines(b []byte, n int) []byte {
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}
