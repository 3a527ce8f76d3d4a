package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPeople uploads the shared face photos through WebDAV with the face
// models installed, reads the /by-person folders, and scores them against
// the identities in the file names (pairwise precision, recall, F1 over
// the 15 single-person photos); then names a person by renaming its
// folder with rclone, which a restart keeps.
func TestPeople(t *testing.T) {
	needTool(t, "rclone")
	s := newServer(t)
	if out, err := runCLI(t, "", "models", "install", "--data", s.data); err != nil {
		if os.Getenv("CI") != "true" {
			t.Skipf("the npm registry is not reachable here: %v\n%s", err, out)
		}
		t.Fatalf("install: %v\n%s", err, out)
	}
	s.start()
	t.Cleanup(s.stop)
	env := rcloneEnv(s, "owncloud")
	rclone(t, env, "mkdir", "sb:faces")
	rclone(t, env, "copy", "../../../shared/testdata/faces/images", "sb:faces")
	s.waitQueue(t, 120*time.Second)
	// The grouping pass runs once enrichment settles (every 3 s at most):
	// wait until no new pass has run for 5 s.
	passes := func() int { return strings.Count(s.logs(), "grouped faces into people") }
	deadline := time.Now().Add(60 * time.Second)
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
	identity := func(name string) string { return strings.TrimRight(strings.TrimSuffix(name, ".jpg"), "0123456789") }
	// Predicted same-person pairs, among single-person photos.
	predicted := map[[2]string]bool{}
	for _, f := range folders {
		var photos []string
		for _, p := range s.names(t, "/dav/by-person/"+escapePath(f)) {
			if !strings.HasPrefix(p, "pristin") {
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
	ents, _ := os.ReadDir("../../../shared/testdata/faces/images")
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "pristin") {
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
	f1 := 0.0
	if precision+recall > 0 {
		f1 = 2 * precision * recall / (precision + recall)
	}
	t.Logf("people: %d folders; pairwise precision %.2f, recall %.2f, F1 %.2f (face-api at 0.6: 0.14, 0.81, 0.24)", len(folders), precision, recall, f1)
	if tp+fp == 0 || precision < 0.5 {
		t.Errorf("pairwise precision %.2f (%d right, %d wrong pairs); want at least 0.5", precision, tp, fp)
	}

	// Naming a person: rename its folder.
	first := strings.TrimSuffix(folders[0], "/")
	rclone(t, env, "moveto", "sb:by-person/"+first, "sb:by-person/Alice")
	if got := s.names(t, "/dav/by-person/"); !slices.Contains(got, "Alice/") {
		t.Fatalf("/by-person/ after the rename = %q", got)
	}
	s.restart()
	if got := s.names(t, "/dav/by-person/"); !slices.Contains(got, "Alice/") {
		t.Errorf("/by-person/ after a restart = %q; want Alice kept", got)
	}
}
