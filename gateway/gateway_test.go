package gateway_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/memfs"
)

const user = "alice"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	g   *gateway.Gateway
	be  *memfs.FS
	cat *catalog.Catalog
}

func newEnv(t *testing.T, opt gateway.Options) env {
	t.Helper()
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatalf("catalog.Open: %v", err)
	}
	t.Cleanup(func() { cat.Close() })
	if opt.Logger == nil {
		opt.Logger = quiet
	}
	be := memfs.New()
	return env{g: gateway.New(be, cat, opt), be: be, cat: cat}
}

// newEnvBucket returns an env with bucket "b" made.
func newEnvBucket(t *testing.T) env {
	t.Helper()
	e := newEnv(t, gateway.Options{})
	e.mkBucket(t, "b")
	return e
}

func (e env) mkBucket(t *testing.T, b string) {
	t.Helper()
	if err := e.g.MakeBucket(context.Background(), user, b); err != nil {
		t.Fatalf("MakeBucket %s: %v", b, err)
	}
}

func (e env) put(t *testing.T, bucket, key, body string) catalog.Object {
	t.Helper()
	o, err := e.g.Put(context.Background(), gateway.PutInput{User: user, Bucket: bucket, Key: key, Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("Put %s/%s: %v", bucket, key, err)
	}
	return o
}

func (e env) mkdir(t *testing.T, bucket, key string) {
	t.Helper()
	if err := e.g.Mkdir(context.Background(), user, bucket, key, false, true); err != nil {
		t.Fatalf("Mkdir %s/%s: %v", bucket, key, err)
	}
}

// read returns the bytes of a file through the gateway.
func (e env) read(t *testing.T, bucket, key string) string {
	t.Helper()
	f, _, err := e.g.Open(context.Background(), user, bucket, key)
	if err != nil {
		t.Fatalf("Open %s/%s: %v", bucket, key, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return string(b)
}

// inBackend reports whether the backend has the file or folder.
func (e env) inBackend(bucket, key string) bool {
	_, err := e.be.Stat(context.Background(), gateway.Path{User: user, Bucket: bucket, Key: key})
	return err == nil
}

// inCatalog reports whether the catalog has the row (exact key).
func (e env) inCatalog(bucket, key string) bool {
	_, err := e.cat.Stat(context.Background(), user, bucket, key)
	return err == nil
}

// rows lists every catalog row of the bucket.
func (e env) rows(t *testing.T, bucket string) []string {
	t.Helper()
	var out []string
	if err := e.g.Walk(context.Background(), user, bucket, "", "", func(o catalog.Object) error {
		out = append(out, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// files lists every backend entry of the bucket (key "" excluded).
func (e env) files(t *testing.T, bucket string) []string {
	t.Helper()
	var out []string
	if err := e.be.Walk(context.Background(), func(en gateway.Entry) error {
		if en.Path.User == user && en.Path.Bucket == bucket && en.Path.Key != "" {
			out = append(out, en.Path.Key)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameStrings(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func sums(s string) (sha, md string) {
	h := sha256.Sum256([]byte(s))
	m := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:]), hex.EncodeToString(m[:])
}

func TestPutStatOpen(t *testing.T) {
	now := time.Unix(1700000000, 0)
	e := newEnv(t, gateway.Options{Now: func() time.Time { return now }})
	e.mkBucket(t, "b")
	ctx := context.Background()
	body := "hello, shoebox\n"
	mod := time.Unix(1600000000, 500)
	o, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "notes.txt", Body: strings.NewReader(body),
		ModTime: mod, Meta: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	wantSHA, wantMD5 := sums(body)
	st, err := e.g.Stat(ctx, user, "b", "notes.txt")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	for _, got := range []catalog.Object{o, st} {
		if got.SHA256 != wantSHA {
			t.Errorf("SHA256: got %s; want %s", got.SHA256, wantSHA)
		}
		if got.MD5 != wantMD5 {
			t.Errorf("MD5: got %s; want %s", got.MD5, wantMD5)
		}
		if got.ETag() != `"`+wantMD5+`"` {
			t.Errorf("ETag: got %s; want %q", got.ETag(), wantMD5)
		}
		if got.Size != int64(len(body)) {
			t.Errorf("Size: got %d; want %d", got.Size, len(body))
		}
		if got.ModNs != mod.UnixNano() || got.UploadNs != now.UnixNano() {
			t.Errorf("times: got mod %d upload %d; want %d and %d", got.ModNs, got.UploadNs, mod.UnixNano(), now.UnixNano())
		}
		if got.ContentType != "text/plain; charset=utf-8" {
			t.Errorf("ContentType: got %q; want text/plain; charset=utf-8", got.ContentType)
		}
		if got.Meta["k"] != "v" {
			t.Errorf("Meta: got %v; want k=v", got.Meta)
		}
	}
	f, ro, err := e.g.Open(ctx, user, "b", "notes.txt")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer f.Close()
	if ro.SHA256 != wantSHA {
		t.Errorf("Open row SHA256: got %s; want %s", ro.SHA256, wantSHA)
	}
	b, _ := io.ReadAll(f)
	if string(b) != body {
		t.Errorf("Open bytes: got %q; want %q", b, body)
	}
	buf := make([]byte, 7)
	if n, err := f.ReadAt(buf, 7); err != nil || string(buf[:n]) != "shoebox" {
		t.Errorf("ReadAt(7): got %q, %v; want \"shoebox\"", buf[:n], err)
	}
	if en, err := e.be.Stat(ctx, gateway.Path{User: user, Bucket: "b", Key: "notes.txt"}); err != nil || !en.ModTime.Equal(mod) {
		t.Errorf("backend mod time: got %v, %v; want %v", en.ModTime, err, mod)
	}
	if _, _, err := e.g.Open(ctx, user, "b", "missing"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("Open missing: got %v; want ErrNotFound", err)
	}
}

func TestPutContentType(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 600)
	tests := []struct {
		key, given, body, want string
	}{
		{"a.jpg", "", "xx", "image/jpeg"},
		{"noext", "", png, "image/png"},
		{"noext2", "", "plain words", "text/plain; charset=utf-8"},
		{"given.jpg", "application/x-mine", "xx", "application/x-mine"},
	}
	for _, tc := range tests {
		o, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: tc.key, ContentType: tc.given, Body: strings.NewReader(tc.body)})
		if err != nil {
			t.Fatalf("Put %s: %v", tc.key, err)
		}
		if o.ContentType != tc.want {
			t.Errorf("Put %s: content type got %q; want %q", tc.key, o.ContentType, tc.want)
		}
		// Sniffing must not eat the bytes it looked at.
		if got := e.read(t, "b", tc.key); got != tc.body {
			t.Errorf("Put %s: stored %d bytes; want %d", tc.key, len(got), len(tc.body))
		}
	}
}

func TestPutParents(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	in := gateway.PutInput{User: user, Bucket: "b", Key: "x/y/z.txt", Body: strings.NewReader("z")}
	if _, err := e.g.Put(ctx, in); !errors.Is(err, gateway.ErrNoParent) {
		t.Errorf("Put into missing parent: got %v; want ErrNoParent", err)
	}
	if e.inCatalog("b", "x/y/z.txt") || e.inBackend("b", "x/y/z.txt") || e.inBackend("b", "x/") {
		t.Errorf("refused Put left a trace: catalog %v, backend %v, folder %v; want none",
			e.inCatalog("b", "x/y/z.txt"), e.inBackend("b", "x/y/z.txt"), e.inBackend("b", "x/"))
	}
	in.Body, in.MakeParents = strings.NewReader("z"), true
	if _, err := e.g.Put(ctx, in); err != nil {
		t.Fatalf("Put with MakeParents: %v", err)
	}
	for _, k := range []string{"x/", "x/y/", "x/y/z.txt"} {
		if !e.inCatalog("b", k) || !e.inBackend("b", k) {
			t.Errorf("%s after MakeParents: catalog %v backend %v; want both", k, e.inCatalog("b", k), e.inBackend("b", k))
		}
	}
	if o, _ := e.cat.Stat(ctx, user, "b", "x/"); o.Explicit {
		t.Errorf("implied parent: got Explicit true; want false")
	}
	// A missing bucket is a missing parent too.
	_, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "nobucket", Key: "f", Body: strings.NewReader(""), MakeParents: true})
	if !errors.Is(err, gateway.ErrNoParent) {
		t.Errorf("Put into missing bucket: got %v; want ErrNoParent", err)
	}
	// A file in the way of a parent.
	e.put(t, "b", "file", "f")
	_, err = e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "file/child", Body: strings.NewReader(""), MakeParents: true})
	if !errors.Is(err, gateway.ErrNotDir) {
		t.Errorf("Put under a file: got %v; want ErrNotDir", err)
	}
}

func TestPutIsDir(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.mkdir(t, "b", "dir")
	for _, key := range []string{"", "dir/", "dir"} {
		_, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: key, Body: strings.NewReader("x")})
		if !errors.Is(err, gateway.ErrIsDir) {
			t.Errorf("Put %q: got %v; want ErrIsDir", key, err)
		}
	}
	if o, err := e.cat.Stat(ctx, user, "b", "dir/"); err != nil || !o.IsDir() {
		t.Errorf("folder after refused Put: got %+v, %v; want it intact", o, err)
	}
	if e.inCatalog("b", "dir") {
		t.Errorf("refused Put over a folder left a file row")
	}
}

func TestPutVerifyFails(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	bad := errors.New("checksum mismatch")
	body := "some bytes"
	var seen gateway.Sums
	_, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "v.bin", Body: strings.NewReader(body),
		Verify: func(s gateway.Sums) error { seen = s; return bad }})
	if !errors.Is(err, bad) {
		t.Fatalf("Put with failing Verify: got %v; want %v", err, bad)
	}
	wantSHA, wantMD5 := sums(body)
	if seen.Size != int64(len(body)) || hex.EncodeToString(seen.SHA256) != wantSHA || hex.EncodeToString(seen.MD5) != wantMD5 {
		t.Errorf("Verify saw size %d sha %x md5 %x; want %d %s %s", seen.Size, seen.SHA256, seen.MD5, len(body), wantSHA, wantMD5)
	}
	if _, err := e.cat.Stat(ctx, user, "b", "v.bin"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("catalog row after failed Verify: got %v; want ErrNotFound", err)
	}
	if _, err := e.be.Stat(ctx, gateway.Path{User: user, Bucket: "b", Key: "v.bin"}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("backend after failed Verify: got %v; want fs.ErrNotExist", err)
	}
}

