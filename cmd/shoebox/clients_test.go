package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLitmus runs the litmus 0.13 WebDAV conformance suites against a bucket.
func TestLitmus(t *testing.T) {
	runLitmus(t, startServer(t))
}

// runLitmus runs litmus's five suites against a bucket of s.
func runLitmus(t *testing.T, s *server) {
	t.Helper()
	litmus := needTool(t, "litmus")
	s.mkcol("/dav/litmus-bucket")
	cmd := exec.Command(litmus, s.url("/dav/litmus-bucket/"), "admin", adminPW)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "TESTS=basic copymove props locks http")
	out, err := cmd.CombinedOutput()
	summaries := regexp.MustCompile(`summary for .(\w+).: of (\d+) tests run: (\d+) passed, (\d+) failed`).FindAllStringSubmatch(string(out), -1)
	if len(summaries) != 5 {
		t.Fatalf("litmus ran %d suites; want 5 (err %v):\n%s", len(summaries), err, out)
	}
	for _, m := range summaries {
		if m[4] != "0" || m[2] != m[3] {
			t.Errorf("litmus %s: %s of %s passed, %s failed", m[1], m[3], m[2], m[4])
		}
	}
	if t.Failed() {
		t.Logf("litmus output:\n%s", out)
	}
	if strings.Contains(string(out), "WARNING") {
		t.Logf("litmus warnings:\n%s", grepLines(string(out), "WARNING"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// makeTree writes a tree of files with awkward names and random contents.
func makeTree(t *testing.T, dir string) {
	t.Helper()
	files := map[string]int{
		"a.txt": 10, "empty.bin": 0, "big.bin": 3 << 20, "with space/photo 1.jpg": 50_000,
		"plus+sign/x+y.txt": 100, "ünïcödé/日本語.heic": 2048, "deep/er/and/deeper/f.dat": 70_000,
		"percent%20name.txt": 5, ".DS_Store": 6148, "._IMG_0001.JPG": 4096,
	}
	for name, size := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, size)
		rand.Read(b)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Date(2019, 6, 12, 14, 3, 22, 0, time.UTC).Add(time.Duration(size) * time.Second)
		os.Chtimes(p, mt, mt)
	}
}

func rcloneEnv(s *server, vendor string) []string {
	obscured, err := exec.Command("rclone", "obscure", adminPW).Output()
	if err != nil {
		s.t.Fatal(err)
	}
	return append(os.Environ(),
		"RCLONE_CONFIG_SB_TYPE=webdav",
		"RCLONE_CONFIG_SB_URL="+s.url("/dav/"),
		"RCLONE_CONFIG_SB_VENDOR="+vendor,
		"RCLONE_CONFIG_SB_USER=admin",
		"RCLONE_CONFIG_SB_PASS="+strings.TrimSpace(string(obscured)),
		"RCLONE_CONFIG=/dev/null",
	)
}

func rclone(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("rclone", args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rclone %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestRclone syncs a tree up and back down with rclone's webdav backend and
// checks both ways, as vendor "other" (sizes), "owncloud" (modification
// times through X-OC-Mtime, MD5 checksums) and "nextcloud" (times).
func TestRclone(t *testing.T) {
	needTool(t, "rclone")
	s := startServer(t)
	for _, vendor := range []string{"other", "owncloud", "nextcloud"} {
		t.Run(vendor, func(t *testing.T) {
			env := rcloneEnv(s, vendor)
			src, back := t.TempDir(), t.TempDir()
			makeTree(t, src)
			bucket := "rclone-" + vendor
			s.mkcol("/dav/" + bucket)
			remote := "sb:" + bucket + "/tree"
			rclone(t, env, "sync", src, remote)
			rclone(t, env, "check", src, remote)
			rclone(t, env, "sync", remote, back)
			rclone(t, env, "check", remote, back)
			rclone(t, env, "check", src, back)
			// A second sync must find nothing to do.
			out := rclone(t, env, "sync", "-v", src, remote)
			if strings.Contains(out, "Copied") {
				t.Errorf("second sync copied again:\n%s", out)
			}
			if vendor != "other" {
				local := rclone(t, env, "lsl", src)
				remoteL := rclone(t, env, "lsl", remote)
				if normLsl(local) != normLsl(remoteL) {
					t.Errorf("modification times differ:\nlocal:\n%s\nremote:\n%s", local, remoteL)
				}
				if vendor == "nextcloud" {
					return // rclone's nextcloud vendor asks for SHA1 only
				}
				// MD5 is served through oc:checksums, so rclone can compare hashes.
				rclone(t, env, "check", "--download=false", "--checksum", src, remote)
				sums := rclone(t, env, "md5sum", remote)
				if !strings.Contains(sums, "big.bin") || strings.Contains(sums, "UNSUPPORTED") {
					t.Errorf("rclone md5sum through oc:checksums:\n%s", sums)
				}
			}
		})
	}
}

// normLsl keeps size, time to the second and name of rclone lsl lines, sorted.
func normLsl(s string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		out = append(out, f[0]+" "+f[1]+" "+f[2][:8]+" "+strings.Join(f[3:], " "))
	}
	sortStrings(out)
	return strings.Join(out, "\n")
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// TestCadaver drives cadaver, a command-line WebDAV client, with a script.
func TestCadaver(t *testing.T) {
	cadaver := needTool(t, "cadaver")
	s := startServer(t)
	s.mkcol("/dav/cad")
	home := t.TempDir()
	host := strings.Split(s.addr, ":")[0]
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte(fmt.Sprintf("machine %s login admin password %s\n", host, adminPW)), 0o600); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "up.txt"), []byte("uploaded by cadaver\n"), 0o644)
	script := strings.Join([]string{
		"mkcol sub", "cd sub", "put up.txt", "get up.txt down.txt", "move up.txt moved.txt",
		"ls", "delete moved.txt", "cd ..", "ls", "quit",
	}, "\n") + "\n"
	cmd := exec.Command(cadaver, s.url("/dav/cad/"))
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cadaver: %v\n%s", err, out)
	}
	got, _ := os.ReadFile(filepath.Join(work, "down.txt"))
	if string(got) != "uploaded by cadaver\n" {
		t.Fatalf("cadaver get: %q; output:\n%s", got, out)
	}
	for _, w := range []string{"moved.txt", "succeeded"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("cadaver output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(string(out), "failed") {
		t.Errorf("a cadaver command failed:\n%s", out)
	}
	// The server agrees: the folder exists, the file was moved then deleted.
	resp, _ := s.do("GET", "/dav/cad/sub/moved.txt", nil)
	if resp.StatusCode != 404 {
		t.Errorf("moved.txt after delete: %d; want 404", resp.StatusCode)
	}
	resp, _ = s.do("PROPFIND", "/dav/cad/sub/", nil, "Depth", "0")
	if resp.StatusCode != 207 {
		t.Errorf("PROPFIND sub: %d; want 207", resp.StatusCode)
	}
}
