package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestAuthAndIsolation(t *testing.T) {
	s := startServer(t)
	resp, body := s.doAs("admin", "wrong", "PROPFIND", "/dav/", nil, "Depth", "0")
	want(t, resp, body, 401)
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("WWW-Authenticate = %q; want a Basic challenge", resp.Header.Get("WWW-Authenticate"))
	}
	resp, body = s.doAs("", "", "GET", "/dav/", nil)
	want(t, resp, body, 401)

	// A second user, added while the server is stopped.
	s.stop()
	if out, err := runCLI(t, "bobs-secret\n", "user", "add", "bob", "--data", s.data, "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	s.start()
	// With the server running, commands that need the catalog to themselves
	// say clearly that it holds the data (user commands are run by the
	// server: TestAdminWhileRunning).
	out, err := runCLI(t, "", "fsck", "--data", s.data)
	if err == nil || !strings.Contains(out, "held by a running shoebox server") {
		t.Errorf("fsck while serving: err %v, output %q; want a clear refusal", err, out)
	}

	s.mkcol("/dav/private")
	s.put("/dav/private/secret.txt", "admin's")
	resp, body = s.doAs("bob", "bobs-secret", "PROPFIND", "/dav/", nil, "Depth", "1")
	want(t, resp, body, 207)
	if strings.Contains(body, "private") {
		t.Errorf("bob's root lists admin's bucket:\n%s", body)
	}
	for _, m := range []string{"GET", "PROPFIND", "DELETE"} {
		resp, _ = s.doAs("bob", "bobs-secret", m, "/dav/private/secret.txt", nil)
		if resp.StatusCode != 404 && resp.StatusCode != 403 {
			t.Errorf("bob %s admin's file: %d; want 404 or 403", m, resp.StatusCode)
		}
	}
	// Bob may have a bucket of the same name, separate from admin's.
	resp, body = s.doAs("bob", "bobs-secret", "MKCOL", "/dav/private", nil)
	want(t, resp, body, 201)
	resp, body = s.doAs("bob", "bobs-secret", "GET", "/dav/private/secret.txt", nil)
	want(t, resp, body, 404)
	if got := s.get("/dav/private/secret.txt"); got != "admin's" {
		t.Errorf("admin's file = %q", got)
	}
}

func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	steps := []struct {
		stdin string
		args  []string
		ok    bool
		out   string
	}{
		{"pw1\n", []string{"user", "add", "alice"}, true, "password set"},
		{"pw1\n", []string{"user", "add", "alice"}, false, "exists"},
		{"", []string{"user", "list"}, true, "alice"},
		{"pw2\n", []string{"user", "passwd", "alice"}, true, "password set"},
		{"pw2\n", []string{"user", "passwd", "nobody"}, false, "not found"},
		{"", []string{"user", "rm", "alice"}, true, "removed"},
		{"", []string{"user", "rm", "alice"}, false, "not found"},
		{"pw\n", []string{"user", "add", "bad/name"}, false, "user name"},
	}
	for _, st := range steps {
		args := append(st.args, "--data", data)
		if st.stdin != "" { // only add and passwd read a password
			args = append(args, "--password-stdin")
		}
		out, err := runCLI(t, st.stdin, args...)
		if (err == nil) != st.ok || !strings.Contains(out, st.out) {
			t.Errorf("shoebox %s: err %v, output %q; want ok=%v and %q", strings.Join(st.args, " "), err, out, st.ok, st.out)
		}
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("data: "+dir+"\ndav_adr: 127.0.0.1:1\n"), 0o644)
	out, err := runCLI(t, "", "serve", "--config", bad)
	if err == nil || !strings.Contains(out, "dav_adr") {
		t.Errorf("unknown key: err %v, output %q; want an error naming dav_adr", err, out)
	}
}

