package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// settleGrouping waits until no grouping or placing pass has run for 5 s
// (they run every 3 s at most once enrichment settles), so persons'
// photos no longer change.
func settleGrouping(t *testing.T, s *server) {
	t.Helper()
	passes := func() int {
		l := s.logs()
		return strings.Count(l, "grouped faces into people") + strings.Count(l, "placed new faces with people")
	}
	last, since := passes(), time.Now()
	waitUntil(t, 3*time.Minute, "the grouping passes to settle", func() bool {
		if n := passes(); n != last {
			last, since = n, time.Now()
		}
		return last > 0 && time.Since(since) > 5*time.Second
	})
}

// faceModelsDir is where the tests that share one copy of the face models
// keep it (installFaceModels fills it once).
func faceModelsDir() string {
	cache, _ := os.UserCacheDir()
	return filepath.Join(cache, "shoebox", "face-api-1.7.15")
}

// serverWithFaces starts a server with the face models, uploads the
// adults' face set (the one grouping places most faces of; grouping
// centres descriptors on the library's mean, which a handful of photos of
// one person does not give) into /faces, and waits until enrichment and
// grouping settle.
func serverWithFaces(t *testing.T) *server {
	t.Helper()
	installFaceModels(t, "--models", faceModelsDir())
	s := startServer(t, "--models", faceModelsDir())
	s.mkcol("/dav/faces")
	imgs, err := filepath.Glob(filepath.Join(facesExtra, "*.jpg"))
	if err != nil || len(imgs) == 0 {
		t.Fatalf("face photos: %v", err)
	}
	for _, f := range imgs {
		s.put("/dav/faces/"+filepath.Base(f), string(mustRead(t, f)))
	}
	s.waitQueue(t, 5*time.Minute)
	settleGrouping(t, s)
	return s
}

// photosOf lists a person folder's photos (not its .folder.jpg).
func photosOf(t *testing.T, s *server, folder string) []string {
	t.Helper()
	return slices.DeleteFunc(s.names(t, "/dav/by-person/"+escapePath(folder)+"/"), func(n string) bool { return n == ".folder.jpg" })
}

// TestExportRoundTrip: the library outlives its catalog. A person named
// and an album filled over WebDAV are exported as XMP sidecars beside the
// originals; with the catalog deleted by hand, the next start catalogs the
// originals again, reads the sidecars, and the album and the person's name
// come back.
func TestExportRoundTrip(t *testing.T) {
	s := serverWithFaces(t)
	var person string
	var photos []string
	for _, f := range s.names(t, "/dav/by-person/") {
		f = strings.TrimSuffix(f, "/")
		if p := photosOf(t, s, f); len(p) >= 2 && strings.HasPrefix(f, "Person ") {
			person, photos = f, p
			break
		}
	}
	if person == "" {
		t.Fatalf("no unnamed person with two photos in %q", s.names(t, "/dav/by-person/"))
	}
	resp, body := s.do("MOVE", "/dav/by-person/"+escapePath(person)+"/", nil, "Destination", s.url("/dav/by-person/Round%20Trip/"))
	want(t, resp, body, 201)
	s.mkcol("/dav/albums/Kept")
	resp, body = s.do("COPY", "/dav/faces/"+photos[0], nil, "Destination", s.url("/dav/albums/Kept/"+photos[0]))
	want(t, resp, body, 201)
	s.stop()

	out, err := runCLI(t, "", "export", "--data", s.data, "--to", t.TempDir(), "--beside")
	if err != nil {
		t.Fatalf("export --beside: %v\n%s", err, out)
	}
	if err := os.RemoveAll(filepath.Join(s.data, "catalog")); err != nil {
		t.Fatal(err)
	}
	s.start()
	s.waitQueue(t, 5*time.Minute)
	settleGrouping(t, s)
	if got := s.names(t, "/dav/albums/Kept/"); !slices.Equal(got, []string{photos[0]}) {
		t.Errorf("/albums/Kept after the catalog was rebuilt: %q; want %q", got, photos[0])
	}
	got := photosOf(t, s, "Round Trip")
	for _, p := range photos {
		if !slices.Contains(got, p) {
			t.Errorf("/by-person/Round Trip after the catalog was rebuilt holds %q; want %q (all of %q)", got, p, photos)
		}
	}
}
