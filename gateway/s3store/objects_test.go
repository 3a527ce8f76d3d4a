package s3store_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"shoebox/gateway/s3store"
	"shoebox/gateway/s3store/s3storetest"
)

// TestObjects: Put streams an object (one PutObject, or a multipart upload
// above a part) that reads back whole; a reader that fails leaves nothing
// under the name (an older object stays) and no multipart upload behind;
// List and Delete see the prefix only.
func TestObjects(t *testing.T) {
	up := s3storetest.Start(t)
	pfx := "o" + randHex(4) + "/"
	o, err := s3store.NewObjects(ctx, s3store.Config{Endpoint: up.Endpoint(), Bucket: up.Bucket, Prefix: pfx,
		AccessKey: up.AK, SecretKey: up.SK, PathStyle: true, PartSize: 5 << 20})
	if err != nil {
		t.Fatalf("NewObjects: %v", err)
	}
	small := []byte("a small backup")
	big := bytes.Repeat([]byte("0123456789abcdef"), (12<<20)/16+3) // three parts
	for name, data := range map[string][]byte{"small": small, "big": big} {
		n, err := o.Put(ctx, name, bytes.NewReader(data))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("Put %s: %d, %v; want %d bytes", name, n, err, len(data))
		}
		r, err := o.Open(ctx, name)
		if err != nil {
			t.Fatalf("Open %s: %v", name, err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s read back: %d bytes, %v; want the %d written", name, len(got), err, len(data))
		}
	}
	// Failing readers, small and past a part: nothing stored.
	boom := errors.New("the backup failed")
	for name, r := range map[string]io.Reader{
		"small":  io.MultiReader(bytes.NewReader([]byte("half")), iotest.ErrReader(boom)),
		"failed": io.MultiReader(bytes.NewReader(big[:7<<20]), iotest.ErrReader(boom)),
	} {
		if _, err := o.Put(ctx, name, r); !errors.Is(err, boom) {
			t.Errorf("Put %s from a failing reader: %v; want its error", name, err)
		}
	}
	if r, err := o.Open(ctx, "failed"); !errors.Is(err, fs.ErrNotExist) {
		if r != nil {
			r.Close()
		}
		t.Errorf("Open of a failed upload: %v; want fs.ErrNotExist", err)
	}
	r, err := o.Open(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); !bytes.Equal(got, small) {
		t.Errorf("small after a failed overwrite = %q; want the old %q", got, small)
	}
	r.Close()
	ups, err := up.Client(nil).ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &up.Bucket, Prefix: &pfx})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("multipart uploads left: %v, %v; want none", ups, err)
	}
	// An upload a crash left: AbortStale removes it, once old enough.
	cl := up.Client(nil)
	key := pfx + "cut"
	if _, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &up.Bucket, Key: &key}); err != nil {
		t.Fatal(err)
	}
	if n, err := o.AbortStale(ctx, "", time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("AbortStale of uploads older than an hour: %d, %v; want 0 (it is new)", n, err)
	}
	if n, err := o.AbortStale(ctx, "", time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("AbortStale: %d, %v; want 1", n, err)
	}
	infos, err := o.List(ctx, "")
	if err != nil || len(infos) != 2 || infos[0].Name != "big" || infos[1].Name != "small" || infos[0].Size != int64(len(big)) {
		t.Errorf("List = %+v, %v; want big and small", infos, err)
	}
	if err := o.Delete(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	if infos, err := o.List(ctx, ""); err != nil || len(infos) != 1 {
		t.Errorf("List after Delete = %+v, %v; want small alone", infos, err)
	}
}
