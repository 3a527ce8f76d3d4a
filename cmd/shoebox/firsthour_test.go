package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// bucketRule is the rule every refusal of a new bucket name states
// (gateway.BucketRule), on WebDAV, S3 and the command line alike.
const bucketRule = "a bucket name has 3 to 63 characters: lowercase letters, digits, dots and hyphens, " +
	"starting and ending with a letter or digit, and is not an IP address"

// TestBucketNamesAndHints: one rule for new bucket names on both protocols
// and the command line, stated in each refusal; buckets made before the
// rule keep working; a PUT into a missing bucket says how to make it; a
// wrong password says so.
func TestBucketNamesAndHints(t *testing.T) {
	s := startServer(t)

	// WebDAV: MKCOL at the root.
	for _, name := range []string{"UPPER", "Bad_Bucket", "a", "192.168.1.1", "-abc"} {
		resp, body := s.do("MKCOL", "/dav/"+name, nil)
		if want := `403 Forbidden: bucket name "` + name + `" is not allowed: ` + bucketRule + "\n"; resp.StatusCode != 403 || body != want {
			t.Errorf("MKCOL /dav/%s: %d %q; want 403 %q", name, resp.StatusCode, body, want)
		}
	}
	resp, body := s.do("MKCOL", "/dav/Trash", nil)
	if want := `403 Forbidden: bucket name "Trash" is not allowed: it is the name of a virtual folder (by-date, by-person, by-camera, by-place, by-tag, duplicates, albums, search, trash)` + "\n"; resp.StatusCode != 403 || body != want {
		t.Errorf("MKCOL /dav/Trash: %d %q; want 403 %q", resp.StatusCode, body, want)
	}
	s.mkcol("/dav/my-photos.2024")

	// S3: CreateBucket.
	id, secret := s3Keys(t, s)
	newS3 := func() *s3.Client {
		return s3.New(s3.Options{BaseEndpoint: aws.String(s.s3url()), Region: "us-east-1", UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), Retryer: aws.NopRetryer{}})
	}
	cli := newS3()
	ctx := context.Background()
	for _, name := range []string{"UPPER", "Bad_Bucket", "ab"} {
		_, err := cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidBucketName" ||
			ae.ErrorMessage() != `bucket name "`+name+`" is not allowed: `+bucketRule {
			t.Errorf("S3 CreateBucket %s: %v; want InvalidBucketName stating the rule", name, err)
		}
	}
	if _, err := cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("from-s3")}); err != nil {
		t.Errorf("S3 CreateBucket from-s3: %v", err)
	}

	// The command line, with the server running (through its socket).
	out, code := runIn(t, t.TempDir(), nil, "bucket", "create", "admin", "Bad_Bucket", "--data", s.data)
	if want := `shoebox: bucket name "Bad_Bucket" is not allowed: ` + bucketRule + "\n"; code != 1 || out != want {
		t.Errorf("bucket create Bad_Bucket: exit %d %q; want 1 %q", code, out, want)
	}
	out, code = runIn(t, t.TempDir(), nil, "bucket", "create", "admin", "cli-made", "--data", s.data)
	if code != 0 || out != "bucket cli-made of admin: made\n" {
		t.Errorf("bucket create cli-made: exit %d %q", code, out)
	}
	s.put("/dav/cli-made/x.txt", "x")

	// A PUT into a missing bucket says how to make it.
	resp, body = s.do("PUT", "/dav/nosuch/IMG_1.jpg", strings.NewReader("x"))
	if want := `409 Conflict: bucket "nosuch" does not exist; make it first: MKCOL /dav/nosuch (a new folder at the root), or shoebox bucket create admin nosuch` + "\n"; resp.StatusCode != 409 || body != want {
		t.Errorf("PUT into a missing bucket: %d %q; want 409 %q", resp.StatusCode, body, want)
	}

	// A wrong password, on WebDAV, the API and the Nextcloud front door.
	for _, p := range []string{"/dav/", "/api/v1/status", "/remote.php/dav/files/admin/"} {
		resp, body := s.doAs("admin", "wrong", "PROPFIND", p, nil, "Depth", "0")
		if p == "/api/v1/status" {
			resp, body = s.doAs("admin", "wrong", "GET", p, nil)
		}
		if resp.StatusCode != 401 || !strings.Contains(body, "wrong user name or password") || strings.Contains(body, "needs a user name") {
			t.Errorf("%s with a wrong password: %d %q; want 401 saying wrong user name or password", p, resp.StatusCode, body)
		}
	}
	resp, body = s.doAs("", "", "PROPFIND", "/dav/", nil, "Depth", "0")
	if resp.StatusCode != 401 || !strings.Contains(body, "needs a user name and password") {
		t.Errorf("PROPFIND without credentials: %d %q; want 401 asking for them", resp.StatusCode, body)
	}

	// A bucket made before the rule (here a folder found at start-up)
	// keeps working on both protocols.
	s.stop()
	if err := os.MkdirAll(filepath.Join(s.data, "objects", "admin", "Old_Bucket"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.start()
	s.put("/dav/Old_Bucket/kept.txt", "kept")
	if got := s.get("/dav/Old_Bucket/kept.txt"); got != "kept" {
		t.Errorf("GET from a bucket named before the rule: %q", got)
	}
	if _, err := newS3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("Old_Bucket"), Key: aws.String("kept.txt")}); err != nil {
		t.Errorf("S3 HEAD in a bucket named before the rule: %v", err)
	}
}
