package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// BenchmarkStatusCounts compares /api/v1/status's counting at 20,000
// photos (the library: 200 folders of 100) before counts.go (scan:
// every row and its media record, one lookup each) and after (count: one
// snapshot, object keys only, as after any write; cached: no write since).
func BenchmarkStatusCounts(b *testing.B) {
	ctx := context.Background()
	c, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	now := time.Unix(1_700_000_000, 0)
	if err := c.CreateBucket(ctx, "u", "photos", now); err != nil {
		b.Fatal(err)
	}
	wb := c.db.NewWriteBatch()
	lat, lon := 48.85, 2.35
	for i := range 20_000 {
		key := fmt.Sprintf("%03d/IMG_%05d.jpg", i/100, i)
		o, _ := json.Marshal(Object{Size: 3 << 20, SHA256: fmt.Sprintf("%064x", i), MD5: fmt.Sprintf("%032x", i), ModNs: int64(i), UploadNs: int64(i), ID: uint64(i + 1)})
		m, _ := json.Marshal(Media{Kind: "photo", TakenLocal: "2019-06-12T10:00:00", DateSource: "exif", Make: "Canon", Model: "EOS", Lat: &lat, Lon: &lon,
			Width: 640, Height: 480, Orientation: 1, PHash: "c3a1f00d12345678", SHA256: fmt.Sprintf("%064x", i), FacesState: FacesWaiting})
		if err := wb.Set(keyObject("u", "photos", key), o); err != nil {
			b.Fatal(err)
		}
		if err := wb.Set(keyMedia("u", "photos", key), m); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.flushBatch(wb); err != nil {
		b.Fatal(err)
	}
	want := Counts{Objects: 20_000, Photos: 20_000}
	for _, bc := range []struct {
		name  string
		count func() (Counts, error)
	}{
		{"scan", func() (Counts, error) { return scanCounts(ctx, c, now, "u") }},
		{"count", func() (Counts, error) { c.counts.changed(); return c.CountsOf(ctx, now, "u") }},
		{"cached", func() (Counts, error) { return c.CountsOf(ctx, now, "u") }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				got, err := bc.count()
				if err != nil || got != want {
					b.Fatalf("counts = %+v, %v; want %+v", got, err, want)
				}
			}
		})
	}
}
