package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestFailedEnrichments: a file whose enrichment failed is listed with its
// error and attempts by `shoebox failed` (server running: over its socket;
// stopped: on the data directory) and GET /api/v1/failed, and is queued
// again by --retry and POST /api/v1/failed/retry.
func TestFailedEnrichments(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/pics")
	s.put("/dav/pics/broken.jpg", "this is not a jpeg")
	o := s.waitDone(t, "pics/broken.jpg")
	if o.Enrichment.State != "failed" || o.Enrichment.Error == "" {
		t.Fatalf("broken.jpg enrichment = %+v; want failed", o.Enrichment)
	}
	errText := oneLine(o.Enrichment.Error)

	type failedList struct {
		Failed []struct {
			Bucket, Key, Error string
			Attempts           int
		}
	}
	listAPI := func() failedList {
		t.Helper()
		resp, body := s.do("GET", "/api/v1/failed", nil)
		want(t, resp, body, 200)
		var l failedList
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatalf("GET /api/v1/failed: %v: %s", err, body)
		}
		return l
	}
	l := listAPI()
	if len(l.Failed) != 1 || l.Failed[0].Bucket != "pics" || l.Failed[0].Key != "broken.jpg" || l.Failed[0].Error != o.Enrichment.Error || l.Failed[0].Attempts < 1 {
		t.Errorf("GET /api/v1/failed = %+v; want pics/broken.jpg with its error", l)
	}
	attempts := l.Failed[0].Attempts
	// Another user sees none of admin's.
	runCLI(t, "bob-pw\n", "user", "add", "bob", "--password-stdin", "--data", s.data)
	if resp, body := s.doAs("bob", "bob-pw", "GET", "/api/v1/failed", nil); resp.StatusCode != 200 || body != "{\n  \"failed\": []\n}\n" {
		t.Errorf("bob's GET /api/v1/failed: %d %q; want an empty list", resp.StatusCode, body)
	}

	wantList := fmt.Sprintf("admin\tpics/broken.jpg\t%d attempts\t%s\n1 failed; \"shoebox failed --retry\" queues them again\n", attempts, errText)
	if out, code := runIn(t, t.TempDir(), nil, "failed", "--data", s.data); code != 0 || out != wantList {
		t.Errorf("shoebox failed (server running): exit %d\n%s\nwant\n%s", code, out, wantList)
	}
	if out, code := runIn(t, t.TempDir(), nil, "failed", "--user", "nobody", "--data", s.data); code != 1 || out != "shoebox: no user \"nobody\"\n" {
		t.Errorf("shoebox failed --user nobody: exit %d %q", code, out)
	}

	// Stopped: the data directory itself; --retry queues it again.
	s.stop()
	if out, code := runIn(t, t.TempDir(), nil, "failed", "--user", "admin", "--data", s.data); code != 0 || out != wantList {
		t.Errorf("shoebox failed (stopped): exit %d\n%s\nwant\n%s", code, out, wantList)
	}
	wantRetry := strings.TrimSuffix(wantList, "1 failed; \"shoebox failed --retry\" queues them again\n") + "queued 1 files again\n"
	if out, code := runIn(t, t.TempDir(), nil, "failed", "--retry", "--data", s.data); code != 0 || out != wantRetry {
		t.Errorf("shoebox failed --retry: exit %d\n%s\nwant\n%s", code, out, wantRetry)
	}
	if out, code := runIn(t, t.TempDir(), nil, "failed", "--data", s.data); code != 0 || out != "no failed enrichments\n" {
		t.Errorf("shoebox failed after --retry: exit %d %q; want none (queued)", code, out)
	}

	// The server tries it again (and it fails again); the API retries too.
	s.start()
	s.waitQueue(t, 2*time.Minute)
	if l := listAPI(); len(l.Failed) != 1 {
		t.Fatalf("after the retry ran: %+v; want broken.jpg failed again", l)
	}
	resp, body := s.do("POST", "/api/v1/failed/retry", nil)
	if resp.StatusCode != 200 || body != "{\n  \"queued\": 1\n}\n" {
		t.Errorf("POST /api/v1/failed/retry: %d %q; want {\"queued\":1}", resp.StatusCode, body)
	}
	s.waitQueue(t, 2*time.Minute)
	if l := listAPI(); len(l.Failed) != 1 || l.Failed[0].Key != "broken.jpg" {
		t.Errorf("after the API retry ran: %+v; want broken.jpg failed again", l)
	}
}

