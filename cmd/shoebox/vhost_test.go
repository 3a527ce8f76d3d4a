package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestVirtualHostStyle: with --s3-domain, bucket.domain/key requests (the
// SDK's default addressing) reach the same buckets as path-style ones, and
// WebDAV sees what they wrote.
func TestVirtualHostStyle(t *testing.T) {
	s := startServer(t, "--s3-domain", "s3.shoebox.test")
	id, secret := s3Keys(t, s)
	ctx := context.Background()
	_, port, _ := net.SplitHostPort(s.s3addr)
	// Every name under the domain is this server (no DNS needed).
	dial := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, s.s3addr)
	}}}
	client := func(pathStyle bool) *s3.Client {
		return s3.New(s3.Options{BaseEndpoint: aws.String("http://s3.shoebox.test:" + port), Region: "us-east-1", UsePathStyle: pathStyle,
			HTTPClient: dial, Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	}
	vh, ps := client(false), client(true)
	if _, err := vh.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vhost")}); err != nil {
		t.Fatalf("CreateBucket, virtual-host style: %v", err)
	}
	if _, err := vh.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/a photo.jpg"), Body: strings.NewReader("vhost bytes")}); err != nil {
		t.Fatalf("PutObject, virtual-host style: %v", err)
	}
	out, err := ps.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/a photo.jpg")})
	if err != nil {
		t.Fatalf("GetObject, path style: %v", err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "vhost bytes" {
		t.Errorf("path-style read of a virtual-host write: %q", b)
	}
	list, err := vh.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vhost"), Prefix: aws.String("dir/")})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "dir/a photo.jpg" {
		t.Errorf("ListObjectsV2, virtual-host style: %v %+v", err, list)
	}
	if got := s.get("/dav/vhost/dir/a%20photo.jpg"); got != "vhost bytes" {
		t.Errorf("WebDAV read of a virtual-host write: %q", got)
	}
	if _, err := vh.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/a photo.jpg")}); err != nil {
		t.Errorf("DeleteObject, virtual-host style: %v", err)
	}
}
