package s3store_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"shoebox/catalog"
	"shoebox/gateway/s3store"
	"shoebox/gateway/s3store/s3storetest"
)

// flaky answers 503 to the first n requests, then passes them on.
type flaky struct {
	rt   http.RoundTripper
	fail atomic.Int64
	seen atomic.Int64
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.seen.Add(1)
	if f.fail.Add(-1) >= 0 {
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		return &http.Response{StatusCode: 503, Status: "503 Service Unavailable", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/xml"}}, Request: r,
			Body: io.NopCloser(strings.NewReader(`<Error><Code>SlowDown</Code><Message>busy</Message></Error>`))}, nil
	}
	return f.rt.RoundTrip(r)
}

func TestRetries5xx(t *testing.T) {
	up := s3storetest.Start(t)
	fl := &flaky{rt: http.DefaultTransport}
	st := newStore(t, up, func(c *s3store.Config) {
		c.HTTPClient = &http.Client{Transport: fl}
		c.MaxBackoff = 20 * time.Millisecond
	})
	st.s.Mkdir(ctx, pth(""))
	fl.fail.Store(3)
	fl.seen.Store(0)
	put(t, st.s, "retried", []byte("survives 503s"))
	if string(get(t, st.s, "retried")) != "survives 503s" {
		t.Fatal("content after retries differs")
	}
	if n := fl.seen.Load(); n < 5 { // 3 failed + PUT + GET
		t.Fatalf("%d requests; want the 3 refused ones retried", n)
	}
	fl.fail.Store(100)
	_, err := st.s.Create(ctx, pth("x"), strings.NewReader("x"))
	if err == nil || !errors.Is(err, s3store.ErrUpstream) {
		t.Fatalf("Create with a failing upstream = %v; want ErrUpstream", err)
	}
	t.Logf("after %d attempts: %v", 6, err)
}

// failingMove is the catalog with BlobMoveRun failing, as if Shoebox
// crashed after writing the journal entry.
type failingMove struct{ *catalog.Catalog }

func (failingMove) BlobMoveRun(ctx context.Context, m catalog.BlobMove) ([]string, error) {
	return nil, errors.New("simulated crash")
}

func TestRenameCrashFinishedAtStart(t *testing.T) {
	up := s3storetest.Start(t)
	st := newStore(t, up, nil)
	put(t, st.s, "a/1", []byte("one"))
	put(t, st.s, "a/2", []byte("two"))
	crashing, err := s3store.New(ctx, st.cfg, failingMove{st.cat})
	if err != nil {
		t.Fatal(err)
	}
	if err := crashing.Rename(ctx, pth("a/"), pth("b/")); err == nil {
		t.Fatal("rename with a crashing map succeeded")
	}
	if ms, _ := st.cat.BlobMoves(ctx); len(ms) != 1 {
		t.Fatalf("intents %v; want one", ms)
	}
	s2, err := s3store.New(ctx, st.cfg, st.cat) // the restart
	if err != nil {
		t.Fatal(err)
	}
	if string(get(t, s2, "b/1")) != "one" || string(get(t, s2, "b/2")) != "two" {
		t.Fatal("rename not finished at start")
	}
	if _, err := s2.Stat(ctx, pth("a/")); err == nil {
		t.Fatal("source still there")
	}
	if js := listKeys(t, st, "journal/"); len(js) != 1 {
		t.Fatalf("journal %v; want one entry", js)
	}
}

func TestLinkJournalWhenUploadOverlapsRename(t *testing.T) {
	up := s3storetest.Start(t)
	st := newStore(t, up, nil)
	put(t, st.s, "d/old", []byte("old"))
	p, err := st.s.Create(ctx, pth("d/new"), strings.NewReader("new"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.s.Rename(ctx, pth("d/"), pth("e/")); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	js := listKeys(t, st, "journal/")
	if len(js) != 2 {
		t.Fatalf("journal %v; want the rename and a link", js)
	}
	o, err := up.Client(nil).GetObject(ctx, &s3.GetObjectInput{Bucket: &up.Bucket, Key: &js[1]})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(o.Body)
	o.Body.Close()
	b, _ := st.cat.GetBlob(ctx, "u", "b", "d/new")
	if !strings.Contains(string(body), `"op":"link","path":"u/b/d/new","id":"`+b.ID+`"`) {
		t.Fatalf("second journal entry %s", body)
	}
	if string(get(t, st.s, "e/old")) != "old" || string(get(t, st.s, "d/new")) != "new" {
		t.Fatal("contents wrong")
	}
}
