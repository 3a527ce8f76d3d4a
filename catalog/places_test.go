package catalog

import (
	"context"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestFillPlaces: records enriched before places are placed once per data
// version, their index rows follow (a new version moves them), records
// without a position are left alone, and the folder names are safe.
func TestFillPlaces(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	lat, lon := 48.85, 2.29
	for _, k := range []string{"a.jpg", "b.jpg", "nogps.jpg"} {
		if err := c.Put(ctx, "u", Object{Bucket: "b", Key: k, Size: 1, ModNs: 5}); err != nil {
			t.Fatal(err)
		}
		m := Media{Kind: "photo", SHA256: "sha-" + k}
		if k != "nogps.jpg" {
			m.Lat, m.Lon = &lat, &lon
		}
		if err := c.update(ctx, func(txn *badger.Txn) error { return index(txn, "u", "b", k, m, 5) }); err != nil {
			t.Fatal(err)
		}
	}
	city := "Paris"
	calls := 0
	place := func(m *Media) bool {
		calls++
		if m.Place != nil && m.Place.City == city {
			return false
		}
		m.Place = &Place{CountryCode: "FR", Country: "France", City: city}
		return true
	}
	for _, run := range []struct {
		version     string
		city        string
		changed     int
		calls       int
		countries   []string
		cities      []string
		filesInCity []string
	}{
		{"v1", "Paris", 2, 2, []string{"France"}, []string{"Paris"}, []string{"a.jpg", "b.jpg"}},
		{"v1", "Lyon", 0, 0, []string{"France"}, []string{"Paris"}, []string{"a.jpg", "b.jpg"}}, // same version: nothing read
		{"v2", "Biel/Bienne", 2, 2, []string{"France"}, []string{"Biel-Bienne"}, []string{"a.jpg", "b.jpg"}},
	} {
		city, calls = run.city, 0
		n, err := c.FillPlaces(ctx, run.version, place)
		if err != nil || n != run.changed || calls != run.calls {
			t.Errorf("FillPlaces(%s) = %d, %v after %d calls; want %d changed after %d calls", run.version, n, err, calls, run.changed, run.calls)
		}
		if got, _ := c.Countries(ctx, "u"); !slices.Equal(got, run.countries) {
			t.Errorf("%s: countries %q; want %q", run.version, got, run.countries)
		}
		cities, _ := c.Cities(ctx, "u", "France")
		if !slices.Equal(cities, run.cities) {
			t.Errorf("%s: cities %q; want %q", run.version, cities, run.cities)
		}
		var files []string
		c.InPlace(ctx, "u", "France", run.cities[0], func(o Object) error { files = append(files, o.Key); return nil })
		if !slices.Equal(files, run.filesInCity) {
			t.Errorf("%s: files in %s %q; want %q", run.version, run.cities[0], files, run.filesInCity)
		}
		if newest, _ := c.NewestInPlaces(ctx, "u", ""); newest["France"] != 5 {
			t.Errorf("%s: newest in France %v; want 5", run.version, newest)
		}
	}
	// Deleting a file drops its place row.
	if err := c.Delete(ctx, "u", "b", "a.jpg"); err != nil {
		t.Fatal(err)
	}
	var files []string
	c.InPlace(ctx, "u", "France", "Biel-Bienne", func(o Object) error { files = append(files, o.Key); return nil })
	if !slices.Equal(files, []string{"b.jpg"}) {
		t.Errorf("after deleting a.jpg: %q; want [b.jpg]", files)
	}
	// At sea: no country, filed under AtSea and the nearest city.
	m := Media{Kind: "photo", Place: &Place{City: "Lajes das Flores", DistanceKm: 757}}
	if co, ci := m.PlaceFolders(); co != AtSea || ci != "Lajes das Flores" {
		t.Errorf("PlaceFolders at sea = %q, %q", co, ci)
	}
}
