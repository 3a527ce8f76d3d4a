package main

import (
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPeople uploads the adults' face photos (faces-extra) through WebDAV
// with the face models installed, reads the /by-person folders, and scores
// them against the identities in the file names (pairwise precision,
// recall, F1 over the 30 single-person photos); then names a person by
// renaming its folder with rclone, which a restart keeps. (The held-out
// figures are TestFaceEval's, in package enrich.)
// installFaceModels runs `shoebox models install` with args; outside CI,
// a registry it cannot reach skips the test.
func installFaceModels(t *testing.T, args ...string) {
	t.Helper()
	if out, err := runCLI(t, "", append([]string{"models", "install"}, args...)...); err != nil {
		if os.Getenv("CI") != "true" {
			t.Skipf("face models unavailable: %v\n%s", err, out)
		}
		t.Fatalf("models install: %v\n%s", err, out)
	}
}

// facesExtra holds 30 photos of 10 adults (see its README).
const facesExtra = "../../../shared/testdata/faces-extra"

func TestPeople(t *testing.T) {
	needTool(t, "rclone")
	s := newServer(t)
	installFaceModels(t, "--data", s.data)
	s.start()
	t.Cleanup(s.stop)
	env := rcloneEnv(s, "owncloud")
	rclone(t, env, "mkdir", "sb:faces")
	rclone(t, env, "copy", "--exclude", "README.md", "--exclude", "group/**", facesExtra, "sb:faces")
	s.waitQueue(t, 5*time.Minute)
	// The grouping pass runs once enrichment settles (every 3 s at most):
	// wait until no new pass has run for 5 s.
	passes := func() int { return strings.Count(s.logs(), "grouped faces into people") }
	deadline := time.Now().Add(3 * time.Minute)
	for last, since := -1, time.Now(); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if n := passes(); n != last {
			last, since = n, time.Now()
		} else if n > 0 && time.Since(since) > 5*time.Second {
			break
		}
	}
	folders := s.names(t, "/dav/by-person/")
	if len(folders) == 0 {
		t.Fatalf("no person folders after 30 s; log:\n%s", s.logs())
	}
	identity := func(name string) string {
		return strings.TrimRight(strings.TrimSuffix(name, filepath.Ext(name)), "0123456789")
	}
	// Predicted same-person pairs, among single-person photos.
	predicted := map[[2]string]bool{}
	for _, f := range folders {
		var photos []string
		for _, p := range s.names(t, "/dav/by-person/"+escapePath(f)) {
			if p != ".folder.jpg" {
				photos = append(photos, p)
			}
		}
		t.Logf("%s %v", f, photos)
		for i := range photos {
			for j := i + 1; j < len(photos); j++ {
				a, b := photos[i], photos[j]
				if a > b {
					a, b = b, a
				}
				predicted[[2]string{a, b}] = true
			}
		}
	}
	var singles []string
	ents, _ := os.ReadDir(facesExtra)
	for _, e := range ents {
		if !e.IsDir() && e.Name() != "README.md" {
			singles = append(singles, e.Name())
		}
	}
	slices.Sort(singles)
	tp, fp, fn := 0, 0, 0
	for i := range singles {
		for j := i + 1; j < len(singles); j++ {
			same := identity(singles[i]) == identity(singles[j])
			got := predicted[[2]string{singles[i], singles[j]}]
			switch {
			case same && got:
				tp++
			case got:
				fp++
			case same:
				fn++
			}
		}
	}
	precision := float64(tp) / float64(max(tp+fp, 1))
	recall := float64(tp) / float64(max(tp+fn, 1))
	fscore := 0.0
	if precision+recall > 0 {
		fscore = 2 * precision * recall / (precision + recall)
	}
	t.Logf("people: %d folders; pairwise precision %.2f, recall %.2f, F1 %.2f", len(folders), precision, recall, fscore)
	if tp+fp == 0 || precision < 0.9 {
		t.Errorf("pairwise precision %.2f (%d right, %d wrong pairs); want at least 0.9", precision, tp, fp)
	}

	if len(folders) < 3 {
		t.Fatalf("%d person folders; the corrections below need 3", len(folders))
	}
	label := func(f string) string { return strings.TrimSuffix(f, "/") }
	photosOf := func(f string) []string {
		return slices.DeleteFunc(s.names(t, "/dav/by-person/"+escapePath(f)+"/"), func(n string) bool { return n == ".folder.jpg" })
	}
	f0, f1, f2 := label(folders[0]), label(folders[1]), label(folders[2])
	merged := append(photosOf(f0), photosOf(f1)...)

	// Naming: rename a folder. Merging: MOVE a folder onto another.
	rclone(t, env, "moveto", "sb:by-person/"+f0, "sb:by-person/Alice")
	resp, body := s.do("MOVE", "/dav/by-person/"+escapePath(f1)+"/", nil, "Destination", s.url("/dav/by-person/Alice/"))
	want(t, resp, body, 201)
	alice := photosOf("Alice")
	for _, p := range merged {
		if !slices.Contains(alice, p) {
			t.Errorf("Alice = %q after the merge; want %q in it", alice, p)
		}
	}
	// Reassigning: a photo moved from Alice to another person.
	moved := alice[0]
	rclone(t, env, "moveto", "sb:by-person/Alice/"+moved, "sb:by-person/"+f2+"/"+moved)
	// "Not this person": a photo deleted from a person folder stays in the library.
	rejected := ""
	for _, p := range photosOf(f2) {
		if p != moved {
			rejected = p
		}
	}
	rclone(t, env, "deletefile", "sb:by-person/"+f2+"/"+rejected)
	resp, body = s.do("HEAD", "/dav/faces/"+rejected, nil)
	want(t, resp, body, 200)
	check := func(when string) {
		t.Helper()
		if got := s.names(t, "/dav/by-person/"); !slices.Contains(got, "Alice/") || slices.Contains(got, f0+"/") || slices.Contains(got, f1+"/") {
			t.Errorf("%s: /by-person/ = %q; want Alice, and %s merged into it", when, got, f1)
		}
		if got := photosOf("Alice"); slices.Contains(got, moved) || len(got) < len(merged)-1 {
			t.Errorf("%s: Alice = %q; want %q without %s", when, got, merged, moved)
		}
		if got := photosOf(f2); !slices.Contains(got, moved) || slices.Contains(got, rejected) {
			t.Errorf("%s: %s = %q; want %s in it and not %s", when, f2, got, moved, rejected)
		}
	}
	check("after the corrections")
	// The folder picture: the person's best face, a JPEG.
	if got := s.names(t, "/dav/by-person/Alice/"); len(got) == 0 || got[0] != ".folder.jpg" {
		t.Errorf("Alice = %q; want .folder.jpg first", got)
	}
	cover := s.get("/dav/by-person/Alice/.folder.jpg")
	if cfg, err := jpeg.DecodeConfig(strings.NewReader(cover)); err != nil || max(cfg.Width, cfg.Height) > 256 {
		t.Errorf(".folder.jpg: %v %+v; want a JPEG of at most 256 px", err, cfg)
	}
	resp, body = s.do("DELETE", "/dav/by-person/Alice/.folder.jpg", nil)
	if resp.StatusCode != 403 {
		t.Errorf("DELETE .folder.jpg: %d %s; want 403", resp.StatusCode, body)
	}

	// After a restart, new photos: a copy of one of Alice's photos joins
	// her through the incremental pass (against the persons' centroids);
	// one of a face no person matches makes a full regrouping due (after
	// one such face here). The corrections hold through both.
	s.args = append(s.args, "--people-regroup-after", "1")
	s.restart()
	placed := func() int { return strings.Count(s.logs(), "placed new faces with people") }
	waitFor := func(what string, count func() int, before int) {
		t.Helper()
		s.waitQueue(t, 3*time.Minute)
		for deadline := time.Now().Add(30 * time.Second); count() == before && time.Now().Before(deadline); {
			time.Sleep(300 * time.Millisecond)
		}
		if count() == before {
			t.Fatalf("no %s after the new photo", what)
		}
	}
	twin := alice[len(alice)-1]
	env = rcloneEnv(s, "owncloud")
	before := placed()
	rclone(t, env, "copyto", facesExtra+"/"+twin, "sb:faces/new/again-"+twin)
	waitFor("incremental pass", placed, before)
	if got := photosOf("Alice"); !slices.Contains(got, "again-"+twin) {
		t.Errorf("Alice = %q; want the new copy again-%s in it", got, twin)
	}
	before = passes()
	rclone(t, env, "copyto", "../../../shared/testdata/faces/images/seulgi.jpg", "sb:faces/new/seulgi.jpg")
	waitFor("full grouping pass", passes, before)
	check("after a restart and a new pass")
	raw := s.apiRaw(t, "faces/"+alice[len(alice)-1])
	fs, _ := raw["media"].(map[string]any)["faces"].([]any)
	if len(fs) == 0 || fs[0].(map[string]any)["person_name"] != "Alice" || fs[0].(map[string]any)["person"] == nil {
		t.Errorf("API faces of %s = %v; want Alice", alice[len(alice)-1], fs)
	}
}