func TestPutCheckKeepsOldVersion(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	old := e.put(t, "b", "f.txt", "version 1")
	refused := errors.New("precondition")
	var cur *catalog.Object
	_, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "f.txt", Body: strings.NewReader("version 2"),
		Check: func(c *catalog.Object) error { cur = c; return refused }})
	if !errors.Is(err, refused) {
		t.Fatalf("Put with failing Check: got %v; want %v", err, refused)
	}
	if cur == nil || cur.SHA256 != old.SHA256 {
		t.Errorf("Check saw %+v; want the current row with SHA %s", cur, old.SHA256)
	}
	if got := e.read(t, "b", "f.txt"); got != "version 1" {
		t.Errorf("bytes after refused Put: got %q; want \"version 1\"", got)
	}
	if o, _ := e.g.Stat(ctx, user, "b", "f.txt"); o.SHA256 != old.SHA256 {
		t.Errorf("row after refused Put: got SHA %s; want %s", o.SHA256, old.SHA256)
	}
	// A Check on a new key sees nil.
	saw := true
	_, err = e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "new.txt", Body: strings.NewReader("n"),
		Check: func(c *catalog.Object) error { saw = c != nil; return nil }})
	if err != nil || saw {
		t.Errorf("Put of a new key: got err %v, Check saw a row %v; want nil, false", err, saw)
	}
}

