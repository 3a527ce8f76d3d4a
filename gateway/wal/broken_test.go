package wal

import (
	"context"
	"testing"
)

// TestBrokenSegment: after a failed write, appends go to a new segment, so
// a torn record can never hide the acknowledged ones that follow it.
func TestBrokenSegment(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := l.active
	first.f.Close() // the next write fails
	if _, err := l.Append(ctx, Record{Key: "lost"}); err == nil {
		t.Fatal("Append to a failing segment: got no error")
	}
	if _, err := l.Append(ctx, Record{Key: "kept", Data: []byte("x")}); err != nil {
		t.Fatalf("Append after a failure: %v", err)
	}
	if l.active == first {
		t.Errorf("the failed segment is still the one appended to")
	}
	l2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := l2.Scan(ctx, func(_ Pos, r Record) error { keys = append(keys, r.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "kept" {
		t.Errorf("replayed %q; want [kept]", keys)
	}
}
