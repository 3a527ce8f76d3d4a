package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"hash/crc32"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"
)

// TestS3CopyChecksumsAndClasses, with aws-sdk-go-v2 at its defaults:
// CopyObject's result carries the copy's checksum (the source's, or the
// one the copy asks for) and its type, as S3 answers it; an object's
// storage class is reported by GetObjectAttributes and ListObjectVersions,
// and an upload's by ListMultipartUploads, where STANDARD was said for all.
func TestS3CopyChecksumsAndClasses(t *testing.T) {
	s := startServer(t)
	id, secret := s3Keys(t, s)
	ctx := context.Background()
	cl := s3.New(s3.Options{BaseEndpoint: aws.String(s.s3url()), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	bucket := aws.String("leftovers")
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	data := bytes.Repeat([]byte("copy me "), 1000)
	sha := sha256.Sum256(data)
	wantSHA := base64.StdEncoding.EncodeToString(sha[:])
	crc := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	wantCRC32C := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("src.bin"), Body: bytes.NewReader(data),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	// A copy keeps the source's checksum, and says so.
	out, err := cl.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("copy.bin"), CopySource: aws.String("leftovers/src.bin")})
	if err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	if r := out.CopyObjectResult; r == nil || aws.ToString(r.ChecksumSHA256) != wantSHA || r.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("CopyObjectResult %+v; want ChecksumSHA256 %s, ChecksumType FULL_OBJECT", r, wantSHA)
	}
	// A copy that asks for another algorithm gets it.
	out, err = cl.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("copy32c.bin"), CopySource: aws.String("leftovers/src.bin"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		t.Fatalf("CopyObject with CRC32C: %v", err)
	}
	if r := out.CopyObjectResult; r == nil || aws.ToString(r.ChecksumCRC32C) != wantCRC32C || r.ChecksumSHA256 != nil {
		t.Errorf("CopyObjectResult %+v; want ChecksumCRC32C %s alone", r, wantCRC32C)
	}

	// Storage classes.
	if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("cold.bin"), Body: bytes.NewReader(data),
		StorageClass: types.StorageClassGlacier}); err != nil {
		t.Fatalf("PutObject GLACIER: %v", err)
	}
	for key, want := range map[string]types.StorageClass{"cold.bin": types.StorageClassGlacier, "src.bin": types.StorageClassStandard} {
		attrs, err := cl.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: aws.String(key),
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesStorageClass, types.ObjectAttributesEtag}})
		if err != nil {
			t.Errorf("GetObjectAttributes %s: %v", key, err)
		} else if attrs.StorageClass != want {
			t.Errorf("GetObjectAttributes %s: class %q; want %q", key, attrs.StorageClass, want)
		}
	}
	for _, enc := range []types.EncodingType{"", types.EncodingTypeUrl} {
		vs, err := cl.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket, EncodingType: enc})
		if err != nil {
			t.Fatalf("ListObjectVersions: %v", err)
		}
		got := map[string]types.ObjectVersionStorageClass{}
		for _, v := range vs.Versions {
			got[aws.ToString(v.Key)] = v.StorageClass
		}
		if got["cold.bin"] != types.ObjectVersionStorageClass("GLACIER") || got["src.bin"] != types.ObjectVersionStorageClassStandard {
			t.Errorf("ListObjectVersions (encoding %q): classes %v; want cold.bin GLACIER, src.bin STANDARD", enc, got)
		}
	}
	up, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("ia.bin"), StorageClass: types.StorageClassStandardIa})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	up2, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("std.bin")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	ups, err := cl.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	got := map[string]types.StorageClass{}
	for _, u := range ups.Uploads {
		got[aws.ToString(u.Key)] = u.StorageClass
	}
	if got["ia.bin"] != types.StorageClassStandardIa || got["std.bin"] != types.StorageClassStandard {
		t.Errorf("ListMultipartUploads: classes %v; want ia.bin STANDARD_IA, std.bin STANDARD", got)
	}
	for _, u := range []*s3.CreateMultipartUploadOutput{up, up2} {
		if _, err := cl.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: u.Key, UploadId: u.UploadId}); err != nil {
			t.Errorf("AbortMultipartUpload: %v", err)
		}
	}
}

// TestMinioGoSigV2SubResources: minio-go signing with SigV2 signs the
// sub-resources of its list (encryption, legal-hold, retention,
// object-lock, tagging, versionId, ...); each request is authenticated
// (answered, or refused for what it asks, never SignatureDoesNotMatch).
func TestMinioGoSigV2SubResources(t *testing.T) {
	s := startServer(t)
	id, secret := s3Keys(t, s)
	ctx := context.Background()
	c := minioClient(t, s, id, secret, true, false)
	bucket := "sigv2-subs"
	if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket: %v", err)
	}
	if _, err := c.PutObject(ctx, bucket, "a.txt", bytes.NewReader([]byte("a")), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	authenticated := func(what string, err error) {
		t.Helper()
		if err == nil {
			return
		}
		if code := minio.ToErrorResponse(err).Code; code == "SignatureDoesNotMatch" || code == "AccessDenied" || code == "InvalidAccessKeyId" {
			t.Errorf("%s signed with SigV2: %v (%s); want it authenticated", what, err, code)
		}
	}
	_, err := c.GetBucketEncryption(ctx, bucket)
	authenticated("GetBucketEncryption (?encryption)", err)
	_, err = c.GetObjectLegalHold(ctx, bucket, "a.txt", minio.GetObjectLegalHoldOptions{})
	authenticated("GetObjectLegalHold (?legal-hold)", err)
	_, _, err = c.GetObjectRetention(ctx, bucket, "a.txt", "")
	authenticated("GetObjectRetention (?retention)", err)
	_, _, _, _, err = c.GetObjectLockConfig(ctx, bucket)
	authenticated("GetObjectLockConfig (?object-lock)", err)
	_, err = c.StatObject(ctx, bucket, "a.txt", minio.StatObjectOptions{VersionID: "null"})
	authenticated("StatObject (?versionId)", err)
	_, err = c.GetBucketLocation(ctx, bucket)
	authenticated("GetBucketLocation (?location)", err)
	// Tagging round-trips.
	tg, err := tags.NewTags(map[string]string{"album": "summer"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutObjectTagging(ctx, bucket, "a.txt", tg, minio.PutObjectTaggingOptions{}); err != nil {
		t.Errorf("PutObjectTagging (?tagging): %v", err)
	} else if got, err := c.GetObjectTagging(ctx, bucket, "a.txt", minio.GetObjectTaggingOptions{}); err != nil {
		t.Errorf("GetObjectTagging (?tagging): %v", err)
	} else if got.ToMap()["album"] != "summer" {
		t.Errorf("tags read back %v; want album=summer", got.ToMap())
	}
}
