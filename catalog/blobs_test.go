package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"testing"

	"shoebox/catalog"
)

func blobKeys(t *testing.T, c *catalog.Catalog) []string {
	t.Helper()
	var out []string
	if err := c.WalkBlobs(context.Background(), func(b catalog.Blob) error {
		s := b.User + "/" + b.Bucket + "/" + b.Key
		if b.ID != "" {
			s += "=" + b.ID
		}
		out = append(out, s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBlobPutParentsReplace(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	old, err := c.PutBlob(ctx, catalog.Blob{User: "u", Bucket: "b", Key: "a/b/c.jpg", ID: "1", Size: 3, ModNs: 7})
	if err != nil || old != "" {
		t.Fatalf("PutBlob = %q, %v", old, err)
	}
	old, err = c.PutBlob(ctx, catalog.Blob{User: "u", Bucket: "b", Key: "a/b/c.jpg", ID: "2", Size: 4, ModNs: 8})
	if err != nil || old != "1" {
		t.Fatalf("replacing PutBlob = %q, %v; want old id 1", old, err)
	}
	want := []string{"u/b/", "u/b/a/", "u/b/a/b/", "u/b/a/b/c.jpg=2"}
	if got := blobKeys(t, c); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows %v; want %v", got, want)
	}
	b, err := c.GetBlob(ctx, "u", "b", "a/b/c.jpg")
	if err != nil || b.Size != 4 || b.ModNs != 8 || b.ID != "2" {
		t.Fatalf("GetBlob = %+v, %v", b, err)
	}
	if _, err := c.GetBlob(ctx, "u", "b", "nope"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("GetBlob missing = %v", err)
	}
	if _, err := c.PutBlob(ctx, catalog.Blob{User: "u", Bucket: "b", Key: "a/b", ID: "3"}); !errors.Is(err, catalog.ErrExists) {
		t.Fatalf("PutBlob over a folder = %v; want ErrExists", err)
	}
	if err := c.MkdirBlob(ctx, "u", "b", "a/b/c.jpg/", 1); !errors.Is(err, catalog.ErrExists) {
		t.Fatalf("MkdirBlob over a file = %v; want ErrExists", err)
	}
	if err := c.SetBlobModTime(ctx, "u", "b", "a/b/c.jpg", 99); err != nil {
		t.Fatal(err)
	}
	if b, _ := c.GetBlob(ctx, "u", "b", "a/b/c.jpg"); b.ModNs != 99 {
		t.Fatalf("ModNs = %d", b.ModNs)
	}
}

func TestBlobMoveDelete(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	for i := range 3000 {
		if _, err := c.PutBlob(ctx, catalog.Blob{User: "u", Bucket: "b", Key: fmt.Sprintf("src/%d/f%d", i%7, i), ID: fmt.Sprint("s", i)}); err != nil {
			t.Fatal(err)
		}
	}
	c.PutBlob(ctx, catalog.Blob{User: "u", Bucket: "b", Key: "dst/old", ID: "old"})
	c.PutBlob(ctx, catalog.Blob{User: "u", Bucket: "b", Key: "src.txt", ID: "sibling"})
	m := catalog.BlobMove{Name: "1", User: "u", SrcBucket: "b", Src: "src/", DstBucket: "b", Dst: "new/dst/"}
	if err := c.BlobMoveBegin(ctx, m); err != nil {
		t.Fatal(err)
	}
	if ms, _ := c.BlobMoves(ctx); len(ms) != 1 || ms[0].Dst != "new/dst/" {
		t.Fatalf("BlobMoves = %+v", ms)
	}
	if _, err := c.BlobMoveRun(ctx, m); err != nil {
		t.Fatal(err)
	}
	// Running again (as after a crash) changes nothing.
	if _, err := c.BlobMoveRun(ctx, catalog.BlobMove{Name: "1", User: "u", SrcBucket: "b", Src: "src/", DstBucket: "b", Dst: "new/dst/", Phase: 1}); err != nil {
		t.Fatal(err)
	}
	if ms, _ := c.BlobMoves(ctx); len(ms) != 0 {
		t.Fatalf("intent left: %+v", ms)
	}
	n := 0
	for _, k := range blobKeys(t, c) {
		if strings.HasPrefix(k, "u/b/src/") {
			t.Fatalf("row %s left at the source", k)
		}
		if strings.HasPrefix(k, "u/b/new/dst/") && strings.Contains(k, "=") {
			n++
		}
	}
	if n != 3000 {
		t.Fatalf("%d rows moved; want 3000", n)
	}
	if _, err := c.GetBlob(ctx, "u", "b", "src.txt"); err != nil {
		t.Fatalf("sibling file moved or lost: %v", err)
	}
	if _, err := c.GetBlob(ctx, "u", "b", "new/"); err != nil {
		t.Fatalf("destination parent not created: %v", err)
	}
	// Replacing a folder frees the blobs of its files.
	m = catalog.BlobMove{Name: "2", User: "u", SrcBucket: "b", Src: "new/dst/", DstBucket: "b", Dst: "dst/"}
	c.BlobMoveBegin(ctx, m)
	freed, err := c.BlobMoveRun(ctx, m)
	if err != nil || !reflect.DeepEqual(freed, []string{"old"}) {
		t.Fatalf("freed %v, %v; want [old]", freed, err)
	}
	ids, err := c.DeleteBlobs(ctx, "u", "b", "dst/")
	if err != nil || len(ids) != 3000 {
		t.Fatalf("DeleteBlobs = %d ids, %v", len(ids), err)
	}
	if _, err := c.DeleteBlobs(ctx, "u", "b", "dst/"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("DeleteBlobs again = %v", err)
	}
	if err := c.BlobMoveBegin(ctx, catalog.BlobMove{Name: "3", User: "u", SrcBucket: "b", Src: "a/", DstBucket: "b", Dst: "a/b/"}); err == nil {
		t.Fatal("overlapping move accepted")
	}
}

func TestBlobWalkSkipReplaceForget(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	c.MkdirBlob(ctx, "u", "b", "skip/x/", 1)
	c.PutBlob(ctx, catalog.Blob{User: "u", Bucket: "b", Key: "skip/x/1", ID: "1"})
	c.PutBlob(ctx, catalog.Blob{User: "u", Bucket: "b", Key: "skip-not", ID: "2"})
	c.PutBlob(ctx, catalog.Blob{User: "u", Bucket: "b2", Key: "z", ID: "3"})
	var seen []string
	c.WalkBlobs(ctx, func(b catalog.Blob) error {
		seen = append(seen, b.Bucket+"/"+b.Key)
		if b.Key == "skip/" {
			return fs.SkipDir
		}
		return nil
	})
	want := []string{"b2/", "b2/z", "b/", "b/skip-not", "b/skip/"} // "b2|" sorts before "b|"
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("walk %v; want %v", seen, want)
	}
	var tree []string
	if err := c.BlobTree(ctx, "u", "b", "skip/", func(b catalog.Blob) error {
		tree = append(tree, b.Key)
		return nil
	}); err != nil || !reflect.DeepEqual(tree, []string{"skip/", "skip/x/", "skip/x/1"}) {
		t.Fatalf("BlobTree = %v, %v", tree, err)
	}
	if err := c.BlobTree(ctx, "u", "b", "none/", func(catalog.Blob) error { return nil }); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("BlobTree of a missing folder = %v", err)
	}
	freed, err := c.ReplaceBlobTree(ctx, "u", "b2", "c/", []catalog.Blob{
		{User: "u", Bucket: "b2", Key: "c/"}, {User: "u", Bucket: "b2", Key: "c/f", ID: "9"}})
	if err != nil || len(freed) != 0 {
		t.Fatalf("ReplaceBlobTree = %v, %v", freed, err)
	}
	if ok, err := c.ForgetBlob(ctx, "u", "b2", "c/f", "8"); ok || err != nil {
		t.Fatalf("ForgetBlob with another id = %v, %v", ok, err)
	}
	if ok, err := c.ForgetBlob(ctx, "u", "b2", "c/f", "9"); !ok || err != nil {
		t.Fatalf("ForgetBlob = %v, %v", ok, err)
	}
	got := blobKeys(t, c)
	sort.Strings(got)
	if strings.Contains(strings.Join(got, " "), "c/f") {
		t.Fatalf("forgotten row still there: %v", got)
	}
}
