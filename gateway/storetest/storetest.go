// Package storetest is the conformance suite every gateway.Backend must pass:
// it states the Backend contract as tests. A backend's own test calls Run
// with a constructor for empty instances.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"shoebox/gateway"
)

// Run runs the suite; newBackend returns a fresh, empty backend per subtest.
func Run(t *testing.T, newBackend func(t *testing.T) gateway.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b gateway.Backend)
	}{
		{"CreateCommitOpen", testCreateCommitOpen},
		{"UncommittedInvisible", testUncommittedInvisible},
		{"FailedCreateKeepsOld", testFailedCreateKeepsOld},
		{"Replace", testReplace},
		{"Mkdir", testMkdir},
		{"Remove", testRemove},
		{"RenameFile", testRenameFile},
		{"RenameFolder", testRenameFolder},
		{"CopyIndependent", testCopyIndependent},
		{"CopyFolder", testCopyFolder},
		{"SetModTime", testSetModTime},
		{"Walk", testWalk},
		{"WalkSkipDir", testWalkSkipDir},
		{"Missing", testMissing},
		{"OddNames", testOddNames},
		{"LongSegments", testLongSegments},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newBackend(t)) })
	}
}

var ctx = context.Background()

func path(key string) gateway.Path { return gateway.Path{User: "u", Bucket: "b", Key: key} }

func put(t *testing.T, b gateway.Backend, key, data string) {
	t.Helper()
	if err := b.Mkdir(ctx, path("")); err != nil {
		t.Fatalf("Mkdir bucket: %v", err)
	}
	p, err := b.Create(ctx, path(key), strings.NewReader(data))
	if err != nil {
		t.Fatalf("Create %s: %v", key, err)
	}
	if p.Size() != int64(len(data)) {
		t.Fatalf("Size = %d; want %d", p.Size(), len(data))
	}
	if err := p.Commit(ctx, time.Time{}); err != nil {
		t.Fatalf("Commit %s: %v", key, err)
	}
	if err := p.Sync(ctx); err != nil {
		t.Fatalf("Sync %s: %v", key, err)
	}
}

func read(t *testing.T, b gateway.Backend, key string) string {
	t.Helper()
	f, err := b.Open(ctx, path(key))
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer f.Close()
	d, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return string(d)
}

func mustMissing(t *testing.T, b gateway.Backend, key string) {
	t.Helper()
	if _, err := b.Stat(ctx, path(key)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat %s = %v; want fs.ErrNotExist", key, err)
	}
}

