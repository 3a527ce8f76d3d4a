package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// search runs GET /api/v1/search as user and returns every page's keys.
func (s *server) search(t *testing.T, user, pw, query string) ([]string, []apiHit) {
	t.Helper()
	var keys []string
	var all []apiHit
	cursor := ""
	for range 1000 {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		resp, body := s.doAs(user, pw, "GET", "/api/v1/search?"+q, nil)
		want(t, resp, body, 200)
		var page apiSearch
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		for _, h := range page.Items {
			keys = append(keys, h.Key)
			all = append(all, h)
		}
		if page.Next == "" {
			return keys, all
		}
		cursor = page.Next
	}
	t.Fatalf("search %s: pages never end", query)
	return nil, nil
}

// TestSearchAPI uploads the shared media and searches it through the API:
// each filter alone, several together, paged, refused when malformed, and
// never across users.
func TestSearchAPI(t *testing.T) {
	man := readMediaManifest(t)
	s := startServer(t)
	s.mkcol("/dav/lib")
	ents, err := os.ReadDir(sharedMedia)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() && e.Name() != "manifest.json" {
			s.put("/dav/lib/"+url.PathEscape(e.Name()), string(mustRead(t, filepath.Join(sharedMedia, e.Name()))))
		}
	}
	s.waitQueue(t, 3*time.Minute)
	s.mkcol("/dav/albums/Trip")
	s.put("/dav/albums/Trip/forest.jpg", string(mustRead(t, filepath.Join(sharedMedia, "forest.jpg"))))

	// The timeline: every dated file of the manifest, newest first.
	keys, hits := s.search(t, "admin", adminPW, "limit=3")
	for name, f := range man.Files {
		if _, dated := f["date_folder"]; dated && !slices.Contains(keys, "lib/"+name) && !slices.Contains(keys, name) {
			t.Errorf("timeline lacks %s: %q", name, keys)
		}
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Taken > hits[i-1].Taken {
			t.Errorf("timeline out of order at %d: %s after %s", i, hits[i].Taken, hits[i-1].Taken)
		}
	}
	if all, _ := s.search(t, "admin", adminPW, "limit=1000"); !slices.Equal(all, keys) {
		t.Errorf("one page %q; pages of 3 %q", all, keys)
	}

	sorted := func(ks []string) []string { slices.Sort(ks); return ks }
	for _, tc := range []struct {
		query string
		want  []string
	}{
		// truncated.jpg is canon_eos.jpg cut short: its EXIF survived.
		{"camera=" + url.QueryEscape("Canon EOS 5D Mark IV"), []string{"canon_eos.jpg", "truncated.jpg"}},
		{"kind=video", []string{"clip.mp4"}},
		{"near=48.8584,2.2945,1", []string{"canon_eos.jpg", "clip.mp4", "truncated.jpg"}},
		{"near=48.8584,2.2945,1&kind=video", []string{"clip.mp4"}},
		{"near=35.6586,139.7454,3", []string{"iphone_tokyo.jpg"}},
		{"from=2016&to=2016", []string{"beach_brighter.jpg", "beach_cropped.jpg", "beach_original (copy).jpg", "beach_original.jpg", "beach_resized.jpg", "forest.jpg"}},
		{"from=2016-08-20&to=2016-08-20&duplicates=1", []string{"beach_brighter.jpg", "beach_cropped.jpg", "beach_original (copy).jpg", "beach_original.jpg", "beach_resized.jpg"}},
		{"duplicates=1&q=cop", []string{"beach_original (copy).jpg"}},
		{"duplicates=1&q=cr", []string{"beach_cropped.jpg"}},
		{"q=golden", []string{"iphone_golden_gate.heic"}},
		{"q=" + url.QueryEscape("iphone tokyo"), []string{"iphone_tokyo.jpg"}},
		{"album=Trip", []string{"forest.jpg"}},
		{"album=Trip&kind=video", nil},
		{"lens=" + url.QueryEscape("EF24-105mm f/4L IS II USM"), []string{"canon_eos.jpg", "truncated.jpg"}},
		{"q=ef24", []string{"canon_eos.jpg", "truncated.jpg"}},
		{"from=2030", nil},
		{"country=France", []string{"canon_eos.jpg", "clip.mp4", "truncated.jpg"}},
		{"country=jp", []string{"iphone_tokyo.jpg"}},
		{"city=" + url.QueryEscape("San Francisco"), []string{"iphone_golden_gate.heic"}},
		{"q=paris&kind=video", []string{"clip.mp4"}},
		{"q=london", []string{"takeout_photo.jpg"}},
	} {
		got, _ := s.search(t, "admin", adminPW, tc.query)
		if !slices.Equal(sorted(got), sorted(slices.Clone(tc.want))) {
			t.Errorf("%s: got %q; want %q", tc.query, got, tc.want)
		}
	}

	if got, _ := s.search(t, "admin", adminPW, "q=sony"); !slices.Contains(got, "beach_original.jpg") {
		t.Errorf("q=sony = %q; want the Sony's beach_original.jpg in it", got)
	}
	for _, q := range []string{"from=yesterday", "to=2019-6", "near=1,2", "near=91,0,1", "album=nope", "kind=doc", "person=Nobody", "limit=0", "country=Narnia", "tag=none", "rating=7", "cursor=%21%21", "duplicates=maybe"} {
		resp, body := s.do("GET", "/api/v1/search?"+q, nil)
		if resp.StatusCode != 400 || !strings.Contains(body, "error") {
			t.Errorf("%s: %d %s; want 400 with an error", q, resp.StatusCode, body)
		}
	}

	// Saved searches are folders: the name is the query, the files what
	// it finds, kept current; DELETE forgets the search, not the photos.
	s.mkcol("/dav/search/beach 2016")
	s.mkcol("/dav/search/paris videos")
	if got := s.names(t, "/dav/search/"); !slices.Equal(got, []string{"beach 2016/", "paris videos/"}) {
		t.Errorf("/search/ = %q", got)
	}
	if got := s.names(t, "/dav/search/"+escapePath("beach 2016")+"/"); !slices.Equal(got,
		[]string{"beach_brighter.jpg", "beach_cropped.jpg", "beach_original (copy).jpg", "beach_original.jpg", "beach_resized.jpg"}) {
		t.Errorf("/search/beach 2016/ = %q", got)
	}
	if got := s.names(t, "/dav/search/"+escapePath("paris videos")+"/"); !slices.Equal(got, []string{"clip.mp4"}) {
		t.Errorf("/search/paris videos/ = %q", got)
	}
	if body := s.get("/dav/search/" + escapePath("paris videos") + "/clip.mp4"); body != string(mustRead(t, filepath.Join(sharedMedia, "clip.mp4"))) {
		t.Errorf("a file of a saved search is not the original (%d bytes)", len(body))
	}
	s.put("/dav/lib/beach_again.jpg", string(mustRead(t, filepath.Join(sharedMedia, "beach_original.jpg"))))
	s.waitQueue(t, 3*time.Minute)
	if got := s.names(t, "/dav/search/"+escapePath("beach 2016")+"/"); !slices.Contains(got, "beach_again.jpg") {
		t.Errorf("/search/beach 2016/ after a new beach photo = %q", got)
	}
	if resp, body := s.do("MKCOL", "/dav/search/"+escapePath("beach 2016"), nil); resp.StatusCode != 405 {
		t.Errorf("MKCOL of a saved search again: %d %s; want 405", resp.StatusCode, body)
	}
	if resp, body := s.do("PUT", "/dav/search/"+escapePath("beach 2016")+"/x.jpg", strings.NewReader("x")); resp.StatusCode != 403 {
		t.Errorf("PUT into a saved search: %d %s; want 403", resp.StatusCode, body)
	}
	resp, body := s.do("DELETE", "/dav/search/"+escapePath("beach 2016"), nil)
	want(t, resp, body, 204)
	if got := s.names(t, "/dav/search/"); !slices.Equal(got, []string{"paris videos/"}) {
		t.Errorf("/search/ after DELETE = %q", got)
	}
	if got := s.names(t, "/dav/lib/"); !slices.Contains(got, "beach_original.jpg") {
		t.Errorf("DELETE of a saved search took photos: lib holds %q", got)
	}

	// Another user sees none of it.
	if out, err := runCLI(t, "bob-password\n", "user", "add", "bob", "--password-stdin", "--data", s.data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if got, _ := s.search(t, "bob", "bob-password", ""); len(got) != 0 {
		t.Errorf("bob finds %q", got)
	}
	if resp, body := s.doAs("bob", "bob-password", "PROPFIND", "/dav/search/"+escapePath("paris videos")+"/", nil, "Depth", "1"); resp.StatusCode != 404 {
		t.Errorf("bob listing admin's saved search: %d %s", resp.StatusCode, body)
	}
	if resp, body := s.doAs("bob", "bob-password", "GET", "/api/v1/search?album=Trip", nil); resp.StatusCode != 400 {
		t.Errorf("bob searching admin's album: %d %s", resp.StatusCode, body)
	}
}
