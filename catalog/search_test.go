package catalog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// searchLib is a generated library and what every file is, to check
// Search against a plain scan of it.
type searchLib struct {
	c       *Catalog
	files   []searchFile
	persons []Person
	albums  map[string]map[string]bool // album → SHA-256s
}

type searchFile struct {
	ref     Ref
	m       Media
	persons []string
}

func newSearchLib(t testing.TB, n int, seed uint64) *searchLib {
	t.Helper()
	opt, dir := Options{InMemory: true}, ""
	if n > 10000 { // as big as a real library: on disk
		opt, dir = Options{}, t.TempDir()
	}
	c, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	lib := &searchLib{c: c, albums: map[string]map[string]bool{}}
	rnd := rand.New(rand.NewPCG(seed, 7))
	for i, name := range []string{"Alice", "Bob", "", "Carol Ann"} {
		p := Person{Name: name}
		if err := c.PutPerson(ctx, "u", &p); err != nil {
			t.Fatal(err)
		}
		_ = i
		lib.persons = append(lib.persons, p)
	}
	cams := [][2]string{{"Canon", "Canon EOS R5"}, {"Apple", "iPhone 13 Pro"}, {"SONY", "ILCE-7M3"}, {"", ""}}
	lenses := []string{"", "EF24-105mm f/4L", "iPhone 13 Pro back camera 5.7mm f/1.5"}
	words := []string{"lisbon", "beach", "IMG", "party", "Lissabon", "tokyo"}
	places := [][2]float64{{38.72, -9.14}, {48.8584, 2.2945}, {35.6586, 139.7454}, {37.8199, -122.4783}, {-33.86, 151.21}, {64.1, -179.95}, {64.1, 179.95}}
	placeOf := []Place{{"PT", "Portugal", "", "Lisbon", 1, ""}, {"FR", "France", "", "Paris", 1, ""}, {"JP", "Japan", "", "Tokyo", 1, ""},
		{"US", "United States", "California", "San Francisco", 1, ""}, {"AU", "Australia", "", "Sydney", 1, ""}, {"", "", "", "Uelen", 90, ""}, {"RU", "Russia", "", "Uelen", 2, ""}}
	tagsOf := []string{"Beach", "beach", "Family", "Trip|2019", "Lisboa"}
	for lo := 0; lo < n; lo += 200 {
		err = c.update(ctx, func(txn *badger.Txn) error {
			for i := lo; i < min(n, lo+200); i++ {
				cam := cams[rnd.IntN(len(cams))]
				m := Media{Kind: "photo", Make: cam[0], Model: cam[1], Lens: lenses[rnd.IntN(len(lenses))]}
				if rnd.IntN(5) == 0 {
					m.Kind = "video"
				}
				// Dates over 12 years, some in the same second (ties by path).
				day := rnd.IntN(12 * 365)
				y, d := 2012+day/365, day%365
				m.TakenLocal = fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", y, 1+d/31%12, 1+d%28, rnd.IntN(24), rnd.IntN(60), rnd.IntN(3))
				if rnd.IntN(3) == 0 {
					m.TakenLocal += fmt.Sprintf(".%d", rnd.IntN(1000))
				}
				if rnd.IntN(2) == 0 {
					pi := rnd.IntN(len(places))
					p := places[pi]
					la, lo := p[0]+rnd.NormFloat64()*0.05, p[1]+rnd.NormFloat64()*0.05
					lo = max(-179.999, min(179.999, lo))
					m.Lat, m.Lon = &la, &lo
					pl := placeOf[pi]
					m.Place = &pl
				}
				m.SHA256 = fmt.Sprintf("%064x", i)
				if rnd.IntN(20) == 0 && i > 0 { // an exact copy of an earlier file
					m.SHA256 = fmt.Sprintf("%064x", rnd.IntN(i))
				}
				for _, tg := range tagsOf {
					if rnd.IntN(5) == 0 {
						m.Tags = append(m.Tags, tg)
					}
				}
				if r := rnd.IntN(8) - 2; r >= -1 {
					m.Rating = &r
				}
				var ps []string
				for _, p := range lib.persons {
					if rnd.IntN(6) == 0 {
						m.Faces = append(m.Faces, Face{Person: p.ID, Checked: true})
						ps = append(ps, p.ID)
					}
				}
				key := fmt.Sprintf("dir%d/%s_%d %s.jpg", i%7, words[rnd.IntN(len(words))], i, words[rnd.IntN(len(words))])
				if m.Kind == "video" {
					key = strings.TrimSuffix(key, ".jpg") + ".mp4"
				}
				if rnd.IntN(50) == 0 {
					m.Kind, m.TakenLocal = "other", "" // not in the library's timeline
				}
				b := []string{"Phone", "photos"}[i%2]
				if err := index(txn, "u", b, key, m, int64(i)); err != nil {
					return err
				}
				lib.files = append(lib.files, searchFile{Ref{b, key}, m, ps})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Another user's library must never show.
	err = c.update(ctx, func(txn *badger.Txn) error {
		return index(txn, "v", "Phone", "lisbon.jpg", Media{Kind: "photo", TakenLocal: "2015-01-01T00:00:00", Make: "Canon", Model: "Canon EOS R5"}, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"Trip", "Empty"} {
		if err := c.CreateAlbum(ctx, "u", a, 1); err != nil {
			t.Fatal(err)
		}
		lib.albums[a] = map[string]bool{}
	}
	for i := 0; i < n; i += 13 {
		sha := lib.files[i].m.SHA256
		if err := c.AlbumAdd(ctx, "u", "Trip", sha); err != nil {
			t.Fatal(err)
		}
		lib.albums["Trip"][sha] = true
	}
	return lib
}

// want is Search by a plain scan.
func (lib *searchLib) want(t testing.TB, q Query) []Hit {
	ctx := context.Background()
	var out []Hit
	for _, f := range lib.files {
		m := f.m
		when := searchWhen(m)
		if when == "" {
			continue
		}
		if q.From != "" && when < q.From || q.To != "" && when > q.To+"\xff" {
			continue
		}
		if q.Camera != "" && m.Camera() != q.Camera || q.Lens != "" && m.Lens != q.Lens || q.Kind != "" && m.Kind != q.Kind {
			continue
		}
		if q.Album != "" && !lib.albums[q.Album][m.SHA256] {
			continue
		}
		ok := true
		for _, want := range q.Persons {
			i := slices.IndexFunc(lib.persons, func(p Person) bool { return p.ID == want || strings.EqualFold(p.Label(), want) })
			ok = ok && i >= 0 && slices.Contains(f.persons, lib.persons[i].ID)
		}
		if !ok {
			continue
		}
		if q.Duplicates {
			if g, err := lib.c.GroupOf(ctx, "u", f.ref.Bucket, f.ref.Key); err != nil || g == "" {
				continue
			}
		}
		if q.Near != nil && (m.Lat == nil || DistanceKm(q.Near.Lat, q.Near.Lon, *m.Lat, *m.Lon) > q.Near.RadiusKm) {
			continue
		}
		country, city := m.PlaceFolders()
		if q.Country != "" && (country == "" || !strings.EqualFold(country, q.Country) && !strings.EqualFold(m.Place.CountryCode, q.Country)) {
			continue
		}
		if q.City != "" && !strings.EqualFold(city, q.City) {
			continue
		}
		for _, want := range q.Tags {
			ok = ok && slices.ContainsFunc(m.Tags, func(t string) bool { return strings.EqualFold(CleanTag(t), CleanTag(want)) })
		}
		if q.MinRating > 0 && (m.Rating == nil || *m.Rating < q.MinRating) {
			continue
		}
		for _, term := range strings.Fields(strings.ToLower(q.Text)) {
			hit := strings.Contains(strings.ToLower(m.Camera()), term) || strings.Contains(strings.ToLower(m.Lens), term)
			for _, w := range nameWords(f.ref.Key) {
				hit = hit || strings.HasPrefix(w, term)
			}
			for _, p := range lib.persons {
				hit = hit || slices.Contains(f.persons, p.ID) && strings.Contains(strings.ToLower(p.Label()), term)
			}
			for _, t := range m.Tags {
				hit = hit || strings.Contains(strings.ToLower(CleanTag(t)), term)
			}
			hit = hit || country != "" && (strings.Contains(strings.ToLower(country), term) || strings.Contains(strings.ToLower(city), term))
			ok = ok && hit
		}
		if !ok {
			continue
		}
		out = append(out, Hit{f.ref.Bucket, f.ref.Key, when, m.Kind})
	}
	slices.SortFunc(out, func(a, b Hit) int {
		return strings.Compare(b.When+sep+b.Bucket+sep+b.Key, a.When+sep+a.Bucket+sep+a.Key)
	})
	return out
}

// all pages through a query.
func (lib *searchLib) all(t testing.TB, q Query) []Hit {
	t.Helper()
	var out []Hit
	for page := 0; ; page++ {
		hits, next, err := lib.c.Search(context.Background(), "u", q)
		if err != nil {
			t.Fatalf("search %+v: %v", q, err)
		}
		if len(hits) > max(q.Limit, 1) {
			t.Fatalf("page of %d; limit %d", len(hits), q.Limit)
		}
		out = append(out, hits...)
		if next == "" {
			return out
		}
		if page > 100000 {
			t.Fatal("pages never end")
		}
		q.After = next
	}
}

func TestSearchMatchesScan(t *testing.T) {
	lib := newSearchLib(t, 1500, 1)
	qs := []Query{
		{},
		{From: "2015", To: "2016-06"},
		{From: "2019-03-05", To: "2019-03-05"},
		{Camera: "Canon EOS R5"},
		{Camera: "Apple iPhone 13 Pro", Kind: "video"},
		{Lens: "EF24-105mm f/4L", From: "2020"},
		{Kind: "photo", To: "2013"},
		{Persons: []string{"alice"}},
		{Persons: []string{"Alice", "bob"}},
		{Persons: []string{"Person 3"}, Camera: "SONY ILCE-7M3"},
		{Album: "Trip"},
		{Album: "Empty"},
		{Album: "Trip", Kind: "video"},
		{Duplicates: true},
		{Duplicates: true, Persons: []string{"Carol Ann"}},
		{Near: &Near{Lat: 38.72, Lon: -9.14, RadiusKm: 5}},
		{Near: &Near{Lat: 48.8584, Lon: 2.2945, RadiusKm: 2}, Kind: "photo"},
		{Near: &Near{Lat: 40, Lon: 0, RadiusKm: 3000}},
		{Near: &Near{Lat: 64.1, Lon: 180, RadiusKm: 10}}, // across the antimeridian
		{Text: "lis"},
		{Text: "lisbon beach"},
		{Text: "canon"},
		{Text: "alice"},
		{Text: "carol tokyo", From: "2018"},
		{Text: "nothing-like-this"},
		{Text: "iphone", Persons: []string{"Bob"}, Near: &Near{Lat: 35.6586, Lon: 139.7454, RadiusKm: 20}},
		{Country: "France"},
		{Country: "jp", Kind: "video"},
		{City: "Uelen"},
		{Country: "At sea"},
		{Country: "Russia", City: "uelen"},
		{Country: "United States", City: "San Francisco", Persons: []string{"Alice"}},
		{Tags: []string{"beach"}},
		{Tags: []string{"Beach", "Family"}, From: "2016"},
		{Tags: []string{"Trip-2019"}},
		{MinRating: 4},
		{MinRating: 1, Tags: []string{"family"}, Camera: "Canon EOS R5"},
		{Text: "lisbo"},
		{Text: "paris fam"},
		{Text: "sea"},
	}
	// Every plan: small lists drive; the walk; the walk giving up and every
	// list intersected.
	for _, tune := range []searchTuning{defaultSearchTuning, {setCap: 40, walkBudget: 100000}, {setCap: 40, walkBudget: 30}} {
		lib.c.search = tune
		for _, q := range qs {
			for _, limit := range []int{7, 1000} {
				q.Limit = limit
				got, want := lib.all(t, q), lib.want(t, q)
				if !slices.Equal(got, want) {
					t.Errorf("%+v, %+v: got %d hits; want %d", tune, q, len(got), len(want))
					for i := range min(len(got), len(want)) {
						if got[i] != want[i] {
							t.Errorf("first difference at %d: got %+v; want %+v", i, got[i], want[i])
							break
						}
					}
				}
			}
		}
	}
}

func TestSearchBadQueries(t *testing.T) {
	lib := newSearchLib(t, 50, 2)
	for _, q := range []Query{
		{Album: "nope"},
		{Persons: []string{"Nobody"}},
		{Kind: "document"},
		{After: "!!"},
		{From: "2020", To: "2019"},
		{Near: &Near{Lat: 91, Lon: 0, RadiusKm: 1}},
		{Near: &Near{Lat: 0, Lon: 0, RadiusKm: 0}},
		{Country: "Narnia"},
		{City: "Atlantis"},
		{Tags: []string{"nope"}},
		{MinRating: 6},
	} {
		if _, _, err := lib.c.Search(context.Background(), "u", q); !errors.Is(err, ErrBadQuery) {
			t.Errorf("%+v: got %v; want ErrBadQuery", q, err)
		}
	}
}

// TestSearchFollowsChanges: the index follows re-enrichment, moves out of
// the library (trash) and other users stay apart.
func TestSearchFollowsChanges(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	put := func(user, bucket, key string, m Media) {
		t.Helper()
		if err := c.update(ctx, func(txn *badger.Txn) error { return index(txn, user, bucket, key, m, 1) }); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(user string, q Query) []string {
		t.Helper()
		hits, _, err := c.Search(ctx, user, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hits {
			out = append(out, h.Bucket+"/"+h.Key)
		}
		return out
	}
	put("u", "b", "a.jpg", Media{Kind: "photo", TakenLocal: "2019-01-01T10:00:00", Make: "Canon", Model: "Canon EOS R5"})
	put("u", "b", "b.jpg", Media{Kind: "photo", TakenLocal: "2020-01-01T10:00:00"})
	put("v", "b", "c.jpg", Media{Kind: "photo", TakenLocal: "2021-01-01T10:00:00"})
	if got := keys("u", Query{}); !slices.Equal(got, []string{"b/b.jpg", "b/a.jpg"}) {
		t.Errorf("timeline: got %v", got)
	}
	// Re-enriched with another date and camera: the old rows are gone.
	put("u", "b", "a.jpg", Media{Kind: "photo", TakenLocal: "2021-05-01T10:00:00", Make: "SONY", Model: "ILCE-7M3"})
	if got := keys("u", Query{}); !slices.Equal(got, []string{"b/a.jpg", "b/b.jpg"}) {
		t.Errorf("after re-enrichment: got %v", got)
	}
	if got := keys("u", Query{Camera: "Canon EOS R5"}); len(got) != 0 {
		t.Errorf("old camera still finds %v", got)
	}
	if got := keys("u", Query{Text: "sony"}); !slices.Equal(got, []string{"b/a.jpg"}) {
		t.Errorf("text sony: got %v", got)
	}
	put("u", TrashBucket, "y.jpg", Media{Kind: "photo", TakenLocal: "2022-01-01T00:00:00"})
	if got := keys("u", Query{}); len(got) != 2 {
		t.Errorf("trash in the timeline: %v", got)
	}
	if got := keys("v", Query{}); !slices.Equal(got, []string{"b/c.jpg"}) {
		t.Errorf("user v: got %v", got)
	}
}

func TestSearchWhen(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2019-06-12T14:03:22", "2019-06-12T14:03:22.000"},
		{"2022-01-01T00:30:00.123", "2022-01-01T00:30:00.123"},
		{"2022-01-01T00:30:00.1", "2022-01-01T00:30:00.100"},
		{"2022-01-01T00:30:00.123456", "2022-01-01T00:30:00.123"},
		{"2022-01-01", "2022-01-01T00:00:00.000"},
	} {
		if got := searchWhen(Media{Kind: "photo", TakenLocal: tc.in}); got != tc.want {
			t.Errorf("searchWhen(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	if got := searchWhen(Media{Kind: "other", TakenLocal: "2022-01-01"}); got != "" {
		t.Errorf("a document has a capture time %q", got)
	}
}

func TestSearchEntryEncoding(t *testing.T) {
	la, lo, r := 48.8584, -2.2945, -1
	for _, e := range []searchEntry{
		{},
		{SHA256: "ab", Camera: "Canon EOS R5", Lens: "EF 24-105", Lat: &la, Lon: &lo, Country: "France", CC: "FR", City: "Paris",
			Persons: []string{"p1", "p2"}, Tags: []string{"Beach", "Zoë"}, Rating: &r},
		{Tags: []string{""}},
	} {
		b := e.encode()
		var got searchEntry
		if err := got.decode(b); err != nil {
			t.Fatalf("decode %+v: %v", e, err)
		}
		if g := got.encode(); string(g) != string(b) || got.City != e.City || len(got.Tags) != len(e.Tags) ||
			(e.Lat != nil) != (got.Lat != nil) || (e.Rating != nil && *got.Rating != *e.Rating) {
			t.Errorf("round trip of %+v: %+v", e, got)
		}
		for i := range len(b) { // every truncation is refused, never a panic
			if err := new(searchEntry).decode(b[:i]); err == nil {
				t.Errorf("decode of %d of %d bytes: no error", i, len(b))
			}
		}
	}
}

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Query
	}{
		{"lisbon 2019", Query{From: "2019", To: "2019", Text: "lisbon"}},
		{"Alice beach 2018-06..2019", Query{From: "2018-06", To: "2019", Text: "Alice beach"}},
		{"paris videos", Query{Kind: "video", Text: "paris"}},
		{"2019-06-12 photo", Query{From: "2019-06-12", To: "2019-06-12", Kind: "photo"}},
		{"IMG_2019 20190", Query{Text: "IMG_2019 20190"}},
	} {
		if got := ParseQuery(tc.in); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ParseQuery(%q) = %+v; want %+v", tc.in, got, tc.want)
		}
	}
}
