package catalog_test

import (
	"context"
	"testing"

	"shoebox/catalog"
)

// TestFileIDs: a new row gets a file id; an overwrite and a move keep it,
// a copy gets another, and the ids survive a restart without reuse.
func TestFileIDs(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c, err := catalog.Open(dir, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stat := func(c *catalog.Catalog, key string) catalog.Object {
		t.Helper()
		o, err := c.Stat(ctx, user, "b", key)
		if err != nil {
			t.Fatalf("Stat %s: %v", key, err)
		}
		return o
	}
	if err := c.PutFile(ctx, user, catalog.Object{Bucket: "b", Key: "a.jpg", Size: 1, UploadNs: 1}); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, user, catalog.Object{Bucket: "b", Key: "d/"}); err != nil {
		t.Fatal(err)
	}
	id := stat(c, "a.jpg").ID
	if id == 0 || id == stat(c, "d/").ID {
		t.Fatalf("ids of a.jpg and d/: %d, %d; want distinct, non-zero", id, stat(c, "d/").ID)
	}
	if err := c.PutFile(ctx, user, catalog.Object{Bucket: "b", Key: "a.jpg", Size: 2, UploadNs: 2}); err != nil {
		t.Fatal(err)
	}
	if got := stat(c, "a.jpg").ID; got != id {
		t.Errorf("id after overwrite: got %d; want %d", got, id)
	}
	if err := c.Move(ctx, user, "b", "a.jpg", "b", "d/a.jpg", false, nil); err != nil {
		t.Fatal(err)
	}
	if got := stat(c, "d/a.jpg").ID; got != id {
		t.Errorf("id after move: got %d; want %d", got, id)
	}
	if err := c.Move(ctx, user, "b", "d/", "b", "e/", true, nil); err != nil {
		t.Fatal(err)
	}
	if got := stat(c, "e/a.jpg").ID; got == id || got == 0 {
		t.Errorf("id of a copy: got %d; want a new one (not %d)", got, id)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = catalog.Open(dir, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := stat(c, "d/a.jpg").ID; got != id {
		t.Errorf("id after restart: got %d; want %d", got, id)
	}
	seen := map[uint64]bool{id: true, stat(c, "d/").ID: true, stat(c, "e/").ID: true, stat(c, "e/a.jpg").ID: true}
	if err := c.PutFile(ctx, user, catalog.Object{Bucket: "b", Key: "new.jpg", Size: 1, UploadNs: 3}); err != nil {
		t.Fatal(err)
	}
	if got := stat(c, "new.jpg").ID; seen[got] {
		t.Errorf("id after restart %d was handed out before", got)
	}
	if a, b := catalog.FileIDOf(user, catalog.Object{Bucket: "b", Key: "x"}), catalog.FileIDOf(user, catalog.Object{Bucket: "b", Key: "x"}); a != b || a < 1<<52 {
		t.Errorf("derived ids %d, %d; want equal and >= 2^52", a, b)
	}
}