// failingReader gives data, then err; with once, err only once and then
// io.EOF (as a verifying reader may, having reported its failure).
type failingReader struct {
	data       string
	err        error
	once       bool
	done, told bool
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.done {
		if r.once && r.told {
			return 0, io.EOF
		}
		r.told = true
		return 0, r.err
	}
	r.done = true
	return copy(p, r.data), nil
}

func TestPutBodyErrorKeepsOldVersion(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	old := e.put(t, "b", "f.txt", "version 1")
	broken := errors.New("connection reset")
	_, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "f.txt", ContentType: "text/plain",
		Body: &failingReader{data: "half of version 2", err: broken}})
	if !errors.Is(err, broken) {
		t.Fatalf("Put with failing body: got %v; want %v", err, broken)
	}
	if got := e.read(t, "b", "f.txt"); got != "version 1" {
		t.Errorf("bytes after failed Put: got %q; want \"version 1\"", got)
	}
	if o, _ := e.g.Stat(ctx, user, "b", "f.txt"); o.SHA256 != old.SHA256 || o.Size != old.Size {
		t.Errorf("row after failed Put: got %+v; want the old one", o)
	}
	// The same through the content-sniffing path.
	_, err = e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "g", Body: &failingReader{data: "abc", err: broken}})
	if !errors.Is(err, broken) {
		t.Errorf("Put (sniffed) with failing body: got %v; want %v", err, broken)
	}
	if e.inCatalog("b", "g") || e.inBackend("b", "g") {
		t.Errorf("failed Put of a new key left catalog %v backend %v; want neither", e.inCatalog("b", "g"), e.inBackend("b", "g"))
	}
	// A body that reports its failure once, while the type is sniffed.
	_, err = e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "h", Body: &failingReader{data: "abc", err: broken, once: true}})
	if !errors.Is(err, broken) {
		t.Errorf("Put (sniffed) with a body failing once: got %v; want %v", err, broken)
	}
	if e.inCatalog("b", "h") || e.inBackend("b", "h") {
		t.Errorf("failed Put of h left catalog %v backend %v; want neither", e.inCatalog("b", "h"), e.inBackend("b", "h"))
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{"a/b/c.jpg", true},
		{"folder/", true},
		{"Ünïcödé/日本語.jpg", true},
		{"with space/and+plus%20.jpg", true},
		{"a\\b", true},
		{strings.Repeat(strings.Repeat("k", 255)+"/", 4)[:gateway.MaxKeyLen-4] + "/abc", true},
		{strings.Repeat("k", 255), true},
		{strings.Repeat("k", gateway.MaxKeyLen), true}, // one long name
		{strings.Repeat("k", gateway.MaxKeyLen+1), false},
		{"..", false},
		{".", false},
		{"a/../b", false},
		{"a/./b", false},
		{"./a", false},
		{"a/..", false},
		{"../", false},
		{"a//b", false},
		{"a//", false},
		{"/abs", false},
		{"\\abs", false},
		{"/", false},
		{"a\x00b", false},
		{"a\nb", true},
		{"a\tb", true},
		{"a\x1fb", false},
		{"a\x7fb", true},
		{"bad\xffutf8", false},
		{strings.Repeat("k", gateway.MaxKeyLen+1), false},
	}
	for _, tc := range tests {
		err := gateway.CheckKey(tc.key)
		if tc.ok && err != nil {
			t.Errorf("CheckKey(%.40q): got %v; want nil", tc.key, err)
		}
		if !tc.ok && !errors.Is(err, gateway.ErrBadPath) {
			t.Errorf("CheckKey(%.40q): got %v; want ErrBadPath", tc.key, err)
		}
	}
}

func TestEmptyKeyRefused(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.put(t, "b", "f", "x")
	if err := e.g.Remove(ctx, user, "b", ""); !errors.Is(err, gateway.ErrBadPath) {
		t.Errorf("Remove(\"\"): got %v; want ErrBadPath", err)
	}
	if err := e.g.Move(ctx, user, "b", "", "b", "x"); !errors.Is(err, gateway.ErrBadPath) {
		t.Errorf("Move(\"\", x): got %v; want ErrBadPath", err)
	}
	if err := e.g.Copy(ctx, user, "b", "f", "b", ""); !errors.Is(err, gateway.ErrBadPath) {
		t.Errorf("Copy(f, \"\"): got %v; want ErrBadPath", err)
	}
	if !e.inCatalog("b", "f") {
		t.Errorf("f after refused operations: gone; want kept")
	}
	// Bad keys are refused before reaching the backend.
	_, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "../escape", Body: strings.NewReader("x"), MakeParents: true})
	if !errors.Is(err, gateway.ErrBadPath) {
		t.Errorf("Put(../escape): got %v; want ErrBadPath", err)
	}
	if err := e.g.Mkdir(ctx, user, "b", "a//b", true, true); !errors.Is(err, gateway.ErrBadPath) {
		t.Errorf("Mkdir(a//b): got %v; want ErrBadPath", err)
	}
}

