package enrich_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
	"shoebox/gateway/memfs"
)

// synthLib is a library of photos with made-up face descriptors: one face
// each, near the centre of its cluster, so grouping needs no models.
type synthLib struct {
	t       *testing.T
	cat     *catalog.Catalog
	gw      *gateway.Gateway
	rng     *rand.Rand
	centres [][]float64
	mu      sync.Mutex // rng
}

func newSynthLib(t *testing.T, clusters int) *synthLib {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	gw := gateway.New(memfs.New(), cat, gateway.Options{Logger: quiet})
	if err := gw.MakeBucket(context.Background(), "u", "f"); err != nil {
		t.Fatal(err)
	}
	l := &synthLib{t: t, cat: cat, gw: gw, rng: rand.New(rand.NewPCG(1, 2))}
	for range clusters {
		c := make([]float64, 128)
		for j := range c {
			c[j] = l.rng.NormFloat64()
		}
		l.centres = append(l.centres, c)
	}
	return l
}

// add stores the photo key with one face of cluster c, enriched.
func (l *synthLib) add(ctx context.Context, c int, key string) error {
	l.mu.Lock()
	d := make([]float32, 128)
	for j := range d {
		d[j] = float32(l.centres[c][j] + 0.3*l.rng.NormFloat64())
	}
	l.mu.Unlock()
	o, err := l.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "f", Key: key, Body: strings.NewReader("photo " + key), MakeParents: true})
	if err != nil {
		return err
	}
	j, err := l.cat.JobOf(ctx, "u", "f", key)
	if err != nil {
		return fmt.Errorf("job of %s: %w", key, err)
	}
	m := catalog.Media{Kind: "photo", SHA256: o.SHA256, Faces: []catalog.Face{{Box: [4]float64{0, 0, 10, 10}, Score: 0.9, Detector: enrich.FaceKind, Descriptor: d}}}
	return l.cat.CompleteJob(ctx, j, m)
}

// personOf returns the person of the photo's face ("" none).
func (l *synthLib) personOf(key string) string {
	m, err := l.cat.MediaOf(context.Background(), "u", "f", key)
	if err != nil || len(m.Faces) == 0 {
		l.t.Fatalf("media of %s: %v %+v", key, err, m)
	}
	return m.Faces[0].Person
}

func (l *synthLib) photos(id string) []string {
	var keys []string
	l.cat.PersonPhotos(context.Background(), "u", id, func(o catalog.Object) error { keys = append(keys, o.Key); return nil })
	return keys
}

