package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// copyTree copies the folder src to dst, keeping modification times.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(to, 0o750)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, b, 0o640); err != nil {
			return err
		}
		return os.Chtimes(to, info.ModTime(), info.ModTime())
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

// s3Head is a signed S3 HEAD of bucket/key with the access key.
func s3Head(s *server, id, secret, bucket, key string) error {
	cl := s3.New(s3.Options{BaseEndpoint: aws.String(s.s3url()), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	_, err := cl.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err
}

// TestBackupWhileServing: a backup is taken through the running server
// while uploads and album edits go on; restored into a new data directory
// whose originals are a copy of the old one's, the server lists every file
// and album acknowledged before the backup started, the album's members,
// a second user and the S3 key (which still signs), catalogs a file added
// after the backup, and makes the missing thumbnails again.
func TestBackupWhileServing(t *testing.T) {
	s := startServer(t)
	if out, err := runCLI(t, "bob-password\n", "user", "add", "bob", "--password-stdin", "--data", s.data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	id, secret := s3Keys(t, s)
	s.mkcol("/dav/lib")
	photos := []string{"forest.jpg", "canon_eos.jpg"}
	for _, p := range photos {
		s.put("/dav/lib/"+p, string(mustRead(t, filepath.Join(sharedMedia, p))))
	}
	s.mkcol("/dav/albums/Trip")
	resp, body := s.do("COPY", "/dav/lib/forest.jpg", nil, "Destination", s.url("/dav/albums/Trip/forest.jpg"))
	want(t, resp, body, 201)
	s.waitQueue(t, 3*time.Minute)

	// Writers: small uploads and new albums with a photo each, recorded
	// once acknowledged.
	var mu sync.Mutex
	var files, albums []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := fmt.Sprintf("/dav/lib/during/f%04d.txt", i)
			if i == 0 {
				s.do("MKCOL", "/dav/lib/during", nil)
			}
			resp, _ := s.do("PUT", p, strings.NewReader("file "+p))
			if resp.StatusCode == 201 || resp.StatusCode == 204 {
				mu.Lock()
				files = append(files, p)
				mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			a := fmt.Sprintf("A%03d", i)
			if resp, _ := s.do("MKCOL", "/dav/albums/"+a, nil); resp.StatusCode != 201 {
				continue
			}
			if resp, _ := s.do("COPY", "/dav/lib/canon_eos.jpg", nil, "Destination", s.url("/dav/albums/"+a+"/canon_eos.jpg")); resp.StatusCode == 201 {
				mu.Lock()
				albums = append(albums, a)
				mu.Unlock()
			}
		}
	}()
	waitUntil(t, 2*time.Minute, "writers to get going", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(files) >= 5 && len(albums) >= 3
	})
	mu.Lock()
	filesBefore, albumsBefore := slices.Clone(files), slices.Clone(albums)
	mu.Unlock()
	bk := filepath.Join(t.TempDir(), "catalog.sbk")
	out, err := runCLI(t, "", "backup", "--to", bk, "--data", s.data)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	// The writers go on a little after it.
	mu.Lock()
	n := len(files)
	mu.Unlock()
	waitUntil(t, time.Minute, "an upload after the backup", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(files) > n
	})
	close(stop)
	wg.Wait()
	if !strings.Contains(out, "secret.key included") || !strings.Contains(out, "--since ") {
		t.Errorf("backup said %q; want it to say secret.key is included and the next --since", out)
	}
	s.put("/dav/lib/after.txt", "added after the backup")

	// A data directory that is not empty is refused.
	if out, err := runCLI(t, "", "restore", bk, "--data", s.data); err == nil || !strings.Contains(out, "not empty") {
		t.Errorf("restore into the live data directory: %v %q; want a refusal saying it is not empty", err, out)
	}
	s.stop()

	// A new machine: the backup, and a copy of the originals.
	s2 := newServer(t)
	s2.data = filepath.Join(t.TempDir(), "new-data")
	if out, err := runCLI(t, "", "restore", bk, "--data", s2.data); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	copyTree(t, filepath.Join(s.data, "objects"), filepath.Join(s2.data, "objects"))
	s2.start()
	t.Cleanup(s2.stop)

	for _, p := range append(filesBefore, "/dav/lib/forest.jpg", "/dav/lib/canon_eos.jpg", "/dav/lib/after.txt") {
		if resp, body := s2.do("HEAD", p, nil); resp.StatusCode != 200 {
			t.Errorf("restored server: HEAD %s = %d %s; want 200", p, resp.StatusCode, body)
		}
	}
	if got := s2.get("/dav/lib/after.txt"); got != "added after the backup" {
		t.Errorf("after.txt = %q", got)
	}
	gotAlbums := s2.names(t, "/dav/albums/")
	for _, a := range append(albumsBefore, "Trip") {
		if !slices.Contains(gotAlbums, a+"/") {
			t.Errorf("restored albums %q; want %s in them", gotAlbums, a)
		}
	}
	if got := s2.names(t, "/dav/albums/Trip/"); !slices.Equal(got, []string{"forest.jpg"}) {
		t.Errorf("album Trip holds %q; want [forest.jpg]", got)
	}
	if got := s2.names(t, "/dav/albums/"+albumsBefore[0]+"/"); !slices.Equal(got, []string{"canon_eos.jpg"}) {
		t.Errorf("album %s holds %q; want [canon_eos.jpg]", albumsBefore[0], got)
	}
	if resp, body := s2.doAs("bob", "bob-password", "PROPFIND", "/dav/", nil, "Depth", "0"); resp.StatusCode != 207 {
		t.Errorf("bob on the restored server: %d %s; want 207", resp.StatusCode, body)
	}
	if err := s3Head(s2, id, secret, "lib", "forest.jpg"); err != nil {
		t.Errorf("the S3 key on the restored server: %v; want it to sign", err)
	}
	// Thumbnails were not in the backup: made again.
	waitUntil(t, 3*time.Minute, "the photos' thumbnails on the restored server", func() bool {
		for _, p := range photos {
			if resp, _ := s2.do("GET", "/api/v1/objects/lib/"+p+"/thumbnail", nil); resp.StatusCode != 200 {
				return false
			}
		}
		return true
	})
	if _, err := os.Stat(restoredMarker(s2.data)); err == nil {
		t.Errorf("the restore marker is still there after the start")
	}
}

