package places

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkLookup looks up random points on land and at sea.
func BenchmarkLookup(b *testing.B) {
	ix, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	pts := make([][2]float64, 1024)
	for i := range pts {
		pts[i] = [2]float64{r.Float64()*140 - 60, r.Float64()*360 - 180}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := pts[i%len(pts)]
		ix.Lookup(p[0], p[1])
	}
}

// BenchmarkLookupCity looks up points in European cities (dense cells).
func BenchmarkLookupCity(b *testing.B) {
	ix, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	pts := [][2]float64{{48.85837, 2.294481}, {50.94, 6.96}, {52.52, 13.40}, {45.46, 9.19}, {51.5, -0.12}}
	for i := 0; b.Loop(); i++ {
		p := pts[i%len(pts)]
		ix.Lookup(p[0], p[1])
	}
}

// BenchmarkZone looks up time zones of random points.
func BenchmarkZone(b *testing.B) {
	ix, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		ix.Zone(r.Float64()*140-60, r.Float64()*360-180)
	}
}

// BenchmarkLoad decodes the embedded data.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}
