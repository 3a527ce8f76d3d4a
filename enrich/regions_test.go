package enrich_test

import (
	"context"
	"strings"
	"testing"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
)

// addRegions stores photo key with one face of cluster c at box and the
// named XMP regions given, enriched (made-up descriptors: no models).
func (l *synthLib) addRegions(ctx context.Context, c int, key string, box [4]float64, regions ...catalog.NamedRegion) {
	l.t.Helper()
	d := make([]float32, 128)
	for j := range d {
		d[j] = float32(l.centres[c][j] + 0.3*l.rng.NormFloat64())
	}
	o, err := l.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "f", Key: key, Body: strings.NewReader("photo " + key), MakeParents: true})
	if err != nil {
		l.t.Fatal(err)
	}
	j, err := l.cat.JobOf(ctx, "u", "f", key)
	if err != nil {
		l.t.Fatal(err)
	}
	m := catalog.Media{Kind: "photo", SHA256: o.SHA256, Regions: regions,
		Faces: []catalog.Face{{Box: box, Score: 0.9, Detector: enrich.FaceKind, Descriptor: d}}}
	if err := l.cat.CompleteJob(ctx, j, m); err != nil {
		l.t.Fatal(err)
	}
}

func (l *synthLib) nameOf(key string) string {
	l.t.Helper()
	id := l.personOf(key)
	if id == "" {
		return ""
	}
	p, err := l.cat.GetPerson(context.Background(), "u", id)
	if err != nil {
		l.t.Fatalf("person %s of %s: %v", id, key, err)
	}
	return p.Label()
}

// TestNameFromRegions: a named XMP region over a face names its unnamed
// person; over a face no person has, it makes that person; a region that
// misses every face, or names a person the user named otherwise, changes
// nothing; the names survive a full grouping pass.
func TestNameFromRegions(t *testing.T) {
	ctx := context.Background()
	l := newSynthLib(t, 3)
	face := [4]float64{0.40, 0.20, 0.20, 0.25}
	l.addRegions(ctx, 0, "a0.jpg", face, catalog.NamedRegion{Name: "Alice", Box: [4]float64{0.38, 0.18, 0.22, 0.3}})
	for _, k := range []string{"a1.jpg", "a2.jpg", "a3.jpg"} {
		l.addRegions(ctx, 0, k, face)
	}
	// Bob's only photo: his face is in no group; the region's centre-inside
	// rule matches (a large region around a small face).
	l.addRegions(ctx, 1, "b0.jpg", [4]float64{0.7, 0.7, 0.05, 0.05}, catalog.NamedRegion{Name: "Bob", Box: [4]float64{0.5, 0.5, 0.5, 0.5}})
	// Carol's cluster: the region is elsewhere in the picture.
	for _, k := range []string{"c0.jpg", "c1.jpg"} {
		l.addRegions(ctx, 2, k, face, catalog.NamedRegion{Name: "Carol", Box: [4]float64{0.0, 0.0, 0.1, 0.1}})
	}
	people := enrich.NewPeople(l.cat, enrich.PeopleOptions{})
	if _, err := people.Group(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	if l.personOf("a0.jpg") == "" || l.personOf("b0.jpg") != "" {
		t.Fatalf("after grouping: a0 in %q, b0 in %q; want a0 grouped, b0 alone", l.personOf("a0.jpg"), l.personOf("b0.jpg"))
	}
	n, err := people.NameFromRegions(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("NameFromRegions named %d faces; want 2 (Alice, Bob)", n)
	}
	check := func(when string) {
		t.Helper()
		for key, want := range map[string]string{"a0.jpg": "Alice", "a3.jpg": "Alice", "b0.jpg": "Bob"} {
			if got := l.nameOf(key); got != want {
				t.Errorf("%s: %s is in %q; want %q", when, key, got, want)
			}
		}
		if got := l.nameOf("c0.jpg"); got == "Carol" {
			t.Errorf("%s: c0's region misses its face, but its person is named Carol", when)
		}
	}
	check("after naming")
	if _, err := people.Group(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	check("after a second grouping")
	// A person the user named is not renamed by a region.
	if err := people.Rename(ctx, "u", l.personOf("a0.jpg"), "Alicia"); err != nil {
		t.Fatal(err)
	}
	if _, err := people.NameFromRegions(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	if got := l.nameOf("a1.jpg"); got != "Alicia" {
		t.Errorf("after the user renamed Alice to Alicia, a region made it %q", got)
	}
}