// TestBadPaths: "..", NUL and absolute components get 400 and touch nothing.
func TestBadPaths(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/bkt")
	s.put("/dav/bkt/keep.txt", "keep")
	for _, p := range []string{"/dav/bkt/../b/keep.txt", "/dav/bkt/x/../../b/keep.txt", "/dav/bkt/%00evil", "/dav/bkt//etc/passwd", "/dav/bkt/./keep.txt"} {
		for _, m := range []string{"PUT", "DELETE", "GET", "MKCOL"} {
			status := rawStatus(t, s, m+" "+p+" HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "+basic("admin", adminPW)+"\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
			if status != 400 {
				t.Errorf("%s %s: %d; want 400", m, p, status)
			}
		}
	}
	if got := s.get("/dav/bkt/keep.txt"); got != "keep" {
		t.Errorf("keep.txt = %q after bad requests", got)
	}
	resp, body := s.do("PROPFIND", "/dav/bkt/", nil, "Depth", "1")
	if n := strings.Count(body, "<D:response>"); n != 2 {
		t.Errorf("bucket has %d entries after bad requests; want 2:\n%s", n, body)
	}
	_ = resp
}

func basic(u, p string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(u, p)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// rawStatus sends a raw HTTP request and returns the response status.
func rawStatus(t *testing.T, s *server, req string) int {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response to %q: %v", strings.SplitN(req, "\r\n", 2)[0], err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestInterruptedUploads: a client that disconnects mid-PUT leaves no object
// and no staged bytes; an interrupted overwrite keeps the old file whole.
// On Linux uploads are staged in unnamed files (O_TMPFILE in objects/.tmp)
// that never appear in the folder: the server's open files show them, as
// "<data>/objects/.tmp/#NNN (deleted)", so the test waits until each
// upload is being staged before it cuts the connection, and then until no
// staged file is left open (a leaked one would keep its blocks forever).
func TestInterruptedUploads(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/bkt")
	s.put("/dav/bkt/old.bin", "the old, complete contents")
	tmp := filepath.Join(s.data, "objects", ".tmp")
	for _, p := range []string{"/dav/bkt/new.bin", "/dav/bkt/old.bin"} {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Length: 1048576\r\n\r\n", p, basic("admin", adminPW))
		c.Write(make([]byte, 100_000)) // more than the journal takes: staged
		var staged []string
		waitUntil(t, 2*time.Minute, "PUT "+p+" to be staged", func() bool {
			staged = append(stagedFiles(t, s), dirNames(t, tmp)...)
			return len(staged) > 0
		})
		t.Logf("PUT %s staged in %q", p, staged)
		c.Close()
		waitUntil(t, 2*time.Minute, "the aborted PUT "+p+" to release its staged file", func() bool {
			return len(stagedFiles(t, s)) == 0 && len(dirNames(t, tmp)) == 0
		})
	}
	resp, _ := s.do("GET", "/dav/bkt/new.bin", nil)
	if resp.StatusCode != 404 {
		t.Errorf("half-uploaded new.bin: %d; want 404", resp.StatusCode)
	}
	if got := s.get("/dav/bkt/old.bin"); got != "the old, complete contents" {
		t.Errorf("old.bin after an aborted overwrite = %q", got)
	}
	if _, err := os.Stat(filepath.Join(s.data, "objects", "admin", "bkt", "new.bin")); !os.IsNotExist(err) {
		t.Errorf("new.bin exists on disk: %v", err)
	}
}

// stagedFiles lists the files in the staging area objects/.tmp that the
// server holds open, unnamed ones included ("#NNN (deleted)"). Only Linux
// shows them; elsewhere it returns none.
func stagedFiles(t *testing.T, s *server) []string {
	t.Helper()
	fdDir := fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid)
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		if _, perr := os.Stat("/proc/self/fd"); perr != nil {
			return nil // no /proc here
		}
		t.Fatalf("open files of the server: %v", err)
	}
	tmp, err := filepath.EvalSymlinks(filepath.Join(s.data, "objects", ".tmp"))
	if err != nil {
		t.Fatal(err)
	}
	var staged []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if err == nil && strings.HasPrefix(target, tmp+"/") {
			staged = append(staged, target)
		}
	}
	return staged
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestKill9 kills the server during 8 concurrent uploads: every upload that
// was acknowledged is intact and cataloged after a restart, and nothing
// half-written is visible. Half the clients send small files, which are
// acknowledged from the write-ahead log before their flush; the flush
// interval is set far beyond the test's length, so at the kill the log
// certainly holds the records of every small upload acknowledged, and the
// restart must replay them.
func TestKill9(t *testing.T) {
	s := startServer(t, "--journal-flush-ms", "3600000")
	s.mkcol("/dav/bkt")
	type upload struct {
		path  string
		sum   string
		small bool
	}
	var mu sync.Mutex
	var acked []upload
	var ackedSmall, ackedLarge int
	intended := map[string]bool{} // sha256 of every body any client tried to send
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				size := 256<<10 + w*1000 + i
				small := w%2 == 1
				if small {
					size = 2<<10 + w*100 + i // journaled
				}
				body := make([]byte, size)
				rand.Read(body)
				sum := sha256.Sum256(body)
				p := fmt.Sprintf("/dav/bkt/w%d-%03d.bin", w, i)
				mu.Lock()
				intended[hex.EncodeToString(sum[:])] = true
				mu.Unlock()
				req, _ := http.NewRequest("PUT", s.url(p), &slowReader{data: body, chunk: 32 << 10, pause: 2 * time.Millisecond})
				req.ContentLength = int64(len(body))
				req.SetBasicAuth("admin", adminPW)
				resp, err := s.client.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 201 || resp.StatusCode == 204 {
					mu.Lock()
					acked = append(acked, upload{p, hex.EncodeToString(sum[:]), small})
					if small {
						ackedSmall++
					} else {
						ackedLarge++
					}
					mu.Unlock()
				}
			}
		}()
	}
	// Kill as soon as enough of both kinds are acknowledged (uploads go on
	// around the kill), however slow the machine.
	const enough = 8
	counts := func() (int, int) { mu.Lock(); defer mu.Unlock(); return ackedSmall, ackedLarge }
	waitUntil(t, 2*time.Minute, fmt.Sprintf("%d small and %d large uploads acknowledged", enough, enough), func() bool {
		sm, lg := counts()
		return sm >= enough && lg >= enough
	})
	s.kill9()
	close(stop)
	wg.Wait()
	sm, lg := counts()
	t.Logf("%d small and %d large uploads acknowledged before kill -9", sm, lg)
	s.start()
	// The replay is logged with its counts; only the restart's log holds it.
	m := regexp.MustCompile(`replayed the journal of small files.* files=(\d+) rewritten=(\d+) restored=(\d+)`).FindStringSubmatch(s.logs())
	if m == nil {
		t.Fatalf("the restart did not replay the journal; log:\n%s", s.logs())
	}
	files, _ := strconv.Atoi(m[1])
	rewritten, _ := strconv.Atoi(m[2])
	restored, _ := strconv.Atoi(m[3])
	if files < sm || rewritten+restored < sm {
		t.Errorf("replay: %d files, %d rewritten, %d restored; want at least the %d small uploads acknowledged", files, rewritten, restored, sm)
	}
	for _, u := range acked {
		resp, body := s.do("GET", u.path, nil)
		want(t, resp, body, 200)
		sum := sha256.Sum256([]byte(body))
		if hex.EncodeToString(sum[:]) != u.sum {
			t.Errorf("%s: content changed after the crash", u.path)
		}
		m := md5.Sum([]byte(body))
		if etag := resp.Header.Get("ETag"); etag != `"`+hex.EncodeToString(m[:])+`"` {
			t.Errorf("%s: ETag %s is not the catalog's MD5", u.path, etag)
		}
	}
	// Everything visible is a complete upload.
	resp, body := s.do("PROPFIND", "/dav/bkt/", nil, "Depth", "1")
	want(t, resp, body, 207)
	hrefs := regexp.MustCompile(`<D:href>/dav/bkt/([^<]+)</D:href>`).FindAllStringSubmatch(body, -1)
	if len(hrefs) < len(acked) {
		t.Errorf("listing shows %d files; %d were acknowledged", len(hrefs), len(acked))
	}
	for _, h := range hrefs {
		got := s.get("/dav/bkt/" + h[1])
		sum := sha256.Sum256([]byte(got))
		if !intended[hex.EncodeToString(sum[:])] {
			t.Errorf("%s is visible but is not a complete upload (%d bytes)", h[1], len(got))
		}
	}
	t.Logf("%d files visible after restart; replay: %d files, %d rewritten, %d restored", len(hrefs), files, rewritten, restored)
}

