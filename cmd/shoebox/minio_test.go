package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// minioClient is a minio-go client of s, signing with SigV4 or SigV2, with
// or without trailing headers (checksum trailers on streaming uploads).
func minioClient(t *testing.T, s *server, id, secret string, v2, trailers bool) *minio.Client {
	t.Helper()
	creds := credentials.NewStaticV4(id, secret, "")
	if v2 {
		creds = credentials.NewStaticV2(id, secret, "")
	}
	c, err := minio.New(s.s3addr, &minio.Options{
		Creds: creds, Secure: s.scheme == "https", Region: "us-east-1", TrailingHeaders: trailers,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func minioRead(t *testing.T, c *minio.Client, bucket, key string) []byte {
	t.Helper()
	o, err := c.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	return b
}

// TestMinioGo drives minio-go v7, as restic, mc and many backup tools use
// it: signed with SigV4 (with and without trailing checksums) and with
// SigV2, it puts, copies with REPLACE metadata, composes from several
// sources, uploads a file in parts (FPutObject with a streaming
// signature), and presigns PUT and GET.
func TestMinioGo(t *testing.T) {
	s := startServer(t)
	id, secret := s3Keys(t, s)
	// Over TLS, minio-go sends its uploads with unsigned payloads and
	// STREAMING-UNSIGNED-PAYLOAD-TRAILER checksums.
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, cert, key)
	stls := startServer(t, "--tls-cert", cert, "--tls-key", key)
	idTLS, secretTLS := s3Keys(t, stls)
	ctx := context.Background()
	part := randBytes(5 << 20)
	for _, tc := range []struct {
		name              string
		v2, trailers, tls bool
	}{{"v4", false, false, false}, {"v4-trailers", false, true, false}, {"v2", true, false, false}, {"v4-trailers-tls", false, true, true}, {"v2-tls", true, false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			s, id, secret := s, id, secret
			if tc.tls {
				s, id, secret = stls, idTLS, secretTLS
			}
			c := minioClient(t, s, id, secret, tc.v2, tc.trailers)
			bucket := "minio-" + tc.name
			if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
				t.Fatalf("MakeBucket: %v", err)
			}
			small := []byte("minio-go bytes")
			if _, err := c.PutObject(ctx, bucket, "dir/a photo+1.jpg", bytes.NewReader(small), int64(len(small)),
				minio.PutObjectOptions{ContentType: "image/jpeg", UserMetadata: map[string]string{"place": "Lisbon"}}); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			src := minio.CopySrcOptions{Bucket: bucket, Object: "dir/a photo+1.jpg"}
			if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: "copy/plain.jpg"}, src); err != nil {
				t.Errorf("CopyObject: %v", err)
			}
			if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: "copy/replaced é.jpg",
				ReplaceMetadata: true, UserMetadata: map[string]string{"place": "Porto"}, ContentType: "image/png"}, src); err != nil {
				t.Errorf("CopyObject with REPLACE: %v", err)
			} else if info, err := c.StatObject(ctx, bucket, "copy/replaced é.jpg", minio.StatObjectOptions{}); err != nil {
				t.Errorf("StatObject of the copy: %v", err)
			} else if info.UserMetadata["Place"] != "Porto" || info.ContentType != "image/png" {
				t.Errorf("copy with REPLACE: metadata %v, type %q; want place Porto, image/png", info.UserMetadata, info.ContentType)
			}
			// Copies that carry checksums, tags and header values with
			// runs of spaces (which SigV4 canonicalizes).
			for _, dst := range []minio.CopyDestOptions{
				{Bucket: bucket, Object: "copy/sum.jpg", ChecksumType: minio.ChecksumCRC32C},
				{Bucket: bucket, Object: "copy/sum256.jpg", ChecksumType: minio.ChecksumSHA256, ReplaceMetadata: true, UserMetadata: map[string]string{"note": "two  spaces"}},
				{Bucket: bucket, Object: "copy/tags.jpg", ReplaceTags: true, UserTags: map[string]string{"album": "summer 2024"}},
			} {
				if _, err := c.CopyObject(ctx, dst, src); err != nil {
					t.Errorf("CopyObject to %s: %v", dst.Object, err)
				}
			}
			// Compose from several sources: two uploads of 5 MiB and the small object.
			for _, k := range []string{"part1", "part2"} {
				if _, err := c.PutObject(ctx, bucket, k, bytes.NewReader(part), int64(len(part)), minio.PutObjectOptions{}); err != nil {
					t.Fatalf("PutObject %s: %v", k, err)
				}
			}
			srcs := []minio.CopySrcOptions{{Bucket: bucket, Object: "part1"}, {Bucket: bucket, Object: "part2"}, src}
			if _, err := c.ComposeObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: "composed", ChecksumType: minio.ChecksumCRC32C,
				ReplaceMetadata: true, UserMetadata: map[string]string{"made": "compose"}}, srcs...); err != nil {
				t.Errorf("ComposeObject: %v", err)
			} else {
				want := append(append(append([]byte{}, part...), part...), small...)
				if got := minioRead(t, c, bucket, "composed"); !bytes.Equal(got, want) {
					t.Errorf("composed object: %d bytes, differs from its sources (%d)", len(got), len(want))
				}
			}
			// FPutObject above the multipart threshold, in 5 MiB parts.
			f := filepath.Join(t.TempDir(), "big.bin")
			big := randBytes(12<<20 + 17)
			os.WriteFile(f, big, 0o644)
			if _, err := c.FPutObject(ctx, bucket, "big/file.bin", f, minio.PutObjectOptions{PartSize: 5 << 20}); err != nil {
				t.Errorf("FPutObject: %v", err)
			} else if got := minioRead(t, c, bucket, "big/file.bin"); !bytes.Equal(got, big) {
				t.Errorf("FPutObject read back %d bytes, differs", len(got))
			}
			// Copies of a multipart object (its ETag is "…-N", which
			// ComposeObject sends back in x-amz-copy-source-if-match), and
			// metadata that is not ASCII.
			bigSrc := minio.CopySrcOptions{Bucket: bucket, Object: "big/file.bin"}
			if _, err := c.ComposeObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: "composed-big", ReplaceMetadata: true,
				UserMetadata: map[string]string{"Photo_Place": "São Paulo"}}, bigSrc, src); err != nil {
				t.Errorf("ComposeObject of a multipart source: %v", err)
			} else if got := minioRead(t, c, bucket, "composed-big"); !bytes.Equal(got, append(append([]byte{}, big...), small...)) {
				t.Errorf("ComposeObject of a multipart source: %d bytes, differs", len(got))
			}
			if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: "copy/big.bin", ReplaceMetadata: true,
				UserMetadata: map[string]string{"place": "São Paulo"}}, minio.CopySrcOptions{Bucket: bucket, Object: "big/file.bin", MatchETag: bigETag(t, c, bucket)}); err != nil {
				t.Errorf("CopyObject of a multipart source with MatchETag: %v", err)
			}
			// Presigned PUT and GET.
			u, err := c.PresignedPutObject(ctx, bucket, "presigned.txt", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("PUT", u.String(), strings.NewReader("presigned bytes"))
			if resp, err := s.client.Do(req); err != nil || resp.StatusCode != 200 {
				t.Errorf("presigned PUT: %v %v", err, resp)
			}
			u, err = c.PresignedGetObject(ctx, bucket, "presigned.txt", time.Hour, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp, err := s.client.Get(u.String()); err != nil {
				t.Errorf("presigned GET: %v", err)
			} else {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(b) != "presigned bytes" {
					t.Errorf("presigned GET: %d %q", resp.StatusCode, b)
				}
			}
		})
	}
}