func testCreateCommitOpen(t *testing.T, b gateway.Backend) {
	put(t, b, "a.txt", "hello, world")
	if got := read(t, b, "a.txt"); got != "hello, world" {
		t.Fatalf("content = %q; want %q", got, "hello, world")
	}
	e, err := b.Stat(ctx, path("a.txt"))
	if err != nil || e.Size != 12 {
		t.Fatalf("Stat = %+v, %v; want size 12", e, err)
	}
	f, _ := b.Open(ctx, path("a.txt"))
	defer f.Close()
	buf := make([]byte, 5)
	if n, err := f.ReadAt(buf, 7); n != 5 || string(buf) != "world" {
		t.Fatalf("ReadAt = %q, %v; want %q", buf[:n], err, "world")
	}
	if _, err := f.Seek(7, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(f)
	if string(rest) != "world" {
		t.Fatalf("after Seek read %q; want %q", rest, "world")
	}
}

func testUncommittedInvisible(t *testing.T, b gateway.Backend) {
	b.Mkdir(ctx, path(""))
	p, err := b.Create(ctx, path("x.bin"), strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	mustMissing(t, b, "x.bin")
	if err := p.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	mustMissing(t, b, "x.bin")
	n := 0
	b.Walk(ctx, func(e gateway.Entry) error {
		if e.Path.Key != "" {
			n++
		}
		return nil
	})
	if n != 0 {
		t.Fatalf("Walk after Abort saw %d entries; want 0", n)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func testFailedCreateKeepsOld(t *testing.T, b gateway.Backend) {
	put(t, b, "keep.txt", "old contents")
	if p, err := b.Create(ctx, path("keep.txt"), &failingReader{n: 3}); err == nil {
		p.Abort()
		t.Fatal("Create with a failing reader succeeded; want error")
	}
	if got := read(t, b, "keep.txt"); got != "old contents" {
		t.Fatalf("after failed overwrite content = %q; want the old one", got)
	}
}

func testReplace(t *testing.T, b gateway.Backend) {
	put(t, b, "r.txt", "first version, long")
	put(t, b, "r.txt", "second")
	if got := read(t, b, "r.txt"); got != "second" {
		t.Fatalf("content = %q; want %q", got, "second")
	}
}

func testMkdir(t *testing.T, b gateway.Backend) {
	if err := b.Mkdir(ctx, path("a/b/c/")); err != nil {
		t.Fatalf("Mkdir: %v", err)
	}
	for _, k := range []string{"", "a/", "a/b/", "a/b/c/"} {
		if _, err := b.Stat(ctx, path(k)); err != nil {
			t.Fatalf("Stat %q after Mkdir: %v", k, err)
		}
	}
	if err := b.Mkdir(ctx, path("a/b/")); err != nil {
		t.Fatalf("Mkdir of an existing folder: %v", err)
	}
	mustMissing(t, b, "a/b") // a folder is not a file
}

func testRemove(t *testing.T, b gateway.Backend) {
	put(t, b, "d/one", "1")
	put(t, b, "d/sub/two", "2")
	put(t, b, "solo", "s")
	if err := b.Remove(ctx, path("solo")); err != nil {
		t.Fatal(err)
	}
	mustMissing(t, b, "solo")
	if err := b.Remove(ctx, path("d/")); err != nil {
		t.Fatal(err)
	}
	mustMissing(t, b, "d/")
	mustMissing(t, b, "d/sub/two")
	if err := b.Remove(ctx, path("nothing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Remove missing = %v; want fs.ErrNotExist", err)
	}
}

func testRenameFile(t *testing.T, b gateway.Backend) {
	put(t, b, "src.txt", "payload")
	put(t, b, "dst.txt", "to be replaced")
	if err := b.Rename(ctx, path("src.txt"), path("new/dir/dst.txt")); err != nil {
		t.Fatal(err)
	}
	mustMissing(t, b, "src.txt")
	if got := read(t, b, "new/dir/dst.txt"); got != "payload" {
		t.Fatalf("renamed content = %q", got)
	}
	if err := b.Rename(ctx, path("new/dir/dst.txt"), path("dst.txt")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, b, "dst.txt"); got != "payload" {
		t.Fatalf("replaced content = %q; want payload", got)
	}
}

func testRenameFolder(t *testing.T, b gateway.Backend) {
	for i := range 50 {
		put(t, b, fmt.Sprintf("f/%02d/x.txt", i%5)+fmt.Sprint(i), fmt.Sprint(i))
	}
	put(t, b, "g/old.txt", "replaced folder")
	if err := b.Rename(ctx, path("f/"), path("g/")); err != nil {
		t.Fatal(err)
	}
	mustMissing(t, b, "f/")
	mustMissing(t, b, "g/old.txt")
	for i := range 50 {
		if got := read(t, b, fmt.Sprintf("g/%02d/x.txt", i%5)+fmt.Sprint(i)); got != fmt.Sprint(i) {
			t.Fatalf("file %d after folder rename = %q", i, got)
		}
	}
}

func testCopyIndependent(t *testing.T, b gateway.Backend) {
	put(t, b, "orig", "original")
	if err := b.Copy(ctx, path("orig"), path("copy")); err != nil {
		t.Fatal(err)
	}
	put(t, b, "copy", "changed copy")
	if got := read(t, b, "orig"); got != "original" {
		t.Fatalf("original after writing the copy = %q", got)
	}
	if got := read(t, b, "copy"); got != "changed copy" {
		t.Fatalf("copy = %q", got)
	}
}

func testCopyFolder(t *testing.T, b gateway.Backend) {
	put(t, b, "c/a", "A")
	put(t, b, "c/d/b", "B")
	b.Mkdir(ctx, path("c/empty/"))
	if err := b.Copy(ctx, path("c/"), path("c2/")); err != nil {
		t.Fatal(err)
	}
	if read(t, b, "c2/a") != "A" || read(t, b, "c2/d/b") != "B" || read(t, b, "c/a") != "A" {
		t.Fatal("folder copy lost content")
	}
	if _, err := b.Stat(ctx, path("c2/empty/")); err != nil {
		t.Fatalf("empty subfolder not copied: %v", err)
	}
}

func testSetModTime(t *testing.T, b gateway.Backend) {
	put(t, b, "m", "x")
	want := time.Date(2019, 6, 12, 14, 3, 22, 0, time.UTC)
	if err := b.SetModTime(ctx, path("m"), want); err != nil {
		t.Fatal(err)
	}
	e, _ := b.Stat(ctx, path("m"))
	if !e.ModTime.Equal(want) {
		t.Fatalf("ModTime = %v; want %v", e.ModTime, want)
	}
	p, _ := b.Create(ctx, path("n"), bytes.NewReader(nil))
	if err := p.Commit(ctx, want); err != nil {
		t.Fatal(err)
	}
	if e, _ := b.Stat(ctx, path("n")); !e.ModTime.Equal(want) {
		t.Fatalf("Commit modTime = %v; want %v", e.ModTime, want)
	}
}

func testWalk(t *testing.T, b gateway.Backend) {
	put(t, b, "w/1", "1")
	put(t, b, "w/x/2", "22")
	seen := map[string]int64{}
	var order []string
	if err := b.Walk(ctx, func(e gateway.Entry) error {
		seen[e.Path.String()] = e.Size
		order = append(order, e.Path.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"u/b/": 0, "u/b/w/": 0, "u/b/w/1": 1, "u/b/w/x/": 0, "u/b/w/x/2": 2}
	for k, v := range want {
		if got, ok := seen[k]; !ok || got != v {
			t.Fatalf("Walk: %s = %d, %v; want %d (saw %v)", k, got, ok, v, order)
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("Walk saw %v; want exactly %v", order, want)
	}
	pos := map[string]int{}
	for i, k := range order {
		pos[k] = i
	}
	if pos["u/b/w/"] > pos["u/b/w/x/2"] || pos["u/b/w/x/"] > pos["u/b/w/x/2"] {
		t.Fatalf("Walk order %v: a child before its parent", order)
	}
}

func testMissing(t *testing.T, b gateway.Backend) {
	b.Mkdir(ctx, path(""))
	if _, err := b.Open(ctx, path("nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open missing = %v; want fs.ErrNotExist", err)
	}
	if err := b.Rename(ctx, path("nope"), path("x")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Rename missing = %v; want fs.ErrNotExist", err)
	}
}

func testOddNames(t *testing.T, b gateway.Backend) {
	for _, k := range []string{"with space.jpg", "plus+sign", "percent%20", "ünïcödé/日本.heic", ".DS_Store", "._IMG.jpg"} {
		put(t, b, k, k)
		if got := read(t, b, k); got != k {
			t.Fatalf("%q read back %q", k, got)
		}
	}
}

// testLongSegments: names between slashes longer than file systems keep
// (255 bytes) work like any other: write, read, list, rename, copy, remove.
func testLongSegments(t *testing.T, b gateway.Backend) {
	long := strings.Repeat("s", 300)
	dir := strings.Repeat("ü", 200) + "/" // 400 bytes
	file := dir + long
	put(t, b, file, "long")
	if got := read(t, b, file); got != "long" {
		t.Fatalf("read back %q", got)
	}
	if e, err := b.Stat(ctx, path(dir)); err != nil || !e.Path.IsDir() {
		t.Fatalf("Stat of the long folder: %+v, %v", e, err)
	}
	seen := map[string]bool{}
	if err := b.Walk(ctx, func(e gateway.Entry) error { seen[e.Path.Key] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if !seen[dir] || !seen[file] || len(seen) != 3 { // "", dir, file
		t.Fatalf("Walk saw %d keys; want the bucket, %d-byte folder and %d-byte file", len(seen), len(dir), len(file))
	}
	other := dir + strings.Repeat("t", 280)
	if err := b.Rename(ctx, path(file), path(other)); err != nil {
		t.Fatal(err)
	}
	mustMissing(t, b, file)
	if err := b.Copy(ctx, path(dir), path("copy/")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, b, "copy/"+strings.Repeat("t", 280)); got != "long" {
		t.Fatalf("copied folder: read back %q", got)
	}
	if err := b.Remove(ctx, path(other)); err != nil {
		t.Fatal(err)
	}
	mustMissing(t, b, other)
}

func testWalkSkipDir(t *testing.T, b gateway.Backend) {
	put(t, b, "skip/inner/x", "x")
	put(t, b, "skipped-not/y", "y")
	var seen []string
	err := b.Walk(ctx, func(e gateway.Entry) error {
		seen = append(seen, e.Path.Key)
		if e.Path.Key == "skip/" {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Walk with SkipDir: %v", err)
	}
	for _, k := range seen {
		if strings.HasPrefix(k, "skip/") && k != "skip/" {
			t.Errorf("Walk visited %q below a skipped folder", k)
		}
	}
	if !contains(seen, "skipped-not/y") {
		t.Errorf("Walk stopped after SkipDir: saw %v", seen)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