func TestParent(t *testing.T) {
	tests := []struct{ key, want string }{
		{"a", ""},
		{"a/", ""},
		{"a/b", "a/"},
		{"a/b/", "a/"},
		{"a/b/c.jpg", "a/b/"},
	}
	for _, tc := range tests {
		if got := gateway.Parent(tc.key); got != tc.want {
			t.Errorf("Parent(%q): got %q; want %q", tc.key, got, tc.want)
		}
	}
}

func TestMakeBucket(t *testing.T) {
	e := newEnv(t, gateway.Options{})
	ctx := context.Background()
	for _, name := range []string{"by-date", "BY-DATE", "By-Person", "by-camera", "duplicates", "albums", "trash", "Trash"} {
		if err := e.g.MakeBucket(ctx, user, name); !errors.Is(err, gateway.ErrReserved) {
			t.Errorf("MakeBucket(%q): got %v; want ErrReserved", name, err)
		}
		if e.inBackend(name, "") {
			t.Errorf("MakeBucket(%q) refused but made the backend folder", name)
		}
	}
	for _, name := range []string{"", ".dot", "a|b", "a/b", "a..b", strings.Repeat("n", 64)} {
		if err := e.g.MakeBucket(ctx, user, name); !errors.Is(err, gateway.ErrBadPath) {
			t.Errorf("MakeBucket(%q): got %v; want ErrBadPath", name, err)
		}
	}
	for _, name := range []string{"photos", "by-date-2", "trash2"} {
		if err := e.g.MakeBucket(ctx, user, name); err != nil {
			t.Errorf("MakeBucket(%q): got %v; want nil", name, err)
		}
	}
	if err := e.g.MakeBucket(ctx, user, "photos"); !errors.Is(err, gateway.ErrExists) {
		t.Errorf("MakeBucket twice: got %v; want ErrExists", err)
	}
	bs, err := e.g.Buckets(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
	}
	if want := []string{"by-date-2", "photos", "trash2"}; !sameStrings(names, want) {
		t.Errorf("Buckets: got %q; want %q", names, want)
	}
	if !e.inBackend("photos", "") {
		t.Errorf("backend bucket folder for photos: missing; want it")
	}
	if o, err := e.g.Stat(ctx, user, "photos", ""); err != nil || o.Key != "" {
		t.Errorf("Stat of the bucket: got %+v, %v; want the bucket", o, err)
	}
}

func TestRemoveBucket(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.mkdir(t, "b", "d")
	e.put(t, "b", "d/f", "x")
	if err := e.g.RemoveBucket(ctx, user, "b", false); !errors.Is(err, gateway.ErrNotEmpty) {
		t.Errorf("RemoveBucket non-empty: got %v; want ErrNotEmpty", err)
	}
	if !e.inBackend("b", "d/f") || !e.inCatalog("b", "d/f") {
		t.Errorf("refused RemoveBucket lost data: backend %v catalog %v", e.inBackend("b", "d/f"), e.inCatalog("b", "d/f"))
	}
	if err := e.g.RemoveBucket(ctx, user, "b", true); err != nil {
		t.Fatalf("RemoveBucket recursive: %v", err)
	}
	if e.inBackend("b", "") || len(e.rows(t, "b")) != 0 {
		t.Errorf("after RemoveBucket: backend %v rows %q; want none", e.inBackend("b", ""), e.rows(t, "b"))
	}
	if _, err := e.g.Stat(ctx, user, "b", ""); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("Stat of removed bucket: got %v; want ErrNotFound", err)
	}
	if err := e.g.RemoveBucket(ctx, user, "b", true); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("RemoveBucket twice: got %v; want ErrNotFound", err)
	}
	e.mkBucket(t, "empty")
	if err := e.g.RemoveBucket(ctx, user, "empty", false); err != nil || e.inBackend("empty", "") {
		t.Errorf("RemoveBucket empty: got %v, backend still has it %v; want nil, false", err, e.inBackend("empty", ""))
	}
}

