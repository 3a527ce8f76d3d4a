package catalog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// BenchmarkTimeline100k pages through a timeline of 100,000 photos (ten
// years, about 27 a day, on disk, indexed as enrichment indexes them) as
// the gallery reads it: a Search with the zero Query, then Files for the
// hits. "first" is the first screen's page (120 items), "next" each
// further page of 120 from the previous page's cursor (wrapping round at
// the end), "jump" a scrubber jump to a month. Server time, without HTTP.
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
	page := func(q Query) ([]File, string) {
		hits, next, err := c.Search(ctx, "u", q)
		if err != nil {
			b.Fatal(err)
		}
		refs := make([]Ref, len(hits))
		for i, h := range hits {
			refs[i] = Ref{h.Bucket, h.Key}
		}
		fs, err := c.Files(ctx, "u", refs)
		if err != nil || len(fs) != len(hits) {
			b.Fatalf("files of %d hits: %d, %v", len(hits), len(fs), err)
		}
		return fs, next
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			if p, next := page(Query{Limit: limit}); len(p) != limit || next == "" {
				b.Fatalf("first page: %d items, next %q", len(p), next)
			}
		}
	})
	b.Run("next", func(b *testing.B) {
		cur := ""
		for b.Loop() {
			p, next := page(Query{Limit: limit, After: cur})
			if len(p) == 0 {
				b.Fatalf("page after %q: no items", cur)
			}
			cur = next
		}
	})
	b.Run("jump", func(b *testing.B) {
		i := 0
		for b.Loop() {
			month := start.AddDate(0, i%120, 0).Format("2006-01")
			i += 37
			if p, _ := page(Query{Limit: limit, To: month}); len(p) == 0 {
				b.Fatalf("to %s: no items", month)
			}
		}
	})
}
