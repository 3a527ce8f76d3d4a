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
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
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

// TestVirtualHostAccess: anonymous requests are allowed or refused on the
// bucket and key they are served with, virtual-host style too: a private
// bucket's key that looks like a path into a public bucket stays private,
// and the public bucket reads anonymously by its own name.
func TestVirtualHostAccess(t *testing.T) {
	s := startServer(t, "--s3-domain", "s3.shoebox.test")
	id, secret := s3Keys(t, s)
	ctx := context.Background()
	_, port, _ := net.SplitHostPort(s.s3addr)
	dial := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, s.s3addr)
	}}}
	owner := s3.New(s3.Options{BaseEndpoint: aws.String("http://s3.shoebox.test:" + port), Region: "us-east-1", UsePathStyle: true,
		HTTPClient: dial, Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	for _, b := range []struct {
		name string
		acl  types.BucketCannedACL
	}{{"pub", types.BucketCannedACLPublicRead}, {"priv", types.BucketCannedACLPrivate}} {
		if _, err := owner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.name), ACL: b.acl}); err != nil {
			t.Fatalf("CreateBucket %s: %v", b.name, err)
		}
	}
	for _, o := range [][3]string{{"priv", "pub/secret.txt", "private bytes"}, {"pub", "secret.txt", "public bytes"}} {
		if _, err := owner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o[0]), Key: aws.String(o[1]), Body: strings.NewReader(o[2])}); err != nil {
			t.Fatalf("PutObject %s/%s: %v", o[0], o[1], err)
		}
	}
	tests := []struct {
		host, path string
		status     int
		body       string
	}{
		{"priv.s3.shoebox.test", "/pub/secret.txt", 403, ""},
		{"pub.s3.shoebox.test", "/secret.txt", 200, "public bytes"},
		{"s3.shoebox.test", "/pub/secret.txt", 200, "public bytes"},
		{"s3.shoebox.test", "/priv/pub/secret.txt", 403, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, "http://"+tt.host+":"+port+tt.path, nil)
		resp, err := dial.Do(req)
		if err != nil {
			t.Fatalf("anonymous GET %s%s: %v", tt.host, tt.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || (tt.body != "" && string(b) != tt.body) {
			t.Errorf("anonymous GET %s%s: got %d %q; want %d %q", tt.host, tt.path, resp.StatusCode, b, tt.status, tt.body)
		}
	}
}
