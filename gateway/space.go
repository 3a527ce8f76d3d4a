package gateway

import (
	"context"
	"fmt"
	"io"

	"shoebox/catalog"
)

// SpaceGuard keeps writes from filling the disk that holds the catalog and
// the journal (Options.Space; package gateway/diskspace implements it over
// statfs). The gateway asks it at the top of every write, before anything
// is staged; reads and deletes never ask.
type SpaceGuard interface {
	// Admit returns nil when a write adding about n bytes (0: unknown, or
	// metadata only) may start, else an error wrapping
	// ErrInsufficientStorage.
	Admit(n int64) error
	// Counted returns r, counting the bytes read from it as staged, so
	// that concurrent uploads share the free space; a read past it fails
	// with an error wrapping ErrInsufficientStorage.
	Counted(r io.Reader) io.Reader
}

// Admit returns nil when a write of about n bytes (0: unknown, or metadata
// only) may start, else an error wrapping ErrInsufficientStorage: the disk
// is below its free-space reserve. Writers outside the gateway (enrichment,
// S3 multipart parts) ask it before they write.
func (g *Gateway) Admit(n int64) error {
	if g.space == nil {
		return nil
	}
	return g.space.Admit(n)
}

// Counted returns r, counting the bytes read from it against the free
// space (see SpaceGuard.Counted); r itself without a guard.
func (g *Gateway) Counted(r io.Reader) io.Reader {
	if g.space == nil {
		return r
	}
	return g.space.Counted(r)
}

// admit is the first step of a write: op on bucket/key is refused with an
// error wrapping ErrInsufficientStorage when the disk is below the reserve.
func (g *Gateway) admit(op, bucket, key string, n int64) error {
	if err := g.Admit(n); err != nil {
		return fmt.Errorf("%s %s/%s: %w", op, bucket, key, err)
	}
	return nil
}

// admitPut admits an upload of in.Size bytes (when known) and counts its
// body as it is staged.
func (g *Gateway) admitPut(in *PutInput) error {
	if err := g.admit("put", in.Bucket, in.Key, max(in.Size, 0)); err != nil {
		return err
	}
	in.Body = g.Counted(in.Body)
	return nil
}

// sizeOf is the size of the file key, or of every file in the folder key,
// for admitting a copy of it (a folder's copy costs what a walk of its
// rows does, which the copy does anyway); 0 when there is none.
func (g *Gateway) sizeOf(ctx context.Context, user, bucket, key string) int64 {
	o, err := g.cat.Stat(ctx, user, bucket, key)
	if err != nil {
		return 0
	}
	if !o.IsDir() {
		return o.Size
	}
	var n int64
	_ = g.cat.Walk(ctx, user, bucket, key, "", func(o catalog.Object) error { n += o.Size; return nil })
	return n
}
