package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// modIndexOf returns the mtime index of user as "bucket/key@mtime", in
// index order.
func modIndexOf(t *testing.T, c *Catalog, user string) []string {
	t.Helper()
	var out []string
	pfx := []byte(pfxIxMod + user + sep)
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			rest := string(it.Item().Key()[len(pfx):])
			r := parseRef(rest[17:])
			var inv uint64
			fmt.Sscanf(rest[:16], "%x", &inv)
			out = append(out, fmt.Sprintf("%s/%s@%d", r.Bucket, r.Key, int64(^inv^1<<63)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rowsByMod returns what the index should hold: every file row of user
// outside the trash, newest first, then by bucket and key.
func rowsByMod(t *testing.T, c *Catalog, user string) []string {
	t.Helper()
	var os []Object
	bs, err := c.Buckets(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Name == TrashBucket {
			continue
		}
		err := c.Walk(context.Background(), user, b.Name, "", "", func(o Object) error {
			if !o.IsDir() {
				os = append(os, o)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(os, func(a, b Object) int {
		if a.ModNs != b.ModNs {
			if a.ModNs > b.ModNs {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Bucket+sep+a.Key, b.Bucket+sep+b.Key)
	})
	out := []string{}
	for _, o := range os {
		out = append(out, fmt.Sprintf("%s/%s@%d", o.Bucket, o.Key, o.ModNs))
	}
	return out
}

func checkModIndex(t *testing.T, c *Catalog, user, step string, want ...string) {
	t.Helper()
	got := modIndexOf(t, c, user)
	if got == nil {
		got = []string{}
	}
	if rows := rowsByMod(t, c, user); !slices.Equal(got, rows) {
		t.Errorf("%s: index %q; rows %q", step, got, rows)
	}
	if want != nil && !slices.Equal(got, want) {
		t.Errorf("%s: index %q; want %q", step, got, want)
	}
	var seen []string
	if _, err := c.ByModTime(context.Background(), user, "", "", func(o Object) error {
		seen = append(seen, fmt.Sprintf("%s/%s@%d", o.Bucket, o.Key, o.ModNs))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, got) && len(seen)+len(got) > 0 {
		t.Errorf("%s: ByModTime %q; index %q", step, seen, got)
	}
}

// TestModIndexExact: the mtime index holds exactly the file rows outside
// the trash, newest first, through overwrites, moves (of files and
// folders, with and without a new mtime), copies, the trash and deletes;
// and a catalog without it is indexed at Open.
func TestModIndexExact(t *testing.T) {
	const user = "alice"
	dir := t.TempDir()
	ctx := context.Background()
	c, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []string{"b", "c", TrashBucket} {
		must(c.CreateBucket(ctx, user, b, time.Unix(1, 0)))
	}
	put := func(key string, mt int64) {
		t.Helper()
		must(c.PutFile(ctx, user, Object{Bucket: "b", Key: key, Size: 1, ModNs: mt, UploadNs: mt}))
	}
	put("a.jpg", 10)
	put("d/c.jpg", 30)
	put("b.jpg", 20)
	must(c.Put(ctx, user, Object{Bucket: "b", Key: "d/", ModNs: 99}))
	checkModIndex(t, c, user, "puts", "b/d/c.jpg@30", "b/b.jpg@20", "b/a.jpg@10")
	put("a.jpg", 40)
	checkModIndex(t, c, user, "overwrite", "b/a.jpg@40", "b/d/c.jpg@30", "b/b.jpg@20")
	must(c.Put(ctx, user, Object{Bucket: "b", Key: "a.jpg", ModNs: 40}))
	checkModIndex(t, c, user, "overwrite, same mtime", "b/a.jpg@40", "b/d/c.jpg@30", "b/b.jpg@20")
	must(c.Move(ctx, user, "b", "a.jpg", "b", "d/a.jpg", false, nil))
	checkModIndex(t, c, user, "move", "b/d/a.jpg@40", "b/d/c.jpg@30", "b/b.jpg@20")
	must(c.Move(ctx, user, "b", "b.jpg", "b", "d/c.jpg", false, func(o *Object) { o.ModNs = 5 }))
	checkModIndex(t, c, user, "move over a file, new mtime", "b/d/a.jpg@40", "b/d/c.jpg@5")
	must(c.Move(ctx, user, "b", "d/", "c", "e/", true, nil))
	checkModIndex(t, c, user, "copy of a folder", "b/d/a.jpg@40", "c/e/a.jpg@40", "b/d/c.jpg@5", "c/e/c.jpg@5")
	must(c.Move(ctx, user, "b", "d/", "c", "f/", false, nil))
	checkModIndex(t, c, user, "move of a folder", "c/e/a.jpg@40", "c/f/a.jpg@40", "c/e/c.jpg@5", "c/f/c.jpg@5")
	must(c.Move(ctx, user, "c", "f/a.jpg", TrashBucket, "1", false, nil))
	checkModIndex(t, c, user, "to the trash", "c/e/a.jpg@40", "c/e/c.jpg@5", "c/f/c.jpg@5")
	must(c.Move(ctx, user, TrashBucket, "1", "b", "back.jpg", false, nil))
	checkModIndex(t, c, user, "from the trash", "b/back.jpg@40", "c/e/a.jpg@40", "c/e/c.jpg@5", "c/f/c.jpg@5")
	must(c.Delete(ctx, user, "b", "back.jpg"))
	checkModIndex(t, c, user, "delete a file", "c/e/a.jpg@40", "c/e/c.jpg@5", "c/f/c.jpg@5")
	must(c.DeleteFileUnsynced(ctx, user, "c", "f/c.jpg"))
	checkModIndex(t, c, user, "delete a file unsynced", "c/e/a.jpg@40", "c/e/c.jpg@5")
	must(c.Delete(ctx, user, "c", "e/"))
	checkModIndex(t, c, user, "delete a folder", []string{}...)
	put("x/1.jpg", 1)
	put("x/2.jpg", 2)
	must(c.Delete(ctx, user, "b", ""))
	checkModIndex(t, c, user, "delete a bucket's rows", []string{}...)

	// Backfill: a catalog from before the index.
	put("x/1.jpg", 1)
	put("x/2.jpg", -2) // before 1970 sorts last
	must(c.Put(ctx, user, Object{Bucket: "b", Key: "x/", ModNs: 3}))
	must(c.db.Update(func(txn *badger.Txn) error {
		for _, k := range []string{pfxIxMod + user + sep + invertedMod(1) + sep + "b|x/1.jpg", pfxIxMod + user + sep + invertedMod(-2) + sep + "b|x/2.jpg", string(keyModIndexed())} {
			if _, err := txn.Get([]byte(k)); err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
			if err := txn.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	}))
	if got := modIndexOf(t, c, user); len(got) != 0 {
		t.Fatalf("index after dropping it: %q", got)
	}
	must(c.Close())
	if c, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkModIndex(t, c, user, "backfilled", "b/x/1.jpg@1", "b/x/2.jpg@-2")
}

// TestByModTimePage: a page of the newest files reads that many rows, not
// the library, also when it is limited to a folder.
func TestByModTimePage(t *testing.T) {
	const user = "alice"
	ctx := context.Background()
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 3000
	for i := range n {
		dir := "a/"
		if i%10 == 0 {
			dir = "b/"
		}
		if err := c.PutFile(ctx, user, Object{Bucket: "p", Key: fmt.Sprintf("%s%05d.jpg", dir, i), ModNs: int64(i), UploadNs: 1}); err != nil {
			t.Fatal(err)
		}
	}
	errPage := errors.New("page full")
	for _, tc := range []struct {
		prefix string
		first  int64
		step   int64
	}{{"", n - 1, 1}, {"b/", n - 10, 10}} {
		var page []Object
		read, err := c.ByModTime(ctx, user, "p", tc.prefix, func(o Object) error {
			page = append(page, o)
			if len(page) == 100 {
				return errPage
			}
			return nil
		})
		if !errors.Is(err, errPage) {
			t.Fatalf("prefix %q: %v", tc.prefix, err)
		}
		if read != 100 {
			t.Errorf("prefix %q: a page of 100 read %d rows of %d", tc.prefix, read, n)
		}
		for i, o := range page {
			if want := tc.first - int64(i)*tc.step; o.ModNs != want {
				t.Fatalf("prefix %q: row %d has mtime %d; want %d", tc.prefix, i, o.ModNs, want)
			}
		}
	}
}
