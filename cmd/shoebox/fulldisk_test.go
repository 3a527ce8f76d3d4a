package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// smallDisk mounts a tmpfs of size bytes and returns its path; it is
// unmounted when the test ends (after the servers it holds stop: cleanups
// run last in, first out). Not root: skipped, but under CI=true a missing
// capability fails the test.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	if os.Geteuid() != 0 {
		fail("mounting a small tmpfs needs root (CI runs as root); run `sudo go test ./cmd/shoebox -run TestFullDisk` to test a full disk")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		fail("mount a %s tmpfs on %s: %v: %s", size, dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// unsized hides a body's length, so that it is sent chunked.
type unsized struct{ io.Reader }

// TestFullDisk: on a 64 MiB filesystem, uploads fill it down to the
// free-space reserve and are then refused with 507 (WebDAV) and
// InsufficientStorage (S3), never overshooting it even in a burst; reads
// and deletes go on and the server stays healthy; a delete gives writes
// back. Killed, with the disk then filled to the brim from outside, the
// server starts again and serves reads (Badger used to SIGBUS there).
func TestFullDisk(t *testing.T) {
	begin := time.Now()
	mnt := smallDisk(t, "64m")
	const reserve = 16 << 20 // half of it (8 MiB) is the ballast file
	s := newServer(t, writeConfig(t, fmt.Sprintf("free_space_reserve: %d\nworkers: 1\n", reserve))...)
	s.data = filepath.Join(mnt, "data")
	s.start()
	t.Cleanup(s.stop)
	s.mkcol("/dav/bkt")
	auth := "Basic " + basic("admin", adminPW)

	// An upload whose Content-Length cannot fit is refused before a byte
	// of it is sent.
	if _, _, st := rawUpload(t, s.addr, "/dav/bkt/huge.bin", auth, 100<<20, ""); st != http.StatusInsufficientStorage {
		t.Fatalf("PUT of 100 MiB on a 64 MiB disk: %d before the body; want 507", st)
	}

	// Fill it in bursts of 4 concurrent uploads of unknown length.
	chunk := bytes.Repeat([]byte("shoebox!"), 1<<17) // 1 MiB
	stored := 0
	full := false
	for burst := 0; !full && burst < 40; burst++ {
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			got []int
		)
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("/dav/bkt/f%03d-%d.bin", burst, i)
				req, _ := http.NewRequest("PUT", s.url(name), unsized{bytes.NewReader(chunk)})
				req.SetBasicAuth("admin", adminPW)
				resp, err := s.client.Do(req)
				st := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					st = resp.StatusCode
				}
				mu.Lock()
				got = append(got, st)
				mu.Unlock()
			}()
		}
		wg.Wait()
		for _, st := range got {
			switch st {
			case http.StatusCreated:
				stored++
			case http.StatusInsufficientStorage:
				full = true
			default:
				t.Fatalf("PUT while filling: status %d; want 201 or 507; log:\n%s", st, s.logs())
			}
		}
	}
	if !full {
		t.Fatalf("stored %d MiB on a 64 MiB disk and never got 507", stored)
	}
	free := freeBytes(t, mnt)
	t.Logf("after %s: stored %d files of 1 MiB before 507; %d KiB free (reserve %d KiB, 8 MiB of it the ballast file)", time.Since(begin).Round(time.Millisecond), stored, free>>10, reserve>>10)
	if free < reserve/2-(1<<20) {
		t.Errorf("%d KiB free after the burst; want at least the %d KiB of the reserve outside the ballast (less 1 MiB)", free>>10, reserve/2>>10)
	}
	// Writes of every kind are refused; reads, listings and health go on.
	resp, body := s.do("PUT", "/dav/bkt/small.txt", strings.NewReader("small"))
	want(t, resp, body, http.StatusInsufficientStorage)
	resp, body = s.do("MKCOL", "/dav/bkt/dir", nil)
	want(t, resp, body, http.StatusInsufficientStorage)
	id, secret := s3Keys(t, s)
	s3put := func(key, data string) (int, string) {
		req, _ := http.NewRequest("PUT", s.s3url()+presign(t, s, id, secret, "bkt", key), strings.NewReader(data))
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if st, b := s3put("s3.txt", "small"); st != http.StatusInsufficientStorage || !strings.Contains(b, "<Code>InsufficientStorage</Code>") {
		t.Errorf("S3 PUT below the reserve: %d %s; want 507 InsufficientStorage", st, b)
	}
	if got := s.get("/dav/bkt/f000-0.bin"); got != string(chunk) {
		t.Errorf("read below the reserve: %d bytes; want the 1 MiB written", len(got))
	}
	resp, body = s.do("PROPFIND", "/dav/bkt/", nil, "Depth", "1")
	want(t, resp, body, http.StatusMultiStatus)
	resp, body = s.do("GET", "/healthz", nil)
	want(t, resp, body, http.StatusOK)

	// Deletes work, and the space they free takes writes again (once the
	// guard's statfs, cached for a second, sees it).
	for i := range 4 {
		resp, body := s.do("DELETE", fmt.Sprintf("/dav/bkt/f000-%d.bin", i), nil)
		want(t, resp, body, http.StatusNoContent)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body := s.do("PUT", "/dav/bkt/after-delete.bin", bytes.NewReader(chunk))
		if resp.StatusCode == http.StatusCreated {
			break
		}
		if resp.StatusCode != http.StatusInsufficientStorage || time.Now().After(deadline) {
			t.Fatalf("PUT after deleting 4 MiB: %d %s; want 201", resp.StatusCode, body)
		}
	}

	// Killed, then the disk filled to the brim from outside.
	s.kill9()
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1 << 20, 4 << 10} {
		buf := make([]byte, n)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	f.Close()
	t.Logf("filled from outside: %d bytes free", freeBytes(t, mnt))

	restart := time.Now()
	s.start() // fails the test unless /healthz answers
	t.Logf("restarted on the full disk in %s", time.Since(restart).Round(time.Millisecond))
	if got := s.get("/dav/bkt/f001-0.bin"); got != string(chunk) {
		t.Errorf("read after a restart on a full disk: %d bytes; want the 1 MiB written", len(got))
	}
	if got := s.get("/dav/bkt/after-delete.bin"); got != string(chunk) {
		t.Errorf("after-delete.bin after the restart: %d bytes; want 1 MiB", len(got))
	}
	resp, body = s.do("PUT", "/dav/bkt/small.txt", strings.NewReader("small"))
	want(t, resp, body, http.StatusInsufficientStorage)
	if st, b := s3put("s3.txt", "small"); st != http.StatusInsufficientStorage {
		t.Errorf("S3 PUT on a full disk: %d %s; want 507", st, b)
	}
	resp, body = s.do("DELETE", "/dav/bkt/f001-1.bin", nil)
	want(t, resp, body, http.StatusNoContent)
	if !strings.Contains(s.logs(), "deleted the ballast file") {
		t.Errorf("the log does not say the ballast was released:\n%s", s.logs())
	}
	stop := time.Now()
	s.stop()
	t.Logf("stopped in %s", time.Since(stop).Round(time.Millisecond))
	if os.Getenv("SHOEBOX_TEST_LOG") != "" {
		t.Log(s.logs())
	}
	for _, bad := range []string{"SIGBUS", "panic", "fatal error"} {
		if strings.Contains(s.logs(), bad) {
			t.Errorf("the log has %q:\n%s", bad, s.logs())
		}
	}

	// With no ballast left to give back (a data directory from before it,
	// or one whose disk was full before it was ever made) and no room at
	// all, start-up refuses with a clear message instead of a SIGBUS.
	os.Remove(filepath.Join(s.data, "reserve.ballast"))
	f, err = os.OpenFile(filepath.Join(mnt, "filler"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1 << 20, 4 << 10} {
		buf := make([]byte, n)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a server that starts is killed
	defer cancel()
	outb, err := exec.CommandContext(ctx, binPath, "serve", "--data", s.data, "--dav-addr", freeAddr(t), "--s3-addr", freeAddr(t),
		"--free-space-reserve", fmt.Sprint(reserve)).CombinedOutput()
	out := string(outb)
	if err == nil || ctx.Err() != nil || !strings.Contains(out, "free some space") || strings.Contains(out, "SIGBUS") {
		t.Errorf("start on a disk with no room and no ballast: %v\n%s\nwant a clear refusal", err, out)
	}
}
