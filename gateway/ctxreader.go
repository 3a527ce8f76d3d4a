package gateway

import (
	"context"
	"io"
)

// ContextReader reads r until ctx is done, then fails with ctx's error: a
// long copy of a request body or a file stops when its request does.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
