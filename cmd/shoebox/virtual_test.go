package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const sharedMedia = "../../../shared/testdata/media"

type mediaManifest struct {
	Files              map[string]map[string]any `json:"files"`
	ExactDuplicates    [][]string                `json:"exact_duplicates"`
	NearDuplicateGroup [][]string                `json:"near_duplicate_groups"`
	NotDuplicates      [][]string                `json:"not_duplicates"`
}

func readMediaManifest(t *testing.T) mediaManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedMedia, "manifest.json"))
	if err != nil {
		t.Fatalf("the shared test media are needed: %v", err)
	}
	var m mediaManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var hrefRE = regexp.MustCompile(`<D:href>([^<]*)</D:href>`)

// names lists a folder with PROPFIND Depth 1: the names of its children
// (folders end in '/').
func (s *server) names(t *testing.T, p string) []string {
	t.Helper()
	resp, body := s.do("PROPFIND", p, nil, "Depth", "1")
	want(t, resp, body, 207)
	var out []string
	for i, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		if i == 0 {
			continue // the folder itself
		}
		h := strings.TrimPrefix(m[1], p)
		h = strings.ReplaceAll(h, "&amp;", "&")
		if u, err := urlUnescape(h); err == nil {
			h = u
		}
		out = append(out, h)
	}
	return out
}

