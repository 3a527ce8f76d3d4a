package faces

import (
	"math"
	"testing"

	"shoebox/enrich/faces/nn"
)

func tinyNet(t testing.TB) *TinyDetector {
	t.Helper()
	w, err := nn.LoadManifest(modelDir(t), ModelTinyFaceDetector)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewTinyDetector(w)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTinyInputAndRaw(t *testing.T) {
	needTestdata(t)
	d := tinyNet(t)
	g := loadGolden(t)
	for _, name := range []string{"bona2", "pristin"} {
		var im *RGB
		for _, gi := range g.Images {
			if gi.Name == name {
				im = decodeImage(t, gi.File)
			}
		}
		var x nn.Tensor
		d.Input(&x, im, 416)
		want := readF32(t, "tiny416-"+name+"-input.f32")
		if e := maxAbsDiff(x.Data, want); e > 1e-6 {
			t.Errorf("%s: input max|Δ| %g", name, e)
		}
		out := d.Forward(&nn.Tensor{H: 416, W: 416, C: 3, Data: want})
		wantOut := readF32(t, "tiny416-"+name+"-output.f32")
		if out.H != 13 || out.W != 13 || out.C != 25 {
			t.Fatalf("output shape %dx%dx%d", out.H, out.W, out.C)
		}
		e := maxAbsDiff(out.Data, wantOut)
		t.Logf("%s: raw output max|Δ| %.3g", name, e)
		if e > 1e-3 {
			t.Errorf("%s: raw output max|Δ| %g > 1e-3", name, e)
		}
	}
}

func TestTinyBoxes(t *testing.T) {
	d := tinyNet(t)
	g := loadGolden(t)
	worst := 0.0
	for _, gi := range g.Images {
		im := decodeImage(t, gi.File)
		check := func(size int, want []goldenFace) {
			var x nn.Tensor
			d.Input(&x, im, size)
			dets := DecodeTiny(d.Forward(&x), im.W, im.H, size, 0.5)
			if len(dets) != len(want) {
				t.Errorf("%s@%d: %d faces, want %d", gi.Name, size, len(dets), len(want))
				return
			}
			for i, w := range want {
				got := dets[i]
				e := math.Max(math.Max(math.Abs(got.X-w.Box.X), math.Abs(got.Y-w.Box.Y)),
					math.Max(math.Abs(got.W-w.Box.Width), math.Abs(got.H-w.Box.Height)))
				worst = math.Max(worst, e)
				if e > 1 || math.Abs(got.Score-w.Score) > 1e-3 {
					t.Errorf("%s@%d face %d: box %+v score %g, want %+v %g", gi.Name, size, i, got, got.Score, w.Box, w.Score)
				}
			}
		}
		check(416, gi.Tiny416.Faces)
		if gi.Tiny800 != nil {
			check(800, gi.Tiny800.Faces)
		}
	}
	t.Logf("tiny box max|Δ| %.3g px", worst)
}