func TestFolders(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.mkBucket(t, "other")

	if err := e.g.Mkdir(ctx, user, "b", "a/b", false, true); !errors.Is(err, gateway.ErrNoParent) {
		t.Errorf("Mkdir without parent: got %v; want ErrNoParent", err)
	}
	e.mkdir(t, "b", "photos")
	if err := e.g.Mkdir(ctx, user, "b", "photos/", false, true); !errors.Is(err, gateway.ErrExists) {
		t.Errorf("Mkdir twice: got %v; want ErrExists", err)
	}
	e.put(t, "b", "file", "x")
	if err := e.g.Mkdir(ctx, user, "b", "file", false, true); !errors.Is(err, gateway.ErrExists) {
		t.Errorf("Mkdir over a file: got %v; want ErrExists", err)
	}
	if o, err := e.g.Stat(ctx, user, "b", "photos"); err != nil || o.Key != "photos/" || !o.Explicit {
		t.Errorf("Stat(photos): got %+v, %v; want the explicit folder photos/", o, err)
	}
	e.mkdir(t, "b", "photos/2019")
	e.put(t, "b", "photos/a.jpg", "A")
	e.put(t, "b", "photos/2019/b.jpg", "B")
	e.put(t, "b", "photos.jpg", "sibling")
	if err := e.g.PatchProps(ctx, user, "b", "photos/2019/b.jpg", []catalog.PropOp{{Prop: catalog.Prop{Space: "urn:x", Local: "p", Inner: "v"}}}); err != nil {
		t.Fatal(err)
	}

	var listed []string
	if err := e.g.List(ctx, user, "b", "photos/", "", func(o catalog.Object) error { listed = append(listed, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"photos/2019/", "photos/a.jpg"}; !sameStrings(listed, want) {
		t.Errorf("List(photos/): got %q; want %q", listed, want)
	}

	// Move within the bucket.
	if err := e.g.Move(ctx, user, "b", "photos/", "b", "pics/"); err != nil {
		t.Fatalf("Move folder: %v", err)
	}
	wantRows := []string{"file", "photos.jpg", "pics/", "pics/2019/", "pics/2019/b.jpg", "pics/a.jpg"}
	if got := e.rows(t, "b"); !sameStrings(got, wantRows) {
		t.Errorf("rows after Move: got %q; want %q", got, wantRows)
	}
	if got := e.files(t, "b"); !sameStrings(got, wantRows) {
		t.Errorf("backend after Move: got %q; want %q", got, wantRows)
	}
	if got := e.read(t, "b", "pics/2019/b.jpg"); got != "B" {
		t.Errorf("moved file: got %q; want \"B\"", got)
	}
	if ps, _ := e.g.Props(ctx, user, "b", "pics/2019/b.jpg"); len(ps) != 1 {
		t.Errorf("props after Move: got %+v; want 1", ps)
	}

	// Copy to another bucket.
	if err := e.g.Copy(ctx, user, "b", "pics/", "other", "copy/"); err != nil {
		t.Fatalf("Copy folder: %v", err)
	}
	wantOther := []string{"copy/", "copy/2019/", "copy/2019/b.jpg", "copy/a.jpg"}
	if got := e.rows(t, "other"); !sameStrings(got, wantOther) {
		t.Errorf("rows after Copy: got %q; want %q", got, wantOther)
	}
	if got := e.files(t, "other"); !sameStrings(got, wantOther) {
		t.Errorf("backend after Copy: got %q; want %q", got, wantOther)
	}
	if got := e.rows(t, "b"); !sameStrings(got, wantRows) {
		t.Errorf("source rows after Copy: got %q; want %q", got, wantRows)
	}
	if ps, _ := e.g.Props(ctx, user, "other", "copy/2019/b.jpg"); len(ps) != 1 {
		t.Errorf("props after Copy: got %+v; want 1", ps)
	}

	// Remove a folder: its subtree only.
	if err := e.g.Remove(ctx, user, "b", "pics/"); err != nil {
		t.Fatalf("Remove folder: %v", err)
	}
	wantRows = []string{"file", "photos.jpg"}
	if got := e.rows(t, "b"); !sameStrings(got, wantRows) {
		t.Errorf("rows after Remove: got %q; want %q", got, wantRows)
	}
	if got := e.files(t, "b"); !sameStrings(got, wantRows) {
		t.Errorf("backend after Remove: got %q; want %q", got, wantRows)
	}
	if got := e.rows(t, "other"); !sameStrings(got, wantOther) {
		t.Errorf("the copy after removing the original: got %q; want %q", got, wantOther)
	}
	if err := e.g.Remove(ctx, user, "b", "pics/"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("Remove twice: got %v; want ErrNotFound", err)
	}
	if err := e.g.Remove(ctx, user, "b", "file"); err != nil || e.inBackend("b", "file") || e.inCatalog("b", "file") {
		t.Errorf("Remove file: got %v; want it gone from backend and catalog", err)
	}
}

func TestMoveCopyFiles(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.mkBucket(t, "other")
	e.put(t, "b", "a.txt", "A")
	e.put(t, "b", "a.txt.bak", "BAK")
	e.mkdir(t, "other", "dst")
	e.mkdir(t, "other", "dst/old")
	e.put(t, "other", "dst/old/x", "X")

	if err := e.g.Move(ctx, user, "b", "a.txt", "b", "renamed.txt"); err != nil {
		t.Fatalf("Move file: %v", err)
	}
	if want := []string{"a.txt.bak", "renamed.txt"}; !sameStrings(e.rows(t, "b"), want) || !sameStrings(e.files(t, "b"), want) {
		t.Errorf("after Move: rows %q backend %q; want %q", e.rows(t, "b"), e.files(t, "b"), want)
	}
	// Copy onto a folder replaces the folder.
	if err := e.g.Copy(ctx, user, "b", "renamed.txt", "other", "dst/old"); err != nil {
		t.Fatalf("Copy over a folder: %v", err)
	}
	if want := []string{"dst/", "dst/old"}; !sameStrings(e.rows(t, "other"), want) || !sameStrings(e.files(t, "other"), want) {
		t.Errorf("after Copy: rows %q backend %q; want %q", e.rows(t, "other"), e.files(t, "other"), want)
	}
	if got := e.read(t, "other", "dst/old"); got != "A" {
		t.Errorf("copied bytes: got %q; want \"A\"", got)
	}
	if got := e.read(t, "b", "renamed.txt"); got != "A" {
		t.Errorf("source of copy: got %q; want \"A\"", got)
	}
}

func TestTransferErrors(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.mkdir(t, "b", "d")
	e.put(t, "b", "d/f", "x")
	e.put(t, "b", "g", "y")
	tests := []struct {
		name      string
		src, dst  string
		dstBucket string
		want      error
	}{
		{name: "into itself", src: "d/", dst: "d/sub/", want: gateway.ErrBadPath},
		{name: "file to folder", src: "g", dst: "x/", want: gateway.ErrBadPath},
		{name: "folder to file", src: "d/", dst: "x", want: gateway.ErrBadPath},
		{name: "missing source", src: "nope", dst: "x", want: gateway.ErrNotFound},
		{name: "missing parent", src: "g", dst: "no/x", want: gateway.ErrNoParent},
		{name: "missing bucket", src: "g", dst: "x", dstBucket: "nobucket", want: gateway.ErrNoParent},
		{name: "bad key", src: "g", dst: "../x", want: gateway.ErrBadPath},
	}
	for _, tc := range tests {
		db := tc.dstBucket
		if db == "" {
			db = "b"
		}
		if err := e.g.Move(ctx, user, "b", tc.src, db, tc.dst); !errors.Is(err, tc.want) {
			t.Errorf("Move %s (%s to %s): got %v; want %v", tc.name, tc.src, tc.dst, err, tc.want)
		}
		if err := e.g.Copy(ctx, user, "b", tc.src, db, tc.dst); !errors.Is(err, tc.want) {
			t.Errorf("Copy %s (%s to %s): got %v; want %v", tc.name, tc.src, tc.dst, err, tc.want)
		}
	}
	want := []string{"d/", "d/f", "g"}
	if got := e.rows(t, "b"); !sameStrings(got, want) {
		t.Errorf("rows after refused transfers: got %q; want %q", got, want)
	}
	if got := e.files(t, "b"); !sameStrings(got, want) {
		t.Errorf("backend after refused transfers: got %q; want %q", got, want)
	}
}

func TestRenameBucket(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.mkdir(t, "b", "d")
	e.put(t, "b", "d/f.jpg", "F")
	e.put(t, "b", "top", "T")
	props := []catalog.PropOp{{Prop: catalog.Prop{Space: "urn:x", Local: "p", Inner: "v"}}}
	if err := e.g.PatchProps(ctx, user, "b", "d/f.jpg", props); err != nil {
		t.Fatal(err)
	}
	if err := e.g.PatchProps(ctx, user, "b", "", props); err != nil {
		t.Fatal(err)
	}
	e.mkBucket(t, "taken")
	created, _ := e.g.Stat(ctx, user, "b", "")

	if err := e.g.RenameBucket(ctx, user, "b", "taken"); !errors.Is(err, gateway.ErrExists) {
		t.Errorf("RenameBucket onto an existing bucket: got %v; want ErrExists", err)
	}
	if err := e.g.RenameBucket(ctx, user, "b", "Trash"); !errors.Is(err, gateway.ErrReserved) {
		t.Errorf("RenameBucket to a reserved name: got %v; want ErrReserved", err)
	}
	if err := e.g.RenameBucket(ctx, user, "nope", "new"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("RenameBucket of a missing bucket: got %v; want ErrNotFound", err)
	}
	if err := e.g.RenameBucket(ctx, user, "b", "renamed"); err != nil {
		t.Fatalf("RenameBucket: %v", err)
	}
	want := []string{"d/", "d/f.jpg", "top"}
	if got := e.rows(t, "renamed"); !sameStrings(got, want) {
		t.Errorf("rows of the renamed bucket: got %q; want %q", got, want)
	}
	if got := e.files(t, "renamed"); !sameStrings(got, want) {
		t.Errorf("backend of the renamed bucket: got %q; want %q", got, want)
	}
	if got := e.rows(t, "b"); len(got) != 0 {
		t.Errorf("rows left in the old bucket: got %q; want none", got)
	}
	if e.inBackend("b", "") {
		t.Errorf("backend folder of the old bucket: still there; want gone")
	}
	if _, err := e.g.Stat(ctx, user, "b", ""); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("Stat of the old bucket: got %v; want ErrNotFound", err)
	}
	if o, err := e.g.Stat(ctx, user, "renamed", ""); err != nil || o.ModNs != created.ModNs {
		t.Errorf("Stat of the new bucket: got %+v, %v; want creation time %d kept", o, err, created.ModNs)
	}
	if got := e.read(t, "renamed", "d/f.jpg"); got != "F" {
		t.Errorf("file after rename: got %q; want \"F\"", got)
	}
	for _, k := range []string{"d/f.jpg", ""} {
		if ps, _ := e.g.Props(ctx, user, "renamed", k); len(ps) != 1 {
			t.Errorf("props of %q after rename: got %+v; want 1", k, ps)
		}
	}
}

func TestSetModTime(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.put(t, "b", "f", "x")
	mt := time.Unix(1234567890, 0)
	if err := e.g.SetModTime(ctx, user, "b", "f", mt); err != nil {
		t.Fatalf("SetModTime: %v", err)
	}
	if o, _ := e.g.Stat(ctx, user, "b", "f"); !o.ModTime().Equal(mt) {
		t.Errorf("catalog mod time: got %v; want %v", o.ModTime(), mt)
	}
	if en, _ := e.be.Stat(ctx, gateway.Path{User: user, Bucket: "b", Key: "f"}); !en.ModTime.Equal(mt) {
		t.Errorf("backend mod time: got %v; want %v", en.ModTime, mt)
	}
	if err := e.g.SetModTime(ctx, user, "b", "nope", mt); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("SetModTime of a missing file: got %v; want ErrNotFound", err)
	}
}

