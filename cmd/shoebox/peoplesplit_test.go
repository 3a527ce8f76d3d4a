package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPeopleSplitAndReindex makes a person with MKCOL in /by-person and
// moves a photo into it (from the person folder it was grouped into, else
// from its bucket) with rclone: every copy of the photo (same bytes,
// another name) is in the new person and out of the old one. The person
// and its photos stay through a restart, and through an offline
// `shoebox reindex` (which regroups at its end).
func TestPeopleSplitAndReindex(t *testing.T) {
	needTool(t, "rclone")
	s := newServer(t)
	installFaceModels(t, "--data", s.data)
	s.start()
	t.Cleanup(s.stop)
	env := rcloneEnv(s, "owncloud")
	images := "../../../shared/testdata/faces/images/"
	rclone(t, env, "mkdir", "sb:faces")
	for _, f := range []string{"bona.jpg", "bona2.jpg", "bona3.jpg", "jimin.jpg", "jimin2.jpg", "jimin3.jpg", "jimin4.jpg"} {
		rclone(t, env, "copyto", images+f, "sb:faces/"+f)
	}
	rclone(t, env, "copyto", images+"jimin2.jpg", "sb:faces/copy/jimin2 again.jpg")
	s.waitQueue(t, 5*time.Minute)
	waitUntil(t, 3*time.Minute, "a grouping pass", func() bool { return strings.Contains(s.logs(), "grouped faces into people") })

	photosOf := func(folder string) []string {
		return slices.DeleteFunc(s.names(t, "/dav/by-person/"+escapePath(folder)+"/"), func(n string) bool { return n == ".folder.jpg" })
	}
	// The person folder jimin2.jpg was grouped into, if any.
	from := ""
	for _, f := range s.names(t, "/dav/by-person/") {
		if slices.Contains(photosOf(strings.TrimSuffix(f, "/")), "jimin2.jpg") {
			from = strings.TrimSuffix(f, "/")
		}
	}
	t.Logf("jimin2.jpg was in %q", from)

	rclone(t, env, "mkdir", "sb:by-person/Jimin")
	if got := s.names(t, "/dav/by-person/"); !slices.Contains(got, "Jimin/") {
		t.Fatalf("/by-person/ = %q after MKCOL; want the new, empty, Jimin/", got)
	}
	if from != "" {
		rclone(t, env, "moveto", "sb:by-person/"+from+"/jimin2.jpg", "sb:by-person/Jimin/jimin2.jpg")
	} else {
		resp, body := s.do("COPY", "/dav/faces/jimin2.jpg", nil, "Destination", s.url("/dav/by-person/Jimin/jimin2.jpg"))
		want(t, resp, body, 201)
	}
	resp, body := s.do("HEAD", "/dav/faces/jimin2.jpg", nil)
	want(t, resp, body, 200) // the photo stays where it was
	check := func(when string) {
		t.Helper()
		if got := photosOf("Jimin"); !slices.Contains(got, "jimin2.jpg") || !slices.Contains(got, "jimin2 again.jpg") {
			t.Errorf("%s: Jimin = %q; want both copies of jimin2.jpg", when, got)
		}
		if from == "" {
			return
		}
		if got := s.names(t, "/dav/by-person/"); slices.Contains(got, from+"/") {
			if got := photosOf(from); slices.Contains(got, "jimin2.jpg") || slices.Contains(got, "jimin2 again.jpg") {
				t.Errorf("%s: %s = %q; want no copy of jimin2.jpg", when, from, got)
			}
		}
	}
	check("after the split")
	resp, body = s.do("MKCOL", "/dav/by-person/Jimin/", nil)
	if resp.StatusCode != 405 {
		t.Errorf("MKCOL of an existing person: %d %s; want 405", resp.StatusCode, body)
	}

	s.restart()
	check("after a restart")
	folders := len(s.names(t, "/dav/by-person/"))

	// Offline reindex: faces are found again and regrouped before the
	// server starts, so /by-person is not empty.
	s.stop()
	if out, err := runCLI(t, "", "reindex", "--quiet", "--data", s.data); err != nil {
		t.Fatalf("reindex: %v\n%s", err, out)
	}
	s.start()
	if got := s.names(t, "/dav/by-person/"); len(got) < folders {
		t.Errorf("/by-person/ after reindex = %q; want the %d folders there were", got, folders)
	}
	check("after an offline reindex")
}
