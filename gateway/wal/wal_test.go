package wal_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"shoebox/gateway/wal"
)

func replay(t *testing.T, dir string) []wal.Record {
	t.Helper()
	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var got []wal.Record
	if err := l.Replay(context.Background(), func(r wal.Record) error {
		r.Data = bytes.Clone(r.Data)
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReplay: records appended and not released come back after a crash
// (the log is not closed), in order and whole, and only once.
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []wal.Record{
		{User: "u", Bucket: "b", Key: "a|odd key", SHA256: "aa", ModNs: -5, Data: []byte("first")},
		{User: "u", Bucket: "b", Key: "empty", SHA256: "bb", ModNs: 1 << 60, Data: []byte{}},
	}
	for _, r := range want {
		if _, err := l.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got := replay(t, dir)
	if len(got) != len(want) {
		t.Fatalf("replayed %d records; want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.User != w.User || g.Bucket != w.Bucket || g.Key != w.Key || g.SHA256 != w.SHA256 || g.ModNs != w.ModNs || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("record %d: got %+v; want %+v", i, g, w)
		}
	}
	if again := replay(t, dir); len(again) != 0 {
		t.Errorf("a second replay found %d records; want 0", len(again))
	}
}

// TestTornTail: a record cut short by a crash ends the replay of its
// segment; the records before it come back.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"one", "two"} {
		if _, err := l.Append(context.Background(), wal.Record{Key: k, Data: bytes.Repeat([]byte(k), 100)}); err != nil {
			t.Fatal(err)
		}
	}
	seg := segments(t, dir)[0]
	fi, _ := os.Stat(seg)
	if err := os.Truncate(seg, fi.Size()-10); err != nil {
		t.Fatal(err)
	}
	got := replay(t, dir)
	if len(got) != 1 || got[0].Key != "one" {
		t.Errorf("replay of a torn segment: got %d records; want only \"one\"", len(got))
	}
}

// TestReleaseDeletesSegments: once rotated out and released, a segment
// file goes; Close removes an unneeded active one.
func TestReleaseDeletesSegments(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var refs []wal.Ref
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref, err := l.Append(ctx, wal.Record{Key: fmt.Sprint(i), Data: make([]byte, 4096)})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			refs = append(refs, ref)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got := l.Live(); got != 50 {
		t.Errorf("Live: got %d; want 50", got)
	}
	if err := l.Rotate(); err != nil {
		t.Fatal(err)
	}
	if got := len(segments(t, dir)); got != 2 {
		t.Errorf("segments after Rotate: got %d; want 2", got)
	}
	l.Release(refs[:49]...)
	if got := len(segments(t, dir)); got != 2 {
		t.Errorf("segments with one record still needed: got %d; want 2", got)
	}
	l.Release(refs[49])
	if got := len(segments(t, dir)); got != 1 {
		t.Errorf("segments once all released: got %d; want 1", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(segments(t, dir)); got != 0 {
		t.Errorf("segments after Close: got %d; want 0", got)
	}
}
