package enrich

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"shoebox/catalog"
)

// A 12-megapixel photo-like JPEG (smooth shapes, fine texture and sensor
// noise at quality 92: about the size a camera writes), made once.
var benchJPEG = sync.OnceValues(func() ([]byte, error) {
	const w, h = 4000, 3000
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/w, float64(y)/h
			v := 128 + 60*math.Sin(fx*9+math.Cos(fy*7)) + 30*math.Sin(float64(x*y)/5e4) + 18*math.Sin(float64(x)/3.1)*math.Cos(float64(y)/2.7) + rng.NormFloat64()*6
			img.Y[y*img.YStride+x] = uint8(max(0, min(255, v)))
		}
	}
	for y := range h / 2 {
		for x := range w / 2 {
			fx, fy := float64(x)/w*2, float64(y)/h*2
			i := y*img.CStride + x
			img.Cb[i] = uint8(128 + 40*math.Sin(fx*5) + rng.NormFloat64()*3)
			img.Cr[i] = uint8(128 + 40*math.Cos(fy*4) + rng.NormFloat64()*3)
		}
	}
	var b bytes.Buffer
	err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 92})
	return b.Bytes(), err
})

type bytesFile struct{ *bytes.Reader }

func (bytesFile) Close() error { return nil }

// BenchmarkEnrichJPEG12MP is the whole enrichment of one 12 MP JPEG: the
// SHA-256 of its bytes, its metadata, both thumbnails and the perceptual
// hash. Run it with -cpu 1 beside BenchmarkVipsThumbnail12MP (make bench).
func BenchmarkEnrichJPEG12MP(b *testing.B) {
	data, err := benchJPEG()
	if err != nil {
		b.Fatal(err)
	}
	ds, err := NewDirStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ts := NewThumbStore(ds)
	x := Metadata{Thumbs: ts}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(data)
		in := &Input{Object: catalog.Object{Key: "bench.jpg", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])},
			File: bytesFile{bytes.NewReader(data)}}
		var m catalog.Media
		if err := x.Extract(context.Background(), in, &m); err != nil {
			b.Fatal(err)
		}
		if m.PHash == "" || m.Width != 4000 {
			b.Fatalf("media = %+v", m)
		}
	}
}

// BenchmarkVipsThumbnail12MP makes the same two sizes of the same photo
// with libvips' vipsthumbnail (one thread), for the ratio.
func BenchmarkVipsThumbnail12MP(b *testing.B) {
	if _, err := exec.LookPath("vipsthumbnail"); err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatal("vipsthumbnail is needed (apt-get install libvips-tools)")
		}
		b.Skip("vipsthumbnail not installed")
	}
	data, err := benchJPEG()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	in := filepath.Join(dir, "in.jpg")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for _, s := range []string{"1440", "250"} {
			cmd := exec.Command("vipsthumbnail", in, "-s", s, "-o", filepath.Join(dir, "out"+s+".jpg[Q=82]"))
			cmd.Env = append(os.Environ(), "VIPS_CONCURRENCY=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("vipsthumbnail: %v %s", err, strings.TrimSpace(string(out)))
			}
		}
	}
}
