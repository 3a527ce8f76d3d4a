package faces

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"image/jpeg"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testdataDir holds the goldens (see its README.md).
const testdataDir = "../../../shared/testdata/faces"

var (
	installOnce sync.Once
	installDir  string
	installErr  error
)

// modelDir returns a directory with the face-api models: $SHOEBOX_FACE_MODELS
// if set, else a once-per-process install into the user cache dir. Without
// models the test fails under CI=true and is skipped otherwise.
func modelDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("SHOEBOX_FACE_MODELS"); d != "" {
		if err := Find(d); err != nil {
			t.Fatalf("SHOEBOX_FACE_MODELS: %v", err)
		}
		return d
	}
	installOnce.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			installErr = err
			return
		}
		installDir = filepath.Join(cache, "shoebox", "face-api-"+PackageVersion)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		installErr = Install(ctx, "", installDir, &http.Client{Timeout: 5 * time.Minute})
	})
	if installErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("installing face models: %v", installErr)
		}
		t.Skipf("face models unavailable (set SHOEBOX_FACE_MODELS): %v", installErr)
	}
	return installDir
}

func needTestdata(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(testdataDir, "golden.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("face goldens missing: %v", err)
		}
		t.Skipf("face goldens missing: %v", err)
	}
}

var (
	modelsOnce sync.Once
	models     *Models
	modelsErr  error
)

func loadModels(t testing.TB) *Models {
	t.Helper()
	dir := modelDir(t)
	modelsOnce.Do(func() { models, modelsErr = Load(dir) })
	if modelsErr != nil {
		t.Fatal(modelsErr)
	}
	return models
}

type goldenRect struct{ X, Y, Width, Height float64 }

func (r goldenRect) rect() Rect {
	return Rect{int(r.X), int(r.Y), int(r.Width), int(r.Height)}
}

type goldenFace struct {
	Score          float64
	Box            goldenRect
	LandmarkCrop   goldenRect
	Landmarks      [][2]float64
	AlignRect      goldenRect
	DescriptorCrop goldenRect
	Descriptor     []float64
}

type goldenRun struct{ Faces []goldenFace }

type goldenImage struct {
	Name, File    string
	Width, Height int
	Tiny416       goldenRun
	Ssd512        goldenRun
	Tiny800       *goldenRun
}

type golden struct{ Images []goldenImage }

type vectorEntry struct {
	Kind, Detector, Image string
	Face                  int
	Shape                 []int
	Crop                  *goldenRect
	File                  string
	Descriptor            []float64
}

func loadGolden(t testing.TB) *golden {
	t.Helper()
	needTestdata(t)
	b, err := os.ReadFile(filepath.Join(testdataDir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func loadVectors(t testing.TB) []vectorEntry {
	t.Helper()
	needTestdata(t)
	b, err := os.ReadFile(filepath.Join(testdataDir, "vectors", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Vectors []vectorEntry }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Vectors
}

func readF32(t testing.TB, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

var rgbCache sync.Map

func decodeImage(t testing.TB, file string) *RGB {
	t.Helper()
	if v, ok := rgbCache.Load(file); ok {
		return v.(*RGB)
	}
	f, err := os.Open(filepath.Join(testdataDir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgb := ToRGB(img)
	rgbCache.Store(file, rgb)
	return rgb
}

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = math.Max(m, d)
	}
	return m
}