// TestMinioGoChecksums puts objects with each checksum minio-go offers,
// in one request and in parts (with trailing checksums, over plain HTTP),
// and reads the checksums back with checksum mode on.
func TestMinioGoChecksums(t *testing.T) {
	s := startServer(t)
	id, secret := s3Keys(t, s)
	ctx := context.Background()
	c := minioClient(t, s, id, secret, false, true)
	bucket := "minio-sums"
	if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket: %v", err)
	}
	small, big := randBytes(100_000), randBytes(11<<20+5)
	for _, ct := range []minio.ChecksumType{minio.ChecksumCRC32, minio.ChecksumCRC32C, minio.ChecksumCRC64NVME, minio.ChecksumSHA1,
		minio.ChecksumSHA256, minio.ChecksumFullObjectCRC32, minio.ChecksumFullObjectCRC32C} {
		for _, data := range [][]byte{small, big} {
			key := fmt.Sprintf("%s-%d", ct, len(data))
			if ct.FullObjectRequested() {
				key = "full-" + key
			}
			info, err := c.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{Checksum: ct, PartSize: 5 << 20})
			if err != nil {
				t.Errorf("PutObject %s: %v", key, err)
				continue
			}
			st, err := c.StatObject(ctx, bucket, key, minio.StatObjectOptions{Checksum: true})
			if err != nil {
				t.Errorf("StatObject %s: %v", key, err)
				continue
			}
			got := map[minio.ChecksumType]string{minio.ChecksumCRC32: st.ChecksumCRC32, minio.ChecksumCRC32C: st.ChecksumCRC32C,
				minio.ChecksumCRC64NVME: st.ChecksumCRC64NVME, minio.ChecksumSHA1: st.ChecksumSHA1, minio.ChecksumSHA256: st.ChecksumSHA256}[ct.Base()]
			put := map[minio.ChecksumType]string{minio.ChecksumCRC32: info.ChecksumCRC32, minio.ChecksumCRC32C: info.ChecksumCRC32C,
				minio.ChecksumCRC64NVME: info.ChecksumCRC64NVME, minio.ChecksumSHA1: info.ChecksumSHA1, minio.ChecksumSHA256: info.ChecksumSHA256}[ct.Base()]
			if got == "" || got != put {
				t.Errorf("%s: checksum on HEAD %q; PutObject answered %q", key, got, put)
			}
			if len(data) == len(small) {
				if want := ct.Base().EncodeToString(data); got != want {
					t.Errorf("%s: checksum %q; want %q", key, got, want)
				}
			}
			if !bytes.Equal(minioRead(t, c, bucket, key), data) {
				t.Errorf("%s: read back differs", key)
			}
		}
	}
}

func bigETag(t *testing.T, c *minio.Client, bucket string) string {
	t.Helper()
	info, err := c.StatObject(context.Background(), bucket, "big/file.bin", minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("StatObject: %v", err)
	}
	return info.ETag
}
