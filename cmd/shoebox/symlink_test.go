package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// TestSymlinkInStore: links planted in bob's bucket while the server is
// stopped, one in place of a file of his to admin's photo and one in place
// of a folder of his to admin's bucket, are never followed: after a
// restart bob gets 404 over WebDAV and S3 (the catalog row of his file is
// dropped), his writes into the linked folder do not land in admin's, the
// log names the links, and fsck reports them.
func TestSymlinkInStore(t *testing.T) {
	s := startServer(t)
	if out, err := runCLI(t, "pw-of-bob\n", "user", "add", "bob", "--password-stdin", "--data", s.data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	out, errOut, err := keyCLI(t, "key", "create", "bob", "--data", s.data)
	m := keyCreateOut.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("key create: %v, stdout %q, stderr %s", err, out, errOut)
	}
	const secret = "admin's secret photo"
	s.mkcol("/dav/photos")
	s.put("/dav/photos/secret.jpg", secret)
	bob := func(method, p string, body io.Reader) int {
		t.Helper()
		resp, _ := s.doAs("bob", "pw-of-bob", method, p, body)
		return resp.StatusCode
	}
	for _, r := range []struct{ method, path, body string }{
		{"MKCOL", "/dav/bkt", ""}, {"PUT", "/dav/bkt/stolen.jpg", "bob's own photo"}, {"MKCOL", "/dav/bkt/album", ""},
	} {
		if code := bob(r.method, r.path, strings.NewReader(r.body)); code != 201 {
			t.Fatalf("bob %s %s: %d", r.method, r.path, code)
		}
	}

	s.stop()
	objects := filepath.Join(s.data, "objects")
	for _, l := range []struct{ at, to string }{
		{"bob/bkt/stolen.jpg", "../../admin/photos/secret.jpg"},
		{"bob/bkt/album", "../../admin/photos"},
	} {
		at := filepath.Join(objects, l.at)
		if err := os.RemoveAll(at); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(l.to, at); err != nil {
			t.Fatal(err)
		}
	}
	s.start()

	for _, p := range []string{"/dav/bkt/stolen.jpg", "/dav/bkt/album/secret.jpg"} {
		if code := bob("GET", p, nil); code != 404 {
			t.Errorf("bob GET %s (a link to admin's photo): %d; want 404", p, code)
		}
	}
	if code := bob("PUT", "/dav/bkt/album/planted.jpg", strings.NewReader("bob's")); code < 400 {
		t.Errorf("bob PUT into a linked folder: %d; want a refusal", code)
	}
	cli := s3.New(s3.Options{BaseEndpoint: aws.String(s.s3url()), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(m[1], m[2], "")})
	ctx := context.Background()
	for _, k := range []string{"stolen.jpg", "album/secret.jpg"} {
		o, err := cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(k)})
		var ae smithy.APIError
		if err == nil {
			b, _ := io.ReadAll(o.Body)
			o.Body.Close()
			t.Errorf("S3 GET bkt/%s served %q; want NoSuchKey", k, b)
		} else if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchKey" {
			t.Errorf("S3 GET bkt/%s: %v; want NoSuchKey", k, err)
		}
	}
	if _, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("album/planted2.jpg"), Body: strings.NewReader("bob's")}); err == nil {
		t.Errorf("S3 PUT into a linked folder succeeded; want a refusal")
	}
	for _, n := range []string{"planted.jpg", "planted2.jpg"} {
		if _, err := os.Lstat(filepath.Join(objects, "admin", "photos", n)); err == nil {
			t.Errorf("bob's write through a link landed in admin's bucket as %s", n)
		}
	}
	if got := s.get("/dav/photos/secret.jpg"); got != secret {
		t.Errorf("admin's photo = %q; want %q", got, secret)
	}
	logs := s.logs()
	for _, p := range []string{"bob/bkt/stolen.jpg", "bob/bkt/album"} {
		if !strings.Contains(logs, "symbolic link") || !strings.Contains(logs, p) {
			t.Errorf("the log does not warn about the link %s:\n%s", p, logs)
		}
	}

	s.stop()
	out, err = runCLI(t, "", "fsck", "--data", s.data)
	if err != nil || !strings.Contains(out, "skipped 2 symbolic link(s)") || !strings.Contains(out, "bob/bkt/stolen.jpg") {
		t.Errorf("fsck: %v; want it to report the 2 links, naming them:\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(objects, "admin", "photos", "secret.jpg")); err != nil || string(b) != secret {
		t.Errorf("admin's photo on disk: %q, %v", b, err)
	}
}
