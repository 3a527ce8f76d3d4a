package enrich_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
	"shoebox/gateway/localfs"
)

// propLib is a library on disk (catalog and files in a temp dir, so a
// restart reopens them) with made-up face descriptors: photos of one or
// two faces drawn around cluster centres, and exact copies of photos.
type propLib struct {
	t       *testing.T
	dir     string
	be      *localfs.FS
	cat     *catalog.Catalog
	gw      *gateway.Gateway
	people  *enrich.People
	rng     *rand.Rand
	centres [][]float64
	photos  []string                  // keys, in the order added
	faces   map[string][]catalog.Face // by content
	sha     map[string]string         // key → content
}

func newPropLib(t *testing.T, seed uint64, clusters int) *propLib {
	t.Helper()
	l := &propLib{t: t, dir: t.TempDir(), rng: rand.New(rand.NewPCG(seed, 7)),
		faces: map[string][]catalog.Face{}, sha: map[string]string{}}
	be, err := localfs.New(l.dir+"/files", localfs.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	l.be = be
	l.open()
	t.Cleanup(func() { l.cat.Close() })
	if err := l.gw.MakeBucket(context.Background(), "u", "f"); err != nil {
		t.Fatal(err)
	}
	for range clusters {
		c := make([]float64, 128)
		for j := range c {
			c[j] = l.rng.NormFloat64()
		}
		l.centres = append(l.centres, c)
	}
	return l
}

// open opens the catalog, and a gateway and People over it.
func (l *propLib) open() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open(l.dir+"/catalog", catalog.Options{Logger: quiet})
	if err != nil {
		l.t.Fatal(err)
	}
	l.cat = cat
	l.gw = gateway.New(l.be, cat, gateway.Options{Logger: quiet})
	l.people = enrich.NewPeople(cat, enrich.PeopleOptions{})
}

// restart closes the catalog and opens it again, with a new People.
func (l *propLib) restart() {
	if err := l.cat.Close(); err != nil {
		l.t.Fatal(err)
	}
	l.open()
}

// put stores key with the given content and faces, enriched.
func (l *propLib) put(ctx context.Context, key, content string, fs []catalog.Face) {
	l.t.Helper()
	o, err := l.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "f", Key: key, Body: strings.NewReader(content), MakeParents: true})
	if err != nil {
		l.t.Fatal(err)
	}
	j, err := l.cat.JobOf(ctx, "u", "f", key)
	if err != nil {
		l.t.Fatalf("job of %s: %v", key, err)
	}
	if err := l.cat.CompleteJob(ctx, j, catalog.Media{Kind: "photo", SHA256: o.SHA256, Faces: slices.Clone(fs)}); err != nil {
		l.t.Fatal(err)
	}
	l.faces[o.SHA256] = fs
	l.sha[key] = o.SHA256
	l.photos = append(l.photos, key)
}

// addNew stores a new photo of one face, or two of different clusters.
func (l *propLib) addNew(ctx context.Context) {
	n := len(l.photos)
	var fs []catalog.Face
	first := l.rng.IntN(len(l.centres))
	for i := range 1 + l.rng.IntN(4)/3 { // a quarter have two faces
		c := (first + i*(1+l.rng.IntN(len(l.centres)-1))) % len(l.centres)
		d := make([]float32, 128)
		for j := range d {
			d[j] = float32(l.centres[c][j] + 0.5*l.rng.NormFloat64())
		}
		fs = append(fs, catalog.Face{Box: [4]float64{float64(20 * i), 0, 10, 10}, Score: 0.9, Detector: enrich.FaceKind, Descriptor: d})
	}
	l.put(ctx, fmt.Sprintf("p/%03d.jpg", n), fmt.Sprintf("photo %d", n), fs)
}

// addCopy stores an exact copy of a photo under a new name.
func (l *propLib) addCopy(ctx context.Context) {
	src := l.photos[l.rng.IntN(len(l.photos))]
	b, err := l.readAll(ctx, src)
	if err != nil {
		l.t.Fatal(err)
	}
	l.put(ctx, fmt.Sprintf("copies/%03d-%s", len(l.photos), strings.TrimPrefix(src, "p/")), b, l.faces[l.sha[src]])
}

