package s3store_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"shoebox/gateway/s3store"
	"shoebox/gateway/s3store/s3storetest"
)

// BenchmarkTransfer compares, against the same versitygw in one run,
// writing and reading a file through the store (Create+Commit, Open+read)
// with a direct PutObject/GetObject of the same bytes. The overhead is the
// ratio of the s3store and direct ns/op of the same size.
func BenchmarkTransfer(b *testing.B) {
	up := s3storetest.Start(b)
	st := newStore(b, up, func(c *s3store.Config) {
		if v, err := strconv.ParseInt(os.Getenv("SHOEBOX_BENCH_PART_MIB"), 10, 64); err == nil {
			c.PartSize = v << 20 // e.g. 128: 64 MiB files in one PutObject
		}
	})
	direct := up.Client(nil)
	st.s.Mkdir(ctx, pth(""))
	for _, sz := range []struct {
		name string
		n    int
	}{{"1MiB", 1 << 20}, {"64MiB", 64 << 20}} {
		data := make([]byte, sz.n)
		for i := range data {
			data[i] = byte(i*31 + i>>9)
		}
		key := aws.String("direct/" + sz.name)
		// Seed both, so that -bench can select the reads alone.
		if _, err := direct.PutObject(ctx, &s3.PutObjectInput{Bucket: &up.Bucket, Key: key,
			Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(sz.n))}); err != nil {
			b.Fatal(err)
		}
		put(b, st.s, sz.name, data)
		b.Run("put/"+sz.name+"/direct", func(b *testing.B) {
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				if _, err := direct.PutObject(ctx, &s3.PutObjectInput{Bucket: &up.Bucket, Key: key,
					Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(sz.n))}); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Direct, with the same user metadata and content type as s3store's
		// blobs (the server stores them: xattrs on versitygw's posix backend).
		b.Run("put/"+sz.name+"/direct-meta", func(b *testing.B) {
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				if _, err := direct.PutObject(ctx, &s3.PutObjectInput{Bucket: &up.Bucket, Key: key,
					Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(sz.n)),
					ContentType: aws.String("application/octet-stream"),
					Metadata: map[string]string{"shoebox-path": "u%2Fb%2Fsome%2Fphoto.jpg",
						"shoebox-uploaded": "1764000000000000000", "shoebox-mtime": "1764000000000000000"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("put/"+sz.name+"/s3store", func(b *testing.B) {
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				p, err := st.s.Create(ctx, pth(sz.name), bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Commit(ctx, time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		// New keys: no replaced blob to delete after the commit (1 MiB only:
		// 64 MiB ones would fill the disk and measure its writeback).
		b.Run("put/"+sz.name+"/s3store-newkey", func(b *testing.B) {
			if sz.n > 1<<20 {
				b.Skip("small files only")
			}
			b.SetBytes(int64(sz.n))
			i := 0
			for b.Loop() {
				i++
				p, err := st.s.Create(ctx, pth(fmt.Sprintf("new/%s-%d", sz.name, i)), bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Commit(ctx, time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("get/"+sz.name+"/direct", func(b *testing.B) {
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				o, err := direct.GetObject(ctx, &s3.GetObjectInput{Bucket: &up.Bucket, Key: key})
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, o.Body); err != nil || n != int64(sz.n) {
					b.Fatal(n, err)
				}
				o.Body.Close()
			}
		})
		b.Run("get/"+sz.name+"/s3store", func(b *testing.B) {
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				f, err := st.s.Open(ctx, pth(sz.name))
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, f); err != nil || n != int64(sz.n) {
					b.Fatal(n, err)
				}
				f.Close()
			}
		})
	}
}
