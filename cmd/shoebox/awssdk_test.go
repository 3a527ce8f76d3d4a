package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestAWSSDKGoV2 drives aws-sdk-go-v2 at its defaults (request checksums
// "when supported", so CRC32 trailers on uploads, and response checksum
// validation on), over HTTP and over TLS: PutObject, multipart uploads
// (with and without a checksum algorithm, FULL_OBJECT too), copies with
// REPLACE metadata and a new checksum, UploadPartCopy, GET with checksum
// mode, GetObjectAttributes and ListParts.
func TestAWSSDKGoV2(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "tls"}[tlsOn]
		t.Run(name, func(t *testing.T) {
			var args []string
			if tlsOn {
				dir := t.TempDir()
				cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
				writeSelfSigned(t, cert, key)
				args = []string{"--tls-cert", cert, "--tls-key", key}
			}
			s := startServer(t, args...)
			id, secret := s3Keys(t, s)
			cl := s3.New(s3.Options{BaseEndpoint: aws.String(s.s3url()), Region: "us-east-1", UsePathStyle: true,
				Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
				HTTPClient:  &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}})
			awsSDKScenario(t, cl)
		})
	}
}

func awsSDKScenario(t *testing.T, cl *s3.Client) {
	ctx := context.Background()
	bucket := aws.String("sdkv2")
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	get := func(key string) ([]byte, *s3.GetObjectOutput) {
		t.Helper()
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatalf("GetObject %s: %v (response checksum validation)", key, err)
		}
		return b, out
	}
	small := randBytes(300_000)
	for _, alg := range []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
		key := "put-" + string(alg)
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(small),
			ChecksumAlgorithm: alg, Metadata: map[string]string{"place": "Lisbon"}}); err != nil {
			t.Errorf("PutObject %s: %v", key, err)
			continue
		}
		if b, _ := get(key); !bytes.Equal(b, small) {
			t.Errorf("GetObject %s: differs", key)
		}
	}
	// Multipart: two parts of 5 MiB and a small one.
	part := randBytes(5 << 20)
	for _, tc := range []struct {
		alg types.ChecksumAlgorithm
		typ types.ChecksumType
	}{{"", ""}, {types.ChecksumAlgorithmCrc32, ""}, {types.ChecksumAlgorithmSha256, types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmCrc32c, types.ChecksumTypeFullObject}, {types.ChecksumAlgorithmCrc64nvme, types.ChecksumTypeFullObject}} {
		key := aws.String("mp-" + string(tc.alg) + "-" + string(tc.typ))
		up, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key, ChecksumAlgorithm: tc.alg, ChecksumType: tc.typ})
		if err != nil {
			t.Errorf("CreateMultipartUpload %s: %v", *key, err)
			continue
		}
		var parts []types.CompletedPart
		for i, data := range [][]byte{part, part, small} {
			n := aws.Int32(int32(i + 1))
			out, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: n,
				Body: bytes.NewReader(data), ChecksumAlgorithm: tc.alg})
			if err != nil {
				t.Fatalf("UploadPart %s %d: %v", *key, i+1, err)
			}
			parts = append(parts, types.CompletedPart{PartNumber: n, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32, ChecksumCRC32C: out.ChecksumCRC32C,
				ChecksumCRC64NVME: out.ChecksumCRC64NVME, ChecksumSHA1: out.ChecksumSHA1, ChecksumSHA256: out.ChecksumSHA256})
		}
		lp, err := cl.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: up.UploadId})
		if err != nil || len(lp.Parts) != 3 {
			t.Errorf("ListParts %s: %v", *key, err)
		} else if p := lp.Parts[0]; tc.alg != "" && p.ChecksumCRC32 == nil && p.ChecksumCRC32C == nil && p.ChecksumCRC64NVME == nil && p.ChecksumSHA1 == nil && p.ChecksumSHA256 == nil {
			t.Errorf("ListParts %s: part 1 has no checksum", *key)
		}
		done, err := cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		if err != nil {
			t.Errorf("CompleteMultipartUpload %s: %v", *key, err)
			continue
		}
		if tc.alg != "" && (done.ChecksumType == "" || tc.typ != "" && done.ChecksumType != tc.typ) {
			t.Errorf("CompleteMultipartUpload %s: checksum type %q", *key, done.ChecksumType)
		}
		want := append(append(append([]byte{}, part...), part...), small...)
		if b, _ := get(*key); !bytes.Equal(b, want) {
			t.Errorf("GetObject %s: differs", *key)
		}
		attrs, err := cl.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: key,
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectSize}})
		if err != nil {
			t.Errorf("GetObjectAttributes %s: %v", *key, err)
		} else if tc.alg != "" && attrs.Checksum == nil {
			t.Errorf("GetObjectAttributes %s: no checksum", *key)
		}
	}
	// Copies: REPLACE metadata with a new checksum, and UploadPartCopy.
	if _, err := cl.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("copy é+1.bin"), CopySource: aws.String("sdkv2/put-"),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"place": "Porto"}, ChecksumAlgorithm: types.ChecksumAlgorithmSha256}); err != nil {
		t.Errorf("CopyObject: %v", err)
	} else if b, out := get("copy é+1.bin"); !bytes.Equal(b, small) || out.Metadata["place"] != "Porto" || out.ChecksumSHA256 == nil {
		t.Errorf("copy: equal %v, metadata %v, SHA-256 %v", bytes.Equal(b, small), out.Metadata, out.ChecksumSHA256)
	}
	up, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("partcopy"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	var parts []types.CompletedPart
	for i, src := range []string{"sdkv2/mp--", "sdkv2/put-"} {
		out, err := cl.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: bucket, Key: aws.String("partcopy"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(src)})
		if err != nil {
			t.Fatalf("UploadPartCopy %s: %v", src, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag, ChecksumCRC32: out.CopyPartResult.ChecksumCRC32})
	}
	if _, err := cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("partcopy"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Errorf("CompleteMultipartUpload of copied parts: %v", err)
	} else if b, _ := get("partcopy"); len(b) != 2*len(part)+2*len(small) {
		t.Errorf("partcopy: %d bytes", len(b))
	}
}
