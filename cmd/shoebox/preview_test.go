package main

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"io/fs"
	"path/filepath"
	"testing"
	"time"
)

// derivedBytes is the size of the files under <data>/derived, and how
// many there are.
func derivedBytes(t *testing.T, data string) (int64, int) {
	t.Helper()
	var total int64
	n := 0
	err := filepath.WalkDir(filepath.Join(data, "derived"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		total += fi.Size()
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total, n
}

// TestSmallJPEGPreviewIsOriginal: the preview of a JPEG no larger than
// the preview size, shown as stored, is its original: ?size=preview
// answers the original's bytes (with its ETag: 304 when unchanged), and
// only the small thumbnail is stored. The log shows the derived bytes of
// 20 such photos against what their previews would have added.
func TestSmallJPEGPreviewIsOriginal(t *testing.T) {
	const n = 20
	s := startServer(t)
	s.mkcol("/dav/small")
	var photos [][]byte
	var photoBytes, previewBytes int64
	for i := range n {
		b := photoJPEG(t, 640, 480, i+1)
		photos = append(photos, b)
		photoBytes += int64(len(b))
		s.put(fmt.Sprintf("/dav/small/p%02d.jpg", i), string(b))
		// What the preview made before was: the decoded photo, opaque,
		// at quality 82.
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rgba := image.NewRGBA(img.Bounds())
		draw.Draw(rgba, rgba.Bounds(), img, image.Point{}, draw.Src)
		var pb bytes.Buffer
		jpeg.Encode(&pb, rgba, &jpeg.Options{Quality: 82})
		previewBytes += int64(pb.Len())
	}
	st := s.waitQueue(t, 2*time.Minute)
	if st.Photos != n || st.Queue.Failed != 0 {
		t.Fatalf("status = %+v; want %d photos enriched", st, n)
	}
	for i, b := range photos {
		p := fmt.Sprintf("/api/v1/objects/small/p%02d.jpg/thumbnail?size=preview", i)
		resp, body := s.do("GET", p, nil)
		want(t, resp, body, 200)
		if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" || body != string(b) {
			t.Fatalf("%s: %s, %d bytes; want image/jpeg, the original's %d bytes", p, ct, len(body), len(b))
		}
		etag := resp.Header.Get("ETag")
		if o := s.apiObject(t, fmt.Sprintf("small/p%02d.jpg", i)); etag != o.ETag || o.Media == nil || !o.Media.PreviewOriginal {
			t.Errorf("%s: ETag %s; want the original's, %s (media %+v)", p, etag, o.ETag, o.Media)
		}
		resp, body = s.do("GET", p, nil, "If-None-Match", etag)
		want(t, resp, body, 304)
		resp, body = s.do("GET", fmt.Sprintf("/api/v1/objects/small/p%02d.jpg/thumbnail?size=small", i), nil)
		want(t, resp, body, 200)
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader([]byte(body))); err != nil || cfg.Width != 250 {
			t.Errorf("small thumbnail of p%02d.jpg: %dx%d %v; want 250 px wide", i, cfg.Width, cfg.Height, err)
		}
	}
	// The Nextcloud apps' large previews are the originals too.
	resp, body := s.do("GET", "/index.php/core/preview.png?file=/small/p00.jpg&x=1024&y=1024&a=1", nil)
	want(t, resp, body, 200)
	if body != string(photos[0]) {
		t.Errorf("Nextcloud preview of p00.jpg: %d bytes; want the original's %d", len(body), len(photos[0]))
	}
	derived, files := derivedBytes(t, s.data)
	if files != n {
		t.Errorf("%d derived files; want %d (the small thumbnails only)", files, n)
	}
	t.Logf("%d photos of 640×480, %d bytes: derived %d bytes in %d files; their previews, re-encoded here as before (an estimate), %d bytes: before ≈ %d derived bytes, %.2f× the photos; after %.2f×",
		n, photoBytes, derived, files, previewBytes, derived+previewBytes,
		float64(derived+previewBytes)/float64(photoBytes), float64(derived)/float64(photoBytes))
}
