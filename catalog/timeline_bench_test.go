package catalog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// BenchmarkTimeline100k pages through a timeline of 100,000 photos (ten
// years, about 27 a day, on disk, indexed as enrichment indexes them):
// "first" is the first screen's page (120 items), "next" each further
// page of 120 from the previous page's cursor (wrapping round at the
// end), "jump" a scrubber jump to a month. Server time, without HTTP.
//
//	go test ./catalog -run '^$' -bench Timeline100k -benchtime 200x
func BenchmarkTimeline100k(b *testing.B) {
	ctx := context.Background()
	c, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	const n, perTxn, limit = 100_000, 200, 120
	start := time.Date(2015, 1, 1, 8, 0, 0, 0, time.UTC)
	step := 10 * 365 * 24 * time.Hour / n
	for i := 0; i < n; i += perTxn {
		err := c.update(ctx, func(txn *badger.Txn) error {
			for j := i; j < i+perTxn; j++ {
				taken := start.Add(time.Duration(j) * step)
				key := fmt.Sprintf("%s/IMG_%06d.jpg", taken.Format("2006/01"), j)
				sha := fmt.Sprintf("%064x", j)
				o := Object{Size: 3 << 20, SHA256: sha, ModNs: taken.UnixNano(), UploadNs: int64(j + 1), ID: uint64(j + 1)}
				m := Media{Kind: "photo", TakenLocal: taken.Format("2006-01-02T15:04:05"), DateSource: "exif", Make: "Canon", Model: "EOS 5D",
					Width: 4000, Height: 3000, SHA256: sha}
				if err := setJSON(txn, keyObject("u", "photos", key), o); err != nil {
					return err
				}
				if err := index(txn, "u", "photos", key, m, o.ModNs); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			p, more, err := c.Timeline(ctx, "u", nil, "", limit)
			if err != nil || len(p) != limit || !more {
				b.Fatalf("first page: %d items, more %v, %v", len(p), more, err)
			}
		}
	})
	b.Run("next", func(b *testing.B) {
		var cur *TimelineCursor
		pages := 0
		for b.Loop() {
			p, more, err := c.Timeline(ctx, "u", cur, "", limit)
			if err != nil || len(p) == 0 {
				b.Fatalf("page %d: %d items, %v", pages, len(p), err)
			}
			pages++
			cur = nil
			if more {
				cc := CursorOf(p[len(p)-1])
				cur = &cc
			}
		}
	})
	b.Run("jump", func(b *testing.B) {
		i := 0
		for b.Loop() {
			month := start.AddDate(0, i%120, 0).Format("2006-01")
			i += 37
			p, _, err := c.Timeline(ctx, "u", nil, month, limit)
			if err != nil || len(p) == 0 {
				b.Fatalf("from %s: %d items, %v", month, len(p), err)
			}
		}
	})
}
