package faces

import (
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/disintegration/imaging"
)

// tightCrop cuts the square around box (its longer side, centred on it),
// clipped to the image, and scales it to 150×150: a portrait cropped to
// the face, like an avatar or an ID photo.
func tightCrop(img image.Image, box goldenRect) *RGB {
	side := max(box.Width, box.Height)
	cx, cy := box.X+box.Width/2, box.Y+box.Height/2
	r := image.Rect(int(cx-side/2), int(cy-side/2), int(cx+side/2), int(cy+side/2)).Intersect(img.Bounds())
	return ToRGB(imaging.Resize(imaging.Crop(img, r), 150, 150, imaging.Lanczos))
}

// TestPadRetry: 150×150 crops cut to the face's box from the shared face
// photos (the 15 single-person ones; boxes from the goldens) are found
// with Options.PadRetry, with both detectors, at boxes inside the crop;
// the figures without the retry are logged.
func TestPadRetry(t *testing.T) {
	needTestdata(t)
	m := loadModels(t)
	g := loadGolden(t)
	var crops []*RGB
	for _, gi := range g.Images {
		if strings.HasPrefix(gi.Name, "pristin") || len(gi.Tiny416.Faces) == 0 {
			continue
		}
		f, err := os.Open(filepath.Join(testdataDir, gi.File))
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		crops = append(crops, tightCrop(img, gi.Tiny416.Faces[0].Box))
	}
	if len(crops) != 15 {
		t.Fatalf("%d crops; want 15", len(crops))
	}
	for _, det := range []string{DetectorTiny, DetectorSSD} {
		plain, padded := 0, 0
		for i, c := range crops {
			fs, err := m.DetectRGB(c, Options{Detector: det, Align: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) > 0 {
				plain++
			}
			fs, err = m.DetectRGB(c, Options{Detector: det, Align: true, PadRetry: DefaultPadRetry})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) == 0 {
				continue
			}
			padded++
			b := fs[0].Box
			if cx, cy := b.X+b.W/2, b.Y+b.H/2; cx < 0 || cy < 0 || cx > 150 || cy > 150 || b.W < 50 {
				t.Errorf("%s crop %d: box %+v; want a face box centred in the 150×150 crop", det, i, b)
			}
			if e := fs[0].Landmarks[36]; e.X < 0 || e.X > 150 || e.Y < 0 || e.Y > 150 {
				t.Errorf("%s crop %d: eye corner at %+v; want it in the crop", det, i, e)
			}
		}
		t.Logf("%s: faces found in %d of %d tight crops, %d with PadRetry %.2f", det, plain, len(crops), padded, DefaultPadRetry)
		if padded < 13 {
			t.Errorf("%s: faces found in %d of %d tight crops with PadRetry; want at least 13", det, padded, len(crops))
		}
	}
}
