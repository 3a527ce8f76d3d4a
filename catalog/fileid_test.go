package catalog_test

import (
	"context"
	"errors"
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

// TestFileByID: the file id index finds a file by its id through
// overwrites, moves (of the file and of its folder), copies, the trash and
// deletes, only among the user's own rows, and after a restart.
func TestFileByID(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c, err := catalog.Open(dir, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	at := func(c *catalog.Catalog, id uint64, want string) {
		t.Helper()
		o, err := c.FileByID(ctx, user, id)
		if want == "" {
			if !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("FileByID(%d): got %s/%s, %v; want not found", id, o.Bucket, o.Key, err)
			}
			return
		}
		if err != nil || o.Bucket+"/"+o.Key != want {
			t.Errorf("FileByID(%d): got %s/%s, %v; want %s", id, o.Bucket, o.Key, err, want)
		}
	}
	must(c.PutFile(ctx, user, catalog.Object{Bucket: "b", Key: "d/a.jpg", Size: 1, UploadNs: 1}))
	o, err := c.Stat(ctx, user, "b", "d/a.jpg")
	must(err)
	id := o.ID
	at(c, id, "b/d/a.jpg")
	if _, err := c.FileByID(ctx, "someone-else", id); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("another user's FileByID: %v; want not found", err)
	}
	must(c.PutFile(ctx, user, catalog.Object{Bucket: "b", Key: "d/a.jpg", Size: 2, UploadNs: 2}))
	at(c, id, "b/d/a.jpg")
	must(c.Move(ctx, user, "b", "d/a.jpg", "b", "d/b.jpg", false, nil))
	at(c, id, "b/d/b.jpg")
	must(c.Move(ctx, user, "b", "d/", "c", "e/", false, nil)) // the folder, to another bucket
	at(c, id, "c/e/b.jpg")
	must(c.Move(ctx, user, "c", "e/b.jpg", "c", "copy.jpg", true, nil)) // a copy: a new id
	cp, err := c.Stat(ctx, user, "c", "copy.jpg")
	must(err)
	at(c, id, "c/e/b.jpg")
	at(c, cp.ID, "c/copy.jpg")
	// Into the trash and back.
	must(c.Move(ctx, user, "c", "e/b.jpg", catalog.TrashBucket, "x", false, nil))
	at(c, id, "")
	must(c.Move(ctx, user, catalog.TrashBucket, "x", "c", "back.jpg", false, nil))
	at(c, id, "c/back.jpg")
	// Restart: the index is on disk.
	must(c.Close())
	if c, err = catalog.Open(dir, catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	at(c, id, "c/back.jpg")
	must(c.Delete(ctx, user, "c", "back.jpg"))
	at(c, id, "")
	// A folder delete leaves no file found by its old id.
	must(c.Delete(ctx, user, "c", ""))
	at(c, cp.ID, "")
}
