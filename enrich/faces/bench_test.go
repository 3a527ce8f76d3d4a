package faces

import (
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"shoebox/enrich/faces/nn"
)

// Run with -cpu 1. Reference (tfjs wasm SIMD, 1 thread, this machine):
// tiny416 ≈ 160 ms, landmarks ≈ 21 ms, recognition ≈ 50 ms per face.

func BenchmarkTiny416(b *testing.B) {
	m := loadModels(b)
	g := loadGolden(b)
	var x nn.Tensor
	m.Tiny.Input(&x, decodeImage(b, g.Images[0].File), 416)
	b.ResetTimer()
	for b.Loop() {
		m.Tiny.Forward(&x)
	}
}

func BenchmarkLandmarks(b *testing.B) {
	m := loadModels(b)
	x := &nn.Tensor{H: 112, W: 112, C: 3, Data: readF32(b, "lm-bona-0-input.f32")}
	b.ResetTimer()
	for b.Loop() {
		m.Landmarks.Forward(x)
	}
}

func BenchmarkRecognition(b *testing.B) {
	m := loadModels(b)
	x := &nn.Tensor{H: 150, W: 150, C: 3, Data: readF32(b, "rec-bona-0-input.f32")}
	b.ResetTimer()
	for b.Loop() {
		m.Recognition.Forward(x)
	}
}

// BenchmarkDetect is the whole pipeline on a one-face 800×800 image,
// including pixel conversion.
func BenchmarkDetect(b *testing.B) {
	m := loadModels(b)
	g := loadGolden(b)
	im := decodeImage(b, g.Images[0].File)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.DetectRGB(im, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSSD512(b *testing.B) {
	m := loadModels(b)
	if m.SSD == nil {
		b.Skip("no SSD model")
	}
	g := loadGolden(b)
	var x nn.Tensor
	m.SSD.Input(&x, decodeImage(b, g.Images[0].File))
	b.ResetTimer()
	for b.Loop() {
		m.SSD.Forward(&x)
	}
}

// BenchmarkToRGB converts the decoded 1364×2048 bona4.jpg (YCbCr 4:2:0).
func BenchmarkToRGB(b *testing.B) {
	needTestdata(b)
	f, err := os.Open(filepath.Join(testdataDir, "images", "bona4.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	img, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ToRGB(img)
	}
}

// BenchmarkAlignFace cuts bona's aligned chip (similarity fit and warp).
func BenchmarkAlignFace(b *testing.B) {
	g := loadGolden(b)
	im := decodeImage(b, g.Images[0].File)
	var pts [68]Point
	for i, p := range g.Images[0].Tiny416.Faces[0].Landmarks {
		pts[i] = Point{p[0], p[1]}
	}
	for b.Loop() {
		AlignFace(im, &pts)
	}
}
