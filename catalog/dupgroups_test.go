package catalog

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestDupGroupsBackfill: a catalog from before group summaries (member
// rows without values, no summary rows, no marker) gets them at Open, the
// same as kept ones; reindex drops them with the other derived rows.
func TestDupGroupsBackfill(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	add := func(key string, size int64, w int, phash string) {
		t.Helper()
		o := Object{Bucket: "b", Key: key, Size: size, SHA256: "sha-" + phash, UploadNs: size, ModNs: size}
		if err := c.PutFile(ctx, "u", o); err != nil {
			t.Fatal(err)
		}
		m := Media{Kind: "photo", TakenLocal: "2020-02-0" + phash[15:] + "T10:00:00", Width: w, Height: w, PHash: phash, SHA256: o.SHA256}
		if err := c.CompleteJob(ctx, Job{User: "u", Bucket: "b", Key: key, Gen: o.UploadNs}, m); err != nil {
			t.Fatal(err)
		}
	}
	add("x/a.jpg", 10, 100, "0000000000000001")
	add("y/a.jpg", 20, 100, "0000000000000001")
	add("long-name.jpg", 30, 200, "0000000000000003") // near: 1 bit off
	add("z/b.jpg", 5, 100, "ffffffff00000002")
	add("b.jpg", 5, 100, "ffffffff00000002")
	add("alone.jpg", 5, 100, "0f0f0f0f0f0f0f05")
	groups := func(c *Catalog) []string {
		t.Helper()
		var out []string
		if err := c.DupGroups(ctx, "u", func(g DupGroup) error {
			out = append(out, fmt.Sprintf("%d %d %s/%s %s", g.Count, g.NewestNs, g.Best.Bucket, g.Best.Key, g.BestDay))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	kept := groups(c)
	if want := []string{"2 5 b/b.jpg 2020-02-02", "3 30 b/long-name.jpg 2020-02-03"}; !slices.Equal(kept, want) {
		t.Fatalf("groups = %q; want %q", kept, want)
	}
	// Make it a catalog of before: no summaries, no marker, empty values.
	err = c.db.Update(func(txn *badger.Txn) error {
		var keys [][]byte
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("dup")})
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		it.Close()
		for _, k := range keys {
			switch string(k[:5]) {
			case pfxDupSummary:
				if err := txn.Delete(k); err != nil {
					return err
				}
			case pfxDupGroup:
				if err := txn.Set(k, nil); err != nil {
					return err
				}
			}
		}
		return txn.Delete(keyDupSumIndexed())
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := groups(c); len(got) != 0 {
		t.Fatalf("groups with summaries dropped = %q; want none", got)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := groups(c); !slices.Equal(got, kept) {
		t.Errorf("groups after the backfill = %q; want %q", got, kept)
	}
	// Member rows have their values again.
	err = c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxDupGroup), PrefetchValues: true})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			n++
			v, _ := it.Item().ValueCopy(nil)
			if _, ok := decodeDupMember(v); !ok {
				t.Errorf("%s: value %x after the backfill", it.Item().Key(), v)
			}
		}
		if n != 5 {
			t.Errorf("%d member rows; want 5", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "u", "b", "long-name.jpg"); err != nil {
		t.Fatal(err)
	}
	if got, want := groups(c), []string{"2 20 b/y/a.jpg 2020-02-01", "2 5 b/b.jpg 2020-02-02"}; !slices.Equal(got, want) {
		t.Errorf("groups after deleting the best copy = %q; want %q", got, want)
	}
	if err := c.RequeueAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := groups(c); len(got) != 0 {
		t.Errorf("groups after reindex dropped derived rows = %q; want none", got)
	}
}
