package gateway

import (
	"context"
	"io"
	"os"
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

// FilesReader reads the files at paths one after the other, opening each
// only when it is reached and closing it at its end: the parts of an S3
// multipart upload or the chunks of a Nextcloud one, assembled into one
// Put. Close closes the file being read, if any.
func FilesReader(paths []string) io.ReadCloser { return &filesReader{paths: paths} }

type filesReader struct {
	paths []string
	f     *os.File
}

func (p *filesReader) Read(b []byte) (int, error) {
	for {
		if p.f == nil {
			if len(p.paths) == 0 {
				return 0, io.EOF
			}
			f, err := os.Open(p.paths[0])
			if err != nil {
				return 0, err
			}
			p.f, p.paths = f, p.paths[1:]
		}
		n, err := p.f.Read(b)
		if err == io.EOF {
			p.f.Close()
			p.f = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (p *filesReader) Close() error {
	if p.f != nil {
		return p.f.Close()
	}
	return nil
}
