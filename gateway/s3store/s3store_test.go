package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/s3store"
	"shoebox/gateway/s3store/s3storetest"
	"shoebox/gateway/storetest"
)

var ctx = context.Background()

func openCatalog(tb testing.TB) *catalog.Catalog {
	tb.Helper()
	c, err := catalog.Open("", catalog.Options{InMemory: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

type setup struct {
	up  *s3storetest.Upstream
	cat *catalog.Catalog
	s   *s3store.Store
	cnt *counter
	cfg s3store.Config
}

func newStore(tb testing.TB, up *s3storetest.Upstream, mod func(*s3store.Config)) *setup {
	tb.Helper()
	return newStoreWith(tb, up, openCatalog(tb), mod)
}

func newStoreWith(tb testing.TB, up *s3storetest.Upstream, cat *catalog.Catalog, mod func(*s3store.Config)) *setup {
	tb.Helper()
	cnt := newCounter()
	cfg := s3store.Config{
		Endpoint: up.Endpoint(), Region: "us-east-1", Bucket: up.Bucket,
		Prefix:    "t" + randHex(4) + "/",
		AccessKey: up.AK, SecretKey: up.SK, PathStyle: true,
		HTTPClient: &http.Client{Transport: cnt},
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := s3store.New(ctx, cfg, cat)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return &setup{up: up, cat: cat, s: s, cnt: cnt, cfg: cfg}
}

func TestConformance(t *testing.T) {
	up := s3storetest.Start(t)
	storetest.Run(t, func(t *testing.T) gateway.Backend { return newStore(t, up, nil).s })
}

func pth(key string) gateway.Path { return gateway.Path{User: "u", Bucket: "b", Key: key} }

func put(tb testing.TB, s *s3store.Store, key string, data []byte) {
	tb.Helper()
	p, err := s.Create(ctx, pth(key), bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("Create %s: %v", key, err)
	}
	if err := p.Commit(ctx, time.Time{}); err != nil {
		tb.Fatalf("Commit %s: %v", key, err)
	}
}

func get(tb testing.TB, s *s3store.Store, key string) []byte {
	tb.Helper()
	f, err := s.Open(ctx, pth(key))
	if err != nil {
		tb.Fatalf("Open %s: %v", key, err)
	}
	defer f.Close()
	d, err := io.ReadAll(f)
	if err != nil {
		tb.Fatalf("read %s: %v", key, err)
	}
	return d
}

// listBlobs returns the upstream keys under the store's prefix.
func listKeys(tb testing.TB, st *setup, sub string) []string {
	tb.Helper()
	var out []string
	pfx := st.cfg.Prefix + sub
	pg := s3.NewListObjectsV2Paginator(st.up.Client(nil), &s3.ListObjectsV2Input{Bucket: &st.up.Bucket, Prefix: &pfx})
	for pg.HasMorePages() {
		o, err := pg.NextPage(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range o.Contents {
			out = append(out, *c.Key)
		}
	}
	return out
}

func TestMetadataAndJournal(t *testing.T) {
	up := s3storetest.Start(t)
	st := newStore(t, up, nil)
	put(t, st.s, "dir/ü x.jpg", []byte("photo"))
	b, err := st.cat.GetBlob(ctx, "u", "b", "dir/ü x.jpg")
	if err != nil {
		t.Fatal(err)
	}
	h, err := up.Client(nil).HeadObject(ctx, &s3.HeadObjectInput{Bucket: &up.Bucket, Key: aws.String(st.s.BlobKey(b.ID))})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Metadata["shoebox-path"]; got != "u%2Fb%2Fdir%2F%C3%BC%20x.jpg" {
		t.Errorf("shoebox-path metadata = %q", got)
	}
	if h.Metadata["shoebox-mtime"] == "" || h.Metadata["shoebox-uploaded"] == "" {
		t.Errorf("metadata %v lacks mtime/uploaded", h.Metadata)
	}
	if err := st.s.Rename(ctx, pth("dir/"), pth("dir2/")); err != nil {
		t.Fatal(err)
	}
	js := listKeys(t, st, "journal/")
	if len(js) != 1 {
		t.Fatalf("journal %v; want one entry", js)
	}
	o, err := up.Client(nil).GetObject(ctx, &s3.GetObjectInput{Bucket: &up.Bucket, Key: &js[0]})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(o.Body)
	o.Body.Close()
	if !strings.Contains(string(body), `"op":"rename","from":"u/b/dir/","to":"u/b/dir2/"`) {
		t.Fatalf("journal entry %s", body)
	}
	// Overwrite: the old blob is deleted upstream.
	put(t, st.s, "dir2/ü x.jpg", []byte("photo 2"))
	if n := len(listKeys(t, st, "blobs/")); n != 1 {
		t.Fatalf("%d blobs upstream after overwrite; want 1", n)
	}
	if err := st.s.Remove(ctx, pth("dir2/")); err != nil {
		t.Fatal(err)
	}
	if n := len(listKeys(t, st, "blobs/")); n != 0 {
		t.Fatalf("%d blobs upstream after Remove; want 0", n)
	}
}

func TestLargeAndRanges(t *testing.T) {
	up := s3storetest.Start(t)
	st := newStore(t, up, func(c *s3store.Config) { c.PartSize = 5 << 20 })
	data := make([]byte, 12<<20+123) // 3 parts
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	st.s.Mkdir(ctx, pth(""))
	st.cnt.reset()
	put(t, st.s, "big.bin", data)
	reqs := st.cnt.reset()
	if reqs["POST"] != 2 || reqs["PUT"] != 3 { // create + complete; 3 parts
		t.Errorf("multipart upload requests %v; want POST 2, PUT 3", reqs)
	}
	if got := get(t, st.s, "big.bin"); !bytes.Equal(got, data) {
		t.Fatal("large file read back differs")
	}
	f, err := st.s.Open(ctx, pth("big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st.cnt.reset()
	buf := make([]byte, 1000)
	if n, err := f.ReadAt(buf, 7<<20); n != 1000 || err != nil || !bytes.Equal(buf, data[7<<20:7<<20+1000]) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if n, err := f.ReadAt(buf, int64(len(data)-10)); n != 10 || err != io.EOF || !bytes.Equal(buf[:10], data[len(data)-10:]) {
		t.Fatalf("ReadAt at the end = %d, %v", n, err)
	}
	f.Seek(3<<20, io.SeekStart)
	if _, err := io.ReadFull(f, buf); err != nil || !bytes.Equal(buf, data[3<<20:3<<20+1000]) {
		t.Fatalf("Read after Seek: %v", err)
	}
	if _, err := io.ReadFull(f, buf); err != nil || !bytes.Equal(buf, data[3<<20+1000:3<<20+2000]) {
		t.Fatalf("second Read: %v", err)
	}
	if reqs := st.cnt.reset(); reqs["GET"] != 3 {
		t.Errorf("GETs for 2 ReadAt + streamed reads = %v; want 3", reqs)
	}
}

// seedFolder puts n map rows under dir/ (with a few real files), without
// uploading n blobs: the move touches only the map and one journal entry.
func seedFolder(tb testing.TB, st *setup, dir string, n int) {
	tb.Helper()
	for i := range n {
		key := fmt.Sprintf("%s%03d/IMG_%05d.jpg", dir, i/100, i)
		if i%1000 == 0 {
			put(tb, st.s, key, []byte(key))
			continue
		}
		if _, err := st.cat.PutBlob(ctx, catalog.Blob{User: "u", Bucket: "b", Key: key,
			ID: fmt.Sprintf("%032x", i+1), Size: 1, ModNs: 1}); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestMoveFolderIsO1(t *testing.T) {
	up := s3storetest.Start(t)
	for _, n := range []int{1000, 10000} {
		// An on-disk catalog that syncs its writes, as in production.
		cat, err := catalog.Open(t.TempDir(), catalog.Options{SyncWrites: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cat.Close() })
		st := newStoreWith(t, up, cat, nil)
		src, dst := fmt.Sprintf("photos%d/", n), fmt.Sprintf("moved%d/", n)
		seedFolder(t, st, src, n)
		st.cnt.reset()
		start := time.Now()
		if err := st.s.Rename(ctx, pth(src), pth(dst)); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		reqs := st.cnt.reset()
		total := 0
		for _, v := range reqs {
			total += v
		}
		t.Logf("MOVE of a %d-file folder: %v, %d upstream requests %v", n, took, total, reqs)
		if total != 1 || reqs["PUT"] != 1 {
			t.Errorf("MOVE of %d files sent %v upstream; want one journal PUT", n, reqs)
		}
		for i := 0; i < n; i += 1000 {
			key := fmt.Sprintf("%03d/IMG_%05d.jpg", i/100, i)
			if got := string(get(t, st.s, dst+key)); got != src+key {
				t.Fatalf("moved file %s = %q", key, got)
			}
		}
		if _, err := st.s.Stat(ctx, pth(src)); err == nil {
			t.Fatal("source folder still there")
		}
		st.cnt.reset()
		start = time.Now()
		if err := st.s.Remove(ctx, pth(dst)); err != nil {
			t.Fatal(err)
		}
		t.Logf("Remove of the %d-file folder: %v, upstream %v", n, time.Since(start), st.cnt.reset())
	}
}

// stopper is a body that stops the upstream after giving half of itself.
type stopper struct {
	r    io.Reader
	left int
	stop func()
}

func (s *stopper) Read(p []byte) (int, error) {
	if s.left <= 0 && s.stop != nil {
		s.stop()
		s.stop = nil
	}
	if s.left > 0 && len(p) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= n
	return n, err
}

func TestUpstreamDown(t *testing.T) {
	up := s3storetest.Start(t)
	st := newStore(t, up, func(c *s3store.Config) {
		c.PartSize = 5 << 20
		c.MaxAttempts = 3
		c.MaxBackoff = 50 * time.Millisecond
	})
	st.s.Mkdir(ctx, pth(""))
	data := bytes.Repeat([]byte("x"), 12<<20)
	body := &stopper{r: bytes.NewReader(data), left: 6 << 20, stop: up.Stop}
	start := time.Now()
	p, err := st.s.Create(ctx, pth("lost.bin"), body)
	if err == nil {
		p.Abort()
		t.Fatal("Create succeeded with the upstream stopped mid-upload")
	}
	t.Logf("upstream stopped mid-upload: Create failed after %v: %v", time.Since(start), err)
	if !errors.Is(err, s3store.ErrUpstream) || !strings.Contains(err.Error(), "upstream") {
		t.Errorf("error %v does not say the upstream failed", err)
	}
	if _, err := st.s.Stat(ctx, pth("lost.bin")); err == nil {
		t.Fatal("failed upload is in the map")
	}
	if _, err := st.s.Create(ctx, pth("small"), strings.NewReader("x")); err == nil || !errors.Is(err, s3store.ErrUpstream) {
		t.Fatalf("small Create with the upstream down = %v", err)
	}
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	put(t, st.s, "after.bin", data)
	if got := get(t, st.s, "after.bin"); !bytes.Equal(got, data) {
		t.Fatal("upload after restart read back differs")
	}
	// The multipart upload cut short is aborted by Reconcile.
	cfg := st.cfg
	cfg.OrphanGrace = time.Nanosecond
	s2, err := s3store.New(ctx, cfg, st.cat)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // the upload's age must pass OrphanGrace (1 ns): a length of time, not a wait for a state
	rep, err := s2.Reconcile(ctx)
	t.Logf("Reconcile after restart: %v", rep)
	if err != nil || rep.StaleUploads != 1 || rep.Orphans != 0 || len(rep.Missing) != 0 {
		t.Fatalf("Reconcile after restart = %+v, %v; want the one stale upload aborted", rep, err)
	}
}

func TestReconcile(t *testing.T) {
	up := s3storetest.Start(t)
	st := newStore(t, up, func(c *s3store.Config) { c.OrphanGrace = time.Nanosecond })
	put(t, st.s, "kept", []byte("kept"))
	put(t, st.s, "gone", []byte("gone"))
	// A crash between upload and commit: the blob is upstream, no row.
	if _, err := st.s.Create(ctx, pth("crashed"), strings.NewReader("never committed")); err != nil {
		t.Fatal(err)
	}
	// A blob deleted behind Shoebox's back.
	g, _ := st.cat.GetBlob(ctx, "u", "b", "gone")
	if _, err := up.Client(nil).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &up.Bucket, Key: aws.String(st.s.BlobKey(g.ID))}); err != nil {
		t.Fatal(err)
	}
	if n := len(listKeys(t, st, "blobs/")); n != 2 {
		t.Fatalf("%d blobs before Reconcile; want 2", n)
	}
	// With the default grace a young orphan is kept.
	st2, err := s3store.New(ctx, func() s3store.Config { c := st.cfg; c.OrphanGrace = 0; return c }(), st.cat)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st2.Reconcile(ctx)
	if err != nil || rep.Orphans != 0 || rep.Young != 1 || len(rep.Missing) != 1 || rep.Missing[0] != "u/b/gone" {
		t.Fatalf("Reconcile with a day's grace = %+v, %v", rep, err)
	}
	// At start-up no upload can be in flight: the young orphan goes too.
	rep, err = st2.ReconcileAtStart(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Reconcile: %v", rep)
	if rep.Orphans != 1 || len(rep.Missing) != 0 {
		t.Fatalf("report %+v", rep)
	}
	if got := listKeys(t, st, "blobs/"); len(got) != 1 {
		t.Fatalf("blobs after Reconcile %v; want only the kept one", got)
	}
	if _, err := st.s.Stat(ctx, pth("gone")); err == nil {
		t.Fatal("row of the vanished blob kept")
	}
	if string(get(t, st.s, "kept")) != "kept" {
		t.Fatal("kept file damaged")
	}
}

// TestVirtualHostStyle addresses the bucket as <bucket>.<domain>: every
// host name is dialled on the loopback versitygw.
func TestVirtualHostStyle(t *testing.T) {
	up := s3storetest.Start(t, "--virtual-domain", "s3.test")
	_, port, _ := net.SplitHostPort(up.Addr)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var hosts sync.Map
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		hosts.Store(addr, true)
		return (&net.Dialer{}).DialContext(ctx, network, up.Addr)
	}
	st := newStore(t, up, func(c *s3store.Config) {
		c.Endpoint = "http://s3.test:" + port
		c.PathStyle = false
		c.HTTPClient = &http.Client{Transport: tr}
	})
	put(t, st.s, "v/host.txt", []byte("virtual"))
	if err := st.s.Rename(ctx, pth("v/"), pth("w/")); err != nil {
		t.Fatal(err)
	}
	if got := string(get(t, st.s, "w/host.txt")); got != "virtual" {
		t.Fatalf("read %q", got)
	}
	if _, ok := hosts.Load(up.Bucket + ".s3.test:" + port); !ok {
		var seen []any
		hosts.Range(func(k, _ any) bool { seen = append(seen, k); return true })
		t.Fatalf("requests went to %v; want the virtual host %s.s3.test", seen, up.Bucket)
	}
}

// TestSizesAroundBuffers writes bodies at and around the upload buffer
// sizes and the part size: every byte must come back.
func TestSizesAroundBuffers(t *testing.T) {
	up := s3storetest.Start(t)
	st := newStore(t, up, func(c *s3store.Config) { c.PartSize = 5 << 20 })
	st.s.Mkdir(ctx, pth(""))
	for _, n := range []int{0, 1, 256<<10 - 1, 256 << 10, 256<<10 + 1, 1 << 20, 5<<20 - 1, 5 << 20, 5<<20 + 1, 10 << 20} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*13 + i>>12)
		}
		key := fmt.Sprintf("size-%d", n)
		p, err := st.s.Create(ctx, pth(key), iotest.HalfReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatal(err)
		}
		if p.Size() != int64(n) {
			t.Fatalf("Size = %d; want %d", p.Size(), n)
		}
		if err := p.Commit(ctx, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got := get(t, st.s, key); !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read back %d bytes, differing", n, len(got))
		}
	}
}

// TestDerived: derived files (thumbnails) in the upstream bucket: put,
// get, missing as fs.ErrNotExist, reset.
func TestDerived(t *testing.T) {
	up := s3storetest.Start(t)
	st := newStore(t, up, nil)
	d := st.s.Derived()
	if err := d.Put(ctx, "ab/x-small.jpg", []byte("jpeg bytes")); err != nil {
		t.Fatal(err)
	}
	if b, mod, err := d.Get(ctx, "ab/x-small.jpg"); err != nil || string(b) != "jpeg bytes" || mod.IsZero() {
		t.Errorf("Get = %q, %v, %v", b, mod, err)
	}
	if _, _, err := d.Get(ctx, "ab/none.jpg"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get of a missing file = %v; want fs.ErrNotExist", err)
	}
	if err := d.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Get(ctx, "ab/x-small.jpg"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get after Reset = %v; want fs.ErrNotExist", err)
	}
}
