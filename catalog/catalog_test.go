package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
)

const user = "alice"

func openMem(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Open("", catalog.Options{InMemory: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// putKeys stores a row for every key (size = len(key), so rows are told apart).
func putKeys(t *testing.T, c *catalog.Catalog, bucket string, keys ...string) {
	t.Helper()
	ctx := context.Background()
	for _, k := range keys {
		if err := c.Put(ctx, user, catalog.Object{Bucket: bucket, Key: k, Size: int64(len(k)), SHA256: "sha-" + k}); err != nil {
			t.Fatalf("Put %q: %v", k, err)
		}
	}
}

func list(t *testing.T, c *catalog.Catalog, bucket, dir, after string) []string {
	t.Helper()
	var out []string
	err := c.List(context.Background(), user, bucket, dir, after, func(o catalog.Object) error {
		out = append(out, o.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q, %q): %v", dir, after, err)
	}
	return out
}

func walk(t *testing.T, c *catalog.Catalog, bucket, prefix, after string) []string {
	t.Helper()
	var out []string
	err := c.Walk(context.Background(), user, bucket, prefix, after, func(o catalog.Object) error {
		if o.Bucket != bucket {
			t.Errorf("Walk row %q: got bucket %q; want %q", o.Key, o.Bucket, bucket)
		}
		out = append(out, o.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk(%q, %q): %v", prefix, after, err)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestList(t *testing.T) {
	c := openMem(t)
	putKeys(t, c, "b",
		"a.txt",
		"dir/",
		"dir/x.txt",
		"dir/deep/",
		"dir/deep/y.txt",
		"dir/deep/deeper/z.txt",
		"dir-x.txt",
		"ghost/child/leaf.txt", // no row for "ghost/" nor "ghost/child/"
		"ghost/file.txt",
		"z.txt",
	)
	putKeys(t, c, "other", "not-mine.txt")

	tests := []struct {
		name       string
		dir, after string
		want       []string
	}{
		{"root", "", "", []string{"a.txt", "dir-x.txt", "dir/", "ghost/", "z.txt"}},
		{"root after file", "", "a.txt", []string{"dir-x.txt", "dir/", "ghost/", "z.txt"}},
		{"root after folder", "", "dir/", []string{"ghost/", "z.txt"}},
		{"root after synthesized folder", "", "ghost/", []string{"z.txt"}},
		{"root after last", "", "z.txt", nil},
		{"folder", "dir/", "", []string{"dir/deep/", "dir/x.txt"}},
		{"folder after subfolder", "dir/", "dir/deep/", []string{"dir/x.txt"}},
		{"nested folder", "dir/deep/", "", []string{"dir/deep/deeper/", "dir/deep/y.txt"}},
		{"folder without row", "ghost/", "", []string{"ghost/child/", "ghost/file.txt"}},
		{"missing folder", "nope/", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(t, c, "b", tc.dir, tc.after); !equal(got, tc.want) {
				t.Errorf("List(%q, after %q): got %q; want %q", tc.dir, tc.after, got, tc.want)
			}
		})
	}
}

func TestListRowsAndSynthesized(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	if err := c.Put(ctx, user, catalog.Object{Bucket: "b", Key: "f.jpg", Size: 42, MD5: "abc", ContentType: "image/jpeg"}); err != nil {
		t.Fatal(err)
	}
	putKeys(t, c, "b", "syn/a/b.txt")
	got := map[string]catalog.Object{}
	if err := c.List(ctx, user, "b", "", "", func(o catalog.Object) error { got[o.Key] = o; return nil }); err != nil {
		t.Fatal(err)
	}
	f := got["f.jpg"]
	if f.Size != 42 || f.MD5 != "abc" || f.ContentType != "image/jpeg" || f.Bucket != "b" {
		t.Errorf("file row: got %+v; want size 42, md5 abc, image/jpeg, bucket b", f)
	}
	s, ok := got["syn/"]
	if !ok {
		t.Fatalf("listing: got %v; want a synthesized \"syn/\"", got)
	}
	if !s.IsDir() || s.Name() != "syn" || s.Bucket != "b" {
		t.Errorf("synthesized folder: got %+v (IsDir %v, Name %q); want a folder named syn in b", s, s.IsDir(), s.Name())
	}
}

func TestListStopsOnError(t *testing.T) {
	c := openMem(t)
	putKeys(t, c, "b", "1", "2", "3")
	stop := errors.New("stop")
	n := 0
	err := c.List(context.Background(), user, "b", "", "", func(catalog.Object) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("List with failing fn: got err %v after %d calls; want %v after 2", err, n, stop)
	}
}

func TestWalk(t *testing.T) {
	c := openMem(t)
	putKeys(t, c, "b", "a/", "a/1", "a/b/2", "a/b/c/3", "ab", "b/4")
	tests := []struct {
		prefix, after string
		want          []string
	}{
		{"", "", []string{"a/", "a/1", "a/b/2", "a/b/c/3", "ab", "b/4"}},
		{"a/", "", []string{"a/", "a/1", "a/b/2", "a/b/c/3"}},
		{"a/", "a/1", []string{"a/b/2", "a/b/c/3"}},
		{"a", "", []string{"a/", "a/1", "a/b/2", "a/b/c/3", "ab"}},
		{"a/b/", "", []string{"a/b/2", "a/b/c/3"}},
		{"zzz", "", nil},
	}
	for _, tc := range tests {
		if got := walk(t, c, "b", tc.prefix, tc.after); !equal(got, tc.want) {
			t.Errorf("Walk(%q, after %q): got %q; want %q", tc.prefix, tc.after, got, tc.want)
		}
	}
}

func setProp(local, inner string) catalog.PropOp {
	return catalog.PropOp{Prop: catalog.Prop{Space: "urn:x", Local: local, Inner: inner}}
}

func removeProp(local string) catalog.PropOp {
	return catalog.PropOp{Remove: true, Prop: catalog.Prop{Space: "urn:x", Local: local}}
}

func TestMoveFileLeavesPrefixSibling(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	putKeys(t, c, "b", "a.txt", "a.txt.bak", "a.txt/")
	if err := c.PatchProps(ctx, user, "b", "a.txt.bak", []catalog.PropOp{setProp("p", "bak")}); err != nil {
		t.Fatal(err)
	}
	if err := c.PatchProps(ctx, user, "b", "a.txt", []catalog.PropOp{setProp("p", "main")}); err != nil {
		t.Fatal(err)
	}
	if err := c.Move(ctx, user, "b", "a.txt", "b", "moved.txt", false, nil); err != nil {
		t.Fatalf("Move: %v", err)
	}
	if got, want := walk(t, c, "b", "", ""), []string{"a.txt.bak", "a.txt/", "moved.txt"}; !equal(got, want) {
		t.Errorf("rows after move: got %q; want %q", got, want)
	}
	o, err := c.Stat(ctx, user, "b", "moved.txt")
	if err != nil || o.Size != int64(len("a.txt")) || !o.HasProps {
		t.Errorf("Stat moved.txt: got %+v, %v; want size %d with props", o, err, len("a.txt"))
	}
	ps, _ := c.Props(ctx, user, "b", "moved.txt")
	if len(ps) != 1 || ps[0].Inner != "main" {
		t.Errorf("props of moved.txt: got %+v; want the one of a.txt", ps)
	}
	ps, _ = c.Props(ctx, user, "b", "a.txt.bak")
	if len(ps) != 1 || ps[0].Inner != "bak" {
		t.Errorf("props of a.txt.bak: got %+v; want its own, untouched", ps)
	}
	if ps, _ := c.Props(ctx, user, "b", "a.txt"); len(ps) != 0 {
		t.Errorf("props of a.txt after move: got %+v; want none", ps)
	}
}

func TestMoveFolderToOtherBucket(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	putKeys(t, c, "src", "dir/", "dir/1.jpg", "dir/sub/", "dir/sub/2.jpg", "dirx/3.jpg", "other.jpg")
	putKeys(t, c, "dst", "new/", "new/stale.jpg", "keep.jpg")
	if err := c.PatchProps(ctx, user, "src", "dir/sub/2.jpg", []catalog.PropOp{setProp("p", "v")}); err != nil {
		t.Fatal(err)
	}
	if err := c.PatchProps(ctx, user, "src", "dir/", []catalog.PropOp{setProp("q", "folder")}); err != nil {
		t.Fatal(err)
	}
	var modded []string
	mod := func(o *catalog.Object) {
		modded = append(modded, o.Bucket+":"+o.Key)
		o.ContentType = "moved"
	}
	if err := c.Move(ctx, user, "src", "dir/", "dst", "new/", false, mod); err != nil {
		t.Fatalf("Move: %v", err)
	}
	if got, want := walk(t, c, "src", "", ""), []string{"dirx/3.jpg", "other.jpg"}; !equal(got, want) {
		t.Errorf("src rows: got %q; want %q", got, want)
	}
	if got, want := walk(t, c, "dst", "", ""), []string{"keep.jpg", "new/", "new/1.jpg", "new/sub/", "new/sub/2.jpg"}; !equal(got, want) {
		t.Errorf("dst rows: got %q; want %q", got, want)
	}
	if want := []string{"dst:new/", "dst:new/1.jpg", "dst:new/sub/", "dst:new/sub/2.jpg"}; !equal(modded, want) {
		t.Errorf("mod saw: got %q; want %q", modded, want)
	}
	o, err := c.Stat(ctx, user, "dst", "new/sub/2.jpg")
	if err != nil || o.ContentType != "moved" || o.SHA256 != "sha-dir/sub/2.jpg" || !o.HasProps {
		t.Errorf("moved row: got %+v, %v; want content type from mod, original sums, HasProps", o, err)
	}
	for _, k := range []string{"new/sub/2.jpg", "new/"} {
		if ps, _ := c.Props(ctx, user, "dst", k); len(ps) != 1 {
			t.Errorf("props of dst %s: got %+v; want 1", k, ps)
		}
	}
	if ps, _ := c.Props(ctx, user, "src", "dir/sub/2.jpg"); len(ps) != 0 {
		t.Errorf("props left at source: got %+v; want none", ps)
	}
}

func TestMoveKeepCopies(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	putKeys(t, c, "b", "dir/", "dir/1", "dir/s/2")
	if err := c.PatchProps(ctx, user, "b", "dir/1", []catalog.PropOp{setProp("p", "v")}); err != nil {
		t.Fatal(err)
	}
	if err := c.Move(ctx, user, "b", "dir/", "b", "copy/", true, nil); err != nil {
		t.Fatalf("Move keep: %v", err)
	}
	want := []string{"copy/", "copy/1", "copy/s/2", "dir/", "dir/1", "dir/s/2"}
	if got := walk(t, c, "b", "", ""); !equal(got, want) {
		t.Errorf("rows after copy: got %q; want %q", got, want)
	}
	for _, k := range []string{"dir/1", "copy/1"} {
		if ps, _ := c.Props(ctx, user, "b", k); len(ps) != 1 {
			t.Errorf("props of %s: got %+v; want 1", k, ps)
		}
	}
	// The copy is independent: changing it leaves the original alone.
	if err := c.PatchProps(ctx, user, "b", "copy/1", []catalog.PropOp{removeProp("p")}); err != nil {
		t.Fatal(err)
	}
	if ps, _ := c.Props(ctx, user, "b", "dir/1"); len(ps) != 1 {
		t.Errorf("props of original after changing the copy: got %+v; want 1", ps)
	}
}

func TestMoveReplacesDestination(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	putKeys(t, c, "b", "src/", "src/a", "dst/", "dst/old1", "dst/old2/x")
	if err := c.Move(ctx, user, "b", "src/", "b", "dst/", false, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := walk(t, c, "b", "", ""), []string{"dst/", "dst/a"}; !equal(got, want) {
		t.Errorf("rows: got %q; want %q", got, want)
	}
}

func TestMoveLargeFolder(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	const n = 10000
	keys := make([]string, 0, n+1)
	keys = append(keys, "big/")
	for i := 0; i < n; i++ {
		keys = append(keys, fmt.Sprintf("big/%02d/%05d.jpg", i%50, i))
	}
	putMany(t, c, "b", keys)
	putKeys(t, c, "b", "big.txt", "bigger/x")

	start := time.Now()
	if err := c.Move(ctx, user, "b", "big/", "b2", "moved/", false, nil); err != nil {
		t.Fatalf("Move of %d rows: %v", n+1, err)
	}
	t.Logf("moved %d rows in %v", n+1, time.Since(start))
	if got := walk(t, c, "b", "", ""); !equal(got, []string{"big.txt", "bigger/x"}) {
		t.Errorf("source after move: got %d rows (first %q); want only big.txt and bigger/x", len(got), first(got, 3))
	}
	got := walk(t, c, "b2", "", "")
	if len(got) != n+1 {
		t.Fatalf("destination rows: got %d; want %d", len(got), n+1)
	}
	if got[0] != "moved/" || got[n] != "moved/49/09999.jpg" {
		t.Errorf("destination: got first %q last %q; want moved/ and moved/49/09999.jpg", got[0], got[n])
	}
	o, err := c.Stat(ctx, user, "b2", "moved/07/00007.jpg")
	if err != nil || o.SHA256 != "sha-big/07/00007.jpg" {
		t.Errorf("moved row: got %+v, %v; want the original row", o, err)
	}
}

// putMany writes the rows from a few goroutines, to keep set-up quick.
func putMany(t *testing.T, c *catalog.Catalog, bucket string, keys []string) {
	t.Helper()
	ctx := context.Background()
	const workers = 8
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			for i := w; i < len(keys); i += workers {
				k := keys[i]
				if err := c.Put(ctx, user, catalog.Object{Bucket: bucket, Key: k, Size: 1, SHA256: "sha-" + k}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
}

func first(s []string, n int) []string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

func TestDelete(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	putKeys(t, c, "b", "dir", "dir/", "dir/a", "dir/s/b", "dirx/", "dirx/c", "dir.txt")
	if err := c.PatchProps(ctx, user, "b", "dir/a", []catalog.PropOp{setProp("p", "v")}); err != nil {
		t.Fatal(err)
	}
	if err := c.PatchProps(ctx, user, "b", "dirx/c", []catalog.PropOp{setProp("p", "v")}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, user, "b", "dir/"); err != nil {
		t.Fatalf("Delete dir/: %v", err)
	}
	if got, want := walk(t, c, "b", "", ""), []string{"dir", "dir.txt", "dirx/", "dirx/c"}; !equal(got, want) {
		t.Errorf("rows after Delete(dir/): got %q; want %q", got, want)
	}
	if ps, _ := c.Props(ctx, user, "b", "dir/a"); len(ps) != 0 {
		t.Errorf("props of deleted dir/a: got %+v; want none", ps)
	}
	if ps, _ := c.Props(ctx, user, "b", "dirx/c"); len(ps) != 1 {
		t.Errorf("props of dirx/c: got %+v; want 1", ps)
	}
	// A file: its name-prefix siblings stay.
	if err := c.Delete(ctx, user, "b", "dir"); err != nil {
		t.Fatal(err)
	}
	if got, want := walk(t, c, "b", "", ""), []string{"dir.txt", "dirx/", "dirx/c"}; !equal(got, want) {
		t.Errorf("rows after Delete(dir): got %q; want %q", got, want)
	}
	// Missing rows are not an error.
	if err := c.Delete(ctx, user, "b", "nothing"); err != nil {
		t.Errorf("Delete(missing file): got %v; want nil", err)
	}
	if err := c.Delete(ctx, user, "b", "nothing/"); err != nil {
		t.Errorf("Delete(missing folder): got %v; want nil", err)
	}
	if _, err := c.Stat(ctx, user, "b", "dir/a"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Stat of deleted row: got %v; want ErrNotFound", err)
	}
}

func TestPatchProps(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	putKeys(t, c, "b", "f")
	hasProps := func() bool {
		t.Helper()
		o, err := c.Stat(ctx, user, "b", "f")
		if err != nil {
			t.Fatal(err)
		}
		return o.HasProps
	}
	names := func() []string {
		t.Helper()
		ps, err := c.Props(ctx, user, "b", "f")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.Local+"="+p.Inner)
		}
		return out
	}
	steps := []struct {
		name      string
		ops       []catalog.PropOp
		want      []string
		wantFlags bool
	}{
		{"set two", []catalog.PropOp{setProp("a", "1"), setProp("b", "2")}, []string{"a=1", "b=2"}, true},
		{"replace one", []catalog.PropOp{setProp("a", "3")}, []string{"b=2", "a=3"}, true},
		{"set then remove", []catalog.PropOp{setProp("c", "4"), removeProp("c")}, []string{"b=2", "a=3"}, true},
		{"remove then set", []catalog.PropOp{removeProp("b"), setProp("b", "5")}, []string{"a=3", "b=5"}, true},
		{"remove missing", []catalog.PropOp{removeProp("zz")}, []string{"a=3", "b=5"}, true},
		{"remove all", []catalog.PropOp{removeProp("a"), removeProp("b")}, nil, false},
		{"set again", []catalog.PropOp{setProp("d", "6")}, []string{"d=6"}, true},
	}
	for _, s := range steps {
		if err := c.PatchProps(ctx, user, "b", "f", s.ops); err != nil {
			t.Fatalf("%s: PatchProps: %v", s.name, err)
		}
		if got := names(); !equal(got, s.want) {
			t.Errorf("%s: props got %q; want %q", s.name, got, s.want)
		}
		if got := hasProps(); got != s.wantFlags {
			t.Errorf("%s: HasProps got %v; want %v", s.name, got, s.wantFlags)
		}
	}
	// Same local name in another namespace is another property.
	ops := []catalog.PropOp{{Prop: catalog.Prop{Space: "urn:y", Local: "d", Inner: "7"}}}
	if err := c.PatchProps(ctx, user, "b", "f", ops); err != nil {
		t.Fatal(err)
	}
	if got, want := names(), []string{"d=6", "d=7"}; !equal(got, want) {
		t.Errorf("two namespaces: got %q; want %q", got, want)
	}
	if err := c.PatchProps(ctx, user, "b", "missing", []catalog.PropOp{setProp("a", "1")}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("PatchProps on a missing row: got %v; want ErrNotFound", err)
	}
	if ps, _ := c.Props(ctx, user, "b", "missing"); len(ps) != 0 {
		t.Errorf("props of a missing row after a failed patch: got %+v; want none", ps)
	}
	// The bucket itself ("") has no row but can carry properties.
	if err := c.PatchProps(ctx, user, "b", "", []catalog.PropOp{setProp("root", "r")}); err != nil {
		t.Errorf("PatchProps on the bucket: got %v; want nil", err)
	}
	if ps, _ := c.Props(ctx, user, "b", ""); len(ps) != 1 || ps[0].Inner != "r" {
		t.Errorf("bucket props: got %+v; want root=r", ps)
	}
}

func TestBuckets(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	t0 := time.Unix(1700000000, 123)
	for _, b := range []string{"zeta", "alpha", "mid"} {
		if err := c.CreateBucket(ctx, user, b, t0); err != nil {
			t.Fatalf("CreateBucket %s: %v", b, err)
		}
	}
	if err := c.CreateBucket(ctx, user, "alpha", t0); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("CreateBucket twice: got %v; want ErrExists", err)
	}
	if err := c.CreateBucket(ctx, "bob", "alpha", t0); err != nil {
		t.Errorf("CreateBucket of the same name for another user: got %v; want nil", err)
	}
	bs, err := c.Buckets(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
		if !b.Created.Equal(t0) {
			t.Errorf("bucket %s created: got %v; want %v", b.Name, b.Created, t0)
		}
	}
	if want := []string{"alpha", "mid", "zeta"}; !equal(names, want) {
		t.Errorf("Buckets: got %q; want %q", names, want)
	}
	b, err := c.GetBucket(ctx, user, "mid")
	if err != nil || b.Name != "mid" || !b.Created.Equal(t0) {
		t.Errorf("GetBucket: got %+v, %v; want mid created %v", b, err, t0)
	}
	if _, err := c.GetBucket(ctx, user, "nope"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("GetBucket missing: got %v; want ErrNotFound", err)
	}

	putKeys(t, c, "mid", "x")
	if err := c.DeleteBucket(ctx, user, "mid"); !errors.Is(err, catalog.ErrNotEmpty) {
		t.Errorf("DeleteBucket non-empty: got %v; want ErrNotEmpty", err)
	}
	if _, err := c.GetBucket(ctx, user, "mid"); err != nil {
		t.Errorf("GetBucket after refused delete: got %v; want nil", err)
	}
	if err := c.Delete(ctx, user, "mid", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteBucket(ctx, user, "mid"); err != nil {
		t.Errorf("DeleteBucket emptied: got %v; want nil", err)
	}
	if err := c.DeleteBucket(ctx, user, "mid"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("DeleteBucket twice: got %v; want ErrNotFound", err)
	}
	// A bucket whose name extends another's is not "inside" it.
	putKeys(t, c, "alpha2", "y")
	if err := c.DeleteBucket(ctx, user, "alpha"); err != nil {
		t.Errorf("DeleteBucket alpha with alpha2 holding rows: got %v; want nil", err)
	}
	if _, err := c.GetBucket(ctx, "bob", "alpha"); err != nil {
		t.Errorf("bob's alpha after deleting alice's: got %v; want nil", err)
	}
}

func TestUsers(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	created := time.Unix(1700000000, 0).UTC()
	if err := c.PutUser(ctx, catalog.User{Name: "bob", PasswordHash: "h1", Created: created}, true); err != nil {
		t.Fatalf("PutUser create: %v", err)
	}
	if err := c.PutUser(ctx, catalog.User{Name: "bob", PasswordHash: "h2"}, true); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("PutUser create twice: got %v; want ErrExists", err)
	}
	if err := c.PutUser(ctx, catalog.User{Name: "carol", PasswordHash: "h"}, false); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("PutUser (passwd) on missing: got %v; want ErrNotFound", err)
	}
	if _, err := c.GetUser(ctx, "carol"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("GetUser after refused passwd: got %v; want ErrNotFound", err)
	}
	if err := c.PutUser(ctx, catalog.User{Name: "bob", PasswordHash: "h3", Created: created}, false); err != nil {
		t.Errorf("PutUser (passwd) on existing: got %v; want nil", err)
	}
	u, err := c.GetUser(ctx, "bob")
	if err != nil || u.Name != "bob" || u.PasswordHash != "h3" || !u.Created.Equal(created) {
		t.Errorf("GetUser: got %+v, %v; want bob with hash h3 created %v", u, err, created)
	}
	if err := c.PutUser(ctx, catalog.User{Name: "alice", PasswordHash: "a"}, true); err != nil {
		t.Fatal(err)
	}
	us, err := c.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range us {
		names = append(names, u.Name)
	}
	if want := []string{"alice", "bob"}; !equal(names, want) {
		t.Errorf("Users: got %q; want %q", names, want)
	}
	if _, err := c.DeleteUser(ctx, "bob"); err != nil {
		t.Errorf("DeleteUser: got %v; want nil", err)
	}
	if _, err := c.GetUser(ctx, "bob"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("GetUser after delete: got %v; want ErrNotFound", err)
	}
	if _, err := c.DeleteUser(ctx, "bob"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("DeleteUser twice: got %v; want ErrNotFound", err)
	}
	if us, _ := c.Users(ctx); len(us) != 1 || us[0].Name != "alice" {
		t.Errorf("Users after delete: got %+v; want only alice", us)
	}
}

func TestDeleteUserKeepsBuckets(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	if err := c.PutUser(ctx, catalog.User{Name: user, PasswordHash: "h"}, true); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateBucket(ctx, user, "b", time.Now()); err != nil {
		t.Fatal(err)
	}
	putKeys(t, c, "b", "photo.jpg")
	if _, err := c.DeleteUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat(ctx, user, "b", "photo.jpg"); err != nil {
		t.Errorf("row after DeleteUser: got %v; want it kept", err)
	}
	if bs, _ := c.Buckets(ctx, user); len(bs) != 1 {
		t.Errorf("buckets after DeleteUser: got %+v; want b kept", bs)
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"alice", true},
		{"Photos_2019", true},
		{"a-b.c", true},
		{"a.", true},
		{"-a", true},
		{"0", true},
		{strings.Repeat("x", 63), true},
		{"", false},
		{strings.Repeat("x", 64), false},
		{".hidden", false},
		{"a..b", false},
		{"a|b", false},
		{"a/b", false},
		{"a b", false},
		{"ä", false},
		{"a\x00", false},
		{"a:b", false},
	}
	for _, tc := range tests {
		if got := catalog.ValidName(tc.in); got != tc.want {
			t.Errorf("ValidName(%q): got %v; want %v", tc.in, got, tc.want)
		}
	}
}

func TestObjectHelpers(t *testing.T) {
	tests := []struct {
		o        catalog.Object
		dir      bool
		name     string
		etag     string
		mod      time.Time
		withMods bool
	}{
		{o: catalog.Object{Key: "a/b/c.jpg", MD5: "d41d"}, name: "c.jpg", etag: `"d41d"`},
		{o: catalog.Object{Key: "a/b/", ModNs: 0x10, Size: 0}, dir: true, name: "b", etag: `"10-0"`},
		{o: catalog.Object{Key: "top", MD5: "m", ETagValue: "abc-2"}, name: "top", etag: `"abc-2"`},
	}
	for _, tc := range tests {
		if got := tc.o.IsDir(); got != tc.dir {
			t.Errorf("%q IsDir: got %v; want %v", tc.o.Key, got, tc.dir)
		}
		if got := tc.o.Name(); got != tc.name {
			t.Errorf("%q Name: got %q; want %q", tc.o.Key, got, tc.name)
		}
		if got := tc.o.ETag(); got != tc.etag {
			t.Errorf("%q ETag: got %s; want %s", tc.o.Key, got, tc.etag)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c, err := catalog.Open(dir, catalog.Options{SyncWrites: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := catalog.Open(dir, catalog.Options{}); !errors.Is(err, catalog.ErrLocked) {
		t.Errorf("second Open of a dir in use: got %v; want ErrLocked", err)
	}
	if err := c.PutUser(ctx, catalog.User{Name: user, PasswordHash: "h"}, true); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateBucket(ctx, user, "b", time.Unix(5, 0)); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, user, catalog.Object{Bucket: "b", Key: "k.jpg", Size: 9, SHA256: "ff"}); err != nil {
		t.Fatal(err)
	}
	if err := c.PatchProps(ctx, user, "b", "k.jpg", []catalog.PropOp{setProp("p", "v")}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	c, err = catalog.Open(dir, catalog.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer c.Close()
	if _, err := c.GetUser(ctx, user); err != nil {
		t.Errorf("user after reopen: got %v; want it", err)
	}
	if b, err := c.GetBucket(ctx, user, "b"); err != nil || !b.Created.Equal(time.Unix(5, 0)) {
		t.Errorf("bucket after reopen: got %+v, %v; want created at 5s", b, err)
	}
	o, err := c.Stat(ctx, user, "b", "k.jpg")
	if err != nil || o.Size != 9 || o.SHA256 != "ff" || !o.HasProps {
		t.Errorf("row after reopen: got %+v, %v; want size 9, sha ff, with props", o, err)
	}
	if ps, _ := c.Props(ctx, user, "b", "k.jpg"); len(ps) != 1 {
		t.Errorf("props after reopen: got %+v; want 1", ps)
	}
}

func TestCanceledContext(t *testing.T) {
	c := openMem(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Put(ctx, user, catalog.Object{Bucket: "b", Key: "k"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context: got %v; want context.Canceled", err)
	}
	if _, err := c.Stat(context.Background(), user, "b", "k"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("row after canceled Put: got %v; want ErrNotFound", err)
	}
}

// TestHasChild: a folder holds something while any row is below it (its
// own row aside), whether the scan starts after a key or not.
func TestHasChild(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	putKeys(t, c, "b", "d/", "d/a", "d/m", "d/sub/", "d/sub/x", "e/", "other")
	has := func(dir, after string) bool {
		t.Helper()
		ok, err := c.HasChild(ctx, user, "b", dir, after)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, tc := range []struct {
		dir, after string
		want       bool
	}{
		{"d/", "", true}, {"d/", "d/a", true}, {"d/", "d/sub/x", true}, {"d/sub/", "d/sub/x", true},
		{"e/", "", false}, {"e/", "e/zzz", false}, {"", "other", true}, {"nope/", "", false},
	} {
		if got := has(tc.dir, tc.after); got != tc.want {
			t.Errorf("HasChild(%q, after %q) = %v; want %v", tc.dir, tc.after, got, tc.want)
		}
	}
	for _, k := range []string{"d/sub/x", "d/m"} {
		if err := c.Delete(ctx, user, "b", k); err != nil {
			t.Fatal(err)
		}
	}
	if !has("d/", "d/m") { // d/a and d/sub/ are left, before the key
		t.Errorf("HasChild after deleting the later children: false; want true")
	}
	if has("d/sub/", "d/sub/x") {
		t.Errorf("HasChild of an emptied folder: true; want false")
	}
}
