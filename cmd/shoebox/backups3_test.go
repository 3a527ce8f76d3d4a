package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"shoebox/gateway/s3store/s3storetest"
)

// runCLIEnv is runCLI with more environment variables.
func runCLIEnv(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// upstreamKeys lists the keys under pfx in the upstream bucket.
func upstreamKeys(t *testing.T, up *s3storetest.Upstream, pfx string) []string {
	t.Helper()
	var keys []string
	pg := s3.NewListObjectsV2Paginator(up.Client(nil), &s3.ListObjectsV2Input{Bucket: &up.Bucket, Prefix: aws.String(pfx)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s upstream: %v", pfx, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// TestBackupToUpstream: a server whose originals are in a real S3 server
// (versitygw) writes its scheduled backups into the upstream bucket
// (backup_to: upstream), keeping the newest backup_keep; `shoebox backup
// --to s3://…` streams one there from the live server with the AWS_*
// variables' credentials. After changes made since the backup (uploads,
// renames of old and new files, a delete), the backup restored from
// s3:// into a new data directory, against the same bucket, brings back
// the albums and the files of the backup's moment and the changes made
// since, and deletes no blob written after the backup.
func TestBackupToUpstream(t *testing.T) {
	up := s3storetest.Start(t)
	upArgs := []string{"--upstream-endpoint", up.Endpoint(), "--upstream-bucket", up.Bucket,
		"--upstream-prefix", "sb/", "--upstream-access-key", up.AK}
	upEnv := []string{"SHOEBOX_UPSTREAM_SECRET_KEY=" + up.SK}
	s := newServer(t, append(slices.Clone(upArgs), "--backup-to", "upstream", "--backup-every", "300ms", "--backup-keep", "2")...)
	s.env = upEnv
	s.start()
	t.Cleanup(s.stop)

	forest := string(mustRead(t, filepath.Join(sharedMedia, "forest.jpg")))
	s.mkcol("/dav/lib")
	s.put("/dav/lib/forest.jpg", forest)
	s.put("/dav/lib/notes.txt", "notes")
	s.put("/dav/lib/gone.txt", "deleted after the backup")
	s.mkcol("/dav/albums/Trip")
	resp, body := s.do("COPY", "/dav/lib/forest.jpg", nil, "Destination", s.url("/dav/albums/Trip/forest.jpg"))
	want(t, resp, body, 201)
	s.waitQueue(t, 3*time.Minute)

	// Scheduled backups land upstream; the oldest are pruned.
	waitUntil(t, 3*time.Minute, "three scheduled backups", func() bool {
		return strings.Count(s.logs(), "scheduled backup written") >= 3
	})
	var sbk []string
	for _, k := range upstreamKeys(t, up, "sb/backups/") {
		if strings.HasSuffix(k, backupSuffix) {
			sbk = append(sbk, k)
		}
	}
	if len(sbk) < 2 || len(sbk) > 3 {
		t.Errorf("upstream backups %q; want the newest 2 (3 while one is being pruned)", sbk)
	}

	// A backup of the live server to s3://, credentials from AWS_*.
	awsEnv := []string{"AWS_ENDPOINT_URL=" + up.Endpoint(), "AWS_ACCESS_KEY_ID=" + up.AK, "AWS_SECRET_ACCESS_KEY=" + up.SK, "AWS_REGION=us-east-1"}
	out, err := runCLIEnv(t, awsEnv, "backup", "--to", "s3://"+up.Bucket+"/manual/", "--data", s.data)
	if err != nil {
		t.Fatalf("backup --to s3://: %v\n%s", err, out)
	}
	if !strings.Contains(out, "s3://"+up.Bucket+"/manual/"+backupPrefix) {
		t.Errorf("backup said %q; want it to name the object it wrote", out)
	}
	if keys := upstreamKeys(t, up, "manual/"); len(keys) != 1 {
		t.Errorf("manual backups upstream: %q; want one", keys)
	}
	// Without credentials it says what to set.
	if out, err := runCLIEnv(t, []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}, "backup", "--to", "s3://"+up.Bucket+"/x/", "--data", s.data); err == nil || !strings.Contains(out, "AWS_ACCESS_KEY_ID") {
		t.Errorf("backup to s3:// without credentials: %v %q; want a refusal naming the settings", err, out)
	}

	// Changes after the backup.
	s.put("/dav/lib/after.txt", "added after the backup")
	s.put("/dav/lib/late.txt", "added, then renamed")
	for _, mv := range [][2]string{{"/dav/lib/late.txt", "/dav/lib/late2.txt"}, {"/dav/lib/notes.txt", "/dav/lib/renamed.txt"}} {
		resp, body := s.do("MOVE", mv[0], nil, "Destination", s.url(mv[1]))
		want(t, resp, body, 201)
	}
	resp, body = s.do("DELETE", "/dav/lib/gone.txt", nil)
	want(t, resp, body, 204)
	s.stop()

	// Restored from the bucket into a new data directory, on the same
	// upstream.
	s2 := newServer(t, upArgs...)
	s2.env = upEnv
	s2.data = filepath.Join(t.TempDir(), "restored")
	out, err = runCLIEnv(t, upEnv, append([]string{"restore", "s3://" + up.Bucket + "/manual/", "--data", s2.data}, upArgs...)...)
	if err != nil {
		t.Fatalf("restore s3://: %v\n%s", err, out)
	}
	if !strings.Contains(out, "restoring s3://"+up.Bucket+"/manual/"+backupPrefix) {
		t.Errorf("restore said %q; want it to name the backup it chose", out)
	}
	s2.start()
	t.Cleanup(s2.stop)
	for p, wantBody := range map[string]string{"/dav/lib/forest.jpg": forest, "/dav/lib/after.txt": "added after the backup",
		"/dav/lib/late2.txt": "added, then renamed", "/dav/lib/renamed.txt": "notes"} {
		resp, body := s2.do("GET", p, nil)
		if resp.StatusCode != 200 || string(body) != wantBody {
			t.Errorf("restored server: GET %s = %d, %d bytes; want 200 and the %d bytes written", p, resp.StatusCode, len(body), len(wantBody))
		}
	}
	for _, p := range []string{"/dav/lib/late.txt", "/dav/lib/notes.txt", "/dav/lib/gone.txt"} {
		if resp, _ := s2.do("HEAD", p, nil); resp.StatusCode != 404 {
			t.Errorf("restored server: HEAD %s = %d; want 404 (renamed or deleted after the backup)", p, resp.StatusCode)
		}
	}
	if got := s2.names(t, "/dav/albums/"); !slices.Equal(got, []string{"Trip/"}) {
		t.Errorf("restored albums %q; want [Trip/]", got)
	}
	waitUntil(t, 3*time.Minute, "album Trip to hold forest.jpg", func() bool {
		return slices.Equal(s2.names(t, "/dav/albums/Trip/"), []string{"forest.jpg"})
	})
	if !strings.Contains(s2.logs(), "files written upstream since the backup are back") {
		t.Errorf("the restored server did not log the files it brought back")
	}
	s2.stop()

	// The newest scheduled backup restores too (s3:// of their prefix).
	out, err = runCLIEnv(t, upEnv, append([]string{"restore", "s3://" + up.Bucket + "/sb/backups/", "--data", filepath.Join(t.TempDir(), "sched")}, upArgs...)...)
	if err != nil {
		t.Fatalf("restore of the newest scheduled backup: %v\n%s", err, out)
	}
	if !strings.Contains(out, "restoring s3://"+up.Bucket+"/sb/backups/"+backupPrefix) {
		t.Errorf("restore said %q; want it to name the scheduled backup it chose", out)
	}
}
