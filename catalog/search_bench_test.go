package catalog

import (
	"context"
	"testing"
)

// BenchmarkSearch: one page (100) of each kind of query over a library of
// 100,000 photos and videos (newSearchLib), single filters and two
// combined, through both plans. The bar is 50 ms a query.
func BenchmarkSearch(b *testing.B) {
	lib := newSearchLib(b, 100_000, 3)
	for _, bc := range []struct {
		name string
		q    Query
	}{
		{"timeline", Query{}},
		{"timeline-page-200", Query{}}, // a later page, from a cursor
		{"date-range", Query{From: "2016-03", To: "2016-04"}},
		{"kind-video", Query{Kind: "video"}},
		{"camera", Query{Camera: "Canon EOS R5"}},
		{"lens", Query{Lens: "EF24-105mm f/4L"}},
		{"person", Query{Persons: []string{"Alice"}}},
		{"album", Query{Album: "Trip"}},
		{"duplicates", Query{Duplicates: true}},
		{"near-5km", Query{Near: &Near{Lat: 38.72, Lon: -9.14, RadiusKm: 5}}},
		{"near-1000km", Query{Near: &Near{Lat: 48.85, Lon: 2.29, RadiusKm: 1000}}},
		{"text-word", Query{Text: "lisbon"}},
		{"text-camera", Query{Text: "sony"}},
		{"person+camera", Query{Persons: []string{"Alice"}, Camera: "Canon EOS R5"}},
		{"person+person", Query{Persons: []string{"Alice", "Bob"}}},
		{"camera+kind", Query{Camera: "Canon EOS R5", Kind: "video"}},
		{"text+date", Query{Text: "tokyo", From: "2019", To: "2019"}},
		{"album+kind", Query{Album: "Trip", Kind: "video"}},
		{"near+person", Query{Near: &Near{Lat: 35.65, Lon: 139.74, RadiusKm: 20}, Persons: []string{"Bob"}}},
		{"camera+lens", Query{Camera: "Apple iPhone 13 Pro", Lens: "EF24-105mm f/4L"}},
	} {
		q := bc.q
		if bc.name == "timeline-page-200" {
			q.Limit = 100
			for range 200 {
				_, next, err := lib.c.Search(context.Background(), "u", q)
				if err != nil {
					b.Fatal(err)
				}
				q.After = next
			}
		}
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				hits, _, err := lib.c.Search(context.Background(), "u", q)
				if err != nil {
					b.Fatal(err)
				}
				n = len(hits)
			}
			b.ReportMetric(float64(n), "hits")
		})
	}
}
