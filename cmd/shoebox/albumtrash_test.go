package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAlbumNamesTrashPropertiesAndTimes: an album lists the file that was
// put into it under that file's own name, not another file with the same
// bytes; files in virtual folders carry their capture time as
// modification time (rclone and PROPFIND see it, GET's Last-Modified
// agrees); a /trash entry carries its original location and deletion
// time as WebDAV properties (allprop and by name, read with curl) and in
// the API.
func TestAlbumNamesTrashPropertiesAndTimes(t *testing.T) {
	needTool(t, "rclone")
	needTool(t, "curl")
	s := startServer(t)
	env := append(rcloneEnv(s, "owncloud"), "TZ=UTC")
	rclone(t, env, "mkdir", "sb:lib")
	canon := filepath.Join(sharedMedia, "canon_eos.jpg")
	// Two files with the same bytes; the album gets the second.
	rclone(t, env, "copyto", canon, "sb:lib/a/canon_eos.jpg")
	rclone(t, env, "copyto", canon, "sb:lib/b/Paris tower.jpg")
	s.waitQueue(t, 3*time.Minute)

	rclone(t, env, "mkdir", "sb:albums/Paris")
	rclone(t, env, "copyto", "sb:lib/b/Paris tower.jpg", "sb:albums/Paris/Paris tower.jpg")
	if got := strings.Split(strings.TrimSpace(rclone(t, env, "lsf", "sb:albums/Paris")), "\n"); !slices.Equal(got, []string{"Paris tower.jpg"}) {
		t.Errorf("album = %q; want the file put in, under its name [Paris tower.jpg]", got)
	}
	// It follows the file when the file is renamed.
	rclone(t, env, "moveto", "sb:lib/b/Paris tower.jpg", "sb:lib/b/Tour Eiffel.jpg")
	if got := strings.Split(strings.TrimSpace(rclone(t, env, "lsf", "sb:albums/Paris")), "\n"); !slices.Equal(got, []string{"Tour Eiffel.jpg"}) {
		t.Errorf("album after the file's rename = %q; want [Tour Eiffel.jpg]", got)
	}

	// Capture time (2019-06-12 14:03:22 +02:00) as modification time.
	const taken = "2019-06-12 12:03:22"
	day := "sb:by-date/2019/2019-06/2019-06-12/"
	lsl := rclone(t, env, "lsl", day)
	for _, name := range []string{"canon_eos.jpg", "Tour Eiffel.jpg"} {
		if !regexp.MustCompile(regexp.QuoteMeta(taken) + `\.0+ ` + regexp.QuoteMeta(name)).MatchString(lsl) {
			t.Errorf("rclone lsl %s:\n%s\nwant %s at %s", day, lsl, name, taken)
		}
	}
	if got := rclone(t, env, "lsl", "sb:albums/Paris"); !strings.Contains(got, taken) {
		t.Errorf("rclone lsl of the album: %s; want the capture time %s", got, taken)
	}
	if got := rclone(t, env, "lsl", "sb:lib/a"); strings.Contains(got, taken) {
		t.Errorf("rclone lsl of the bucket: %s; the original keeps its own time, not %s", got, taken)
	}
	resp, body := s.do("HEAD", "/dav/by-date/2019/2019-06/2019-06-12/canon_eos.jpg", nil)
	if want(t, resp, body, 200); resp.Header.Get("Last-Modified") != "Wed, 12 Jun 2019 12:03:22 GMT" {
		t.Errorf("Last-Modified = %q; want the capture time", resp.Header.Get("Last-Modified"))
	}

	// The trash: where an entry was, and when it was deleted.
	before := time.Now().UTC().Add(-time.Second).Truncate(time.Second)
	rclone(t, env, "deletefile", "sb:lib/a/canon_eos.jpg")
	after := time.Now().UTC().Add(time.Second)
	r := s.curl(t, "PROPFIND", "/dav/trash/", "", "Depth", "1")
	r.want(t, "PROPFIND /trash/ (allprop)", 207)
	loc := regexp.MustCompile(`<sb:original-location xmlns:sb="https://shoebox.dev/ns">([^<]*)</sb:original-location>`).FindStringSubmatch(r.body)
	at := regexp.MustCompile(`<sb:deleted-at xmlns:sb="https://shoebox.dev/ns">([^<]*)</sb:deleted-at>`).FindStringSubmatch(r.body)
	if loc == nil || loc[1] != "lib/a/canon_eos.jpg" || at == nil {
		t.Fatalf("PROPFIND /trash/ = %s\nwant sb:original-location lib/a/canon_eos.jpg and sb:deleted-at", r.body)
	}
	if when, err := time.Parse(time.RFC3339, at[1]); err != nil || when.Before(before) || when.After(after) {
		t.Errorf("sb:deleted-at = %s (%v); want between %s and %s", at[1], err, before, after)
	}
	dir := t.TempDir()
	body = `<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:nc="http://nextcloud.org/ns"><d:prop>` +
		`<nc:trashbin-original-location/><nc:trashbin-deletion-time/></d:prop></d:propfind>`
	if err := os.WriteFile(filepath.Join(dir, "q.xml"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.curl(t, "PROPFIND", "/dav/trash/canon_eos.jpg", filepath.Join(dir, "q.xml"), "Depth", "0", "Content-Type", "application/xml")
	r.want(t, "PROPFIND of a trash entry (by name)", 207)
	if !strings.Contains(r.body, ">lib/a/canon_eos.jpg</trashbin-original-location>") || !strings.Contains(r.body, "trashbin-deletion-time") || strings.Contains(r.body, "404 Not Found") {
		t.Errorf("named PROPFIND of a trash entry = %s", r.body)
	}
	var api struct {
		Items []apiTrashItem `json:"items"`
	}
	r = s.curl(t, "GET", "/api/v1/trash", "")
	r.want(t, "GET /api/v1/trash", 200)
	if err := json.Unmarshal([]byte(r.body), &api); err != nil || len(api.Items) != 1 || api.Items[0].OriginalLocation != "lib/a/canon_eos.jpg" || api.Items[0].DeletedAt != at[1] {
		t.Errorf("GET /api/v1/trash = %s (%v); want the item at lib/a/canon_eos.jpg deleted at %s", r.body, err, at[1])
	}
}
