package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestOverwriteKeepsVersion: a sync app overwriting a photo with other
// bytes does not destroy it: the previous content is in /trash as
// "NAME (replaced DATE UTC).jpg", and a MOVE out of the trash brings it
// back (keeping the content it replaces, in turn).
func TestOverwriteKeepsVersion(t *testing.T) {
	s := startServer(t)
	orig, err := os.ReadFile(filepath.Join(sharedMedia, "canon_eos.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	s.mkcol("/dav/bkt")
	s.put("/dav/bkt/photo.jpg", string(orig))
	s.put("/dav/bkt/photo.jpg", "a broken upload")
	s.put("/dav/bkt/notes.txt", "one")
	s.put("/dav/bkt/notes.txt", "two") // not a photo: no version (versions: media)
	names := s.names(t, "/dav/trash/")
	if len(names) != 1 || !strings.HasPrefix(names[0], "photo (replaced ") || !strings.HasSuffix(names[0], " UTC).jpg") {
		t.Fatalf("/trash/ = %q; want one version of photo.jpg", names)
	}
	if got := s.get("/dav/trash/" + names[0]); got != string(orig) {
		t.Errorf("the version holds %d bytes; want the original's %d", len(got), len(orig))
	}
	resp, body := s.do("MOVE", "/dav/trash/"+names[0], nil, "Destination", s.url("/dav/bkt/photo.jpg"))
	if resp.StatusCode != 201 && resp.StatusCode != 204 {
		t.Fatalf("MOVE the version back: %d %s", resp.StatusCode, body)
	}
	if got := s.get("/dav/bkt/photo.jpg"); got != string(orig) {
		t.Errorf("after the restore photo.jpg has %d bytes; want the original's %d", len(got), len(orig))
	}
	names = s.names(t, "/dav/trash/")
	if len(names) != 1 || s.get("/dav/trash/"+names[0]) != "a broken upload" {
		t.Errorf("/trash/ after the restore = %q; want the content it replaced", names)
	}

	// The trash is internal: `bucket list` (run against the running
	// server) never shows it.
	if out, err := runCLI(t, "", "bucket", "list", "admin", "--data", s.data); err != nil || !regexp.MustCompile(`(?m)^bkt\s`).MatchString(out) || strings.Contains(out, ".trash") {
		t.Errorf("bucket list admin: %v\n%s\nwant bucket bkt and no .trash", err, out)
	}

	// versions: off keeps nothing.
	s.stop()
	s.args = append(s.args, "--versions", "off")
	s.start()
	s.put("/dav/bkt/photo.jpg", "overwritten for good")
	if got := s.names(t, "/dav/trash/"); len(got) != 1 {
		t.Errorf("/trash/ with versions off = %q; want only the earlier version", got)
	}
	if out, err := runCLI(t, "", "serve", "--data", t.TempDir(), "--versions", "sometimes"); err == nil || !strings.Contains(out, "versions") {
		t.Errorf("serve --versions sometimes: %v\n%s\nwant a clear refusal naming the setting", err, out)
	}
}
