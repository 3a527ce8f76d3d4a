package main

import (
	"bytes"
	"image/jpeg"
	"regexp"
	"strings"
	"testing"
)

// ncFileID reads oc:fileid of p (under /remote.php/dav/files/admin/).
func ncFileID(t *testing.T, s *server, p string) string {
	t.Helper()
	resp, body := s.do("PROPFIND", "/remote.php/dav/files/admin/"+p, strings.NewReader(
		`<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/></d:prop></d:propfind>`),
		"Depth", "0")
	want(t, resp, body, 207)
	m := regexp.MustCompile(`<[a-z]*:?fileid[^>]*>([0-9]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no oc:fileid of %s in %s", p, body)
	}
	return m[1]
}

// TestNextcloudPreview: the apps' grid thumbnails by file id (through a
// move) and by path, sized as asked, cacheable, 404 for a file without one
// and for another user's file id.
func TestNextcloudPreview(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/pics")
	s.put("/dav/pics/a.jpg", string(photoJPEG(t, 1600, 1200, 3)))
	s.put("/dav/pics/notes.txt", "not a photo")
	s.waitDone(t, "pics/a.jpg")
	id, txt := ncFileID(t, s, "pics/a.jpg"), ncFileID(t, s, "pics/notes.txt")

	jpegOf := func(p string, maxSide int) string {
		t.Helper()
		resp, body := s.do("GET", p, nil)
		want(t, resp, body, 200)
		cfg, err := jpeg.DecodeConfig(bytes.NewReader([]byte(body)))
		if err != nil || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("GET %s: %s, %v; want a JPEG", p, resp.Header.Get("Content-Type"), err)
		}
		if side := max(cfg.Width, cfg.Height); side > maxSide || side < maxSide/2 {
			t.Errorf("GET %s: %dx%d; want the longest side about %d", p, cfg.Width, cfg.Height, maxSide)
		}
		if resp.Header.Get("ETag") == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
			t.Errorf("GET %s: ETag %q, Cache-Control %q; want both", p, resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
		}
		return resp.Header.Get("ETag")
	}
	etag := jpegOf("/index.php/core/preview?fileId="+id+"&x=250&y=250&a=1&mode=cover&forceIcon=0", 256)
	jpegOf("/index.php/core/preview?fileId="+id+"&x=1024&y=1024&a=1", 1440)
	jpegOf("/index.php/core/preview.png?file=/pics/a.jpg&x=64&y=64", 256)
	jpegOf("/core/preview.png?file=%2Fpics%2Fa.jpg&x=2000&y=2000", 1440)
	if resp, _ := s.do("GET", "/index.php/core/preview?fileId="+id+"&x=250&y=250", nil, "If-None-Match", etag); resp.StatusCode != 304 {
		t.Errorf("preview with If-None-Match: %d; want 304", resp.StatusCode)
	}

	// The file id follows the file; the old path has none.
	s.mkcol("/dav/pics/moved")
	resp, body := s.do("MOVE", "/dav/pics/a.jpg", nil, "Destination", s.url("/dav/pics/moved/b.jpg"))
	want(t, resp, body, 201)
	jpegOf("/index.php/core/preview?fileId="+id+"&x=250&y=250&a=1", 256)
	jpegOf("/index.php/core/preview.png?file=/pics/moved/b.jpg&x=64&y=64", 256)

	for _, p := range []string{
		"/index.php/core/preview.png?file=/pics/a.jpg&x=64&y=64", // moved away
		"/index.php/core/preview?fileId=" + txt + "&x=64&y=64",   // not a photo
		"/index.php/core/preview?fileId=999999999&x=64&y=64",     // no such id
		"/index.php/core/preview.png?file=/pics&x=64&y=64",       // a folder
	} {
		if resp, body := s.do("GET", p, nil); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d %.80s; want 404", p, resp.StatusCode, body)
		}
	}
	if resp, _ := s.doAs("", "", "GET", "/index.php/core/preview?fileId="+id+"&x=64&y=64", nil); resp.StatusCode != 401 {
		t.Errorf("preview without credentials: %d; want 401", resp.StatusCode)
	}
	// Another user asking for admin's file id gets nothing.
	if out, err := runCLI(t, "bob-password\n", "user", "add", "bob", "--password-stdin", "--data", s.data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if resp, body := s.doAs("bob", "bob-password", "GET", "/index.php/core/preview?fileId="+id+"&x=64&y=64", nil); resp.StatusCode != 404 {
		t.Errorf("bob asking for admin's file id: %d %.80s; want 404", resp.StatusCode, body)
	}
}
