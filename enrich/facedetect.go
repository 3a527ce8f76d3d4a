package enrich

import (
	"fmt"
	"image"
	"math"

	"shoebox/catalog"
	"shoebox/enrich/faces"
)

// detectFaces finds the faces of a photo on its preview (at most
// PreviewSize on the long side, orientation applied) and records them
// relative to the displayed image. A box found on the padded retry may
// reach outside the image (coordinates below 0 or above 1).
func detectFaces(models *faces.Models, detector string, prev image.Image, m *catalog.Media) error {
	b := prev.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	if w == 0 || h == 0 {
		return nil
	}
	// Aligned descriptors (dlib's similarity-warped chip): they separate
	// people better than face-api's axis-aligned crop (see people.go). A
	// photo where no face is found is tried again with a border (a face
	// that fills the frame: faces.Options.PadRetry).
	found, err := models.DetectRGB(faces.ToRGB(prev), faces.Options{Detector: detector, Align: true, PadRetry: faces.DefaultPadRetry})
	if err != nil {
		return fmt.Errorf("face detection: %w", err)
	}
	m.Faces = m.Faces[:0]
	for _, f := range found {
		cf := catalog.Face{
			Box:        [4]float64{round(f.Box.X/w, 5), round(f.Box.Y/h, 5), round(f.Box.W/w, 5), round(f.Box.H/h, 5)},
			Score:      round(f.Score, 4),
			Detector:   f.Detector,
			Landmarks:  make([][2]float32, len(f.Landmarks)),
			Descriptor: append([]float32(nil), f.Descriptor[:]...),
		}
		for i, p := range f.Landmarks {
			cf.Landmarks[i] = [2]float32{float32(p.X / w), float32(p.Y / h)}
		}
		if math.IsNaN(cf.Score) {
			continue
		}
		m.Faces = append(m.Faces, cf)
	}
	if len(m.Faces) == 0 {
		m.Faces = nil
	}
	m.FacesState = ""
	return nil
}
