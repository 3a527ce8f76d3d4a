package s3api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestStorageClass: classes are checked, kept per object and reported as
// AWS does (STANDARD never as a header; others on GET, HEAD, listings,
// ListParts; CopyObject takes the class it asks for).
func TestStorageClass(t *testing.T) {
	e := newEnv(t)
	e.mkBucket(t, "sclass")
	put := func(t *testing.T, key string, class types.StorageClass) error {
		t.Helper()
		_, err := e.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sclass"), Key: aws.String(key),
			Body: strings.NewReader("data"), StorageClass: class})
		return err
	}
	head := func(t *testing.T, key string) (string, bool) {
		t.Helper()
		r := e.raw(t, "HEAD", "/sclass/"+key, nil, nil)
		if r.status != 200 {
			t.Fatalf("HEAD %s: %d", key, r.status)
		}
		v, ok := r.header["X-Amz-Storage-Class"]
		if g := e.raw(t, "GET", "/sclass/"+key, nil, nil); g.header.Get("X-Amz-Storage-Class") != strings.Join(v, "") {
			t.Errorf("GET %s class %q; HEAD %q", key, g.header.Get("X-Amz-Storage-Class"), v)
		}
		return strings.Join(v, ""), ok
	}
	listed := func(t *testing.T) map[string]string {
		t.Helper()
		out, err := e.cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("sclass")})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, o := range out.Contents {
			m[aws.ToString(o.Key)] = string(o.StorageClass)
		}
		l, _ := e.list(t, "sclass", url.Values{})
		for _, o := range l.Contents {
			if m[o.Key] != o.StorageClass {
				t.Errorf("ListObjects %s: %q; V2 %q", o.Key, o.StorageClass, m[o.Key])
			}
		}
		return m
	}

	t.Run("invalid", func(t *testing.T) {
		wantStatus(t, "PUT bad class", e.raw(t, "PUT", "/sclass/bad", map[string]string{"x-amz-storage-class": "PLATINUM"}, []byte("x")), 400, "InvalidStorageClass")
		wantStatus(t, "PUT lower case", e.raw(t, "PUT", "/sclass/bad", map[string]string{"x-amz-storage-class": "standard"}, []byte("x")), 400, "InvalidStorageClass")
		wantStatus(t, "nothing stored", e.raw(t, "HEAD", "/sclass/bad", nil, nil), 404, "")
		wantStatus(t, "CreateMultipartUpload bad class", e.raw(t, "POST", "/sclass/mp?uploads", map[string]string{"x-amz-storage-class": "COLD"}, nil), 400, "InvalidStorageClass")
		e.put(t, "sclass", "src", "x")
		wantStatus(t, "CopyObject bad class", e.raw(t, "PUT", "/sclass/dst", map[string]string{"x-amz-storage-class": "COLD", "x-amz-copy-source": "/sclass/src"}, nil), 400, "InvalidStorageClass")
	})
	t.Run("standard", func(t *testing.T) {
		if err := put(t, "std", types.StorageClassStandard); err != nil {
			t.Fatal(err)
		}
		if v, ok := head(t, "std"); ok {
			t.Errorf("STANDARD object answers x-amz-storage-class %q; AWS leaves it out", v)
		}
		if got := listed(t)["std"]; got != "STANDARD" {
			t.Errorf("listed as %q; want STANDARD", got)
		}
	})
	t.Run("kept", func(t *testing.T) {
		for _, c := range []types.StorageClass{"STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "GLACIER_IR",
			"DEEP_ARCHIVE", "REDUCED_REDUNDANCY", "OUTPOSTS", "EXPRESS_ONEZONE", "SNOW"} {
			key := "obj-" + string(c)
			if err := put(t, key, c); err != nil {
				t.Fatalf("PUT %s: %v", c, err)
			}
			if v, _ := head(t, key); v != string(c) {
				t.Errorf("%s: HEAD says %q", key, v)
			}
			if got := listed(t)[key]; got != string(c) {
				t.Errorf("%s listed as %q", key, got)
			}
			// Readable at once, GLACIER included (one tier underneath).
			if g := e.raw(t, "GET", "/sclass/"+key, nil, nil); g.status != 200 || g.body != "data" {
				t.Errorf("GET %s: %d %q", key, g.status, g.body)
			}
		}
	})
	t.Run("copy", func(t *testing.T) {
		if err := put(t, "cold", "GLACIER"); err != nil {
			t.Fatal(err)
		}
		// Without a class the copy is STANDARD, as on AWS.
		if _, err := e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sclass"), Key: aws.String("cold-copy"), CopySource: aws.String("sclass/cold")}); err != nil {
			t.Fatal(err)
		}
		if v, ok := head(t, "cold-copy"); ok {
			t.Errorf("copy without a class answers %q; want STANDARD (no header)", v)
		}
		// In place, the class changes.
		if _, err := e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sclass"), Key: aws.String("cold"), CopySource: aws.String("sclass/cold"), StorageClass: "STANDARD_IA"}); err != nil {
			t.Fatal(err)
		}
		if v, _ := head(t, "cold"); v != "STANDARD_IA" {
			t.Errorf("after copy in place: %q; want STANDARD_IA", v)
		}
		if _, err := e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sclass"), Key: aws.String("cold"), CopySource: aws.String("sclass/cold"), StorageClass: "STANDARD"}); err != nil {
			t.Fatal(err)
		}
		if v, ok := head(t, "cold"); ok {
			t.Errorf("after copy to STANDARD: %q; want no header", v)
		}
	})
	t.Run("multipart", func(t *testing.T) {
		cr, err := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sclass"), Key: aws.String("mp"), StorageClass: "ONEZONE_IA"})
		if err != nil {
			t.Fatal(err)
		}
		up, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sclass"), Key: aws.String("mp"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
		if err != nil {
			t.Fatal(err)
		}
		lp, err := e.cli.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("sclass"), Key: aws.String("mp"), UploadId: cr.UploadId})
		if err != nil || lp.StorageClass != "ONEZONE_IA" {
			t.Errorf("ListParts class %q %v; want ONEZONE_IA", lp.StorageClass, err)
		}
		_, err = e.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sclass"), Key: aws.String("mp"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := head(t, "mp"); v != "ONEZONE_IA" {
			t.Errorf("completed upload: %q; want ONEZONE_IA", v)
		}
		if got := listed(t)["mp"]; got != "ONEZONE_IA" {
			t.Errorf("listed as %q", got)
		}
	})
}
