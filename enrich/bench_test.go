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
	"time"

	"golang.org/x/image/draw"

	"shoebox/catalog"
	"shoebox/enrich/faces"
	"shoebox/enrich/internal/resize"
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

// faceImages holds the shared face photos (the faces package's goldens).
const faceImages = "../../shared/testdata/faces/images"

// benchFacePhoto is a one-face 12 MP (3024×4032, a phone's portrait) JPEG:
// bona4.jpg (1364×2048) upscaled ×2.2 and cropped at the bottom, with
// sensor-like noise so it compresses like a camera photo (about 3.9 MB at
// quality 90).
var benchFacePhoto = sync.OnceValues(func() ([]byte, error) {
	f, err := os.Open(filepath.Join(faceImages, "bona4.jpg"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := jpeg.Decode(f)
	if err != nil {
		return nil, err
	}
	const w, h = 3024, 4032
	sb := src.Bounds()
	sh := sb.Dx() * h / w // the source rows that fill the canvas at its width
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(dst, dst.Bounds(), src, image.Rect(sb.Min.X, sb.Min.Y, sb.Max.X, sb.Min.Y+sh), draw.Src, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < len(dst.Pix); i += 4 {
		n := rng.NormFloat64() * 7
		for c := range 3 {
			dst.Pix[i+c] = uint8(max(0, min(255, float64(dst.Pix[i+c])+n)))
		}
	}
	var b bytes.Buffer
	err = jpeg.Encode(&b, dst, &jpeg.Options{Quality: 90})
	return b.Bytes(), err
})

var (
	benchModelsOnce sync.Once
	benchModels     *faces.Models
	benchModelsErr  error
)

// loadBenchModels loads the face models from $SHOEBOX_FACE_MODELS or the
// user cache (installed there when missing, as the faces tests do).
func loadBenchModels(b *testing.B) *faces.Models {
	b.Helper()
	benchModelsOnce.Do(func() {
		dir := os.Getenv("SHOEBOX_FACE_MODELS")
		if dir == "" {
			c, err := os.UserCacheDir()
			if err != nil {
				benchModelsErr = err
				return
			}
			dir = filepath.Join(c, "shoebox", "face-api-"+faces.PackageVersion)
			if err := faces.Install(context.Background(), "", dir, nil); err != nil {
				benchModelsErr = err
				return
			}
		}
		benchModels, benchModelsErr = faces.Load(dir)
	})
	if benchModelsErr != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("face models: %v", benchModelsErr)
		}
		b.Skipf("face models unavailable (set SHOEBOX_FACE_MODELS): %v", benchModelsErr)
	}
	return benchModels
}

// BenchmarkFacesPhoto12MP is the per-photo face figure (target: under
// 300 ms on one core, run with -cpu 1; .ci/bench-faces prints it beside
// the JS reference). From the bytes of a one-face 12 MP JPEG:
//
//   - decode+faces: what Metadata.Extract does up to and including face
//     detection: probe, DCT-scaled decode, the 1440 px preview with
//     orientation applied, then detection + landmarks + aligned descriptor
//     (detectFaces). decode-ms/op and faces-ms/op split it.
//   - enrich: the whole Metadata.Extract with Faces set (also the SHA-256,
//     the perceptual hash and both thumbnails encoded and stored).
func BenchmarkFacesPhoto12MP(b *testing.B) {
	if _, err := os.Stat(filepath.Join(faceImages, "bona4.jpg")); err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("face photos missing: %v", err)
		}
		b.Skipf("face photos missing: %v", err)
	}
	models := loadBenchModels(b)
	data, err := benchFacePhoto()
	if err != nil {
		b.Fatal(err)
	}
	oneFace := func(m *catalog.Media) {
		if len(m.Faces) != 1 {
			b.Fatalf("%d faces found in the 12 MP photo; want exactly 1", len(m.Faces))
		}
	}
	b.Run("decode+faces", func(b *testing.B) {
		x := Metadata{Faces: models}
		var dec, det time.Duration
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			t0 := time.Now()
			r := bytes.NewReader(data)
			p, err := probe(r, int64(len(data)))
			if err != nil {
				b.Fatal(err)
			}
			var m catalog.Media
			x.fill(&m, p)
			img, err := x.decode(r, int64(len(data)), p)
			if err != nil {
				b.Fatal(err)
			}
			prev := orient(resize.Fit(img, PreviewSize, PreviewSize), m.Orientation)
			t1 := time.Now()
			if err := detectFaces(models, "", prev, &m); err != nil {
				b.Fatal(err)
			}
			det += time.Since(t1)
			dec += t1.Sub(t0)
			oneFace(&m)
			if m.Width != 3024 || m.Height != 4032 || prev.Bounds().Dy() != PreviewSize {
				b.Fatalf("photo %dx%d, preview %v", m.Width, m.Height, prev.Bounds())
			}
		}
		b.ReportMetric(float64(dec.Microseconds())/1e3/float64(b.N), "decode-ms/op")
		b.ReportMetric(float64(det.Microseconds())/1e3/float64(b.N), "faces-ms/op")
	})
	b.Run("enrich", func(b *testing.B) {
		ds, err := NewDirStore(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		x := Metadata{Thumbs: NewThumbStore(ds), Faces: models}
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			sum := sha256.Sum256(data)
			in := &Input{Object: catalog.Object{Key: "face.jpg", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])},
				File: bytesFile{bytes.NewReader(data)}}
			var m catalog.Media
			if err := x.Extract(context.Background(), in, &m); err != nil {
				b.Fatal(err)
			}
			oneFace(&m)
			if m.PHash == "" || m.Width != 3024 {
				b.Fatalf("media = %+v", m)
			}
		}
	})
}