// TestPeopleEditsSurviveGrouping races the user's corrections (rename,
// merge, reassign, "not this person", forget) against grouping passes and
// placements of new faces from several goroutines, through the one owner
// of people state, and checks that every correction stuck: after a last
// pass the renamed person has its last name, merged persons are gone for
// good, rejected photos are in no person they were rejected from, moved
// photos are in the person they were moved to, forgotten persons stay
// hidden.
func TestPeopleEditsSurviveGrouping(t *testing.T) {
	const (
		clusters  = 12
		perPerson = 6
		renames   = 30
		passers   = 3
	)
	ctx := context.Background()
	l := newSynthLib(t, clusters)
	key := func(c, i int) string { return fmt.Sprintf("c%02d/%02d.jpg", c, i) }
	for c := range clusters {
		for i := range perPerson {
			if err := l.add(ctx, c, key(c, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	people := enrich.NewPeople(l.cat, enrich.PeopleOptions{})
	if n, err := people.Group(ctx, "u"); err != nil || n != clusters {
		t.Fatalf("first pass: %d persons, %v; want %d", n, err, clusters)
	}
	id := make([]string, clusters) // cluster's person
	for c := range clusters {
		id[c] = l.personOf(key(c, 0))
		if got := l.photos(id[c]); len(got) != perPerson {
			t.Fatalf("person of cluster %d has %v; want the %d photos of the cluster", c, got, perPerson)
		}
	}

	// The corrections, each kind in its own goroutine.
	renamed := id[0]
	merges := [][2]int{{1, 2}, {3, 4}, {5, 6}} // from, into
	type move struct {
		key      string
		from, to int
	}
	rejects := []move{{key(0, 1), 0, -1}, {key(7, 1), 7, -1}, {key(7, 2), 7, -1}, {key(8, 1), 8, -1}}
	reassigns := []move{{key(8, 2), 8, 9}, {key(8, 3), 8, 9}, {key(9, 1), 9, 8}, {key(2, 5), 2, 10}}
	hidden := id[11]
	type edit struct {
		name string
		run  func() error
	}
	edits := []edit{
		{"rename", func() error {
			for i := range renames {
				if err := people.Rename(ctx, "u", renamed, fmt.Sprintf("Alice %d", i)); err != nil {
					return err
				}
			}
			return nil
		}},
		{"merge", func() error {
			for _, m := range merges {
				if err := people.Merge(ctx, "u", id[m[0]], id[m[1]]); err != nil {
					return err
				}
			}
			return nil
		}},
		{"not this person", func() error {
			for _, r := range rejects {
				if err := people.Reject(ctx, "u", id[r.from], "f", r.key); err != nil {
					return err
				}
			}
			return nil
		}},
		{"reassign", func() error {
			for _, r := range reassigns {
				if err := people.Reassign(ctx, "u", "f", r.key, id[r.from], id[r.to]); err != nil {
					return err
				}
			}
			return nil
		}},
		{"forget", func() error { return people.Hide(ctx, "u", hidden) }},
		{"new faces", func() error {
			for i := range 4 {
				if err := l.add(ctx, i%clusters, fmt.Sprintf("new/%02d.jpg", i)); err != nil {
					return err
				}
				if _, _, err := people.PlaceNewFaces(ctx, "u"); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	done := make(chan struct{})
	var passes sync.WaitGroup
	passErrs := make([]error, passers)
	for g := range passers {
		passes.Add(1)
		go func() {
			defer passes.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := people.Group(ctx, "u"); err != nil {
					passErrs[g] = err
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	editErrs := make([]error, len(edits))
	for i, e := range edits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			editErrs[i] = e.run()
		}()
	}
	wg.Wait()
	close(done)
	passes.Wait()
	for i, err := range editErrs {
		if err != nil {
			t.Errorf("%s: %v", edits[i].name, err)
		}
	}
	for _, err := range passErrs {
		if err != nil {
			t.Errorf("grouping pass: %v", err)
		}
	}
	// One more pass, alone: the corrections are seeds it keeps.
	if _, err := people.Group(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	all, err := l.cat.People(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]catalog.Person{}
	for _, p := range all {
		byID[p.ID] = p
	}
	if p, want := byID[renamed], fmt.Sprintf("Alice %d", renames-1); p.Name != want {
		t.Errorf("renamed person %s is named %q; want %q", renamed, p.Name, want)
	}
	for _, m := range merges {
		from, into := id[m[0]], id[m[1]]
		if _, ok := byID[from]; ok {
			t.Errorf("person %s came back after it was merged into %s", from, into)
		}
		for i := range perPerson {
			k := key(m[0], i)
			if moved := slices.ContainsFunc(reassigns, func(r move) bool { return r.key == k }); moved {
				continue
			}
			if got := l.personOf(k); got != into {
				t.Errorf("%s (of %s, merged into %s) is in %q; want %s", k, from, into, got, into)
			}
		}
	}
	for _, r := range rejects {
		p := id[r.from]
		if got := l.personOf(r.key); got == p {
			t.Errorf("%s is in %s again after it was rejected from it", r.key, p)
		}
		if slices.Contains(l.photos(p), r.key) {
			t.Errorf("%s lists %s after it was rejected from it", p, r.key)
		}
	}
	for _, r := range reassigns {
		to := id[r.to]
		if got := l.personOf(r.key); got != to {
			t.Errorf("%s moved from %s to %s is in %q; want %s", r.key, id[r.from], to, got, to)
		}
	}
	if p, ok := byID[hidden]; !ok || !p.Hidden {
		t.Errorf("forgotten person %s: %+v (found %v); want it kept hidden", hidden, p, ok)
	}
}
