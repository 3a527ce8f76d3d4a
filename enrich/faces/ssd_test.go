package faces

import (
	"math"
	"testing"

	"shoebox/enrich/faces/nn"
)

func TestSSDVectors(t *testing.T) {
	m := loadModels(t)
	if m.SSD == nil {
		t.Fatal("SSD model not loaded")
	}
	g := loadGolden(t)
	for _, name := range []string{"bona2", "pristin"} {
		_, im := findImage(t, g, name)
		boxes, scores := ssdRun(m, im)
		wantB := readF32(t, "ssd512-"+name+"-boxes.f32")
		wantS := readF32(t, "ssd512-"+name+"-scores.f32")
		if len(boxes) != SSDAnchors || len(wantS) != SSDAnchors {
			t.Fatalf("%d anchors", len(boxes))
		}
		eb, es := 0.0, 0.0
		for i := range boxes {
			for k := 0; k < 4; k++ {
				eb = math.Max(eb, math.Abs(boxes[i][k]-float64(wantB[4*i+k])))
			}
			es = math.Max(es, math.Abs(scores[i]-float64(wantS[i])))
		}
		t.Logf("%s: ssd boxes max|Δ| %.3g (relative), scores max|Δ| %.3g", name, eb, es)
		if es > 1e-4 || eb*512 > 0.5 {
			t.Errorf("%s: ssd raw out of tolerance", name)
		}
	}
}

func ssdRun(m *Models, im *RGB) ([][4]float64, []float64) {
	var x nn.Tensor
	m.SSD.Input(&x, im)
	return m.SSD.Forward(&x)
}

func TestSSDPipeline(t *testing.T) {
	m := loadModels(t)
	g := loadGolden(t)
	var worstBox, worstLm, worstDesc float64
	n := 0
	for _, gi := range g.Images {
		im := decodeImage(t, gi.File)
		got, err := m.DetectRGB(im, Options{Detector: DetectorSSD})
		if err != nil {
			t.Fatal(err)
		}
		want := gi.Ssd512.Faces
		if len(got) != len(want) {
			t.Errorf("%s: %d faces, want %d", gi.Name, len(got), len(want))
			continue
		}
		for i, w := range want {
			f := got[i]
			n++
			eb := math.Max(math.Max(math.Abs(f.Box.X-w.Box.X), math.Abs(f.Box.Y-w.Box.Y)),
				math.Max(math.Abs(f.Box.W-w.Box.Width), math.Abs(f.Box.H-w.Box.Height)))
			worstBox = math.Max(worstBox, eb)
			if eb > 0.5 || math.Abs(f.Score-w.Score) > 1e-4 {
				t.Errorf("%s#%d: box %+v %g want %+v %g", gi.Name, i, f.Box, f.Score, w.Box, w.Score)
			}
			if f.LandmarkCrop != w.LandmarkCrop.rect() || f.DescriptorCrop != w.DescriptorCrop.rect() {
				t.Errorf("%s#%d: crops %+v %+v want %+v %+v", gi.Name, i, f.LandmarkCrop, f.DescriptorCrop, w.LandmarkCrop, w.DescriptorCrop)
				continue
			}
			for k, p := range f.Landmarks {
				worstLm = math.Max(worstLm, math.Max(math.Abs(p.X-w.Landmarks[k][0]), math.Abs(p.Y-w.Landmarks[k][1])))
			}
			worstDesc = math.Max(worstDesc, l2(f.Descriptor[:], w.Descriptor))
			if f.Detector != DetectorSSD {
				t.Errorf("detector %q", f.Detector)
			}
		}
	}
	t.Logf("ssd pipeline: %d faces; max|Δ| box %.3g px, landmarks %.3g px, descriptor L2 %.3g", n, worstBox, worstLm, worstDesc)
	if worstLm > 0.05 || worstDesc > 1e-3 {
		t.Errorf("ssd pipeline out of tolerance")
	}
}
