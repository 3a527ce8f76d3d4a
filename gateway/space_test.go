package gateway_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"shoebox/gateway"
)

// fullDisk is a SpaceGuard whose free bytes above the reserve the test sets.
type fullDisk struct {
	avail  atomic.Int64
	bodies atomic.Int64 // bodies read through Counted
}

func (d *fullDisk) Admit(n int64) error {
	if a := d.avail.Load(); a <= 0 || n > a {
		return gateway.ErrInsufficientStorage
	}
	return nil
}

func (d *fullDisk) Counted(r io.Reader) io.Reader { d.bodies.Add(1); return r }

// TestSpaceGuard: below the reserve every write is refused before anything
// is staged, reads and deletes go on, and writes resume with space.
func TestSpaceGuard(t *testing.T) {
	ctx := context.Background()
	d := &fullDisk{}
	d.avail.Store(1 << 20)
	e := newEnv(t, gateway.Options{Space: d})
	e.mkBucket(t, "b")
	e.put(t, "b", "keep.txt", "kept")
	e.mkdir(t, "b", "dir")
	if d.bodies.Load() != 1 {
		t.Errorf("bodies counted = %d; want 1", d.bodies.Load())
	}
	// Known too big: refused up front.
	if _, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "big", Size: 2 << 20, Body: strings.NewReader("x")}); !errors.Is(err, gateway.ErrInsufficientStorage) {
		t.Errorf("Put of 2 MiB with 1 MiB free: %v; want ErrInsufficientStorage", err)
	}
	d.avail.Store(0)
	for name, write := range map[string]func() error{
		"Put": func() error {
			_, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "new.txt", Body: strings.NewReader("x")})
			return err
		},
		"Mkdir":       func() error { return e.g.Mkdir(ctx, user, "b", "new/", false, true) },
		"MakeBucket":  func() error { return e.g.MakeBucket(ctx, user, "c") },
		"Copy":        func() error { return e.g.Copy(ctx, user, "b", "keep.txt", "b", "copy.txt") },
		"Move":        func() error { return e.g.Move(ctx, user, "b", "keep.txt", "b", "moved.txt") },
		"MakeParents": func() error { return e.g.MakeParents(ctx, user, "b", "x/y/z") },
	} {
		if err := write(); !errors.Is(err, gateway.ErrInsufficientStorage) {
			t.Errorf("%s below the reserve: %v; want ErrInsufficientStorage", name, err)
		}
	}
	if got := e.files(t, "b"); !sameStrings(got, []string{"dir/", "keep.txt"}) {
		t.Errorf("backend after refused writes: %v; want [dir/ keep.txt]", got)
	}
	if got := e.read(t, "b", "keep.txt"); got != "kept" {
		t.Errorf("read below the reserve: %q; want kept", got)
	}
	if err := e.g.Remove(ctx, user, "b", "dir/"); err != nil {
		t.Errorf("Remove below the reserve: %v; want nil", err)
	}
	d.avail.Store(1 << 20)
	e.put(t, "b", "new.txt", "x")
}
