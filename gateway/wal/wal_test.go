package wal_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
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
	if err := l.Scan(context.Background(), func(_ wal.Pos, r wal.Record) error {
		r.Data, r.Row = bytes.Clone(r.Data), bytes.Clone(r.Row)
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := l.DropOld(); err != nil {
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
		{User: "u", Bucket: "b", Key: "a|odd key", SHA256: "aa", ModNs: -5, Row: []byte(`{"s":5}`), Data: []byte("first")},
		{User: "u", Bucket: "b", Key: "empty", SHA256: "bb", ModNs: 1 << 60, Row: []byte("r"), Data: []byte{}},
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
		if g.User != w.User || g.Bucket != w.Bucket || g.Key != w.Key || g.SHA256 != w.SHA256 || g.ModNs != w.ModNs || !bytes.Equal(g.Row, w.Row) || !bytes.Equal(g.Data, w.Data) {
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
	if dropped, err := l.Release(refs[:49]...); err != nil || len(dropped) != 0 {
		t.Errorf("Release of all but one record: dropped %v, %v; want none", dropped, err)
	}
	if got := len(segments(t, dir)); got != 2 {
		t.Errorf("segments with one record still needed: got %d; want 2", got)
	}
	if dropped, err := l.Release(refs[49]); err != nil || len(dropped) != 1 || dropped[0] != refs[49].Pos().Seg {
		t.Errorf("Release of the last record: dropped %v, %v; want [%d]", dropped, err, refs[49].Pos().Seg)
	}
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

// TestPositions: Scan reports each record at the Pos its Append returned,
// and First is above every segment an earlier run left.
func TestPositions(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []wal.Pos
	for i := range 3 {
		ref, err := l.Append(ctx, wal.Record{Key: fmt.Sprint(i), Row: []byte("row"), Data: bytes.Repeat([]byte("x"), i*100)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ref.Pos())
		if i == 1 {
			if err := l.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
	}
	l2, err := wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []wal.Pos
	if err := l2.Scan(ctx, func(p wal.Pos, _ wal.Record) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("positions scanned: got %v; want %v", got, want)
	}
	if want[1] == want[0] || want[2].Seg == want[1].Seg {
		t.Errorf("positions not distinct, or Rotate kept the segment: %v", want)
	}
	if l2.First() <= want[2].Seg {
		t.Errorf("First: got %d; want above %d", l2.First(), want[2].Seg)
	}
	// Numbers are never used twice, even once every segment is gone.
	if err := l2.DropOld(); err != nil {
		t.Fatal(err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	l3, err := wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Close()
	if l3.First() <= l2.First() {
		t.Errorf("a run after every segment was deleted starts at %d; want above the last run's %d", l3.First(), l2.First())
	}
}

// TestVersion1: a segment written before records carried rows (no magic)
// still replays, with a nil Row.
func TestVersion1(t *testing.T) {
	dir := t.TempDir()
	// One version 1 record: user "u", bucket "b", key "k", sha "s",
	// mod time 3, data "hi".
	payload := []byte{1, 'u', 1, 'b', 1, 'k', 1, 's', 6, 'h', 'i'}
	rec := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	rec = binary.BigEndian.AppendUint32(rec, crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
	rec = append(rec, payload...)
	if err := os.WriteFile(filepath.Join(dir, "0000000000000001.wal"), rec, 0o600); err != nil {
		t.Fatal(err)
	}
	got := replay(t, dir)
	if len(got) != 1 || got[0].Key != "k" || got[0].ModNs != 3 || string(got[0].Data) != "hi" || got[0].Row != nil {
		t.Errorf("version 1 record: got %+v; want key k, mod 3, data hi, no row", got)
	}
}
