package catalog

import (
	"context"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestTimelineFiles: the zero Query lists a user's photos newest first
// (capture time, across days and within one), and Files reads their rows
// and records in that order, leaving out a file that is gone and never
// reading another user's.
func TestTimelineFiles(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	put := func(user, key, taken string) {
		t.Helper()
		err := c.update(ctx, func(txn *badger.Txn) error {
			if err := setJSON(txn, keyObject(user, "b", key), Object{Size: int64(len(key))}); err != nil {
				return err
			}
			return index(txn, user, "b", key, Media{Kind: "photo", TakenLocal: taken}, 1)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("u", "a.jpg", "2019-06-12T08:00:00")
	put("u", "b.jpg", "2019-06-12T18:30:00")
	put("u", "c.jpg", "2023-01-15T10:00:00")
	put("u", "d.jpg", "2016-08-20T10:00:00")
	put("u2", "other.jpg", "2020-01-01T00:00:00")
	hits, next, err := c.Search(ctx, "u", Query{})
	if err != nil || next != "" {
		t.Fatalf("Search: %v, next %q", err, next)
	}
	var refs []Ref
	for _, h := range hits {
		refs = append(refs, Ref{h.Bucket, h.Key})
	}
	refs = append(refs, Ref{"b", "gone.jpg"}, Ref{"b", "other.jpg"})
	fs, err := c.Files(ctx, "u", refs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Object.Key+" "+f.Media.Day())
		if f.Object.Size != int64(len(f.Object.Key)) || f.Object.Bucket != "b" {
			t.Errorf("Files: %s has row %+v", f.Object.Key, f.Object)
		}
	}
	want := []string{"c.jpg 2023-01-15", "b.jpg 2019-06-12", "a.jpg 2019-06-12", "d.jpg 2016-08-20"}
	if len(got) != len(want) {
		t.Fatalf("Files = %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Files[%d] = %s; want %s", i, got[i], want[i])
		}
	}
}
