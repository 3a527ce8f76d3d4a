package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// photoJPEG is a w×h JPEG with some structure (enrichment has work to do).
func photoJPEG(t *testing.T, w, h, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x*seed + y), uint8(y * 3 / (seed + 1)), uint8((x ^ y) + seed), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (s *server) status(t *testing.T) apiStatus {
	t.Helper()
	resp, body := s.do("GET", "/api/v1/status", nil)
	want(t, resp, body, 200)
	var st apiStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitQueue waits until no enrichment job is pending or running.
func (s *server) waitQueue(t *testing.T, within time.Duration) apiStatus {
	t.Helper()
	var st apiStatus
	waitUntil(t, within, "the enrichment queue to drain", func() bool {
		st = s.status(t)
		return st.Queue.Pending == 0 && st.Queue.Running == 0
	})
	return st
}

// TestKill9PendingJobs: 50 photos are uploaded and the server is killed
// with their jobs pending; after the restart every one is enriched.
func TestKill9PendingJobs(t *testing.T) {
	s := startServer(t, "--workers", "1")
	s.mkcol("/dav/kkk")
	// One 12 MP photo, made different 50 times by a JPEG comment: each
	// takes the one worker a while, so most jobs are pending at the kill.
	big := photoJPEG(t, 4000, 3000, 7)
	for i := range 50 {
		com := fmt.Sprintf("\xff\xfe\x00\x0aphoto%03d", i)
		s.put(fmt.Sprintf("/dav/kkk/p%02d.jpg", i), string(big[:2])+com+string(big[2:]))
	}
	before := s.status(t)
	s.kill9()
	if before.Queue.Pending < 25 {
		t.Fatalf("status before the kill = %+v; want most jobs pending (the test needs them)", before)
	}
	t.Logf("killed with %d pending, %d running", before.Queue.Pending, before.Queue.Running)
	s.start()
	// 50 photos of 12 MP for one worker: minutes on a loaded machine.
	st := s.waitQueue(t, 5*time.Minute)
	if st.Photos != 50 || st.Queue.Failed != 0 {
		t.Errorf("status = %+v; want 50 photos enriched, none failed", st)
	}
	for i := range 50 {
		p := fmt.Sprintf("kkk/p%02d.jpg", i)
		if o := s.apiObject(t, p); o.Media == nil || o.Media.Width != 4000 || o.Media.PHash == "" || o.Enrichment.State != "done" {
			t.Errorf("%s = %+v %+v", p, o.Media, o.Enrichment)
		}
		resp, body := s.do("GET", "/api/v1/objects/"+p+"/thumbnail?size=small", nil)
		want(t, resp, body, 200)
	}
}

// TestImportAndReindex: `shoebox import` brings a folder in (layout and
// modification times kept, junk left out), a second run skips what is
// there by content, the server enriches what was imported; `shoebox
// reindex` rebuilds the media records and thumbnails.
func TestImportAndReindex(t *testing.T) {
	s := startServer(t)
	s.stop()
	src := t.TempDir()
	media := "../../../shared/testdata/media"
	os.MkdirAll(filepath.Join(src, "2019", "paris"), 0o755)
	for name, dst := range map[string]string{"canon_eos.jpg": "2019/paris/canon_eos.jpg", "iphone_golden_gate.heic": "iphone_golden_gate.heic", "no_date_at_all.jpg": "no_date_at_all.jpg"} {
		b, err := os.ReadFile(filepath.Join(media, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, dst), b, 0o644)
	}
	old := time.Date(2012, 3, 4, 5, 6, 7, 0, time.UTC)
	os.Chtimes(filepath.Join(src, "no_date_at_all.jpg"), old, old)
	os.WriteFile(filepath.Join(src, "._canon_eos.jpg"), []byte("AppleDouble"), 0o644)
	os.WriteFile(filepath.Join(src, "2019", "copy.jpg"), mustRead(t, filepath.Join(src, "2019/paris/canon_eos.jpg")), 0o644)

	out, err := runCLI(t, "", "import", "--data", s.data, "--user", "admin", "--bucket", "imported", "--quiet", src)
	if err != nil || !strings.Contains(out, "imported 4 files") || !strings.Contains(out, "skipped 0 already there") {
		t.Fatalf("import: %v\n%s\nwant 4 imported: a copy at another path is part of the layout", err, out)
	}
	out, err = runCLI(t, "", "import", "--data", s.data, "--user", "admin", "--bucket", "imported", "--quiet", src)
	if err != nil || !strings.Contains(out, "imported 0 files") || !strings.Contains(out, "skipped 4") {
		t.Fatalf("second import: %v\n%s\nwant everything skipped", err, out)
	}
	if out, err := runCLI(t, "", "import", "--data", s.data, "--user", "nobody", "--bucket", "x", src); err == nil {
		t.Errorf("import for an unknown user succeeded:\n%s", out)
	}
	s.start()
	s.waitQueue(t, 2*time.Minute)
	// Both copies are there, at their own paths.
	for _, k := range []string{"imported/2019/copy.jpg", "imported/2019/paris/canon_eos.jpg"} {
		o := s.apiObject(t, k)
		if o.Media == nil || o.Media.Make != "Canon" || o.Enrichment.State != "done" {
			t.Errorf("imported %s = %+v %+v", k, o.Media, o.Enrichment)
		}
	}
	o := s.apiObject(t, "imported/no_date_at_all.jpg")
	if o.Media == nil || o.Media.DateSource != "mtime" || o.Media.TakenUTC != "2012-03-04T05:06:07Z" {
		t.Errorf("imported no_date_at_all.jpg = %+v; want dated by the file's modification time", o.Media)
	}
	resp, body := s.do("PROPFIND", "/dav/imported/", nil, "Depth", "1")
	if want(t, resp, body, 207); strings.Contains(body, "._canon") {
		t.Errorf("AppleDouble junk was imported:\n%s", body)
	}

	// reindex rebuilds derived data, thumbnails included.
	s.stop()
	os.RemoveAll(filepath.Join(s.data, "derived"))
	out, err = runCLI(t, "", "reindex", "--data", s.data, "--quiet")
	if err != nil || !strings.Contains(out, "reindexed 4 files, 0 failed") {
		t.Fatalf("reindex: %v\n%s", err, out)
	}
	s.start()
	if st := s.status(t); st.Queue.Pending != 0 || st.Photos != 4 {
		t.Errorf("status after reindex = %+v; want 4 photos, nothing pending", st)
	}
	resp, body = s.do("GET", "/api/v1/objects/imported/iphone_golden_gate.heic/thumbnail?size=preview", nil)
	want(t, resp, body, 200)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
