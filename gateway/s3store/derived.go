package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Derived is a store of derived files (thumbnails) in the upstream bucket,
// under <prefix>derived/: enrich.DerivedStore, for installations that keep
// nothing but the catalog on local disk.
type Derived struct{ s *Store }

// Derived returns the store's derived-file area.
func (s *Store) Derived() *Derived { return &Derived{s} }

func (d *Derived) key(name string) string { return d.s.prefix + "derived/" + name }

// maxDerived bounds one derived file read into memory.
const maxDerived = 32 << 20

// Put stores a derived file (one PutObject: atomic upstream).
func (d *Derived) Put(ctx context.Context, name string, data []byte) error {
	_, err := d.s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &d.s.bucket, Key: aws.String(d.key(name)), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("image/jpeg")})
	if err != nil {
		return d.s.upErr("put derived "+name, err)
	}
	return nil
}

// Get returns a derived file; a missing one is fs.ErrNotExist.
func (d *Derived) Get(ctx context.Context, name string) ([]byte, time.Time, error) {
	out, err := d.s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.s.bucket, Key: aws.String(d.key(name))})
	if err != nil {
		var nk *types.NoSuchKey
		if errors.As(err, &nk) {
			return nil, time.Time{}, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return nil, time.Time{}, d.s.upErr("get derived "+name, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxDerived+1))
	if err != nil {
		return nil, time.Time{}, d.s.upErr("read derived "+name, err)
	}
	if len(b) > maxDerived {
		return nil, time.Time{}, fmt.Errorf("derived file %s is larger than %d bytes", name, maxDerived)
	}
	var mod time.Time
	if out.LastModified != nil {
		mod = *out.LastModified
	}
	return b, mod, nil
}

// Reset deletes every derived file.
func (d *Derived) Reset(ctx context.Context) error {
	pfx := d.key("")
	pg := s3.NewListObjectsV2Paginator(d.s.s3, &s3.ListObjectsV2Input{Bucket: &d.s.bucket, Prefix: &pfx})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return d.s.upErr("list derived", err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		objs := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			objs[i] = types.ObjectIdentifier{Key: o.Key}
		}
		if _, err := d.s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &d.s.bucket, Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)}}); err != nil {
			return d.s.upErr("delete derived", err)
		}
	}
	return nil
}