// TestPeopleCopiesCountOnce: exact copies of a photo are one vote. Three
// copies of the only photo of someone, in a library of other people, make
// no /by-person folder (people_min_photos is 2 photos by default); a
// person's folder lists each copy of its photos under its own name.
func TestPeopleCopiesCountOnce(t *testing.T) {
	needTool(t, "rclone")
	s := newServer(t)
	installFaceModels(t, "--data", s.data)
	s.start()
	t.Cleanup(s.stop)
	env := rcloneEnv(s, "owncloud")
	rclone(t, env, "mkdir", "sb:faces")
	rclone(t, env, "copy", "--exclude", "README.md", "--exclude", "group/**", "--exclude", "elon_musk1.jpg", facesExtra, "sb:faces")
	for _, name := range []string{"a", "b", "c"} {
		rclone(t, env, "copyto", facesExtra+"/elon_musk1.jpg", "sb:copies/elon-"+name+".jpg")
	}
	rclone(t, env, "copyto", facesExtra+"/barack_obama1.jpg", "sb:copies/obama-again.jpg")
	s.waitQueue(t, 5*time.Minute)
	passes := func() int { return strings.Count(s.logs(), "grouped faces into people") }
	deadline := time.Now().Add(3 * time.Minute)
	for last, since := -1, time.Now(); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if n := passes(); n != last {
			last, since = n, time.Now()
		} else if n > 0 && time.Since(since) > 5*time.Second {
			break
		}
	}
	folders := s.names(t, "/dav/by-person/")
	if len(folders) < 3 {
		t.Fatalf("%d person folders %q; want the people of faces-extra; log:\n%s", len(folders), folders, s.logs())
	}
	obama := false
	for _, f := range folders {
		photos := s.names(t, "/dav/by-person/"+escapePath(f))
		t.Logf("%s %v", f, photos)
		for _, p := range photos {
			if strings.HasPrefix(p, "elon-") {
				t.Errorf("%s holds %s: three copies of one photo made a person (%v)", f, p, photos)
			}
		}
		if slices.Contains(photos, "obama-again.jpg") && slices.Contains(photos, "barack_obama1.jpg") {
			obama = true
		}
	}
	if !obama {
		t.Errorf("no person folder lists both barack_obama1.jpg and its copy obama-again.jpg")
	}
}
