package enrich_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
	"shoebox/gateway/memfs"
)

// needFFmpeg returns ffmpeg's path; missing, it skips the test, or fails
// it under CI=true.
func needFFmpeg(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err == nil {
		_, err = exec.LookPath("ffprobe")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ffmpeg is not installed (make test installs it with apt-get): %v", err)
		}
		t.Skipf("ffmpeg is not installed; run `make deps`: %v", err)
	}
	return p
}

// makeVideo runs ffmpeg with args (its output last) and returns the file.
func makeVideo(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("ffmpeg", append(append([]string{"-v", "error", "-nostdin", "-y"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", name, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newVideoLibrary is a library whose extractor makes video thumbnails
// with ff.
func newVideoLibrary(t *testing.T, ff *enrich.FFmpeg) (*library, *enrich.Pool, context.Context) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	var pool *enrich.Pool
	wake := hookFunc(func(ctx context.Context, ev gateway.Event) error { return pool.Committed(ctx, ev) })
	gw := gateway.New(memfs.New(), cat, gateway.Options{Logger: quiet, Hooks: []gateway.Hook{wake}})
	ds, err := enrich.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ts := enrich.NewThumbStore(ds)
	ctx, cancel := context.WithCancel(context.Background())
	pool = enrich.NewPool(gw, enrich.Options{Workers: 2, Idle: 20 * time.Millisecond, Logger: quiet,
		Extractors: []enrich.Extractor{enrich.Metadata{Thumbs: ts, FFmpeg: ff}}})
	done := make(chan struct{})
	go func() { pool.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := gw.MakeBucket(ctx, "u", "b"); err != nil {
		t.Fatal(err)
	}
	return &library{gw: gw, cat: cat, thumbs: ts}, pool, ctx
}

func (l *library) put(t *testing.T, ctx context.Context, key string, b []byte) catalog.Object {
	t.Helper()
	o, err := l.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "b", Key: key, Body: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// thumb decodes a thumbnail of the object.
func (l *library) thumb(t *testing.T, ctx context.Context, sha, size string) image.Image {
	t.Helper()
	b, _, err := l.thumbs.Get(ctx, sha, size)
	if err != nil {
		t.Fatalf("%s thumbnail: %v", size, err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s thumbnail: %v", size, err)
	}
	return img
}

func lumaOf(img image.Image) float64 {
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

func TestVideoPosters(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	src := "testsrc=size=320x240:rate=25"
	h264 := makeVideo(t, dir, "h264.mp4", "-f", "lavfi", "-i", src+":duration=2", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest")
	// Black for the first 1.5 s of 4: the tries at 10% and 25% are black.
	fade := makeVideo(t, dir, "fade.mp4", "-f", "lavfi", "-i", src+":duration=4", "-vf", "fade=in:st=1.5:d=0.1",
		"-c:v", "libx264", "-pix_fmt", "yuv420p")
	makeVideo(t, dir, "plain.mov", "-f", "lavfi", "-i", src+":duration=1", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	// Portrait: the matrix turns 320×240 a quarter turn (ffmpeg 5 writes
	// rotate=90 as 270 clockwise, as ExifTool reads it; later versions
	// as 90).
	rot := makeVideo(t, dir, "rot.mov", "-i", filepath.Join(dir, "plain.mov"), "-c", "copy", "-metadata:s:v:0", "rotate=90")
	one := makeVideo(t, dir, "one.mp4", "-f", "lavfi", "-i", src+":duration=1", "-frames:v", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p")

	lib, _, ctx := newVideoLibrary(t, enrich.NewFFmpeg("", slog.New(slog.NewTextHandler(io.Discard, nil))))
	for _, tc := range []struct {
		key           string
		data          []byte
		w, h          int // the preview's
		audio         string
		minPosterS    float64
		rotation      int
		wantFrameRate float64
	}{
		{"h264.mp4", h264, 320, 240, "aac", 0, 0, 25},
		{"fade.mp4", fade, 320, 240, "", 1.5, 0, 25},
		{"rot.mov", rot, 240, 320, "", 0, 90, 25},
		{"one.mp4", one, 320, 240, "", 0, 0, 25},
	} {
		t.Run(tc.key, func(t *testing.T) {
			o := lib.put(t, ctx, tc.key, tc.data)
			lib.drain(t, ctx)
			m, err := lib.cat.MediaOf(ctx, "u", "b", tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if j, err := lib.cat.JobOf(ctx, "u", "b", tc.key); err == nil {
				t.Fatalf("job left: %+v", j)
			}
			if m.Kind != "video" || m.ThumbnailState != "" || m.Video == nil {
				t.Fatalf("media = %+v; want a video with its thumbnails and streams", m)
			}
			v := m.Video
			if v.Codec != "h264" || v.FrameRate != tc.wantFrameRate || v.Bitrate <= 0 || v.AudioCodec != tc.audio || v.Rotation != tc.rotation && v.Rotation != 360-tc.rotation {
				t.Errorf("video = %+v; want h264 at %v fps, a bitrate, audio %q, rotation %d", *v, tc.wantFrameRate, tc.audio, tc.rotation)
			}
			if v.PosterS < tc.minPosterS {
				t.Errorf("poster at %v s; want past %v s (the fade)", v.PosterS, tc.minPosterS)
			}
			prev := lib.thumb(t, ctx, o.SHA256, "preview")
			if b := prev.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("preview %dx%d; want %dx%d", b.Dx(), b.Dy(), tc.w, tc.h)
			}
			small := lib.thumb(t, ctx, o.SHA256, "small")
			if b := small.Bounds(); max(b.Dx(), b.Dy()) != enrich.SmallSize {
				t.Errorf("small %dx%d; want a long side of %d", b.Dx(), b.Dy(), enrich.SmallSize)
			}
			if l := lumaOf(small); l < 60 {
				t.Errorf("small thumbnail's mean luma %.1f; want a frame that is not black", l)
			}
		})
	}
}

// A hostile or broken video fails its own job, with an error naming it,
// within the timeout.
func TestVideoHostile(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	good := makeVideo(t, dir, "good.mp4", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart")
	// The header intact (moov first), every sample garbage.
	garbage := bytes.Clone(good)
	if i := bytes.Index(garbage, []byte("mdat")); i < 0 {
		t.Fatal("no mdat")
	} else {
		for j := i + 4; j < len(garbage); j++ {
			garbage[j] = byte(j * 131)
		}
	}
	ff := enrich.NewFFmpeg("", slog.New(slog.NewTextHandler(io.Discard, nil)))
	ff.Timeout = 20 * time.Second
	lib, _, ctx := newVideoLibrary(t, ff)
	start := time.Now()
	for key, b := range map[string][]byte{
		"truncated.mp4": good[:len(good)/3],
		"garbage.mp4":   garbage,
		"noise.mov":     append([]byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  "), bytes.Repeat([]byte{0xA5, 0x5A, 0x01}, 4000)...),
	} {
		lib.put(t, ctx, key, b)
	}
	lib.drain(t, ctx)
	if took := time.Since(start); took > 2*ff.Timeout {
		t.Errorf("took %v; want within the timeout", took)
	}
	for _, key := range []string{"truncated.mp4", "garbage.mp4", "noise.mov"} {
		j, err := lib.cat.JobOf(ctx, "u", "b", key)
		if err != nil {
			t.Errorf("%s: no failed job: %v", key, err)
			continue
		}
		if !j.Failed || !strings.Contains(j.Err, key) {
			t.Errorf("%s: job %+v; want failed with an error naming the file", key, j)
		}
	}
}

// Without ffmpeg videos wait, with their metadata; once ffmpeg is there
// they get their thumbnails.
func TestVideoWaitsForFFmpeg(t *testing.T) {
	real := needFFmpeg(t)
	dir := t.TempDir()
	clip := makeVideo(t, dir, "clip.mp4", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=1",
		"-c:v", "libx264", "-pix_fmt", "yuv420p")
	bin := filepath.Join(dir, "bin")
	ff := enrich.NewFFmpeg(filepath.Join(bin, "ffmpeg"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	lib, pool, ctx := newVideoLibrary(t, ff)
	o := lib.put(t, ctx, "clip.mp4", clip)
	lib.drain(t, ctx)
	m, err := lib.cat.MediaOf(ctx, "u", "b", "clip.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != "video" || m.ThumbnailState != catalog.ThumbnailWaiting || m.DurationS != 1 || m.Width != 320 {
		t.Fatalf("media = %+v; want a 1 s 320 px video waiting for ffmpeg", m)
	}
	if _, _, err := lib.thumbs.Get(ctx, o.SHA256, "small"); err == nil {
		t.Fatal("a thumbnail without ffmpeg")
	}

	// ffmpeg appears where the setting says.
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	probe, _ := exec.LookPath("ffprobe")
	for name, target := range map[string]string{"ffmpeg": real, "ffprobe": probe} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go ff.Watch(wctx, 50*time.Millisecond, lib.cat.RequeueWaitingThumbnails, func() {
		pool.Committed(wctx, gateway.Event{Op: gateway.OpPut})
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		m, err = lib.cat.MediaOf(ctx, "u", "b", "clip.mp4")
		if err == nil && m.ThumbnailState == "" && m.Video != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("media = %+v, %v; want thumbnails once ffmpeg is there", m, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if img := lib.thumb(t, ctx, o.SHA256, "small"); img.Bounds().Dx() != enrich.SmallSize {
		t.Errorf("small thumbnail %v; want %d px wide", img.Bounds(), enrich.SmallSize)
	}
}