// writeDirect stores bytes through the backend, behind the gateway's back.
func (e env) writeDirect(t *testing.T, bucket, key, body string, mod time.Time) {
	t.Helper()
	ctx := context.Background()
	p, err := e.be.Create(ctx, gateway.Path{User: user, Bucket: bucket, Key: key}, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(ctx, mod); err != nil {
		t.Fatal(err)
	}
}

func TestReconcile(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	if err := e.cat.PutUser(ctx, catalog.User{Name: user, PasswordHash: "h"}, true); err != nil {
		t.Fatal(err)
	}
	e.mkdir(t, "b", "dir")
	e.put(t, "b", "dir/keep.txt", "kept")
	e.put(t, "b", "gone.txt", "soon gone")
	e.put(t, "b", "changed.txt", "before")
	if err := e.g.SetModTime(ctx, user, "b", "changed.txt", time.Unix(1000, 0)); err != nil {
		t.Fatal(err)
	}
	if st, err := e.g.Reconcile(ctx); err != nil || st != (gateway.ReconcileStats{}) {
		t.Fatalf("Reconcile of a consistent catalog: got %+v, %v; want no changes", st, err)
	}

	mod := time.Unix(1500000000, 0)
	newBody := "\xff\xd8\xff bytes written while Shoebox was down"
	e.writeDirect(t, "b", "dir/new.jpg", newBody, mod)
	e.writeDirect(t, "b", "changed.txt", "after, longer", time.Unix(2000, 0))
	if err := e.be.Remove(ctx, gateway.Path{User: user, Bucket: "b", Key: "gone.txt"}); err != nil {
		t.Fatal(err)
	}

	st, err := e.g.Reconcile(ctx)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if want := (gateway.ReconcileStats{Added: 1, Updated: 1, Removed: 1}); st != want {
		t.Errorf("Reconcile stats: got %+v; want %+v", st, want)
	}
	wantSHA, wantMD5 := sums(newBody)
	o, err := e.cat.Stat(ctx, user, "b", "dir/new.jpg")
	if err != nil {
		t.Fatalf("row of the new file: %v", err)
	}
	if o.SHA256 != wantSHA || o.MD5 != wantMD5 || o.Size != int64(len(newBody)) {
		t.Errorf("new row: got sha %s md5 %s size %d; want %s %s %d", o.SHA256, o.MD5, o.Size, wantSHA, wantMD5, len(newBody))
	}
	if o.ModNs != mod.UnixNano() || o.ContentType != "image/jpeg" {
		t.Errorf("new row: got mod %d type %q; want %d image/jpeg", o.ModNs, o.ContentType, mod.UnixNano())
	}
	wantSHA, _ = sums("after, longer")
	if o, _ := e.cat.Stat(ctx, user, "b", "changed.txt"); o.SHA256 != wantSHA || o.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("changed row: got sha %s type %q; want %s with the old content type", o.SHA256, o.ContentType, wantSHA)
	}
	if _, err := e.cat.Stat(ctx, user, "b", "gone.txt"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("row of the removed file: got %v; want ErrNotFound", err)
	}
	if !e.inCatalog("b", "dir/keep.txt") {
		t.Errorf("row of an untouched file: gone; want kept")
	}
	if st, err := e.g.Reconcile(ctx); err != nil || st != (gateway.ReconcileStats{}) {
		t.Errorf("second Reconcile: got %+v, %v; want no changes", st, err)
	}

	// A folder made and a bucket removed behind the gateway's back.
	e.mkBucket(t, "doomed")
	e.put(t, "doomed", "x", "x")
	if err := e.be.Remove(ctx, gateway.Path{User: user, Bucket: "doomed"}); err != nil {
		t.Fatal(err)
	}
	if err := e.be.Mkdir(ctx, gateway.Path{User: user, Bucket: "fresh", Key: "sub/"}); err != nil {
		t.Fatal(err)
	}
	st, err = e.g.Reconcile(ctx)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if want := (gateway.ReconcileStats{Added: 2, Removed: 1}); st != want {
		t.Errorf("Reconcile stats (buckets): got %+v; want %+v", st, want)
	}
	if _, err := e.g.Stat(ctx, user, "doomed", ""); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("removed bucket: got %v; want ErrNotFound", err)
	}
	if e.inCatalog("doomed", "x") {
		t.Errorf("row of the removed bucket's file: kept; want gone")
	}
	if _, err := e.g.Stat(ctx, user, "fresh", ""); err != nil {
		t.Errorf("bucket found in the backend: got %v; want it cataloged", err)
	}
	if o, err := e.cat.Stat(ctx, user, "fresh", "sub/"); err != nil || !o.IsDir() {
		t.Errorf("folder found in the backend: got %+v, %v; want a folder row", o, err)
	}
}