// TestRestoreDeletedCatalog: the catalog deleted by hand comes back from a
// backup restored with --force over the data directory, albums included.
func TestRestoreDeletedCatalog(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/lib")
	s.put("/dav/lib/forest.jpg", string(mustRead(t, filepath.Join(sharedMedia, "forest.jpg"))))
	s.mkcol("/dav/albums/Kept")
	resp, body := s.do("COPY", "/dav/lib/forest.jpg", nil, "Destination", s.url("/dav/albums/Kept/forest.jpg"))
	want(t, resp, body, 201)
	// Through standard output this time.
	bk := filepath.Join(t.TempDir(), "b.sbk")
	f, err := os.Create(bk)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binPath, "backup", "--to", "-", "--data", s.data)
	cmd.Stdout = f
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("backup --to -: %v\n%s", err, stderr.String())
	}
	f.Close()
	s.stop()
	if err := os.RemoveAll(filepath.Join(s.data, "catalog")); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "", "restore", "--force", bk, "--data", s.data); err != nil {
		t.Fatalf("restore --force: %v\n%s", err, out)
	}
	s.start()
	if got := s.names(t, "/dav/albums/"); !slices.Equal(got, []string{"Kept/"}) {
		t.Errorf("albums after the restore = %q; want [Kept/]", got)
	}
	// An album lists enriched photos (by their content's index row): the
	// backup may have been taken before the photo's enrichment was done,
	// which the restored server then does again.
	waitUntil(t, 3*time.Minute, "album Kept to hold forest.jpg", func() bool {
		return slices.Equal(s.names(t, "/dav/albums/Kept/"), []string{"forest.jpg"})
	})
	// A backup cut short is refused, and leaves the catalog as it was.
	s.stop()
	b, _ := os.ReadFile(bk)
	cut := filepath.Join(t.TempDir(), "cut.sbk")
	os.WriteFile(cut, b[:len(b)-10], 0o600)
	if out, err := runCLI(t, "", "restore", "--force", cut, "--data", s.data); err == nil {
		t.Errorf("restore of a cut backup: success %q; want a refusal", out)
	}
	s.start()
	if got := s.names(t, "/dav/albums/"); !slices.Equal(got, []string{"Kept/"}) {
		t.Errorf("albums after a refused restore = %q; want [Kept/]", got)
	}
}

