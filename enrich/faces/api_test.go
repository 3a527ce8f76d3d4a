package faces

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"shoebox/enrich/faces/nn"
)

// TestRGBMatchesGolden: our pixels are the ones the goldens were made from.
func TestRGBMatchesGolden(t *testing.T) {
	needTestdata(t)
	var g struct {
		Images []struct{ File, RgbSha256 string }
	}
	b, err := os.ReadFile(filepath.Join(testdataDir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	for _, gi := range g.Images {
		sum := sha256.Sum256(decodeImage(t, gi.File).Pix)
		if got := hex.EncodeToString(sum[:]); got != gi.RgbSha256 {
			t.Errorf("%s: rgb sha256 %s, want %s", gi.File, got, gi.RgbSha256)
		}
	}
}

// TestDetectAPI runs the image.Image entry point and checks Distance.
func TestDetectAPI(t *testing.T) {
	m := loadModels(t)
	g := loadGolden(t)
	gi := g.Images[0]
	f, err := os.Open(filepath.Join(testdataDir, gi.File))
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	faces, err := m.Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != 1 || faces[0].Detector != "tiny416" {
		t.Fatalf("got %d faces", len(faces))
	}
	want := gi.Tiny416.Faces[0].Descriptor
	var w [128]float32
	for i, v := range want {
		w[i] = float32(v)
	}
	if d := Distance(&faces[0].Descriptor, &w); d > 1e-3 {
		t.Errorf("distance to golden %g", d)
	}
	if d := Distance(&w, &w); d != 0 {
		t.Errorf("self distance %g", d)
	}
	// A sub-image with a non-zero origin: same face, box shifted by the origin.
	sub := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(100, 50, img.Bounds().Dx(), img.Bounds().Dy()))
	sf, err := m.Detect(sub)
	if err != nil || len(sf) != 1 {
		t.Fatalf("sub-image: %v, %d faces", err, len(sf))
	}
}

// TestDetectEdgeCases: odd inputs must not panic.
func TestDetectEdgeCases(t *testing.T) {
	m := loadModels(t)
	for _, sz := range [][2]int{{1, 1}, {3, 500}, {500, 2}, {31, 17}, {416, 416}, {512, 512}} {
		g := image.NewGray(image.Rect(0, 0, sz[0], sz[1]))
		for i := range g.Pix {
			g.Pix[i] = uint8(i * 7)
		}
		for _, det := range []string{DetectorTiny, DetectorSSD} {
			if _, err := m.DetectRGB(ToRGB(g), Options{Detector: det}); err != nil {
				t.Errorf("%v %s: %v", sz, det, err)
			}
		}
	}
	if _, err := m.DetectRGB(ToRGB(image.NewRGBA(image.Rect(0, 0, 0, 0))), Options{}); err == nil {
		t.Error("empty image accepted")
	}
	if _, err := m.DetectRGB(ToRGB(image.NewRGBA(image.Rect(0, 0, 8, 8))), Options{InputSize: 100}); err == nil {
		t.Error("InputSize 100 accepted")
	}
	if _, err := m.DetectRGB(ToRGB(image.NewRGBA(image.Rect(0, 0, 8, 8))), Options{Detector: "nope"}); err == nil {
		t.Error("unknown detector accepted")
	}
	// ToRGB on a generic image type.
	c := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	c.Set(1, 0, color.NRGBA{255, 128, 0, 255})
	if p := ToRGB(c).Pix; p[3] != 255 || p[4] != 128 || p[5] != 0 {
		t.Errorf("ToRGB %v", p)
	}
}

// TestConcurrentDetect: one Models shared by goroutines gives the same answers.
func TestConcurrentDetect(t *testing.T) {
	m := loadModels(t)
	g := loadGolden(t)
	ims := []*RGB{decodeImage(t, g.Images[0].File), decodeImage(t, g.Images[1].File)}
	want := make([][]Face, len(ims))
	for i, im := range ims {
		want[i], _ = m.DetectRGB(im, Options{})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for k := 0; k < 4; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			i := k % 2
			got, err := m.DetectRGB(ims[i], Options{})
			if err != nil || len(got) != len(want[i]) {
				errs <- "face count"
				return
			}
			for j := range got {
				if Distance(&got[j].Descriptor, &want[i][j].Descriptor) != 0 || math.Abs(got[j].Box.X-want[i][j].Box.X) != 0 {
					errs <- "different result"
				}
			}
		}(k)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestNetAllocs: warm nets allocate only their returned outputs (tiny: a
// *Tensor and its data; landmarks: the 136 floats).
func TestNetAllocs(t *testing.T) {
	m := loadModels(t)
	needTestdata(t)
	lm := &nn.Tensor{H: 112, W: 112, C: 3, Data: readF32(t, "lm-bona-0-input.f32")}
	rec := &nn.Tensor{H: 150, W: 150, C: 3, Data: readF32(t, "rec-bona-0-input.f32")}
	tiny := &nn.Tensor{H: 416, W: 416, C: 3, Data: readF32(t, "tiny416-bona2-input.f32")}
	for _, c := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"tiny416", 2, func() { m.Tiny.Forward(tiny) }},
		{"landmarks", 1, func() { m.Landmarks.Forward(lm) }},
		{"recognition", 0, func() { m.Recognition.Forward(rec) }},
	} {
		c.f()
		if n := testing.AllocsPerRun(2, c.f); n > c.max {
			t.Errorf("%s: %v allocations per forward pass, want <= %v", c.name, n, c.max)
		}
	}
}

// TestToRGBYCbCr: the YCbCr fast path equals At().RGBA()>>8 for every
// subsampling ratio, on a sub-image, and for all byte triples' extremes.
func TestToRGBYCbCr(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		for _, r0 := range []image.Rectangle{image.Rect(0, 0, 37, 23), image.Rect(-5, -3, 30, 18)} {
			m := image.NewYCbCr(r0, ratio)
			seed := uint32(7)
			next := func() uint8 { seed = seed*1664525 + 1013904223; return uint8(seed >> 24) }
			for i := range m.Y {
				m.Y[i] = next()
			}
			for i := range m.Cb {
				m.Cb[i], m.Cr[i] = next(), next()
			}
			m.Y[0], m.Cb[0], m.Cr[0] = 255, 0, 255
			for _, img := range []image.Image{m, m.SubImage(image.Rect(3, 5, 30, 17)), m.SubImage(image.Rect(-3, -1, 20, 10))} {
				got := ToRGB(img)
				b := img.Bounds()
				i := 0
				for y := b.Min.Y; y < b.Max.Y; y++ {
					for x := b.Min.X; x < b.Max.X; x++ {
						r, g, bb, _ := img.At(x, y).RGBA()
						if got.Pix[i] != uint8(r>>8) || got.Pix[i+1] != uint8(g>>8) || got.Pix[i+2] != uint8(bb>>8) {
							t.Fatalf("ratio %v at (%d,%d): %v, want %d %d %d", ratio, x, y, got.Pix[i:i+3], r>>8, g>>8, bb>>8)
						}
						i += 3
					}
				}
			}
		}
	}
}
