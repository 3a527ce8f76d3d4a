package enrich_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
	"shoebox/gateway/memfs"
)

type panicky struct{}

func (panicky) Name() string { return "panicky" }
func (panicky) Extract(ctx context.Context, in *enrich.Input, m *catalog.Media) error {
	if strings.Contains(in.Object.Key, "boom") {
		panic("corrupt header")
	}
	return nil
}

func TestPoolRecoversAndFinishes(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	gw := gateway.New(memfs.New(), cat, gateway.Options{Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gw.MakeBucket(ctx, "u", "b")
	for _, k := range []string{"ok.txt", "boom.txt", "IMG_1.heic", "._IMG_1.heic"} {
		if _, err := gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "b", Key: k, Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	pool := enrich.NewPool(gw, enrich.Options{Workers: 2, Idle: 20 * time.Millisecond, Logger: quiet,
		Extractors: []enrich.Extractor{enrich.Metadata{}, panicky{}}})
	done := make(chan struct{})
	go func() { pool.Run(ctx); close(done) }()
	deadline := time.Now().Add(2 * time.Minute) // generous: a loaded machine
	for {
		q, _ := cat.Queue(ctx, time.Now())
		if q.Pending == 0 && q.Running == 0 {
			if q.Failed != 2 {
				t.Errorf("queue = %+v; want the panicking file and the fake photo failed", q)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained: %+v", q)
		}
		time.Sleep(10 * time.Millisecond)
	}
	j, err := cat.JobOf(ctx, "u", "b", "boom.txt")
	if !j.Failed || !strings.Contains(j.Err, "crashed") || j.Attempts != 1 {
		t.Errorf("boom.txt job = %+v, %v; want failed once (a crash is not retried)", j, err)
	}
	// "IMG_1.heic" holds "x": named like a photo, it is not one.
	if j, _ := cat.JobOf(ctx, "u", "b", "IMG_1.heic"); !j.Failed || !strings.Contains(j.Err, "not a known photo") {
		t.Errorf("IMG_1.heic job = %+v; want failed: not a known photo format", j)
	}
	for k, kind := range map[string]string{"ok.txt": "other", "IMG_1.heic": "other", "._IMG_1.heic": "other"} {
		m, err := cat.MediaOf(ctx, "u", "b", k)
		if err != nil || m.Kind != kind {
			t.Errorf("%s media = %+v, %v; want kind %s", k, m, err, kind)
		}
	}
	cancel()
	<-done
	if _, err := cat.JobOf(ctx, "u", "b", "ok.txt"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("ok.txt job remains: %v", err)
	}
}

// TestPoolDefersToClients: while Busy says clients are being served,
// workers wait before their next job, but never more than a moment: the
// queue still drains when clients never stop.
func TestPoolDefersToClients(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	gw := gateway.New(memfs.New(), cat, gateway.Options{Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gw.MakeBucket(ctx, "u", "b")
	for _, k := range []string{"a.txt", "b.txt", "c.txt"} {
		gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "b", Key: k, Body: strings.NewReader("x")})
	}
	var asked atomic.Int64
	pool := enrich.NewPool(gw, enrich.Options{Workers: 1, Idle: 20 * time.Millisecond, Logger: quiet,
		Busy: func() bool { asked.Add(1); return true }}) // clients that never stop
	start := time.Now()
	go pool.Run(ctx)
	for {
		q, _ := cat.Queue(ctx, time.Now())
		if q.Pending == 0 && q.Running == 0 {
			break
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("queue not drained with clients always busy: %+v", q)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(start); took < 3*200*time.Millisecond || asked.Load() < 3 {
		t.Errorf("3 jobs took %v, Busy asked %d times; want each job deferred (about 250 ms)", took, asked.Load())
	}
}