type recorder struct {
	mu     sync.Mutex
	events []gateway.Event
	err    error
}

func (r *recorder) Committed(ctx context.Context, ev gateway.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return r.err
}

func TestHooks(t *testing.T) {
	rec := &recorder{}
	failing := &recorder{err: errors.New("hook trouble")}
	e := newEnv(t, gateway.Options{Hooks: []gateway.Hook{failing, rec}})
	ctx := context.Background()
	e.mkBucket(t, "b")
	e.mkdir(t, "b", "d")
	o := e.put(t, "b", "d/f.jpg", "bytes")
	_, _ = e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "refused", Body: strings.NewReader("x"),
		Verify: func(gateway.Sums) error { return errors.New("no") }})
	if err := e.g.Copy(ctx, user, "b", "d/", "b", "c/"); err != nil {
		t.Fatal(err)
	}
	if err := e.g.Move(ctx, user, "b", "d/f.jpg", "b", "moved.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := e.g.Remove(ctx, user, "b", "moved.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := e.g.RemoveBucket(ctx, user, "b", true); err != nil {
		t.Fatal(err)
	}
	type short struct {
		Op                  gateway.Op
		Bucket, Key, DstKey string
	}
	var got []short
	for _, ev := range rec.events {
		if ev.User != user {
			t.Errorf("event %v: got user %q; want %q", ev.Op, ev.User, user)
		}
		got = append(got, short{ev.Op, ev.Bucket, ev.Key, ev.DstKey})
	}
	want := []short{
		{gateway.OpMakeBucket, "b", "", ""},
		{gateway.OpMkdir, "b", "d/", ""},
		{gateway.OpPut, "b", "d/f.jpg", ""},
		{gateway.OpCopy, "b", "d/", "c/"},
		{gateway.OpMove, "b", "d/f.jpg", "moved.jpg"},
		{gateway.OpDelete, "b", "moved.jpg", ""},
		{gateway.OpRemoveBucket, "b", "", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events: got %+v; want %+v", got, want)
	}
	for _, ev := range rec.events {
		if ev.Op == gateway.OpPut && ev.Object.SHA256 != o.SHA256 {
			t.Errorf("OpPut event object: got SHA %s; want %s", ev.Object.SHA256, o.SHA256)
		}
	}
	if len(failing.events) != len(rec.events) {
		t.Errorf("failing hook heard %d events; want %d (its errors never stop the others)", len(failing.events), len(rec.events))
	}
}

func TestConcurrentPuts(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := bytes.Repeat([]byte{byte('a' + i)}, 1000)
			_, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "same.bin", Body: bytes.NewReader(body)})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Put: %v", err)
		}
	}
	// Whichever write won, the catalog's sums describe the stored bytes.
	f, o, err := e.g.Open(ctx, user, "b", "same.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	sha, _ := sums(string(b))
	if o.SHA256 != sha {
		t.Errorf("row after concurrent Puts: got SHA %s; want %s (of the stored bytes)", o.SHA256, sha)
	}
}

