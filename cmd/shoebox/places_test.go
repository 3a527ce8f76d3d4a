package main

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/enrich"
)

// TestPlaces uploads the shared media with GPS and photos geotagged at
// test time with exiftool (each side of the Rhine at Strasbourg/Kehl, and
// mid-Atlantic, all with a local capture time and no offset), then reads
// /by-place over WebDAV and the place and derived offsets in the API.
func TestPlaces(t *testing.T) {
	exiftool := needTool(t, "exiftool")
	s := startServer(t)
	s.mkcol("/dav/ppp")
	for _, name := range []string{"canon_eos.jpg", "iphone_tokyo.jpg", "iphone_golden_gate.heic", "clip.mp4",
		"takeout_photo.jpg", "takeout_photo.jpg.json", "forest.jpg"} {
		s.put("/dav/ppp/"+name, string(mustRead(t, filepath.Join(sharedMedia, name))))
	}
	dir := t.TempDir()
	for _, g := range []struct {
		name           string
		lat, lon       string
		latRef, lonRef string
	}{
		{"strasbourg.jpg", "48.5680", "7.7950", "N", "E"},
		{"kehl.jpg", "48.5680", "7.8080", "N", "E"},
		{"sea.jpg", "40", "40", "N", "W"},
	} {
		out := filepath.Join(dir, g.name)
		cmd := exec.Command(exiftool, "-q", "-GPSLatitude="+g.lat, "-GPSLatitudeRef="+g.latRef,
			"-GPSLongitude="+g.lon, "-GPSLongitudeRef="+g.lonRef, "-DateTimeOriginal=2021:07:14 12:00:00",
			"-ImageDescription="+g.name, "-o", out, filepath.Join(sharedMedia, "forest.jpg"))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("exiftool: %v: %s", err, b)
		}
		s.put("/dav/ppp/"+g.name, string(mustRead(t, out)))
	}
	s.waitQueue(t, 3*time.Minute)

	if got := s.names(t, "/dav/"); !slices.Contains(got, "by-place/") {
		t.Errorf("/dav/ = %q; want by-place/ in it", got)
	}
	countries0 := s.names(t, "/dav/by-place/")
	countries := countries0
	for _, c := range []string{"At sea/", "France/", "Germany/", "Japan/", "United Kingdom/", "United States/"} {
		if !slices.Contains(countries, c) {
			t.Errorf("/by-place/ = %q; want %s in it", countries, c)
		}
	}
	for dir, files := range map[string][]string{
		"France/Paris/":                {"canon_eos.jpg", "clip.mp4"},
		"France/Strasbourg/":           {"strasbourg.jpg"},
		"Germany/Kehl/":                {"kehl.jpg"},
		"Japan/Tokyo/":                 {"iphone_tokyo.jpg"},
		"United States/San Francisco/": {"iphone_golden_gate.heic"},
		"United Kingdom/London/":       {"takeout_photo.jpg"},
	} {
		if got := s.names(t, "/dav/by-place/"+escapePath(dir)); !slices.Equal(got, files) {
			t.Errorf("/by-place/%s = %q; want %q", dir, got, files)
		}
	}
	sea := s.names(t, "/dav/by-place/At%20sea/")
	if len(sea) != 1 {
		t.Fatalf("/by-place/At sea/ = %q; want one city folder", sea)
	}
	if got := s.names(t, "/dav/by-place/At%20sea/"+escapePath(sea[0])); !slices.Equal(got, []string{"sea.jpg"}) {
		t.Errorf("/by-place/At sea/%s = %q; want [sea.jpg]", sea[0], got)
	}
	// The original's bytes; read-only.
	if got := s.get("/dav/by-place/France/Paris/canon_eos.jpg"); got != string(mustRead(t, filepath.Join(sharedMedia, "canon_eos.jpg"))) {
		t.Errorf("canon_eos.jpg from /by-place: %d bytes, differ from the original", len(got))
	}
	if resp, body := s.do("PUT", "/dav/by-place/France/Paris/x.jpg", strings.NewReader("x")); resp.StatusCode != 403 {
		t.Errorf("PUT in /by-place: %d %q; want 403", resp.StatusCode, body)
	}
	if resp, body := s.do("PROPFIND", "/dav/by-place/Nowhere/", nil, "Depth", "1"); resp.StatusCode != 404 {
		t.Errorf("PROPFIND of a country with no photos: %d %q; want 404", resp.StatusCode, body)
	}

	// The API: media.place, and offsets derived where the file had none.
	for _, c := range []struct {
		name, cc, city           string
		offset, utc, local, osrc string
	}{
		{"canon_eos.jpg", "FR", "Paris", "+02:00", "", "", ""}, // the camera's own offset stays
		{"strasbourg.jpg", "FR", "Strasbourg", "+02:00", "2021-07-14T10:00:00Z", "2021-07-14T12:00:00", "place-local"},
		{"kehl.jpg", "DE", "Kehl", "+02:00", "2021-07-14T10:00:00Z", "2021-07-14T12:00:00", "place-local"},
		{"clip.mp4", "FR", "Paris", "+02:00", "2020-08-15T10:20:30Z", "2020-08-15T12:20:30", "place-utc"},
		{"takeout_photo.jpg", "GB", "London", "+01:00", "2014-07-01T09:00:00Z", "2014-07-01T10:00:00", "place-utc"},
		{"sea.jpg", "", "", "", "", "2021-07-14T12:00:00", ""},
	} {
		m, _ := s.apiRaw(t, "ppp/"+c.name)["media"].(map[string]any)
		pl, _ := m["place"].(map[string]any)
		if pl == nil {
			t.Errorf("%s: no media.place in the API", c.name)
			continue
		}
		if cc, _ := pl["country_code"].(string); cc != c.cc {
			t.Errorf("%s: place.country_code = %q; want %q", c.name, cc, c.cc)
		}
		city, _ := pl["city"].(string)
		if c.city != "" && city != c.city || city == "" {
			t.Errorf("%s: place.city = %q; want %q", c.name, city, c.city)
		}
		if d, _ := pl["distance_km"].(float64); d <= 0 || (c.cc == "") != (d > 500) {
			t.Errorf("%s: place.distance_km = %v", c.name, d)
		}
		for k, w := range map[string]string{"offset": c.offset, "taken_utc": c.utc, "taken_local": c.local, "offset_source": c.osrc} {
			if g, _ := m[k].(string); w != "" && g != w || k == "offset_source" && g != w || k == "offset" && g != w {
				t.Errorf("%s: media.%s = %q; want %q", c.name, k, g, w)
			}
		}
	}
	if m, _ := s.apiRaw(t, "ppp/forest.jpg")["media"].(map[string]any); m["place"] != nil {
		t.Errorf("forest.jpg (no GPS): media.place = %v; want none", m["place"])
	}

	// A library from before places: records without them, derived
	// offsets undone, no place rows, another data version. The next start
	// places them again, without reading the files.
	s.stop()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open(filepath.Join(s.data, "catalog"), catalog.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n, err := cat.FillPlaces(ctx, "before-places", func(m *catalog.Media) bool { return enrich.SetPlace(nil, m) })
	countries, _ = cat.Countries(ctx, "admin")
	cat.Close()
	if err != nil || n != 8 || len(countries) != 0 {
		t.Fatalf("stripping places: %d records, %v, countries left %q; want 8, none left", n, err, countries)
	}
	s.start()
	waitUntil(t, time.Minute, "the places to come back", func() bool {
		return slices.Equal(s.names(t, "/dav/by-place/France/Strasbourg/"), []string{"strasbourg.jpg"})
	})
	if got := s.names(t, "/dav/by-place/"); !slices.Equal(got, countries0) {
		t.Errorf("/by-place/ after the start = %q; want %q as before", got, countries0)
	}
	m, _ := s.apiRaw(t, "ppp/clip.mp4")["media"].(map[string]any)
	if m["offset"] != "+02:00" || m["taken_local"] != "2020-08-15T12:20:30" || m["offset_source"] != "place-utc" {
		t.Errorf("clip.mp4 placed again: offset %v, taken_local %v, offset_source %v", m["offset"], m["taken_local"], m["offset_source"])
	}
}
