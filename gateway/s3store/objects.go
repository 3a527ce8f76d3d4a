package s3store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"shoebox/gateway"
)

// Objects reads and writes whole named objects under Config.Prefix of a
// bucket, with the same client, retries and streaming uploads as the
// Store: the catalog's backups go there (`shoebox backup --to s3://…` and
// scheduled backups to the upstream bucket). It keeps no map and no
// journal: a name is the object's key after the prefix. It is safe for
// concurrent use.
type Objects struct {
	s *Store
}

// ObjectInfo describes one object Objects.List found.
type ObjectInfo struct {
	Name     string // the key after the prefix
	Size     int64
	Modified time.Time
}

// NewObjects connects to cfg.Bucket (checking it with HeadBucket). Only
// the connection settings of cfg, Prefix and PartSize matter.
func NewObjects(ctx context.Context, cfg Config) (*Objects, error) {
	s, err := newStore(cfg, nil)
	if err != nil {
		return nil, err
	}
	if _, err := s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return nil, s.upErr("check bucket", err)
	}
	return &Objects{s: s}, nil
}

// String is the objects' place, as an s3:// URL of the prefix.
func (o *Objects) String() string { return "s3://" + o.s.bucket + "/" + o.s.prefix }

// Put streams r into the object name: one PutObject when r ends within a
// part, else a multipart upload holding at most two part buffers in memory
// (nothing is written to local disk). The object appears whole, and only
// if r ends with io.EOF: when r fails (a pipe closed with an error), ctx
// ends or an upload fails, the upload is aborted and nothing is stored
// under name (an older object there stays). It returns the bytes stored.
func (o *Objects) Put(ctx context.Context, name string, r io.Reader) (int64, error) {
	s := o.s
	key := s.prefix + name
	r = gateway.ContextReader(ctx, r)
	b1, n, eof, err := s.fillGrow(r)
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", o.url(name), err)
	}
	if eof {
		defer s.putBuf(b1)
		body := (*b1)[:n]
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(body),
			ContentLength: aws.Int64(int64(n)), ContentMD5: s.md5(body),
			ContentType: aws.String("application/octet-stream"),
		})
		if err != nil {
			return 0, s.upErr("upload "+o.url(name), err)
		}
		return int64(n), nil
	}
	size, err := s.multipart(ctx, key, nil, b1, r)
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", o.url(name), err)
	}
	return size, nil
}

// Open streams the object name; a missing one is fs.ErrNotExist.
func (o *Objects) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	key := o.s.prefix + name
	out, err := o.s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.s.bucket, Key: &key})
	if err != nil {
		return nil, o.s.upErr("read "+o.url(name), err)
	}
	return out.Body, nil
}

// List returns the objects whose names start with pfx, in key order.
func (o *Objects) List(ctx context.Context, pfx string) ([]ObjectInfo, error) {
	full := o.s.prefix + pfx
	pg := s3.NewListObjectsV2Paginator(o.s.s3, &s3.ListObjectsV2Input{Bucket: &o.s.bucket, Prefix: &full})
	var out []ObjectInfo
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, o.s.upErr("list "+o.url(pfx), err)
		}
		for _, c := range page.Contents {
			out = append(out, ObjectInfo{Name: aws.ToString(c.Key)[len(o.s.prefix):], Size: aws.ToInt64(c.Size), Modified: aws.ToTime(c.LastModified)})
		}
	}
	return out, nil
}

// Delete removes the object name (a missing one is no error, as in S3).
func (o *Objects) Delete(ctx context.Context, name string) error {
	key := o.s.prefix + name
	if _, err := o.s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &o.s.bucket, Key: &key}); err != nil {
		return o.s.upErr("delete "+o.url(name), err)
	}
	return nil
}

// AbortStale aborts the unfinished multipart uploads of names starting
// with pfx that began before before (uploads a crash or a kill cut short,
// which S3 keeps, and bills, until aborted); it returns how many.
func (o *Objects) AbortStale(ctx context.Context, pfx string, before time.Time) (int, error) {
	return o.s.abortUploads(ctx, o.s.prefix+pfx, before)
}

func (o *Objects) url(name string) string { return "s3://" + o.s.bucket + "/" + o.s.prefix + name }