// TestScheduledBackups: the server writes a backup every backup_every into
// backup_dir, keeps the newest backup_keep, logs each and counts them in
// /metrics; a kept one restores, and an incremental backup on top of it
// chains (a gap in the chain is refused).
func TestScheduledBackups(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	s := startServer(t, "--backup-dir", dir, "--backup-every", "300ms", "--backup-keep", "2")
	s.mkcol("/dav/lib")
	s.put("/dav/lib/a.txt", "a")
	waitUntil(t, 2*time.Minute, "four scheduled backups", func() bool {
		return strings.Count(s.logs(), "scheduled backup written") >= 4
	})
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, e := range ents {
		kept = append(kept, e.Name())
	}
	// One more may be on its way (a hidden temporary file) or just written.
	if n := len(slices.DeleteFunc(slices.Clone(kept), func(n string) bool { return strings.HasPrefix(n, ".") })); n < 2 || n > 3 {
		t.Errorf("backup folder holds %q; want the newest 2 (3 while one is being pruned)", kept)
	}
	if m := s.get("/metrics"); !strings.Contains(m, `shoebox_backups_total{result="ok"}`) {
		t.Errorf("/metrics has no shoebox_backups_total")
	}
	s.put("/dav/lib/b.txt", "b")
	inc := filepath.Join(t.TempDir(), "inc.sbk")
	s.stop()
	// The newest whole backup, once no more are taken or pruned (names
	// sort by time; a hidden name is one being written).
	ents, err = os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var whole []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			whole = append(whole, e.Name())
		}
	}
	if len(whole) == 0 {
		t.Fatalf("no whole backup in %s", dir)
	}
	slices.Sort(whole)
	full := filepath.Join(dir, whole[len(whole)-1])
	// Restoring the full backup says where an increment starts.
	out, err := runCLI(t, "", "restore", full, "--data", filepath.Join(t.TempDir(), "probe"))
	if err != nil {
		t.Fatalf("restore of a scheduled backup: %v\n%s", err, out)
	}
	var next string
	if i := strings.Index(out, "--since "); i >= 0 {
		next = strings.Fields(out[i+len("--since "):])[0]
	}
	if next == "" {
		t.Fatalf("restore did not say the next version: %q", out)
	}
	if out, err := runCLI(t, "", "backup", "--to", inc, "--since", next, "--data", s.data); err != nil {
		t.Fatalf("incremental backup: %v\n%s", err, out)
	}
	// A gap: the increment alone is refused.
	if out, err := runCLI(t, "", "restore", inc, "--data", filepath.Join(t.TempDir(), "alone")); err == nil || !strings.Contains(out, "incremental") {
		t.Errorf("restore of an increment alone: %v %q; want a refusal", err, out)
	}
	s2 := newServer(t)
	s2.data = filepath.Join(t.TempDir(), "chained")
	if out, err := runCLI(t, "", "restore", full, inc, "--data", s2.data); err != nil {
		t.Fatalf("restore of the chain: %v\n%s", err, out)
	}
	if err := os.Remove(filepath.Join(s.data, "objects", "admin", "lib", "b.txt")); err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join(s.data, "objects"), filepath.Join(s2.data, "objects"))
	s2.start()
	t.Cleanup(s2.stop)
	if resp, body := s2.do("HEAD", "/dav/lib/a.txt", nil); resp.StatusCode != 200 {
		t.Errorf("a.txt after the chain: %d %s", resp.StatusCode, body)
	}
	// b.txt is in the increment, and its bytes are gone: reconciled away.
	if resp, _ := s2.do("HEAD", "/dav/lib/b.txt", nil); resp.StatusCode != 404 {
		t.Errorf("b.txt, whose bytes are gone: %d; want 404", resp.StatusCode)
	}
}