// TestTransferOverlapRefused: moving or copying onto itself, into itself or
// onto an ancestor is refused before anything is touched.
func TestTransferOverlapRefused(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.mkdir(t, "b", "a/")
	e.mkdir(t, "b", "a/b/")
	e.put(t, "b", "a/b/photo.jpg", "keep me")
	e.put(t, "b", "f.txt", "file")
	for _, tc := range [][2]string{{"a/b/", "a/"}, {"a/", "a/b/"}, {"a/", "a/"}, {"f.txt", "f.txt"}, {"a/b/photo.jpg", "a"}} {
		for name, op := range map[string]func(context.Context, string, string, string, string, string) error{"Move": e.g.Move, "Copy": e.g.Copy} {
			if err := op(ctx, user, "b", tc[0], "b", tc[1]); !errors.Is(err, gateway.ErrBadPath) {
				t.Errorf("%s %s → %s: %v; want ErrBadPath", name, tc[0], tc[1], err)
			}
		}
	}
	if got := e.read(t, "b", "a/b/photo.jpg"); got != "keep me" {
		t.Errorf("photo after refused transfers = %q", got)
	}
	if got := e.read(t, "b", "f.txt"); got != "file" {
		t.Errorf("f.txt after refused transfers = %q", got)
	}
}

// TestOverwriteKeepsDeadProps: a new version of a file keeps its dead
// properties visible.
func TestOverwriteKeepsDeadProps(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.put(t, "b", "p.txt", "v1")
	prop := catalog.Prop{Space: "urn:x", Local: "color", Inner: "blue"}
	if err := e.g.PatchProps(ctx, user, "b", "p.txt", []catalog.PropOp{{Prop: prop}}); err != nil {
		t.Fatal(err)
	}
	o := e.put(t, "b", "p.txt", "v2")
	if !o.HasProps {
		t.Errorf("row after overwrite: HasProps = false; want true")
	}
	st, _ := e.g.Stat(ctx, user, "b", "p.txt")
	if !st.HasProps {
		t.Errorf("stored row after overwrite: HasProps = false; want true")
	}
}

// TestReconcileSkipsBadNames: a folder whose name Shoebox cannot serve is
// skipped, and the rest is still reconciled.
func TestReconcileSkipsBadNames(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	if err := e.be.Mkdir(ctx, gateway.Path{User: user, Bucket: "b", Key: "bad\x01/"}); err != nil {
		t.Fatal(err)
	}
	e.writeDirect(t, "b", "good.txt", "good", time.Now())
	st, err := e.g.Reconcile(ctx)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if st.Added != 1 || !e.inCatalog("b", "good.txt") {
		t.Errorf("Reconcile added %d (good.txt cataloged: %v); want 1, true", st.Added, e.inCatalog("b", "good.txt"))
	}
}

// TestPutFrontMD5: a front end that hashes the body itself hands its MD5
// over (the gateway then skips its own); a malformed one fails the upload
// and stores nothing.
func TestPutFrontMD5(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	body := "hashed by the front end"
	h := md5.New()
	o, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "a.txt",
		Body: io.TeeReader(strings.NewReader(body), h), MD5: func() []byte { return h.Sum(nil) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, md := sums(body); o.MD5 != md {
		t.Errorf("MD5: got %s; want %s", o.MD5, md)
	}
	_, err = e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "bad.txt",
		Body: strings.NewReader(body), MD5: func() []byte { return []byte("short") }})
	if err == nil {
		t.Errorf("Put with a 5-byte MD5: got no error")
	}
	if e.inCatalog("b", "bad.txt") || e.inBackend("b", "bad.txt") {
		t.Errorf("a failed Put left bad.txt behind")
	}
}
