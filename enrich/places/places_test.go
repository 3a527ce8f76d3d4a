package places

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T) *Index {
	t.Helper()
	ix, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestSharedMedia places the shared test media's GPS positions (read from
// their manifest) and checks the offset each camera recorded against the
// one the place's zone gives at that local time.
func TestSharedMedia(t *testing.T) {
	ix := load(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", "media", "manifest.json"))
	if err != nil {
		t.Fatalf("the shared test media are needed: %v", err)
	}
	var man struct {
		Files map[string]map[string]any `json:"files"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ cc, country, region, city, zone string }{
		"canon_eos.jpg":           {"FR", "France", "", "Paris", "Europe/Paris"},
		"clip.mp4":                {"FR", "France", "", "Paris", "Europe/Paris"},
		"iphone_tokyo.jpg":        {"JP", "Japan", "", "Tokyo", "Asia/Tokyo"},
		"iphone_golden_gate.heic": {"US", "United States", "California", "San Francisco", "America/Los_Angeles"},
		"takeout_photo.jpg":       {"GB", "United Kingdom", "England", "London", "Europe/London"},
	}
	for name, w := range want {
		f := man.Files[name]
		lat, ok1 := f["lat"].(float64)
		lon, ok2 := f["lon"].(float64)
		if !ok1 || !ok2 {
			t.Errorf("%s: no position in the manifest", name)
			continue
		}
		p, ok := ix.Lookup(lat, lon)
		if !ok || p.CountryCode != w.cc || p.Country != w.country || p.Region != w.region || p.City != w.city {
			t.Errorf("%s at %v,%v: got %+v; want %s %s %q %s", name, lat, lon, p, w.cc, w.country, w.region, w.city)
		}
		if p.DistanceKm <= 0 || p.DistanceKm > 15 {
			t.Errorf("%s: %v km from %s; want a few", name, p.DistanceKm, p.City)
		}
		if z := ix.Zone(lat, lon); z != w.zone {
			t.Errorf("%s: zone %q; want %q", name, z, w.zone)
		}
		local, _ := f["taken_local"].(string)
		if off, _ := f["offset"].(string); off != "" {
			if got, _, ok := ix.Offset(lat, lon, local); !ok || got != off {
				t.Errorf("%s: offset at %s = %q; the camera recorded %q", name, local, got, off)
			}
		}
	}
}

// TestBordersAndSea: points about 450 m from a border on each side, in
// coastal waters and far out at sea.
func TestBordersAndSea(t *testing.T) {
	ix := load(t)
	for _, c := range []struct {
		name     string
		lat, lon float64
		cc, city string
	}{
		{"Strasbourg, west of the Rhine", 48.5680, 7.7950, "FR", "Strasbourg"},
		{"Kehl, east of the Rhine", 48.5680, 7.8080, "DE", "Kehl"},
		{"Basel, Kleinhüningen", 47.5830, 7.6000, "CH", ""},
		{"Weil am Rhein, Friedlingen", 47.5910, 7.6000, "DE", "Weil am Rhein"},
		{"El Paso, north of the Rio Grande", 31.7530, -106.4870, "US", "El Paso"},
		{"Ciudad Juárez, south of it", 31.7440, -106.4870, "MX", ""},
		{"Baarle-Hertog town hall (a Belgian enclave)", 51.4387, 4.9259, "BE", ""},
		{"Baarle-Nassau, 500 m north of the enclave", 51.4475, 4.9300, "NL", "Baarle-Nassau"},
		{"Geneva airport's Swiss side", 46.2370, 6.1090, "CH", ""},
		{"Little Diomede (US), 40 km from Russia's coast", 65.7500, -168.9200, "US", "Nome"},
		{"a boat in the Baie des Anges, off Nice", 43.6700, 7.2600, "FR", ""},
		{"a ferry in the Øresund, Danish waters", 55.7000, 12.7000, "DK", ""},
		{"a ferry in the Øresund, Swedish waters", 55.7000, 12.9000, "SE", ""},
	} {
		p, ok := ix.Lookup(c.lat, c.lon)
		if !ok || p.CountryCode != c.cc || (c.city != "" && p.City != c.city) || p.City == "" {
			t.Errorf("%s (%v,%v): got %+v; want country %q city %q", c.name, c.lat, c.lon, p, c.cc, c.city)
		}
	}
	// Mid-Atlantic: no country, but the nearest city and how far it is.
	p, ok := ix.Lookup(40, -40)
	if !ok || p.CountryCode != "" || p.Country != "" || p.City == "" || p.DistanceKm < 500 {
		t.Errorf("mid-Atlantic: got %+v; want no country, a city hundreds of km away", p)
	}
	if off, zone, ok := ix.Offset(40, -40, "2020-01-01T12:00:00"); ok {
		t.Errorf("mid-Atlantic: offset %q (%s); want none from a nautical zone", off, zone)
	}
	// The poles and the date line: a place, found in bounded time.
	for _, pt := range [][2]float64{{90, 0}, {89.9, 120}, {-90, 0}, {-77.85, 166.67}, {-16.5, 179.99}, {-16.5, -179.99}, {65.6, -168.1}} {
		if p, ok := ix.Lookup(pt[0], pt[1]); !ok || p.City == "" {
			t.Errorf("Lookup(%v) = %+v, %v; want the nearest city", pt, p, ok)
		}
	}
	for _, bad := range [][2]float64{{91, 0}, {0, 181}, {-90.5, 0}} {
		if _, ok := ix.Lookup(bad[0], bad[1]); ok {
			t.Errorf("Lookup(%v) accepted", bad)
		}
	}
}

// TestOffsets: the offset in force at the place at the local time, across
// daylight saving changes and zones of one country.
func TestOffsets(t *testing.T) {
	ix := load(t)
	for _, c := range []struct {
		lat, lon float64
		local    string
		want     string
	}{
		{48.8584, 2.2945, "2020-01-15T10:00:00", "+01:00"},
		{48.8584, 2.2945, "2020-08-15T10:00:00.5", "+02:00"},
		{40.7128, -74.0060, "2021-07-04T21:00:00", "-04:00"},
		{33.4484, -112.0740, "2021-07-04T21:00:00", "-07:00"}, // Phoenix: no DST
		{-33.8688, 151.2093, "2021-01-01T00:00:00", "+11:00"},
		{28.6139, 77.2090, "2021-01-01T00:00:00", "+05:30"},
		{27.7172, 85.3240, "2021-01-01T00:00:00", "+05:45"},
	} {
		got, zone, ok := ix.Offset(c.lat, c.lon, c.local)
		if !ok || got != c.want {
			t.Errorf("offset at %v,%v %s = %q (%s); want %q", c.lat, c.lon, c.local, got, zone, c.want)
		}
	}
	utc := time.Date(2020, 8, 15, 10, 20, 30, 0, time.UTC)
	if got, _, ok := ix.OffsetAtUTC(48.8584, 2.2945, utc); !ok || got != "+02:00" {
		t.Errorf("offset in Paris at %s = %q; want +02:00", utc, got)
	}
}

// TestDecodeRefusesGarbage: truncated or foreign data is an error, never
// a panic.
func TestDecodeRefusesGarbage(t *testing.T) {
	if _, err := Decode([]byte("not gzip")); err == nil {
		t.Error("Decode(garbage) = nil error")
	}
	if _, err := Decode([]byte(embedded[:len(embedded)/2])); err == nil {
		t.Error("Decode(half the data) = nil error")
	}
}

// FuzzDecode: any bytes, gzipped or not, decode to an error or to an
// index whose lookups do not panic.
func FuzzDecode(f *testing.F) {
	zr, err := gzip.NewReader(strings.NewReader(embedded))
	if err != nil {
		f.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []int{0, 17, 100, 5000, len(raw) / 3, len(raw) - 10} {
		f.Add(raw[:n])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		for _, data := range [][]byte{b, z.Bytes()} {
			ix, err := Decode(data)
			if err != nil {
				continue
			}
			ix.Lookup(48.85, 2.29)
			ix.Lookup(-89, 179.9)
			ix.Zone(35.6, 139.7)
		}
	})
}