// TestVirtualFolders uploads the shared media and browses the library as
// folders: every file in the day folder its manifest names, the
// near-duplicate group exactly as listed, downloads equal to the
// originals, albums made, filled, renamed and removed with rclone and
// plain WebDAV, read-only folders refusing writes, and deduplication by
// deleting a copy.
func TestVirtualFolders(t *testing.T) {
	needTool(t, "rclone")
	man := readMediaManifest(t)
	s := startServer(t)
	env := rcloneEnv(s, "owncloud")
	rclone(t, env, "mkdir", "sb:lib")
	rclone(t, env, "copy", sharedMedia, "sb:lib/media")
	s.waitQueue(t, 3*time.Minute)

	// Day folders.
	for name, f := range man.Files {
		day, _ := f["date_folder"].(string)
		if day == "" {
			continue
		}
		dir := "/dav/by-date/" + day[:4] + "/" + day[:7] + "/" + day + "/"
		if got := s.names(t, dir); !slices.Contains(got, name) {
			t.Errorf("%s lists %q; want %s in it", dir, got, name)
		}
	}
	if got := s.names(t, "/dav/by-date/"); !slices.Contains(got, "2016/") || !slices.Contains(got, "2019/") {
		t.Errorf("/by-date/ = %q", got)
	}
	if got := s.names(t, "/dav/by-date/2016/"); !slices.Equal(got, []string{"2016-08/"}) {
		t.Errorf("/by-date/2016/ = %q; want [2016-08/]", got)
	}
	// The same bytes as the original, Range included.
	orig, err := os.ReadFile(filepath.Join(sharedMedia, "forest.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if got := rclone(t, env, "cat", "sb:by-date/2016/2016-08/2016-08-20/forest.jpg"); got != string(orig) {
		t.Errorf("forest.jpg from /by-date: %d bytes, differ from the original's %d", len(got), len(orig))
	}
	resp, body := s.do("GET", "/dav/by-date/2016/2016-08/2016-08-20/forest.jpg", nil, "Range", "bytes=10-19")
	if want(t, resp, body, 206); body != string(orig[10:20]) || resp.Header.Get("ETag") == "" {
		t.Errorf("Range GET = %q; want %q", body, orig[10:20])
	}
	if got := s.names(t, "/dav/by-camera/"); !slices.Contains(got, "Canon EOS 5D Mark IV/") || !slices.Contains(got, "Apple iPhone 14/") {
		t.Errorf("/by-camera/ = %q", got)
	}

	// Duplicates: one group, exactly the listed files.
	groups := s.names(t, "/dav/duplicates/")
	if len(groups) != 1 || !strings.Contains(groups[0], "beach_original.jpg (5 copies)") || !strings.HasPrefix(groups[0], "2016-08-20 ") {
		t.Fatalf("/duplicates/ = %q; want one group, 2016-08-20 beach_original.jpg (5 copies)", groups)
	}
	members := s.names(t, "/dav/duplicates/"+escapePath(groups[0]))
	wantMembers := slices.Clone(man.NearDuplicateGroup[0])
	slices.Sort(wantMembers)
	if !slices.Equal(members, wantMembers) {
		t.Errorf("group holds %q; want %q", members, wantMembers)
	}

	// Read-only folders refuse writes, saying why, but take locks (Finder
	// and Windows lock before they read).
	resp, body = s.do("LOCK", "/dav/by-date/2016/2016-08/2016-08-20/forest.jpg", strings.NewReader(
		`<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`),
		"Depth", "0")
	want(t, resp, body, 200)
	resp, body = s.do("UNLOCK", "/dav/by-date/2016/2016-08/2016-08-20/forest.jpg", nil, "Lock-Token", resp.Header.Get("Lock-Token"))
	want(t, resp, body, 204)
	resp, body = s.do("PUT", "/dav/by-date/2016/x.jpg", strings.NewReader("x"))
	if resp.StatusCode != 403 || !strings.Contains(body, "virtual") {
		t.Errorf("PUT in /by-date: %d %q; want 403 saying why", resp.StatusCode, body)
	}
	resp, body = s.do("MKCOL", "/dav/by-camera/new", nil)
	if resp.StatusCode != 403 {
		t.Errorf("MKCOL in /by-camera: %d %q; want 403", resp.StatusCode, body)
	}
	resp, body = s.do("DELETE", "/dav/by-date/2016/2016-08/2016-08-20/forest.jpg", nil)
	if resp.StatusCode != 403 {
		t.Errorf("DELETE in /by-date: %d %q; want 403", resp.StatusCode, body)
	}

	// Albums: made with rclone, filled by COPY and by PUT of the same bytes.
	rclone(t, env, "mkdir", "sb:albums/Paris")
	rclone(t, env, "copyto", "sb:lib/media/canon_eos.jpg", "sb:albums/Paris/canon_eos.jpg")
	resp, body = s.do("COPY", "/dav/by-date/2016/2016-08/2016-08-20/forest.jpg", nil, "Destination", s.url("/dav/albums/Paris/forest.jpg"))
	want(t, resp, body, 201)
	s.put("/dav/albums/Paris/clip.mp4", string(mustRead(t, filepath.Join(sharedMedia, "clip.mp4"))))
	if got := strings.Fields(rclone(t, env, "lsf", "sb:albums/Paris")); !slices.Equal(got, []string{"canon_eos.jpg", "clip.mp4", "forest.jpg"}) {
		t.Errorf("album = %q", got)
	}
	resp, body = s.do("PUT", "/dav/albums/Paris/new.jpg", strings.NewReader("bytes the library does not have"))
	if resp.StatusCode != 403 {
		t.Errorf("PUT of unknown bytes into an album: %d %q; want 403", resp.StatusCode, body)
	}
	// Removing from the album leaves the photo.
	rclone(t, env, "deletefile", "sb:albums/Paris/forest.jpg")
	if got := s.names(t, "/dav/albums/Paris/"); slices.Contains(got, "forest.jpg") {
		t.Errorf("album after DELETE = %q", got)
	}
	resp, body = s.do("HEAD", "/dav/lib/media/forest.jpg", nil)
	want(t, resp, body, 200)
	// Rename, then delete the album: photos stay.
	rclone(t, env, "moveto", "sb:albums/Paris", "sb:albums/Paris 2019")
	if got := s.names(t, "/dav/albums/"); !slices.Equal(got, []string{"Paris 2019/"}) {
		t.Errorf("albums = %q", got)
	}
	rclone(t, env, "purge", "sb:albums/Paris 2019")
	if got := s.names(t, "/dav/albums/"); len(got) != 0 {
		t.Errorf("albums after purge = %q", got)
	}
	resp, body = s.do("HEAD", "/dav/lib/media/canon_eos.jpg", nil)
	want(t, resp, body, 200)

	// Deduplicating: deleting a copy in /duplicates deletes that file.
	rclone(t, env, "deletefile", "sb:duplicates/"+groups[0]+"beach_resized.jpg")
	resp, body = s.do("HEAD", "/dav/lib/media/beach_resized.jpg", nil)
	want(t, resp, body, 404)
	if g := s.names(t, "/dav/duplicates/"); len(g) != 1 || !strings.Contains(g[0], "(4 copies)") {
		t.Errorf("/duplicates/ after deleting a copy = %q; want the group of 4", g)
	}

	// It is in the trash, out of every listing; MOVE restores it.
	if got := s.names(t, "/dav/trash/"); !slices.Equal(got, []string{"beach_resized.jpg"}) {
		t.Errorf("/trash/ = %q; want the deleted copy", got)
	}
	if got := s.names(t, "/dav/by-date/2016/2016-08/2016-08-20/"); slices.Contains(got, "beach_resized.jpg") {
		t.Errorf("a trashed file is still in its day folder: %q", got)
	}
	if got := s.names(t, "/dav/"); slices.Contains(got, ".trash/") {
		t.Errorf("the trash bucket shows: %q", got)
	}
	rclone(t, env, "moveto", "sb:trash/beach_resized.jpg", "sb:lib/media/beach_resized.jpg")
	resized := mustRead(t, filepath.Join(sharedMedia, "beach_resized.jpg"))
	if got := s.get("/dav/lib/media/beach_resized.jpg"); got != string(resized) {
		t.Errorf("restored file: %d bytes, differ from the original's %d", len(got), len(resized))
	}
	if got := s.names(t, "/dav/by-date/2016/2016-08/2016-08-20/"); !slices.Contains(got, "beach_resized.jpg") {
		t.Errorf("the restored file is not back in its day folder: %q", got)
	}
	if g := s.names(t, "/dav/duplicates/"); len(g) != 1 || !strings.Contains(g[0], "(5 copies)") {
		t.Errorf("/duplicates/ after the restore = %q; want the group of 5 again", g)
	}
	if got := s.names(t, "/dav/trash/"); len(got) != 0 {
		t.Errorf("/trash/ after the restore = %q", got)
	}

	// A folder holding photos goes to the trash whole; other files are
	// deleted at once. DELETE in /trash purges.
	s.mkcol("/dav/lib/old")
	s.put("/dav/lib/old/a.jpg", string(mustRead(t, filepath.Join(sharedMedia, "canon_eos.jpg"))))
	s.put("/dav/lib/notes.txt", "not a photo")
	s.waitQueue(t, 2*time.Minute)
	resp, body = s.do("DELETE", "/dav/lib/old/", nil)
	want(t, resp, body, 204)
	resp, body = s.do("DELETE", "/dav/lib/notes.txt", nil)
	want(t, resp, body, 204)
	if got := s.names(t, "/dav/trash/"); !slices.Equal(got, []string{"old/"}) {
		t.Errorf("/trash/ = %q; want the folder only", got)
	}
	if got := s.names(t, "/dav/trash/old/"); !slices.Equal(got, []string{"a.jpg"}) {
		t.Errorf("/trash/old/ = %q", got)
	}
	resp, body = s.do("DELETE", "/dav/trash/old/", nil)
	want(t, resp, body, 204)
	if got := s.names(t, "/dav/trash/"); len(got) != 0 {
		t.Errorf("/trash/ after the purge = %q", got)
	}
}

func urlUnescape(s string) (string, error) { return url.PathUnescape(s) }

// escapePath escapes each segment of a path for a URL.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
