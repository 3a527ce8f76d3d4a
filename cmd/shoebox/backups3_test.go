package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// TestBackupDuringPersonRenames: a person's folder is renamed again and
// again through WebDAV while backups are taken from the live server. Each
// backup, restored and served, shows the person under exactly one of the
// names it had — one acknowledged before the backup started or one asked
// for while it ran (a rename is in or out, never torn) — holding the same
// photos, with no second folder for them.
func TestBackupDuringPersonRenames(t *testing.T) {
	s := serverWithFaces(t)
	var first string
	var photos []string
	waitUntil(t, 3*time.Minute, "a person folder with two photos or more", func() bool {
		for _, f := range s.names(t, "/dav/by-person/") {
			f = strings.TrimSuffix(f, "/")
			if p := photosOf(t, s, f); len(p) >= 2 {
				first, photos = f, p
				return true
			}
		}
		return false
	})

	// The renamer: names[i] is the folder's name after i acknowledged
	// renames; asked counts the renames sent.
	var mu sync.Mutex
	names := []string{first}
	asked := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			cur := names[len(names)-1]
			asked++
			mu.Unlock()
			next := fmt.Sprintf("Name %03d", i)
			resp, body := s.do("MOVE", "/dav/by-person/"+escapePath(cur)+"/", nil, "Destination", s.url("/dav/by-person/"+escapePath(next)+"/"))
			if resp.StatusCode != 201 {
				t.Errorf("rename %s to %s: %d %s", cur, next, resp.StatusCode, body)
				return
			}
			mu.Lock()
			names = append(names, next)
			mu.Unlock()
		}
	}()
	type taken struct {
		file   string
		lo, hi int // names[lo:hi+1] may be in it
	}
	var backups []taken
	for b := range 2 {
		waitUntil(t, 2*time.Minute, "renames under way", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(names) > 3*(b+1)
		})
		mu.Lock()
		lo := len(names) - 1
		mu.Unlock()
		file := filepath.Join(t.TempDir(), "b.sbk")
		if out, err := runCLI(t, "", "backup", "--to", file, "--data", s.data); err != nil {
			t.Fatalf("backup: %v\n%s", err, out)
		}
		mu.Lock()
		hi := asked
		mu.Unlock()
		backups = append(backups, taken{file, lo, hi})
	}
	close(stop)
	<-done
	s.stop()
	mu.Lock()
	all := slices.Clone(names)
	mu.Unlock()

	for i, b := range backups {
		s2 := newServer(t, "--models", faceModelsDir())
		s2.data = filepath.Join(t.TempDir(), "restored")
		if out, err := runCLI(t, "", "restore", b.file, "--data", s2.data); err != nil {
			t.Fatalf("restore: %v\n%s", err, out)
		}
		copyTree(t, filepath.Join(s.data, "objects"), filepath.Join(s2.data, "objects"))
		copyTree(t, filepath.Join(s.data, "derived"), filepath.Join(s2.data, "derived"))
		s2.start()
		folders := s2.names(t, "/dav/by-person/")
		var found []string
		for _, f := range folders {
			f = strings.TrimSuffix(f, "/")
			if j := slices.Index(all, f); j >= 0 {
				found = append(found, f)
				if j < b.lo || j > b.hi {
					t.Errorf("backup %d: the person is %q, rename %d; want one of renames %d to %d (in or out of the backup)", i, f, j, b.lo, b.hi)
				}
				if got := photosOf(t, s2, f); !slices.Equal(got, photos) {
					t.Errorf("backup %d: %q holds %q; want %q", i, f, got, photos)
				}
			}
		}
		t.Logf("backup %d, taken while renames %d to %d were under way: restored as %q", i, b.lo, b.hi, found)
		if len(found) != 1 {
			t.Errorf("backup %d: person folders %q; want the person under exactly one of its names", i, folders)
		}
		s2.stop()
	}
}

// TestBackupToSetting: backup_to is checked at start: upstream needs an
// upstream bucket, an s3:// URL needs a bucket, and a folder beside a
// different backup_dir is ambiguous; each refusal names the setting.
func TestBackupToSetting(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the error; "" for none
	}{
		{[]string{"--backup-to", "upstream"}, "backup-to=upstream: the originals are on local disk"},
		{[]string{"--backup-to", "upstream", "--upstream-bucket", "b"}, ""},
		{[]string{"--backup-to", "s3://"}, "want s3://BUCKET/KEY"},
		{[]string{"--backup-to", "s3://bucket/backups/"}, ""},
		{[]string{"--backup-to", "/mnt/a", "--backup-dir", "/mnt/b"}, "both say where scheduled backups go"},
		{[]string{"--backup-to", "/mnt/a", "--backup-dir", "/mnt/a"}, ""},
	} {
		_, err := parseConfig(flag.NewFlagSet("t", flag.ContinueOnError), append([]string{"--data", t.TempDir()}, tc.args...), cmdSpec{uses: gAll})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v; want it accepted", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v; want an error saying %q", tc.args, err, tc.want)
		}
	}
	for _, tc := range []struct {
		url, bucket, key string
		folder           bool
	}{{"s3://b", "b", "", true}, {"s3://b/", "b", "", true}, {"s3://b/x/", "b", "x/", true}, {"s3://b/x/y.sbk", "b", "x/y.sbk", false}} {
		loc, ok, err := parseS3URL(tc.url)
		if !ok || err != nil || loc.bucket != tc.bucket || loc.key != tc.key || loc.isFolder() != tc.folder {
			t.Errorf("parseS3URL(%q) = %+v, %v, %v; want bucket %q key %q folder %v", tc.url, loc, ok, err, tc.bucket, tc.key, tc.folder)
		}
	}
	if _, ok, _ := parseS3URL("/srv/backups"); ok {
		t.Errorf("a folder parsed as an s3:// URL")
	}
}
