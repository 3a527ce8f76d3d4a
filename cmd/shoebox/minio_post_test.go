package main

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// minioClient is a minio-go client of the server's S3 listener, signing
// with SigV4 (or SigV2 when v2).
func minioFor(t *testing.T, s *server, v2 bool) *minio.Client {
	t.Helper()
	id, secret := s3Keys(t, s)
	return minioClient(t, s, id, secret, v2, false)
}

// postForm POSTs a browser-form upload as minio-go's users do: the
// fields PresignedPostPolicy returned, then the file under "file" with
// the file name given.
func postForm(t *testing.T, url string, fields map[string]string, fileField, filename string, data []byte) (*http.Response, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if fileField != "" || filename != "" {
		fw, err := w.CreateFormFile(fileField, filename)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	w.Close()
	resp, err := http.Post(url, w.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestMinioPresignedPostPolicy: forms made by minio-go's
// PresignedPostPolicy upload as they do on AWS, with SigV4 and SigV2.
func TestMinioPresignedPostPolicy(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	for _, v2 := range []bool{false, true} {
		name := "v4"
		if v2 {
			name = "v2"
		}
		t.Run(name, func(t *testing.T) {
			c := minioFor(t, s, v2)
			bucket := "post-" + name
			if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
				t.Fatal(err)
			}
			data := []byte("a form upload from minio-go")
			p := minio.NewPostPolicy()
			p.SetBucket(bucket)
			p.SetKey("up/form.txt")
			p.SetExpires(time.Now().UTC().Add(time.Hour))
			p.SetContentTypeStartsWith("text/")
			p.SetContentLengthRange(1, 1<<20)
			p.SetUserMetadata("origin", "minio-go")
			p.SetSuccessStatusAction("201")
			if !v2 {
				p.SetChecksum(minio.NewChecksum(minio.ChecksumCRC32C, data))
			}
			u, fields, err := c.PresignedPostPolicy(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			fields["Content-Type"] = "text/plain"
			resp, body := postForm(t, u.String(), fields, "file", "form.txt", data)
			if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "<Key>up/form.txt</Key>") {
				t.Fatalf("POST: %d %s; want 201 and a PostResponse", resp.StatusCode, body)
			}
			obj, err := c.GetObject(ctx, bucket, "up/form.txt", minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(obj)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GET: %q %v; want %q", got, err, data)
			}
			st, _ := obj.Stat()
			if st.ContentType != "text/plain" || st.UserMetadata["Origin"] != "minio-go" {
				t.Errorf("stat: type %q meta %v; want text/plain and Origin minio-go", st.ContentType, st.UserMetadata)
			}

			// As minio-go's own functional tests (run against AWS too)
			// post: binary type, gzip encoding, a CRC32C of the file in the
			// policy, the file named by its full path; 204 and the
			// checksum answered.
			big := bytes.Repeat([]byte("33 kB of data. "), 33<<10/15)
			key := "functional/obj"
			mkPolicy := func(sum []byte) *minio.PostPolicy {
				p := minio.NewPostPolicy()
				p.SetBucket(bucket)
				p.SetKey(key)
				p.SetExpires(time.Now().UTC().AddDate(0, 0, 10))
				p.SetContentType("binary/octet-stream")
				p.SetContentLengthRange(10, 1024*1024)
				p.SetUserMetadata("userABC", "value123")
				p.SetContentEncoding("gzip")
				if !v2 {
					p.SetChecksum(minio.ChecksumCRC32C.ChecksumBytes(sum))
				}
				return p
			}
			u, fields, err = c.PresignedPostPolicy(ctx, mkPolicy(big))
			if err != nil {
				t.Fatal(err)
			}
			resp, body = postForm(t, u.String(), fields, "file", "/tmp/PresignedPostPolicyTest123", big)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("POST functional: %d %s; want 204", resp.StatusCode, body)
			}
			if loc := resp.Header.Get("Location"); loc != "http://"+s.s3addr+"/"+bucket+"/"+key {
				t.Errorf("Location %q", loc)
			}
			if !v2 {
				want := minio.ChecksumCRC32C.ChecksumBytes(big).Encoded()
				if got := resp.Header.Get("X-Amz-Checksum-Crc32c"); got != want {
					t.Errorf("POST answered CRC32C %q; want %q", got, want)
				}
				r, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{Checksum: true})
				if err != nil {
					t.Fatal(err)
				}
				if st, err := r.Stat(); err != nil || st.ChecksumCRC32C != want {
					t.Errorf("GET CRC32C %q %v; want %q", st.ChecksumCRC32C, err, want)
				}
				r.Close()

				// The wrong file for the policy's checksum: 403, naming
				// the condition.
				u, fields, err = c.PresignedPostPolicy(ctx, mkPolicy([]byte{1, 2, 3}))
				if err != nil {
					t.Fatal(err)
				}
				fields["x-amz-checksum-crc32c"] = minio.ChecksumCRC32C.ChecksumBytes(big[:10<<10]).Encoded()
				resp, body = postForm(t, u.String(), fields, "file", "/tmp/PresignedPostPolicyTest123", big[:10<<10])
				if resp.StatusCode != http.StatusForbidden ||
					!strings.Contains(strings.ReplaceAll(body, `"`, ""), "Policy Condition failed: [eq, $x-amz-checksum-crc32c, 8TDyHg=") {
					t.Errorf("POST wrong file: %d %s; want 403 naming the checksum condition", resp.StatusCode, body)
				}
			}
			// The file in a part with no field name: 400
			// MalformedPOSTRequest.
			u, fields, err = c.PresignedPostPolicy(ctx, mkPolicy(big))
			if err != nil {
				t.Fatal(err)
			}
			resp, body = postForm(t, u.String(), fields, "", "/tmp/PresignedPostPolicyTest123", big)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "MalformedPOSTRequest") {
				t.Errorf("POST unnamed file part: %d %s; want 400 MalformedPOSTRequest", resp.StatusCode, body)
			}

			// ${filename} in the key takes the file's name.
			p = minio.NewPostPolicy()
			p.SetBucket(bucket)
			p.SetKeyStartsWith("user/")
			p.SetExpires(time.Now().UTC().Add(time.Hour))
			u, fields, err = c.PresignedPostPolicy(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			fields["key"] = "user/${filename}"
			resp, body = postForm(t, u.String(), fields, "file", "photo.jpg", data)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("POST ${filename}: %d %s; want 204", resp.StatusCode, body)
			}
			if _, err := c.StatObject(ctx, bucket, "user/photo.jpg", minio.StatObjectOptions{}); err != nil {
				t.Errorf("user/photo.jpg: %v", err)
			}
			// An empty file name: the key as given (AWS stores "user/"
			// with ${filename} empty); a fixed key is uploaded as usual.
			fields["key"] = "user/fixed.txt"
			resp, body = postForm(t, u.String(), fields, "file", "", data)
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("POST empty file name: %d %s; want 204", resp.StatusCode, body)
			}
			// No file field at all: 400 InvalidArgument, as AWS.
			resp, body = postForm(t, u.String(), fields, "", "", nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "InvalidArgument") {
				t.Errorf("POST without a file: %d %s; want 400 InvalidArgument", resp.StatusCode, body)
			}
		})
	}
}

