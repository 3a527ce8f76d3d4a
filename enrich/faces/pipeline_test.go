package faces

import (
	"fmt"
	"math"
	"testing"

	"shoebox/enrich/faces/nn"
)

func l2(a []float32, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := float64(a[i]) - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}

func findImage(t *testing.T, g *golden, name string) (goldenImage, *RGB) {
	t.Helper()
	for _, gi := range g.Images {
		if gi.Name == name {
			return gi, decodeImage(t, gi.File)
		}
	}
	t.Fatalf("no golden image %q", name)
	return goldenImage{}, nil
}

func goldenRunFor(gi goldenImage, det string) []goldenFace {
	if det == "tiny800" && gi.Tiny800 != nil {
		return gi.Tiny800.Faces
	}
	return gi.Tiny416.Faces
}

// TestLandmarkVectors checks the landmark input and raw fc output on the
// dumped tensors.
func TestLandmarkVectors(t *testing.T) {
	m := loadModels(t)
	g := loadGolden(t)
	worstIn, worstRaw, worstPx := 0.0, 0.0, 0.0
	n := 0
	for _, v := range loadVectors(t) {
		if v.Kind != "landmark68-input" {
			continue
		}
		n++
		gi, im := findImage(t, g, v.Image)
		gf := goldenRunFor(gi, v.Detector)[v.Face]
		crop := v.Crop.rect()
		if crop != gf.LandmarkCrop.rect() {
			t.Fatalf("vectors/golden crop mismatch")
		}
		var x nn.Tensor
		m.Landmarks.Input(&x, im.Crop(crop))
		want := readF32(t, v.File)
		worstIn = math.Max(worstIn, maxAbsDiff(x.Data, want))
		raw := m.Landmarks.Forward(&nn.Tensor{H: 112, W: 112, C: 3, Data: want})
		wantRaw := readF32(t, fmt.Sprintf("lm-%s-%d-raw.f32", v.Image, v.Face))
		e := maxAbsDiff(raw, wantRaw)
		worstRaw = math.Max(worstRaw, e)
		pts := decodeLandmarks(raw, crop, gf.Box.X, gf.Box.Y)
		for i, p := range pts {
			worstPx = math.Max(worstPx, math.Max(math.Abs(p.X-gf.Landmarks[i][0]), math.Abs(p.Y-gf.Landmarks[i][1])))
		}
	}
	if n != 9 {
		t.Errorf("%d landmark vectors, want 9", n)
	}
	t.Logf("landmark: input max|Δ| %.3g, raw max|Δ| %.3g, landmarks max|Δ| %.3g px", worstIn, worstRaw, worstPx)
	if worstIn > 1e-6 || worstRaw > 1e-4 || worstPx > 0.05 {
		t.Errorf("landmark stage out of tolerance")
	}
}

// TestRecognitionVectors checks the descriptor on the dumped aligned crops.
func TestRecognitionVectors(t *testing.T) {
	m := loadModels(t)
	g := loadGolden(t)
	worstIn, worstL2 := 0.0, 0.0
	n := 0
	for _, v := range loadVectors(t) {
		if v.Kind != "recognition-input" {
			continue
		}
		n++
		gi, im := findImage(t, g, v.Image)
		gf := goldenRunFor(gi, v.Detector)[v.Face]
		crop := v.Crop.rect()
		if crop != gf.DescriptorCrop.rect() {
			t.Fatalf("vectors/golden crop mismatch")
		}
		var x nn.Tensor
		m.Recognition.Input(&x, im.Crop(crop))
		want := readF32(t, v.File)
		worstIn = math.Max(worstIn, maxAbsDiff(x.Data, want))
		d := m.Recognition.Forward(&nn.Tensor{H: 150, W: 150, C: 3, Data: want})
		worstL2 = math.Max(worstL2, l2(d[:], v.Descriptor))
	}
	if n != 9 {
		t.Errorf("%d recognition vectors, want 9", n)
	}
	t.Logf("recognition: input max|Δ| %.3g, descriptor L2(Δ) max %.3g", worstIn, worstL2)
	if worstIn > 1e-6 || worstL2 > 1e-3 {
		t.Errorf("recognition stage out of tolerance")
	}
}

// TestPipeline runs Detect end to end on every golden image.
func TestPipeline(t *testing.T) {
	m := loadModels(t)
	g := loadGolden(t)
	var worstBox, worstLm, worstDesc float64
	faces := 0
	for _, gi := range g.Images {
		im := decodeImage(t, gi.File)
		runs := []struct {
			size int
			want []goldenFace
		}{{416, gi.Tiny416.Faces}}
		if gi.Tiny800 != nil {
			runs = append(runs, struct {
				size int
				want []goldenFace
			}{800, gi.Tiny800.Faces})
		}
		for _, r := range runs {
			got, err := m.DetectRGB(im, Options{InputSize: r.size})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(r.want) {
				t.Errorf("%s@%d: %d faces, want %d", gi.Name, r.size, len(got), len(r.want))
				continue
			}
			for i, w := range r.want {
				f := got[i]
				faces++
				tag := fmt.Sprintf("%s@%d#%d", gi.Name, r.size, i)
				eb := math.Max(math.Max(math.Abs(f.Box.X-w.Box.X), math.Abs(f.Box.Y-w.Box.Y)),
					math.Max(math.Abs(f.Box.W-w.Box.Width), math.Abs(f.Box.H-w.Box.Height)))
				worstBox = math.Max(worstBox, eb)
				if eb > 1 {
					t.Errorf("%s: box %+v want %+v", tag, f.Box, w.Box)
				}
				if f.LandmarkCrop != w.LandmarkCrop.rect() {
					t.Errorf("%s: landmark crop %+v want %+v", tag, f.LandmarkCrop, w.LandmarkCrop)
				}
				el := 0.0
				for k, p := range f.Landmarks {
					el = math.Max(el, math.Max(math.Abs(p.X-w.Landmarks[k][0]), math.Abs(p.Y-w.Landmarks[k][1])))
				}
				worstLm = math.Max(worstLm, el)
				if el > 1 {
					t.Errorf("%s: landmarks off by %.3g px", tag, el)
				}
				if f.DescriptorCrop != w.DescriptorCrop.rect() {
					t.Errorf("%s: descriptor crop %+v want %+v", tag, f.DescriptorCrop, w.DescriptorCrop)
				}
				ed := l2(f.Descriptor[:], w.Descriptor)
				worstDesc = math.Max(worstDesc, ed)
				if ed > 0.01 {
					t.Errorf("%s: descriptor L2(Δ) %.3g", tag, ed)
				}
				if f.Detector != fmt.Sprintf("tiny%d", r.size) {
					t.Errorf("%s: detector %q", tag, f.Detector)
				}
			}
		}
	}
	t.Logf("pipeline: %d faces; max|Δ| box %.3g px, landmarks %.3g px, descriptor L2 %.3g", faces, worstBox, worstLm, worstDesc)
}