// TestJSONLogsAndAccessLog: with --log-format json every line the server
// writes is a JSON record (the "Point a WebDAV client" line and the admin
// password included), and --access-log adds one record per request.
func TestJSONLogsAndAccessLog(t *testing.T) {
	s := newServer(t, "--log-format", "json", "--access-log")
	s.env = []string{"SHOEBOX_ADMIN_PASSWORD="} // a random password, printed once
	s.start()
	t.Cleanup(s.stop)
	resp, body := s.do("PROPFIND", "/dav/", nil, "Depth", "0")
	if resp.StatusCode != 401 { // the admin password is random here
		t.Fatalf("PROPFIND: %d %s", resp.StatusCode, body)
	}
	var pw string
	waitUntil(t, time.Minute, "the access record of the PROPFIND", func() bool {
		return strings.Contains(s.logs(), `"msg":"access"`)
	})
	s.stop()
	var sawPoint, sawAccess bool
	for _, line := range strings.Split(strings.TrimSpace(s.logs()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a line that is not JSON: %q", line)
			continue
		}
		msg, _ := rec["msg"].(string)
		if strings.HasPrefix(msg, "Point a WebDAV client at http://") {
			sawPoint = true
		}
		if p, ok := rec["password"].(string); ok {
			pw = p
		}
		if msg == "access" && rec["method"] == "PROPFIND" {
			sawAccess = true
			if rec["path"] != "/dav/" || rec["user"] != "admin" || rec["status"] != float64(401) || rec["bytes"] == nil || rec["duration"] == nil || !strings.HasPrefix(rec["remote"].(string), "127.0.0.1:") {
				t.Errorf("access record = %v; want method, path, user, status, bytes, duration, remote", rec)
			}
		}
	}
	if !sawPoint || !sawAccess || pw == "" {
		t.Errorf("JSON log: point line %v, access record %v, admin password %q; want all\n%s", sawPoint, sawAccess, pw, s.logs())
	}
}

// TestStartFailures: a missing TLS file stops the start with one line
// naming the settings, and no error logged before it.
func TestStartFailures(t *testing.T) {
	dir := t.TempDir()
	out, code := runIn(t, dir, nil, "serve", "--data", filepath.Join(dir, "d"), "--dav-addr", freeAddr(t), "--s3-addr", "",
		"--tls-cert", filepath.Join(dir, "cert.pem"), "--tls-key", filepath.Join(dir, "key.pem"))
	want := "shoebox: TLS certificate --tls-cert " + filepath.Join(dir, "cert.pem") + ", key --tls-key " + filepath.Join(dir, "key.pem") +
		": open " + filepath.Join(dir, "cert.pem") + ": no such file or directory\n"
	if code != 1 || out != want {
		t.Errorf("serve with a missing TLS file: exit %d\n%s\nwant exit 1\n%s", code, out, want)
	}
	out, code = runIn(t, dir, nil, "serve", "--log-format", "json", "--data", filepath.Join(dir, "d"), "--dav-addr", freeAddr(t), "--s3-addr", "",
		"--tls-cert", filepath.Join(dir, "cert.pem"), "--tls-key", filepath.Join(dir, "key.pem"))
	var rec map[string]any
	if code != 1 || strings.Count(out, "\n") != 1 || json.Unmarshal([]byte(out), &rec) != nil || rec["level"] != "ERROR" ||
		!strings.Contains(rec["err"].(string), "no such file or directory") {
		t.Errorf("serve --log-format json with a missing TLS file: exit %d %q; want one JSON error record", code, out)
	}
}
