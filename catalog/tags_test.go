package catalog

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// TestTagIndex: tags and ratings are indexed with the media record, move
// with the file, go with it when it is deleted, and are replaced when the
// record changes; tags are cleaned into folder names.
func TestTagIndex(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.CreateBucket(ctx, "u", "b", time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	four, two := 4, 2
	records := map[string]Media{
		"a.jpg": {Kind: "photo", Tags: []string{"Beach", "a/b|c"}, Rating: &four},
		"b.jpg": {Kind: "photo", Tags: []string{"Beach"}, Rating: &two},
		"c.txt": {Kind: "other", Tags: []string{"Ignored"}},
	}
	for k, m := range records {
		if err := c.Put(ctx, "u", Object{Bucket: "b", Key: k, Size: 1, ModNs: 10}); err != nil {
			t.Fatal(err)
		}
		if err := c.update(ctx, func(txn *badger.Txn) error { return index(txn, "u", "b", k, m, 10) }); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(each func(fn func(Object) error) error) []string {
		var out []string
		if err := each(func(o Object) error { out = append(out, o.Key); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	byTag := func(tag string) []string {
		return keys(func(fn func(Object) error) error { return c.ByTag(ctx, "u", tag, fn) })
	}
	byRating := func(r int) []string {
		return keys(func(fn func(Object) error) error { return c.ByRating(ctx, "u", r, fn) })
	}
	tags, err := c.Tags(ctx, "u")
	if err != nil || !slices.Equal(tags, []string{"Beach", "a-b-c"}) {
		t.Errorf("Tags = %q, %v; want [Beach a-b-c]", tags, err)
	}
	if got := byTag("Beach"); !slices.Equal(got, []string{"a.jpg", "b.jpg"}) {
		t.Errorf("ByTag(Beach) = %q", got)
	}
	if got := byRating(4); !slices.Equal(got, []string{"a.jpg"}) {
		t.Errorf("ByRating(4) = %q", got)
	}
	if n, _ := c.NewestTagged(ctx, "u"); n["Beach"] != 10 {
		t.Errorf("NewestTagged = %v; want Beach at 10", n)
	}
	if err := c.Move(ctx, "u", "b", "a.jpg", "b", "moved.jpg", false, nil); err != nil {
		t.Fatal(err)
	}
	if got := byTag("Beach"); !slices.Equal(got, []string{"b.jpg", "moved.jpg"}) {
		t.Errorf("after the move, ByTag(Beach) = %q", got)
	}
	if err := c.Delete(ctx, "u", "b", "b.jpg"); err != nil {
		t.Fatal(err)
	}
	if got := byTag("Beach"); !slices.Equal(got, []string{"moved.jpg"}) {
		t.Errorf("after the delete, ByTag(Beach) = %q", got)
	}
	if got := byRating(2); len(got) != 0 {
		t.Errorf("after the delete, ByRating(2) = %q", got)
	}
	m := Media{Kind: "photo", Tags: []string{"Winter"}}
	if err := c.update(ctx, func(txn *badger.Txn) error { return index(txn, "u", "b", "moved.jpg", m, 11) }); err != nil {
		t.Fatal(err)
	}
	if tags, _ := c.Tags(ctx, "u"); !slices.Equal(tags, []string{"Winter"}) {
		t.Errorf("after the record changed, Tags = %q; want [Winter]", tags)
	}
	if got := byRating(4); len(got) != 0 {
		t.Errorf("after the rating went, ByRating(4) = %q", got)
	}
	for in, want := range map[string]string{" x ": "x", "..": "", "a\x00b": "a-b", string(make([]byte, 300)): ""} {
		if got := CleanTag(in); got != want && !(len(in) == 300 && len(got) <= maxTagLen) {
			t.Errorf("CleanTag(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestDerivedVersionRequeues: a catalog whose records predate
// DerivedVersion has its photos queued again once, at Open.
func TestDerivedVersionRequeues(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.CreateBucket(ctx, "u", "b", time.Unix(1, 0))
	if err := c.Put(ctx, "u", Object{Bucket: "b", Key: "a.jpg", Size: 1, UploadNs: 5}); err != nil {
		t.Fatal(err)
	}
	err = c.update(ctx, func(txn *badger.Txn) error {
		if err := txn.Delete(keyJob("u", "b", "a.jpg")); err != nil {
			return err
		}
		if err := txn.Delete(keyDerivedVersion()); err != nil {
			return err
		}
		return index(txn, "u", "b", "a.jpg", Media{Kind: "photo"}, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for i, want := range []bool{true, false} {
		c, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.JobOf(ctx, "u", "b", "a.jpg")
		if got := err == nil; got != want {
			t.Errorf("open %d: job queued %v; want %v", i+1, got, want)
		}
		c.update(ctx, func(txn *badger.Txn) error { return txn.Delete(keyJob("u", "b", "a.jpg")) })
		c.Close()
	}
}