// TestMinioStorageClass: minio-go's PutObjectOptions{StorageClass} is
// kept and read back as AWS reports it (minio-go's StatObject leaves
// ObjectInfo.StorageClass empty: the header is in Metadata); an unknown
// class is refused.
func TestMinioStorageClass(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := minioFor(t, s, false)
	if err := c.MakeBucket(ctx, "classes", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	put := func(key, class string) error {
		_, err := c.PutObject(ctx, "classes", key, strings.NewReader("data"), 4, minio.PutObjectOptions{StorageClass: class})
		return err
	}
	if err := put("ia", "STANDARD_IA"); err != nil {
		t.Fatal(err)
	}
	if err := put("std", "STANDARD"); err != nil {
		t.Fatal(err)
	}
	err := put("bad", "PLATINUM")
	if minio.ToErrorResponse(err).Code != "InvalidStorageClass" {
		t.Errorf("PUT PLATINUM: %v; want InvalidStorageClass", err)
	}
	st, err := c.StatObject(ctx, "classes", "ia", minio.StatObjectOptions{})
	if err != nil || st.Metadata.Get("X-Amz-Storage-Class") != "STANDARD_IA" {
		t.Errorf("stat ia: %q %v; want STANDARD_IA", st.Metadata.Get("X-Amz-Storage-Class"), err)
	}
	st, err = c.StatObject(ctx, "classes", "std", minio.StatObjectOptions{})
	if err != nil || st.Metadata.Get("X-Amz-Storage-Class") != "" {
		t.Errorf("stat std: header %q %v; want none (AWS leaves STANDARD out)", st.Metadata.Get("X-Amz-Storage-Class"), err)
	}
	got := map[string]string{}
	for o := range c.ListObjects(ctx, "classes", minio.ListObjectsOptions{}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		got[o.Key] = o.StorageClass
	}
	if got["ia"] != "STANDARD_IA" || got["std"] != "STANDARD" || len(got) != 2 {
		t.Errorf("listed %v; want ia STANDARD_IA, std STANDARD", got)
	}
	// CopyObject into another class.
	_, err = c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "classes", Object: "glacier",
		ReplaceMetadata: true, UserMetadata: map[string]string{"X-Amz-Storage-Class": "GLACIER"}},
		minio.CopySrcOptions{Bucket: "classes", Object: "std"})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.StatObject(ctx, "classes", "glacier", minio.StatObjectOptions{}); err != nil || st.Metadata.Get("X-Amz-Storage-Class") != "GLACIER" {
		t.Errorf("copy to GLACIER: %q %v", st.Metadata.Get("X-Amz-Storage-Class"), err)
	}
}

// TestMinioObjectACL: an object's canned ACL, set with minio-go's
// x-amz-acl metadata, reads back with GetObjectACL as set, whatever its
// bucket's.
func TestMinioObjectACL(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := minioFor(t, s, false)
	if err := c.MakeBucket(ctx, "acls", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, acl := range []string{"public-read-write", "public-read", "authenticated-read", "private"} {
		key := "obj-" + acl
		_, err := c.PutObject(ctx, "acls", key, strings.NewReader("data"), 4, minio.PutObjectOptions{UserMetadata: map[string]string{"x-amz-acl": acl}})
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.GetObjectACL(ctx, "acls", key)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Metadata.Get("X-Amz-Acl"); got != acl {
			t.Errorf("%s: GetObjectACL says %q (grants %+v); want %q", key, got, info.Grant, acl)
		}
		// Access follows the object's ACL: anyone reads a public-read
		// object of a private bucket (S3 without Block Public Access).
		resp, err := http.Get("http://" + s.s3addr + "/acls/" + key)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: 200, false: 403}[strings.HasPrefix(acl, "public-")]; resp.StatusCode != want {
			t.Errorf("anonymous GET %s: %d; want %d", key, resp.StatusCode, want)
		}
	}
}