type slowReader struct {
	data  []byte
	chunk int
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := copy(p[:min(len(p), r.chunk)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestConditionsAndOwnCloud covers If-Match / If-None-Match on writes,
// Overwrite, X-OC-Mtime and OC-Checksum.
func TestConditionsAndOwnCloud(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/bkt")
	etag := s.put("/dav/bkt/f.txt", "v1").Header.Get("ETag")
	if etag == "" {
		t.Fatal("PUT gave no ETag")
	}
	steps := []struct {
		method, path, body string
		hdr                []string
		status             int
	}{
		{"PUT", "/dav/bkt/f.txt", "v2", []string{"If-Match", `"nope"`}, 412},
		{"PUT", "/dav/bkt/f.txt", "v2", []string{"If-None-Match", "*"}, 412},
		{"PUT", "/dav/bkt/new.txt", "n", []string{"If-Match", "*"}, 412},
		{"DELETE", "/dav/bkt/f.txt", "", []string{"If-Match", `"nope"`}, 412},
		{"MOVE", "/dav/bkt/f.txt", "", []string{"Destination", "/dav/bkt/g.txt", "If-Match", `"nope"`}, 412},
		{"PUT", "/dav/bkt/f.txt", "v2", []string{"If-Match", etag}, 204},
		{"PUT", "/dav/bkt/c.txt", "abc", []string{"OC-Checksum", "MD5:00000000000000000000000000000000"}, 400},
		{"PUT", "/dav/bkt/c.txt", "abc", []string{"OC-Checksum", "SHA1:a9993e364706816aba3e25717850c26c9cd0d89d"}, 201},
		{"PUT", "/dav/bkt/d.txt", "abc", []string{"OC-Checksum", "MD5:900150983cd24fb0d6963f7d28e17f72"}, 201},
		{"PUT", "/dav/bkt/e.txt", "abc", []string{"Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA=="}, 400},
		// MOVE without an Overwrite header replaces (T is the default); F refuses.
		{"PUT", "/dav/bkt/m1.txt", "m1", nil, 201},
		{"PUT", "/dav/bkt/m2.txt", "m2", nil, 201},
		{"MOVE", "/dav/bkt/m1.txt", "", []string{"Destination", "/dav/bkt/m2.txt", "Overwrite", "F"}, 412},
		{"MOVE", "/dav/bkt/m1.txt", "", []string{"Destination", "/dav/bkt/m2.txt"}, 204},
		{"MKCOL", "/dav/by-date", "", nil, 403},
		{"MKCOL", "/dav/Trash", "", nil, 403},
	}
	for _, st := range steps {
		resp, body := s.do(st.method, st.path, strings.NewReader(st.body), st.hdr...)
		if resp.StatusCode != st.status {
			t.Errorf("%s %s %v: %d; want %d (%s)", st.method, st.path, st.hdr, resp.StatusCode, st.status, body)
		}
	}
	if got := s.get("/dav/bkt/m2.txt"); got != "m1" {
		t.Errorf("m2.txt after MOVE = %q; want m1", got)
	}
	if resp, _ := s.do("GET", "/dav/bkt/c.txt", nil); resp.StatusCode != 200 {
		t.Errorf("c.txt after a good SHA1 checksum: %d", resp.StatusCode)
	}
	if resp, _ := s.do("GET", "/dav/bkt/e.txt", nil); resp.StatusCode != 404 {
		t.Errorf("e.txt after a bad Content-MD5 exists: %d", resp.StatusCode)
	}

	mt := time.Date(2018, 7, 4, 10, 15, 0, 0, time.UTC)
	resp := s.put("/dav/bkt/mt.jpg", "jpeg", "X-OC-Mtime", fmt.Sprint(mt.Unix()))
	if resp.Header.Get("X-OC-MTime") != "accepted" {
		t.Errorf("X-OC-MTime = %q; want accepted", resp.Header.Get("X-OC-MTime"))
	}
	_, body := s.do("PROPFIND", "/dav/bkt/mt.jpg", nil, "Depth", "0")
	if !strings.Contains(body, mt.Format(http.TimeFormat)) {
		t.Errorf("getlastmodified is not the X-OC-Mtime:\n%s", body)
	}
	r, _ := s.do("GET", "/dav/bkt/mt.jpg", nil)
	if r.Header.Get("Last-Modified") != mt.Format(http.TimeFormat) {
		t.Errorf("Last-Modified = %q", r.Header.Get("Last-Modified"))
	}
	// Range GET.
	s.put("/dav/bkt/range.txt", "0123456789")
	r, b := s.do("GET", "/dav/bkt/range.txt", nil, "Range", "bytes=3-5")
	if r.StatusCode != 206 || b != "345" {
		t.Errorf("Range GET: %d %q; want 206 \"345\"", r.StatusCode, b)
	}
}

// TestBigFolderMoveCopy: MOVE of a folder of 10,000 files is one rename on
// disk (inodes unchanged) and COPY links rather than copies bytes.
func TestBigFolderMoveCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	s := startServer(t)
	s.mkcol("/dav/bkt")
	s.mkcol("/dav/bkt/big")
	s.stop()
	// Write the files behind the server's back and let start-up reconcile
	// them: much faster than 10,000 PUTs, and it tests reconciliation.
	const n = 10_000
	dir := filepath.Join(s.data, "objects", "admin", "bkt", "big")
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("IMG_%05d.jpg", i)), []byte(fmt.Sprint(i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var before syscall.Stat_t
	syscall.Stat(filepath.Join(dir, "IMG_00042.jpg"), &before)
	s.start()
	if !strings.Contains(s.logs(), fmt.Sprintf("added=%d", n)) {
		t.Fatalf("start-up did not catalog the %d files; log:\n%s", n, s.logs())
	}

	start := time.Now()
	resp, body := s.do("MOVE", "/dav/bkt/big", nil, "Destination", s.url("/dav/bkt/moved"))
	want(t, resp, body, 201)
	t.Logf("MOVE of %d files: %v", n, time.Since(start))
	var after syscall.Stat_t
	syscall.Stat(filepath.Join(s.data, "objects", "admin", "bkt", "moved", "IMG_00042.jpg"), &after)
	if after.Ino != before.Ino {
		t.Errorf("moved file has a new inode: the folder was copied, not renamed")
	}
	start = time.Now()
	resp, body = s.do("COPY", "/dav/bkt/moved/", nil, "Destination", s.url("/dav/bkt/copy/"))
	want(t, resp, body, 201)
	t.Logf("COPY of %d files: %v", n, time.Since(start))
	var cp syscall.Stat_t
	syscall.Stat(filepath.Join(s.data, "objects", "admin", "bkt", "copy", "IMG_00042.jpg"), &cp)
	if cp.Ino != before.Ino {
		t.Logf("COPY made byte copies (filesystem refused hard links)")
	}
	for _, p := range []string{"/dav/bkt/moved/", "/dav/bkt/copy/"} {
		resp, body = s.do("PROPFIND", p, nil, "Depth", "1")
		want(t, resp, body, 207)
		if got := strings.Count(body, "<D:response>"); got != n+1 {
			t.Errorf("PROPFIND %s: %d entries; want %d", p, got, n+1)
		}
	}
	resp, _ = s.do("PROPFIND", "/dav/bkt/big/", nil, "Depth", "0")
	if resp.StatusCode != 404 {
		t.Errorf("old folder after MOVE: %d; want 404", resp.StatusCode)
	}
	// Writing to the copy leaves the original alone.
	s.put("/dav/bkt/copy/IMG_00042.jpg", "changed")
	if got := s.get("/dav/bkt/moved/IMG_00042.jpg"); got != "42" {
		t.Errorf("original after writing its copy = %q; want 42", got)
	}
}

// TestPropfindInfinityBound: Depth: infinity is answered up to the limit
// and refused with propfind-finite-depth beyond it.
func TestPropfindInfinityBound(t *testing.T) {
	s := startServer(t, "--propfind-infinity-limit", "20")
	s.mkcol("/dav/bkt")
	s.mkcol("/dav/bkt/small")
	s.mkcol("/dav/bkt/large")
	for i := range 5 {
		s.put(fmt.Sprintf("/dav/bkt/small/%d", i), "x")
	}
	for i := range 30 {
		s.put(fmt.Sprintf("/dav/bkt/large/%d", i), "x")
	}
	resp, body := s.do("PROPFIND", "/dav/bkt/small/", nil, "Depth", "infinity")
	want(t, resp, body, 207)
	if got := strings.Count(body, "<D:response>"); got != 6 {
		t.Errorf("infinity PROPFIND of small: %d entries; want 6", got)
	}
	resp, body = s.do("PROPFIND", "/dav/bkt/", nil)
	want(t, resp, body, 403)
	if !strings.Contains(body, "propfind-finite-depth") {
		t.Errorf("refusal lacks propfind-finite-depth: %s", body)
	}
}

// TestReconcile: files added and removed behind the server's back while it
// was down are found at start-up.
func TestReconcile(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/bkt")
	s.put("/dav/bkt/gone.txt", "will be removed")
	s.put("/dav/bkt/stays.txt", "stays")
	s.stop()
	obj := filepath.Join(s.data, "objects", "admin", "bkt")
	os.Remove(filepath.Join(obj, "gone.txt"))
	os.WriteFile(filepath.Join(obj, "added.txt"), []byte("added offline"), 0o644)
	os.WriteFile(filepath.Join(obj, "stays.txt"), []byte("changed offline"), 0o644)
	s.start()
	resp, _ := s.do("GET", "/dav/bkt/gone.txt", nil)
	if resp.StatusCode != 404 {
		t.Errorf("gone.txt: %d; want 404", resp.StatusCode)
	}
	for name, content := range map[string]string{"added.txt": "added offline", "stays.txt": "changed offline"} {
		r, body := s.do("GET", "/dav/bkt/"+name, nil)
		m := md5.Sum([]byte(content))
		if body != content || r.Header.Get("ETag") != `"`+hex.EncodeToString(m[:])+`"` {
			t.Errorf("%s: %q ETag %s; want %q with its MD5", name, body, r.Header.Get("ETag"), content)
		}
	}
}

// TestLimitsAndMetrics: the upload cap answers 413; /metrics counts requests.
func TestLimitsAndMetrics(t *testing.T) {
	s := startServer(t, "--max-upload-bytes", "1000")
	s.mkcol("/dav/bkt")
	resp, body := s.do("PUT", "/dav/bkt/big", strings.NewReader(strings.Repeat("x", 2000)))
	want(t, resp, body, 413)
	resp, _ = s.do("GET", "/dav/bkt/big", nil)
	if resp.StatusCode != 404 {
		t.Errorf("over-size upload left a file: %d", resp.StatusCode)
	}
	s.put("/dav/bkt/small", "fits")
	resp, body = s.doAs("", "", "GET", "/metrics", nil)
	want(t, resp, body, 200)
	for _, w := range []string{
		`shoebox_http_requests_total{method="PUT",protocol="webdav",status="201"} 1`,
		`shoebox_http_request_duration_seconds_bucket{method="MKCOL"`,
		`shoebox_http_request_bytes_total{method="PUT",protocol="webdav"}`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}

// TestTLSAndReverseProxy: HTTPS with --tls-cert/--tls-key; behind a proxy
// that adds a path prefix, hrefs carry it and Destination headers with the
// external scheme, host and prefix are understood.
func TestTLSAndReverseProxy(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, cert, key)
	s := startServer(t, "--tls-cert", cert, "--tls-key", key)
	s.mkcol("/dav/bkt")
	s.put("/dav/bkt/a.txt", "over https")

	target, _ := url.Parse(s.url("/"))
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = s.client.Transport
	front := httptest.NewServer(http.StripPrefix("/shoebox", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Forwarded-Prefix", "/shoebox")
		r.Host = target.Host
		proxy.ServeHTTP(w, r)
	})))
	defer front.Close()
	do := func(method, p string, hdr ...string) (*http.Response, string) {
		req, _ := http.NewRequest(method, front.URL+p, nil)
		req.SetBasicAuth("admin", adminPW)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	resp, body := do("PROPFIND", "/shoebox/dav/bkt/", "Depth", "1")
	want(t, resp, body, 207)
	if !strings.Contains(body, "<D:href>/shoebox/dav/bkt/a.txt</D:href>") {
		t.Errorf("hrefs behind the proxy lack its prefix:\n%s", body)
	}
	resp, body = do("MOVE", "/shoebox/dav/bkt/a.txt", "Destination", "https://photos.example.com/shoebox/dav/bkt/moved.txt")
	want(t, resp, body, 201)
	if got := s.get("/dav/bkt/moved.txt"); got != "over https" {
		t.Errorf("moved.txt = %q", got)
	}
}

func writeSelfSigned(t *testing.T, certPath, keyPath string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

// TestFolderProps: PROPPATCH on a folder persists, survives a restart and
// a MOVE, and shows in PROPFIND.
func TestFolderProps(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/bkt")
	s.mkcol("/dav/bkt/album")
	patch := `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x-shoebox:test"><D:set><D:prop><Z:title>Summer &amp; sea</Z:title></D:prop></D:set></D:propertyupdate>`
	resp, body := s.do("PROPPATCH", "/dav/bkt/album/", strings.NewReader(patch), "Content-Type", "application/xml")
	want(t, resp, body, 207)
	if !strings.Contains(body, "200 OK") {
		t.Fatalf("PROPPATCH answer: %s", body)
	}
	s.restart()
	resp, body = s.do("MOVE", "/dav/bkt/album/", nil, "Destination", s.url("/dav/bkt/renamed/"))
	want(t, resp, body, 201)
	find := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><T:title xmlns:T="urn:x-shoebox:test"/></D:prop></D:propfind>`
	resp, body = s.do("PROPFIND", "/dav/bkt/renamed/", strings.NewReader(find), "Depth", "0")
	want(t, resp, body, 207)
	if !strings.Contains(body, "Summer &amp; sea") || !strings.Contains(body, "200 OK") {
		t.Errorf("folder property after restart and MOVE:\n%s", body)
	}
}
