package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
)

// hookReader serves body, and calls at once when it reaches the end: what
// another request does while the bytes of an upload are being staged.
type hookReader struct {
	r  io.Reader
	at func()
}

func (h *hookReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if err == io.EOF && h.at != nil {
		at := h.at
		h.at = nil
		at()
	}
	return n, err
}

// TestPutRacesFolderOps: a MOVE or DELETE of the folder (or bucket) an
// upload goes into, made while its bytes are staged, is ordered before the
// upload: the upload fails with ErrNoParent and leaves nothing, the moved
// folder keeps what it had, and no folder the catalog lacks appears in the
// backend.
func TestPutRacesFolderOps(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		parent bool // S3-style MakeParents
		op     func(e env) error
		gone   string // the folder or bucket the op made go
	}{
		{"move folder", false, func(e env) error { return e.g.Move(ctx, user, "b", "A/", "b", "B/") }, "A/"},
		{"remove folder", false, func(e env) error { return e.g.Remove(ctx, user, "b", "A/") }, "A/"},
		{"remove bucket", false, func(e env) error { return e.g.RemoveBucket(ctx, user, "b", true) }, ""},
		{"remove bucket, S3 upload", true, func(e env) error { return e.g.RemoveBucket(ctx, user, "b", true) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvBucket(t)
			e.mkdir(t, "b", "A")
			e.put(t, "b", "A/old", "old")
			var opErr error
			body := &hookReader{r: strings.NewReader("new bytes"), at: func() { opErr = tc.op(e) }}
			_, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "A/new", Body: body, MakeParents: tc.parent})
			if opErr != nil {
				t.Fatalf("the racing operation: %v", opErr)
			}
			if !errors.Is(err, gateway.ErrNoParent) {
				t.Errorf("Put into a folder that went while staging: got %v; want ErrNoParent", err)
			}
			if e.inBackend("b", "A/new") || e.inCatalog("b", "A/new") {
				t.Errorf("the refused upload left A/new: backend %v, catalog %v", e.inBackend("b", "A/new"), e.inCatalog("b", "A/new"))
			}
			if e.inBackend("b", tc.gone) {
				t.Errorf("the backend has %q again after it went", tc.gone)
			}
			if tc.gone == "A/" && tc.name == "move folder" && e.read(t, "b", "B/old") != "old" {
				t.Errorf("the moved folder lost its file")
			}
		})
	}
}

// cancelling wraps a backend: each of its commits, renames and removals
// cancels the request's context once done, as a client that goes away
// at that moment does.
type cancelling struct {
	gateway.Backend
	cancel context.CancelFunc
}

type cancellingPending struct {
	gateway.Pending
	cancel context.CancelFunc
}

func (c cancelling) Create(ctx context.Context, p gateway.Path, r io.Reader) (gateway.Pending, error) {
	pe, err := c.Backend.Create(ctx, p, r)
	if err != nil {
		return nil, err
	}
	return cancellingPending{pe, c.cancel}, nil
}

func (c cancellingPending) Commit(ctx context.Context, mod time.Time) error {
	err := c.Pending.Commit(ctx, mod)
	c.cancel()
	return err
}

func (c cancelling) Rename(ctx context.Context, src, dst gateway.Path) error {
	err := c.Backend.Rename(ctx, src, dst)
	c.cancel()
	return err
}

func (c cancelling) Remove(ctx context.Context, p gateway.Path) error {
	err := c.Backend.Remove(ctx, p)
	c.cancel()
	return err
}

// TestClientGoneAfterCommit: once the backend has committed a write, the
// catalog records it even though the client's context ends right then: an
// overwrite's row has the new size and digest and its enrichment job, a
// folder of more than 1,024 files moves all its rows.
func TestClientGoneAfterCommit(t *testing.T) {
	e := newEnvBucket(t)
	bg := context.Background()
	e.put(t, "b", "f.jpg", "old")
	for i := range 1500 {
		if _, err := e.g.Put(bg, gateway.PutInput{User: user, Bucket: "b", Key: fmt.Sprintf("big/%04d", i), Body: strings.NewReader("x"), MakeParents: true}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(bg)
	g := gateway.New(cancelling{e.be, cancel}, e.cat, gateway.Options{Logger: quiet})
	if _, err := g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: "f.jpg", Body: strings.NewReader("the new bytes")}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	o, err := e.cat.Stat(bg, user, "b", "f.jpg")
	sha, _ := sums("the new bytes")
	if err != nil || o.Size != 13 || o.SHA256 != sha {
		t.Errorf("row after the client went: %+v, %v; want the new size and digest", o, err)
	}
	if _, err := e.cat.JobOf(bg, user, "b", "f.jpg"); err != nil {
		t.Errorf("no enrichment job for the new content: %v", err)
	}

	ctx, cancel = context.WithCancel(bg)
	g = gateway.New(cancelling{e.be, cancel}, e.cat, gateway.Options{Logger: quiet})
	if err := g.Move(ctx, user, "b", "big/", "b", "moved/"); err != nil {
		t.Fatalf("Move: %v", err)
	}
	var old, moved int
	e.cat.Walk(bg, user, "b", "big/", "", func(catalog.Object) error { old++; return nil })
	e.cat.Walk(bg, user, "b", "moved/", "", func(catalog.Object) error { moved++; return nil })
	if old != 0 || moved != 1501 {
		t.Errorf("after a folder move whose client went: %d rows at the old path, %d at the new; want 0 and 1501", old, moved)
	}

	ctx, cancel = context.WithCancel(bg)
	g = gateway.New(cancelling{e.be, cancel}, e.cat, gateway.Options{Logger: quiet})
	if err := g.Remove(ctx, user, "b", "moved/"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	moved = 0
	e.cat.Walk(bg, user, "b", "moved/", "", func(catalog.Object) error { moved++; return nil })
	if moved != 0 {
		t.Errorf("after a folder removal whose client went: %d rows left; want 0", moved)
	}
}

// TestTransferNoReplace: with NoReplace, a destination that exists is
// refused with ErrExists and nothing changes.
func TestTransferNoReplace(t *testing.T) {
	e := newEnvBucket(t)
	ctx := context.Background()
	e.put(t, "b", "src", "source")
	e.put(t, "b", "dst", "destination")
	e.mkdir(t, "b", "dir")
	for _, dst := range []string{"dst", "dir"} {
		for _, op := range []gateway.Op{gateway.OpMove, gateway.OpCopy} {
			err := e.g.Transfer(ctx, gateway.Transfer{Op: op, User: user, Bucket: "b", Key: "src", DstBucket: "b", DstKey: dst, NoReplace: true})
			if !errors.Is(err, gateway.ErrExists) {
				t.Errorf("%s src to existing %s with NoReplace: got %v; want ErrExists", op, dst, err)
			}
		}
	}
	if e.read(t, "b", "src") != "source" || e.read(t, "b", "dst") != "destination" {
		t.Errorf("a refused transfer changed something")
	}
	if err := e.g.Transfer(ctx, gateway.Transfer{Op: gateway.OpMove, User: user, Bucket: "b", Key: "src", DstBucket: "b", DstKey: "new", NoReplace: true}); err != nil {
		t.Errorf("Move to a free name with NoReplace: %v", err)
	}
}
