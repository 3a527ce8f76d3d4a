package main

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"shoebox/catalog/export"
)

// TestExportAlbums: albums made over WebDAV (MKCOL in /albums, COPY of a
// photo in) come out of `shoebox export` as XMP sidecars that exiftool
// reads (keywords Albums|<name>, on every copy of the photo) and in the
// user's JSON document; with --beside the sidecars land in the library
// beside the originals, and a second run leaves them alone. Persons need
// face models; the export package's tests cover them through the catalog.
func TestExportAlbums(t *testing.T) {
	exiftool := needTool(t, "exiftool")
	s := startServer(t)
	s.mkcol("/dav/photos")
	s.mkcol("/dav/photos/2019")
	s.put("/dav/photos/2019/IMG_0001.JPG", string(mustRead(t, filepath.Join(sharedMedia, "canon_eos.jpg"))))
	s.put("/dav/photos/copy.jpg", string(mustRead(t, filepath.Join(sharedMedia, "canon_eos.jpg"))))
	s.put("/dav/photos/2019/turned.jpg", string(mustRead(t, filepath.Join(sharedMedia, "rotated_orientation6.jpg"))))
	s.put("/dav/photos/alone.jpg", string(mustRead(t, filepath.Join(sharedMedia, "forest.jpg"))))
	album := "O'Brien & Zoë"
	esc := "/dav/albums/" + url.PathEscape(album)
	s.mkcol("/dav/albums/Paris")
	s.mkcol(esc)
	// Albums find photos by content through the index enrichment writes.
	waitUntil(t, 2*time.Minute, "the photos enriched", func() bool {
		resp, _ := s.do("COPY", "/dav/photos/2019/IMG_0001.JPG", nil, "Destination", s.url("/dav/albums/Paris/IMG_0001.JPG"))
		return resp.StatusCode == 201 || resp.StatusCode == 204
	})
	waitUntil(t, 2*time.Minute, "the second photo enriched", func() bool {
		resp, _ := s.do("COPY", "/dav/photos/2019/turned.jpg", nil, "Destination", s.url(esc+"/turned.jpg"))
		return resp.StatusCode == 201 || resp.StatusCode == 204
	})
	resp, body := s.do("COPY", "/dav/photos/2019/IMG_0001.JPG", nil, "Destination", s.url(esc+"/IMG_0001.JPG"))
	want(t, resp, body, 201)
	// An album lists its photos through the content index that enrichment
	// writes: the export needs every photo enriched.
	s.waitQueue(t, 3*time.Minute)

	if out, err := runCLI(t, "", "export", "--data", s.data, "--to", t.TempDir()); err == nil || !strings.Contains(out, "running") {
		t.Errorf("export beside a running server: %v\n%s\nwant a refusal saying the server runs", err, out)
	}
	s.stop()
	dir := filepath.Join(t.TempDir(), "out")
	out, err := runCLI(t, "", "export", "--data", s.data, "--to", dir)
	if err != nil || !strings.Contains(out, "admin: 3 sidecars") {
		t.Fatalf("export: %v\n%s\nwant 3 sidecars for admin", err, out)
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			r, _ := filepath.Rel(dir, p)
			files = append(files, r)
		}
		return nil
	})
	slices.Sort(files)
	if want := []string{"admin.json", "admin/photos/2019/IMG_0001.JPG.xmp", "admin/photos/2019/turned.jpg.xmp", "admin/photos/copy.jpg.xmp"}; !slices.Equal(files, want) {
		t.Errorf("export tree %q; want %q", files, want)
	}
	b, err := exec.Command(exiftool, "-j", "-struct", "-XMP:all",
		filepath.Join(dir, "admin/photos/2019/IMG_0001.JPG.xmp"), filepath.Join(dir, "admin/photos/copy.jpg.xmp"),
		filepath.Join(dir, "admin/photos/2019/turned.jpg.xmp")).Output()
	if err != nil {
		t.Fatalf("exiftool: %v\n%s", err, b)
	}
	var got []struct {
		Subject, HierarchicalSubject any
	}
	if err := json.Unmarshal(b, &got); err != nil || len(got) != 3 {
		t.Fatalf("exiftool's answer: %v\n%s", err, b)
	}
	both := []string{"Albums|O'Brien & Zoë", "Albums|Paris"}
	for i, name := range []string{"IMG_0001.JPG", "copy.jpg"} {
		if h := strs(got[i].HierarchicalSubject); !slices.Equal(h, both) {
			t.Errorf("%s keywords as exiftool reads them: %q; want %q", name, h, both)
		}
	}
	if h, f := strs(got[2].HierarchicalSubject), strs(got[2].Subject); !slices.Equal(h, []string{"Albums|O'Brien & Zoë"}) || !slices.Equal(f, []string{"O'Brien & Zoë"}) {
		t.Errorf("turned.jpg keywords as exiftool reads them: %q %q", f, h)
	}
	var doc export.Document
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "admin.json")), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != export.Schema || doc.Version != export.SchemaVersion || len(doc.Albums) != 2 || doc.Albums[0].Name != album ||
		len(doc.Albums[0].Members) != 2 || len(doc.Albums[1].Members) != 1 || len(doc.Albums[1].Members[0].Files) != 2 {
		t.Errorf("document: %+v", doc)
	}

	// Beside the originals: the sidecars are files of the library.
	out, err = runCLI(t, "", "export", "--data", s.data, "--to", dir, "--beside")
	if err != nil || !strings.Contains(out, "3 sidecars beside the originals") {
		t.Fatalf("export --beside: %v\n%s", err, out)
	}
	out, err = runCLI(t, "", "export", "--data", s.data, "--to", dir, "--beside")
	if err != nil {
		t.Fatalf("second export --beside: %v\n%s", err, out)
	}
	s.start()
	if got := s.get("/dav/photos/2019/IMG_0001.JPG.xmp"); !strings.Contains(got, "<rdf:li>Albums|Paris</rdf:li>") {
		t.Errorf("the sidecar beside the original: %q", got)
	}
	names := s.names(t, "/dav/photos/2019/")
	if !slices.Equal(names, []string{"IMG_0001.JPG", "IMG_0001.JPG.xmp", "turned.jpg", "turned.jpg.xmp"}) {
		t.Errorf("photos/2019 holds %q", names)
	}
	if items := s.names(t, "/dav/trash/"); len(items) != 0 {
		t.Errorf("the exports put %q in the trash; want nothing there", items)
	}

	// The loop closes: a new library given the same originals and the
	// exported sidecars (in either order) has the albums again.
	s2 := startServer(t)
	s2.mkcol("/dav/photos")
	s2.mkcol("/dav/photos/2019")
	s2.put("/dav/photos/2019/IMG_0001.JPG.xmp", string(mustRead(t, filepath.Join(dir, "admin/photos/2019/IMG_0001.JPG.xmp"))))
	s2.put("/dav/photos/2019/IMG_0001.JPG", string(mustRead(t, filepath.Join(sharedMedia, "canon_eos.jpg"))))
	s2.put("/dav/photos/2019/turned.jpg", string(mustRead(t, filepath.Join(sharedMedia, "rotated_orientation6.jpg"))))
	s2.put("/dav/photos/2019/turned.jpg.xmp", string(mustRead(t, filepath.Join(dir, "admin/photos/2019/turned.jpg.xmp"))))
	s2.waitQueue(t, 3*time.Minute)
	if got := s2.names(t, "/dav/albums/"); !slices.Equal(got, []string{album + "/", "Paris/"}) {
		t.Errorf("albums of the new library: %q; want %q and Paris", got, album)
	}
	if got := s2.names(t, "/dav/albums/Paris/"); !slices.Equal(got, []string{"IMG_0001.JPG"}) {
		t.Errorf("/albums/Paris of the new library: %q", got)
	}
	inAlbum := s2.names(t, "/dav/albums/"+escapePath(album)+"/")
	for i := range inAlbum {
		inAlbum[i] = path.Base(inAlbum[i]) // the server escapes the album's name its own way
	}
	if !slices.Equal(inAlbum, []string{"IMG_0001.JPG", "turned.jpg"}) {
		t.Errorf("%s of the new library: %q", album, inAlbum)
	}
	if got := s2.names(t, "/dav/by-tag/"); slices.Contains(got, "Paris/") {
		t.Errorf("/by-tag of the new library %q: an album's name is not a keyword", got)
	}
}

// strs reads a list from exiftool's JSON, which gives one item bare.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}
