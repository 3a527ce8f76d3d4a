package main

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestVideoThumbnail: a video uploaded over WebDAV gets a poster frame past
// its fade from black, both thumbnail sizes, and its streams in the API.
func TestVideoThumbnail(t *testing.T) {
	ffmpeg := needTool(t, "ffmpeg")
	needTool(t, "ffprobe")
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	// 640×360, black for the first 1.5 s of 3.
	out, err := exec.Command(ffmpeg, "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=30:duration=3",
		"-vf", "fade=in:st=1.5:d=0.1", "-c:v", "libx264", "-pix_fmt", "yuv420p", clip).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	s.mkcol("/dav/vvv")
	s.put("/dav/vvv/clip.mp4", string(data))
	o := s.waitDone(t, "vvv/clip.mp4")
	if m := o.Media; m == nil || m.Kind != "video" || m.ThumbnailState != "" || m.Video == nil || m.Video.Codec != "h264" || m.Video.FrameRate != 30 {
		t.Fatalf("media = %+v, enrichment %+v; want an h264 video at 30 fps with its thumbnails", o.Media, o.Enrichment)
	}
	for size, w := range map[string]int{"small": 250, "preview": 640} {
		resp, body := s.do("GET", "/api/v1/objects/vvv/clip.mp4/thumbnail?size="+size, nil)
		want(t, resp, body, 200)
		if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
			t.Errorf("%s: Content-Type %q; want image/jpeg", size, ct)
		}
		img, err := jpeg.Decode(bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatalf("%s: %v", size, err)
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != w*9/16 && b.Dy() != w*9/16+1 {
			t.Errorf("%s: %dx%d; want %d px wide, 16:9", size, b.Dx(), b.Dy(), w)
		}
		if l := meanLuma(img); l < 60 {
			t.Errorf("%s: mean luma %.1f; want a frame past the fade from black", size, l)
		}
	}
}

func meanLuma(img image.Image) float64 {
	r := img.Bounds()
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			sum += (0.299*float64(cr) + 0.587*float64(cg) + 0.114*float64(cb)) / 257
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}