func (l *propLib) readAll(ctx context.Context, key string) (string, error) {
	f, _, err := l.gw.Open(ctx, "u", "f", key)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}

// model is what the corrections made so far require.
type model struct {
	in    map[string]map[string]int  // content → person → face the user put there
	out   map[string]map[string]bool // content → persons it is not of
	names map[string]string          // person → name the user gave
	gone  map[string]bool            // persons merged away
}

func (m *model) include(sha, person string, face int) {
	if m.in[sha] == nil {
		m.in[sha] = map[string]int{}
	}
	for p, f := range m.in[sha] {
		if f == face {
			delete(m.in[sha], p) // one face, one person
		}
	}
	m.in[sha][person] = face
	delete(m.out[sha], person)
}

func (m *model) exclude(sha, person string) {
	if m.out[sha] == nil {
		m.out[sha] = map[string]bool{}
	}
	m.out[sha][person] = true
	delete(m.in[sha], person)
}

func (m *model) merge(from, into string) {
	m.gone[from] = true
	delete(m.names, from)
	for sha, ps := range m.in {
		if f, ok := ps[from]; ok {
			delete(ps, from)
			m.include(sha, into, f)
		}
	}
	for sha, ps := range m.out {
		if ps[from] {
			delete(ps, from)
			if _, in := m.in[sha][into]; !in {
				ps[into] = true
			}
		}
	}
}

// TestPeopleCorrectionsSurviveEverything is a property test: random
// interleavings of the user's corrections (rename, merge, reassign, "not
// this person", a person made by hand and a photo put into it), new
// photos and exact copies (placed by PlaceNewFaces), full grouping passes
// and restarts (the catalog closed and opened again) keep every
// correction, checked after every step on every copy of each photo: a
// face put into a person is that person's in every file with that
// content, a photo taken out of a person is in no copy of it, names stay,
// merged persons stay gone.
func TestPeopleCorrectionsSurviveEverything(t *testing.T) {
	const (
		seeds    = 8
		steps    = 60
		clusters = 5
	)
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { propRun(t, seed, steps, clusters) })
	}
}

func propRun(t *testing.T, seed uint64, steps, clusters int) {
	ctx := context.Background()
	l := newPropLib(t, seed, clusters)
	for range 4 * clusters {
		l.addNew(ctx)
	}
	if _, err := l.people.Group(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	m := &model{in: map[string]map[string]int{}, out: map[string]map[string]bool{}, names: map[string]string{}, gone: map[string]bool{}}
	var log []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("after %s:\n"+format, append([]any{strings.Join(log, "\n  ")}, args...)...)
	}
	visible := func() []catalog.Person {
		ps, err := l.cat.People(ctx, "u")
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(ps, func(p catalog.Person) bool { return p.Hidden })
	}
	// faceOf returns a random (photo, face) with a person, or "".
	faceOf := func() (string, int, string) {
		for range 20 {
			k := l.photos[l.rng.IntN(len(l.photos))]
			md, err := l.cat.MediaOf(ctx, "u", "f", k)
			if err != nil {
				t.Fatal(err)
			}
			i := l.rng.IntN(len(md.Faces))
			if p := md.Faces[i].Person; p != "" {
				// The face of that person a move names is its first.
				return k, slices.IndexFunc(md.Faces, func(f catalog.Face) bool { return f.Person == p }), p
			}
		}
		return "", 0, ""
	}
	other := func(not string) string {
		ps := slices.DeleteFunc(visible(), func(p catalog.Person) bool { return p.ID == not })
		if len(ps) == 0 {
			return ""
		}
		return ps[l.rng.IntN(len(ps))].ID
	}
	created := 0
	for step := range steps {
		var did string
		switch op := l.rng.IntN(9); op {
		case 0: // rename
			ps := visible()
			if len(ps) == 0 {
				continue
			}
			p := ps[l.rng.IntN(len(ps))]
			name := fmt.Sprintf("Name %d", step)
			if err := l.people.Rename(ctx, "u", p.ID, name); err != nil {
				fail("rename: %v", err)
			}
			m.names[p.ID] = name
			did = fmt.Sprintf("rename %s %q", p.ID, name)
		case 1: // merge
			ps := visible()
			if len(ps) < 3 {
				continue
			}
			from := ps[l.rng.IntN(len(ps))].ID
			into := other(from)
			if err := l.people.Merge(ctx, "u", from, into); err != nil {
				fail("merge: %v", err)
			}
			m.merge(from, into)
			did = fmt.Sprintf("merge %s into %s", from, into)
		case 2: // reassign
			k, i, from := faceOf()
			to := other(from)
			if k == "" || to == "" {
				continue
			}
			if err := l.people.Reassign(ctx, "u", "f", k, from, to); err != nil {
				fail("reassign %s: %v", k, err)
			}
			m.exclude(l.sha[k], from)
			m.include(l.sha[k], to, i)
			did = fmt.Sprintf("reassign %s face %d from %s to %s", k, i, from, to)
		case 3: // not this person
			k, _, from := faceOf()
			if k == "" {
				continue
			}
			if err := l.people.Reject(ctx, "u", from, "f", k); err != nil {
				fail("reject %s: %v", k, err)
			}
			m.exclude(l.sha[k], from)
			did = fmt.Sprintf("reject %s from %s", k, from)
		case 4: // a person made by hand, a photo put into it
			created++
			name := fmt.Sprintf("Made %d", created)
			id, err := l.people.Create(ctx, "u", name)
			if err != nil {
				fail("create: %v", err)
			}
			m.names[id] = name
			k := l.photos[l.rng.IntN(len(l.photos))]
			md, _ := l.cat.MediaOf(ctx, "u", "f", k)
			err = l.people.Assign(ctx, "u", "f", k, id)
			did = fmt.Sprintf("create %s %q, assign %s: %v", id, name, k, err)
			if errors.Is(err, enrich.ErrAmbiguousFace) {
				break
			} else if err != nil {
				fail("assign %s: %v", k, err)
			}
			face := 0
			if len(md.Faces) > 1 {
				face = slices.IndexFunc(md.Faces, func(f catalog.Face) bool { return f.Person == "" })
			}
			if prev := md.Faces[face].Person; prev != "" {
				m.exclude(l.sha[k], prev)
			}
			m.include(l.sha[k], id, face)
		case 5: // new photos
			l.addNew(ctx)
			did = "new photo " + l.photos[len(l.photos)-1]
			if _, _, err := l.people.PlaceNewFaces(ctx, "u"); err != nil {
				fail("place: %v", err)
			}
		case 6: // an exact copy
			l.addCopy(ctx)
			did = "copy " + l.photos[len(l.photos)-1]
			if _, _, err := l.people.PlaceNewFaces(ctx, "u"); err != nil {
				fail("place: %v", err)
			}
		case 7: // regroup
			if _, err := l.people.Group(ctx, "u"); err != nil {
				fail("group: %v", err)
			}
			did = "regroup"
		case 8:
			l.restart()
			did = "restart"
		}
		log = append(log, did)
		propCheck(t, ctx, l, m, fail)
	}
	// And once more after a last restart and pass.
	l.restart()
	if _, err := l.people.Group(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	log = append(log, "restart, regroup")
	propCheck(t, ctx, l, m, fail)
}

func propCheck(t *testing.T, ctx context.Context, l *propLib, m *model, fail func(string, ...any)) {
	t.Helper()
	ps, err := l.cat.People(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]catalog.Person{}
	for _, p := range ps {
		byID[p.ID] = p
	}
	for id, name := range m.names {
		if p, ok := byID[id]; !ok || p.Name != name {
			fail("person %s = %+v (there: %v); want it named %q", id, p.Name, ok, name)
		}
	}
	for id := range m.gone {
		if _, ok := byID[id]; ok {
			fail("person %s came back after it was merged away", id)
		}
	}
	for _, k := range l.photos {
		sha := l.sha[k]
		md, err := l.cat.MediaOf(ctx, "u", "f", k)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range slices.Sorted(maps.Keys(m.in[sha])) {
			f := m.in[sha][p]
			if md.Faces[f].Person != p {
				fail("%s: face %d is %q; want %s (the user put it there)", k, f, md.Faces[f].Person, p)
			}
		}
		for i, f := range md.Faces {
			if m.out[sha][f.Person] {
				fail("%s: face %d is in %s, which the user took the photo out of", k, i, f.Person)
			}
		}
	}
}
