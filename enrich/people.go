package enrich

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"shoebox/catalog"
	"shoebox/enrich/faces"
)

// People grouping. Descriptors of the dlib ResNet overlap a lot between
// people of some populations (on the shared K-pop photos, same-person
// distances 0.35–0.68 and different-person 0.34–0.72), so the grouping is
// conservative, in the ways measured to help: descriptors are compared
// after subtracting the library's mean descriptor (cosine of the centred
// vectors; each photo's content counts once in the mean), faces join by
// average linkage (a group's members must be close on average, not one of
// them: no chaining), a group needs faces from two different photos
// (copies are one photo), and a missed merge is preferred to a wrong one:
// a face that matches no one well stays unassigned. Descriptors come from
// faces aligned as dlib aligns its training chips (similarity warp onto a
// mean face, faces.Options.Align), averaged with the mirrored chip's.
// Only descriptors of one detector (and alignment) are compared. Every
// parameter (peopleDefaults) is chosen on the tuning half of the
// evaluation sets and measured on the held-out half (TestFaceEval).

// PeopleOptions tune the grouping (People).
type PeopleOptions struct {
	// Threshold is the largest average cosine distance, between centred
	// descriptors, at which two groups merge; 0 means DefaultPeopleThreshold.
	Threshold float64
	// MinFaces is the fewest different photos (by content: copies count
	// once) a group needs to become a person; 0 means 2.
	MinFaces int
	// MinScore, MinFaceSize (pixels across, on the preview) and MaxYaw
	// (faceGeometry) say which faces are grouped at all (see usable); 0
	// means the default for Kind, a negative value turns the filter off.
	MinScore, MinFaceSize, MaxYaw float64
	// Kind is the kind of descriptor grouped (FaceKindOf); "" is FaceKind.
	Kind string
	// RegroupAfter and RegroupEvery say when People.PlaceNewFaces calls for a
	// full pass (see there); 0 means the defaults.
	RegroupAfter int
	RegroupEvery time.Duration
}

// DefaultPeopleThreshold is the merge threshold, for aligned descriptors
// of either detector (tiny416a, ssd512a): an average centred cosine
// similarity of at least 0.75. TestFaceEval chose it on the tuning half of
// the evaluation sets (26 photos, 8 identities of two populations) as the
// threshold with the most recall whose precision stays at 1.00 up to 0.04
// above it (the threshold where precision falls moves from one library to
// another). On the held-out half (23 photos, 8 other identities) it gives
// pairwise precision 1.00, recall 0.50 with either detector; the 0.82
// chosen before on the K-pop photos alone mixed people there (0.56).
const DefaultPeopleThreshold = 0.25

// FaceKind is the kind of descriptor (faces.Face.Detector) Shoebox
// stores and groups by default: tiny416 with aligned chips
// (faces.Options.Align), as detectFaces stores them. Photos with faces of
// another kind are enriched again (catalog.RequeueFacesNotOf); descriptors
// of face-api's unaligned crop ("tiny416") are not comparable.
const FaceKind = "tiny416a"

// FaceKindOf is the kind of descriptor Metadata stores with the detector
// (Metadata.FaceDetector).
func FaceKindOf(detector string) string {
	if detector == faces.DetectorSSD {
		return faces.DetectorSSD + "a"
	}
	return FaceKind
}

type faceRef struct {
	bucket, key, sha string
	idx              int
}

// People is the one owner of a catalog's people state: the persons, which
// person each face belongs to, and the user's corrections (names, merges,
// photos moved between persons or rejected from one, forgotten folders).
// Every change to that state goes through it — grouping passes (Group),
// placement of new faces (PlaceNewFaces) and the user's edits from any
// front end (Rename, Merge, Reassign, Reject, Hide) — and it serializes
// them per user:
//
//   - An edit holds the user's lock across its whole read-modify-write:
//     it reads the persons it changes afresh (never a copy a front end
//     read earlier), writes them and the faces they concern, and returns
//     once all of it is in the catalog.
//   - PlaceNewFaces runs under the lock.
//   - Group reads and computes without the lock (a pass over a large
//     library takes a while; edits are not held up by it) and applies its
//     result under the lock only if nothing changed the user's people
//     state since it started reading; otherwise it computes again from the
//     new state, and after a few tries computes under the lock. So a pass
//     never writes back a person as it was before an edit, never brings
//     back a person merged away, and never undoes a placement.
//
// The corrections are seeds every pass keeps (see Group). Readers (the
// virtual folders, the API) read the catalog directly and may see an edit
// half applied; what is written is never lost. Make one People per
// catalog, for the life of the process: the catalog's writing methods for
// people state (PutPerson, DeletePerson, SetFacePersons, ReassignFaces,
// PutPeopleStats) are for it alone. Errors for a person or photo that is
// not there wrap catalog.ErrNotFound.
type People struct {
	cat *catalog.Catalog
	opt PeopleOptions

	mu    sync.Mutex // guards users
	users map[string]*userPeople
}

// userPeople serializes changes to one user's people state.
type userPeople struct {
	mu sync.Mutex
	// version counts changes applied (under mu): a pass computed from what
	// it read at one version applies only at that version.
	version uint64
}

// groupTries is how many times Group computes without the lock before it
// computes under it.
const groupTries = 3

// NewPeople returns the owner of cat's people state, grouping with opt.
func NewPeople(cat *catalog.Catalog, opt PeopleOptions) *People {
	return &People{cat: cat, opt: opt.resolve(), users: map[string]*userPeople{}}
}

// resolve fills in the defaults (for opt.Kind).
func (opt PeopleOptions) resolve() PeopleOptions {
	if opt.Kind == "" {
		opt.Kind = FaceKind
	}
	d := peopleDefaults(opt.Kind)
	if opt.Threshold <= 0 {
		opt.Threshold = d.Threshold
	}
	if opt.MinFaces <= 0 {
		opt.MinFaces = d.MinFaces
	}
	if opt.MinScore == 0 {
		opt.MinScore = d.MinScore
	}
	if opt.MinFaceSize == 0 {
		opt.MinFaceSize = d.MinFaceSize
	}
	if opt.MaxYaw == 0 {
		opt.MaxYaw = d.MaxYaw
	}
	if opt.RegroupEvery <= 0 {
		opt.RegroupEvery = 24 * time.Hour
	}
	return opt
}

// peopleDefaults are the grouping parameters for a kind of descriptor,
// chosen on the tuning half of the evaluation sets only (see
// TestFaceEval, which checks that these are what it chooses): the
// held-out figures are in the README. The quality filters are off: on
// those photos, no minimum score (0.6–0.8), size (40–80 px) or maximum
// yaw (0.25–0.5) kept the tuning half's precision with more recall.
func peopleDefaults(kind string) PeopleOptions {
	if kind == FaceKindOf(faces.DetectorSSD) {
		return PeopleOptions{Threshold: DefaultPeopleThreshold, MinFaces: 2, MinScore: -1, MinFaceSize: -1, MaxYaw: -1}
	}
	return PeopleOptions{Threshold: DefaultPeopleThreshold, MinFaces: 2, MinScore: -1, MinFaceSize: -1, MaxYaw: -1}
}

func (p *People) user(name string) *userPeople {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[name]
	if u == nil {
		u = &userPeople{}
		p.users[name] = u
	}
	return u
}

func (u *userPeople) current() uint64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.version
}

// edit runs fn under the user's lock and counts it as a change (even when
// it fails: it may have written part of what it meant to).
func (p *People) edit(ctx context.Context, user string, fn func() error) error {
	u := p.user(user)
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	defer func() { u.version++ }()
	return fn()
}

func (p *People) person(ctx context.Context, user, id string) (catalog.Person, error) {
	ps, err := p.cat.GetPerson(ctx, user, id)
	if err != nil {
		return ps, fmt.Errorf("person %s: %w", id, err)
	}
	return ps, nil
}

// photoSHA returns the SHA-256 of a file of the user's.
func (p *People) photoSHA(ctx context.Context, user, bucket, key string) (string, error) {
	o, err := p.cat.Stat(ctx, user, bucket, key)
	if err != nil {
		return "", fmt.Errorf("%s/%s: %w", bucket, key, err)
	}
	if o.SHA256 == "" {
		return "", fmt.Errorf("%s/%s: not a photo of the library: %w", bucket, key, catalog.ErrNotFound)
	}
	return o.SHA256, nil
}

// Rename names person id (an empty name makes it "Person <n>" again).
func (p *People) Rename(ctx context.Context, user, id, name string) error {
	return p.edit(ctx, user, func() error {
		ps, err := p.person(ctx, user, id)
		if err != nil {
			return err
		}
		ps.Name = name
		return p.cat.PutPerson(ctx, user, &ps)
	})
}

// Merge makes person from part of person into: into takes from's
// centroids (so every later pass gives it the faces from would have had)
// and corrections, and from's faces now; from is forgotten.
func (p *People) Merge(ctx context.Context, user, from, into string) error {
	if from == into {
		return fmt.Errorf("merge person %s into itself", from)
	}
	return p.edit(ctx, user, func() error {
		src, err := p.person(ctx, user, from)
		if err != nil {
			return err
		}
		dst, err := p.person(ctx, user, into)
		if err != nil {
			return err
		}
		dst.Centroids = append(dst.Centroids, src.Centroids...)
		for _, sha := range src.Rejected {
			dst.Rejected = appendOnce(dst.Rejected, sha)
		}
		for _, sha := range src.Included {
			dst.Included = appendOnce(dst.Included, sha)
		}
		for sha, i := range src.IncludedFace {
			if dst.IncludedFace == nil {
				dst.IncludedFace = map[string]int{}
			}
			dst.IncludedFace[sha] = i
		}
		var photos []catalog.Object
		if err := p.cat.PersonPhotos(ctx, user, from, func(o catalog.Object) error { photos = append(photos, o); return nil }); err != nil {
			return err
		}
		for _, o := range photos {
			if err := p.cat.ReassignFaces(ctx, user, o.Bucket, o.Key, from, into); err != nil {
				return err
			}
		}
		// What the user said of either holds for both: a face put into
		// one stays, and a photo taken out of one leaves the other too.
		dst.Rejected = slices.DeleteFunc(dst.Rejected, func(s string) bool { return slices.Contains(dst.Included, s) })
		for _, sha := range dst.Rejected {
			var copies []catalog.Object
			err := p.cat.FilesWithContent(ctx, user, sha, func(o catalog.Object) error { copies = append(copies, o); return nil })
			if err != nil {
				return err
			}
			for _, o := range copies {
				if err := p.cat.ReassignFaces(ctx, user, o.Bucket, o.Key, into, ""); err != nil && !errors.Is(err, catalog.ErrNotFound) {
					return err
				}
			}
		}
		if err := p.cat.PutPerson(ctx, user, &dst); err != nil {
			return err
		}
		return p.cat.DeletePerson(ctx, user, from)
	})
}

// Reassign says the photo bucket/key is of person to, not of person from:
// its face that was from's becomes to's in every copy of the photo (every
// file with the same content), and every later pass and placement keeps
// it so (to.Included and IncludedFace, from.Rejected).
func (p *People) Reassign(ctx context.Context, user, bucket, key, from, to string) error {
	if from == to {
		return nil
	}
	return p.edit(ctx, user, func() error {
		return p.assign(ctx, user, bucket, key, from, to)
	})
}

// Reject says the photo bucket/key is not of person id ("not this
// person"): its face leaves the person in every copy of the photo (every
// file with the same content), and no later pass or placement puts it
// back. The photos stay in the library.
func (p *People) Reject(ctx context.Context, user, id, bucket, key string) error {
	return p.edit(ctx, user, func() error {
		sha, err := p.photoSHA(ctx, user, bucket, key)
		if err != nil {
			return err
		}
		ps, err := p.person(ctx, user, id)
		if err != nil {
			return err
		}
		exclude(&ps, sha)
		if err := p.cat.PutPerson(ctx, user, &ps); err != nil {
			return err
		}
		return p.eachCopy(ctx, user, bucket, key, sha, func(b, k string) error {
			return p.cat.ReassignFaces(ctx, user, b, k, id, "")
		})
	})
}

// Hide forgets person id as far as the user sees it (its folder is
// deleted): the grouping is kept, out of sight, so its faces do not come
// back as a new person. Photos are never touched.
func (p *People) Hide(ctx context.Context, user, id string) error {
	return p.edit(ctx, user, func() error {
		ps, err := p.person(ctx, user, id)
		if err != nil {
			return err
		}
		ps.Hidden = true
		return p.cat.PutPerson(ctx, user, &ps)
	})
}

func appendOnce(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// Group regroups every face of the user's photos into persons and
// records the result: persons found again keep their id and name (a group
// is matched to a person by its centroids), new groups become new persons,
// and each face's Person is set. The user's corrections are respected: a
// merged person takes every group near one of its centroids, a photo
// rejected from a person leaves it, a photo moved into a person joins it.
// It reads all of the user's faces: run it after enrichment settles, not
// per photo. It returns the number of persons with faces.
//
// The pass is computed without the user's lock and applied under it if
// nothing changed meanwhile (see People).
func (p *People) Group(ctx context.Context, user string) (int, error) {
	u := p.user(user)
	for range groupTries - 1 {
		v := u.current()
		g, err := computeGrouping(ctx, p.cat, user, p.opt)
		if err != nil {
			return 0, err
		}
		u.mu.Lock()
		if u.version == v {
			n, err := g.apply(ctx, p.cat, user)
			u.version++
			u.mu.Unlock()
			return n, err
		}
		u.mu.Unlock() // changed meanwhile: compute again from the new state
	}
	// Changes kept coming: compute under the lock this time.
	u.mu.Lock()
	defer u.mu.Unlock()
	g, err := computeGrouping(ctx, p.cat, user, p.opt)
	if err != nil {
		return 0, err
	}
	defer func() { u.version++ }()
	return g.apply(ctx, p.cat, user)
}

// grouping is a pass's result, computed from what it read and not yet
// written. Persons are referred to by their index in people; new ones
// have no ID until apply writes them.
type grouping struct {
	people    []catalog.Person
	keep      []bool
	counts    []int
	assign    map[[2]string][]int    // person index of each face, -1 none
	current   map[[2]string][]string // each face's person as read
	unchecked map[[2]string]bool     // files with faces not yet Checked
	stats     catalog.PeopleStats
}

func computeGrouping(ctx context.Context, cat *catalog.Catalog, user string, opt PeopleOptions) (*grouping, error) {
	var refs []faceRef
	var descs [][]float64
	var samples []faceSample
	current := map[[2]string][]string{}
	unchecked := map[[2]string]bool{}
	err := cat.UserFaces(ctx, user, func(bucket, key string, m catalog.Media) error {
		ps := make([]string, len(m.Faces))
		for i, f := range m.Faces {
			ps[i] = f.Person
			if !f.Checked {
				unchecked[[2]string{bucket, key}] = true
			}
			if f.Detector != opt.Kind || len(f.Descriptor) != 128 {
				continue
			}
			d := make([]float64, 128)
			for j, v := range f.Descriptor {
				d[j] = float64(v)
			}
			refs = append(refs, faceRef{bucket, key, m.SHA256, i})
			descs = append(descs, d)
			photo := m.SHA256
			if photo == "" {
				photo = bucket + "/" + key
			}
			samples = append(samples, faceSample{faceKey{photo, i}, opt.usable(f, m)})
		}
		current[[2]string{bucket, key}] = ps
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read faces of %s: %w", user, err)
	}
	libMean, vecs := centre(descs, samples)
	cut := 1 - opt.Threshold
	groups := groupVectors(vecs, samples, opt)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Copies of one photo (same content) are grouped once, through their
	// first face in groups; every copy's face gets the person.
	copies := map[faceKey][]int{}
	for i, s := range samples {
		k := s.faceKey
		copies[k] = append(copies[k], i)
	}

	people, err := cat.People(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("read persons of %s: %w", user, err)
	}
	// Largest groups choose first; each centroid of a person is found
	// again at most once.
	slices.SortFunc(groups, func(a, b []int) int { return len(b) - len(a) })
	used := map[int]map[int]bool{} // person index → centroid indexes
	found := map[int]bool{}
	assign := map[[2]string][]int{}
	for k, ps := range current {
		a := make([]int, len(ps))
		for i := range a {
			a[i] = -1
		}
		assign[k] = a
	}
	for _, g := range groups {
		// The centroid is the mean of the group's unit vectors, not
		// normalized: a face's average similarity to the group is its dot
		// product with it (PlaceNewFaces relies on that).
		centroid := make([]float64, 128)
		for _, i := range g {
			for j := range centroid {
				centroid[j] += vecs[i][j] / float64(len(g))
			}
		}
		dir := slices.Clone(centroid)
		normalize(dir)
		pi, pc, bestSim := -1, -1, cut
		// A group most of whose faces are already someone's is that person
		// (their centroid nearest to it is replaced): ids stay put when
		// descriptors change (a new kind, carried over by the catalog).
		if i, ci := majority(g, refs, current, people, used, dir); i >= 0 {
			pi, pc = i, ci
		}
		for i := range people {
			if pi >= 0 {
				break
			}
			for ci, c := range people[i].Centroids {
				if used[i][ci] || len(c) != 128 {
					continue
				}
				if sim := cosine(dir, c); sim >= bestSim {
					pi, pc, bestSim = i, ci, sim
				}
			}
		}
		c32 := make([]float32, 128)
		for j, v := range centroid {
			c32[j] = float32(v)
		}
		if pi < 0 {
			people = append(people, catalog.Person{Centroids: [][]float32{c32}})
			pi, pc = len(people)-1, 0
		} else {
			people[pi].Centroids[pc] = c32
		}
		if used[pi] == nil {
			used[pi] = map[int]bool{}
		}
		used[pi][pc] = true
		found[pi] = true
		for _, i := range g {
			for _, c := range copies[samples[i].faceKey] {
				r := refs[c]
				if !slices.Contains(people[pi].Rejected, r.sha) {
					assign[[2]string{r.bucket, r.key}][r.idx] = pi
				}
			}
		}
	}
	// Photos the user put into a person: that face joins, in every copy.
	applyIncluded(people, refs, vecs, assign, found)
	out := &grouping{people: people, keep: make([]bool, len(people)), counts: make([]int, len(people)),
		assign: assign, current: current, unchecked: unchecked,
		stats: catalog.PeopleStats{Faces: len(refs), At: time.Now().UTC()}}
	// A person's size counts each photo's content once (one photo, one
	// vote): copies of a photo are one face.
	counted := map[int]map[faceKey]bool{}
	for i, r := range refs {
		pi := assign[[2]string{r.bucket, r.key}][r.idx]
		k := samples[i].faceKey
		if pi < 0 || counted[pi][k] {
			continue
		}
		if counted[pi] == nil {
			counted[pi] = map[faceKey]bool{}
		}
		counted[pi][k] = true
		out.counts[pi]++
	}
	for pi, p := range people {
		out.keep[pi] = found[pi] || p.Name != "" || p.CreatedNs > 0 || p.Hidden || len(p.Rejected)+len(p.Included) > 0
	}
	for _, v := range libMean {
		out.stats.Mean = append(out.stats.Mean, float32(v))
	}
	return out, nil
}

// apply writes the grouping: persons (new ones get their ids), forgotten
// persons, each changed file's faces, the stats. It returns the number of
// persons with faces.
func (g *grouping) apply(ctx context.Context, cat *catalog.Catalog, user string) (int, error) {
	n := 0
	for i := range g.people {
		p := &g.people[i]
		if !g.keep[i] {
			if err := cat.DeletePerson(ctx, user, p.ID); err != nil {
				return 0, err
			}
			continue
		}
		p.Faces = g.counts[i]
		if err := cat.PutPerson(ctx, user, p); err != nil {
			return 0, err
		}
		if p.Faces > 0 && !p.Hidden {
			n++
		}
	}
	for k, idx := range g.assign {
		ps := make([]string, len(idx))
		for j, pi := range idx {
			if pi >= 0 {
				ps[j] = g.people[pi].ID
			}
		}
		if !slices.Equal(ps, g.current[k]) || g.unchecked[k] {
			if err := cat.SetFacePersons(ctx, user, k[0], k[1], ps); err != nil {
				return 0, err
			}
		}
	}
	if err := cat.PutPeopleStats(ctx, user, g.stats); err != nil {
		return 0, err
	}
	return n, nil
}

// PlaceNewFaces is the pass between full ones (Group): each face
// grouping has not looked at yet (catalog.NewFaces, indexed) joins the
// person whose faces it is closest to on average, if that is within the
// threshold and the user did not reject the photo from that person;
// otherwise it waits, unplaced, for the next full pass. A face the
// quality filters leave out (PeopleOptions.usable) stays unassigned. A
// copy of a photo already in the library takes the persons of its twin's
// faces and is not counted in their Faces again (one photo, one vote;
// the next full pass counts exactly). A new face is
// compared with the persons' centroids, not with every face: the average
// cosine similarity of a unit vector to a group is its dot product with
// the mean of the group's unit vectors, which is what a centroid is.
// Descriptors are centred with the mean the last full pass found. It runs
// under the user's lock (see People).
//
// It reports whether a full pass is due: none has run yet, more faces
// went unplaced since the last one than RegroupAfter (default: 20, or
// a tenth of the faces then grouped if more), or it is older than
// RegroupEvery (default a day) and faces arrived since.
func (p *People) PlaceNewFaces(ctx context.Context, user string) (placed int, full bool, err error) {
	u := p.user(user)
	u.mu.Lock()
	defer u.mu.Unlock()
	cat, opt := p.cat, p.opt
	st, err := cat.GetPeopleStats(ctx, user)
	if errors.Is(err, catalog.ErrNotFound) || (err == nil && len(st.Mean) != 128) {
		return 0, true, nil
	} else if err != nil {
		return 0, false, err
	}
	people, err := cat.People(ctx, user)
	if err != nil {
		return 0, false, err
	}
	cut := 1 - opt.Threshold
	added := map[string]int{}
	arrived, files := 0, 0
	defer func() {
		if files > 0 {
			u.version++
		}
	}()
	batch := map[string][]string{} // persons of the faces of copies placed in this pass, by SHA-256
	err = cat.NewFaces(ctx, user, func(bucket, key string, m catalog.Media) error {
		ps := make([]string, len(m.Faces))
		// A copy of a photo already in the library (same content) takes
		// its twins' persons and adds no face to them (one photo, one
		// vote); twins are the other files with the content, or a copy
		// placed earlier in this pass.
		twin := batch[m.SHA256]
		if twin == nil {
			var err error
			if twin, err = twinPersons(ctx, cat, user, bucket, key, m); err != nil {
				return err
			}
		}
		for i, f := range m.Faces {
			ps[i] = f.Person
			if f.Person != "" || f.Checked || f.Detector != opt.Kind || len(f.Descriptor) != 128 {
				continue
			}
			if twin != nil && twin[i] != "" {
				if k := slices.IndexFunc(people, func(p catalog.Person) bool { return p.ID == twin[i] }); k >= 0 && !slices.Contains(people[k].Rejected, m.SHA256) {
					ps[i] = twin[i]
					placed++
					continue
				}
			}
			if !opt.usable(f, m) {
				continue // left out of grouping: a full pass would not place it either
			}
			arrived++
			v := make([]float64, 128)
			for j, x := range f.Descriptor {
				v[j] = float64(x) - float64(st.Mean[j])
			}
			normalize(v)
			best, bestSim := "", cut
			for _, p := range people {
				if slices.Contains(p.Rejected, m.SHA256) {
					continue
				}
				for _, c := range p.Centroids {
					if len(c) != 128 {
						continue
					}
					sim := 0.0
					for j := range v {
						sim += v[j] * float64(c[j])
					}
					if sim >= bestSim {
						best, bestSim = p.ID, sim
					}
				}
			}
			if best == "" {
				st.Unplaced++
				continue
			}
			ps[i] = best
			added[best]++
			placed++
		}
		placeIncluded(people, m, ps)
		if m.SHA256 != "" && batch[m.SHA256] == nil {
			batch[m.SHA256] = ps
		}
		files++
		return cat.SetFacePersons(ctx, user, bucket, key, ps)
	})
	if err != nil {
		return placed, false, err
	}
	for i := range people {
		if n := added[people[i].ID]; n > 0 {
			people[i].Faces += n
			if err := cat.PutPerson(ctx, user, &people[i]); err != nil {
				return placed, false, err
			}
		}
	}
	if arrived > 0 {
		if err := cat.PutPeopleStats(ctx, user, st); err != nil {
			return placed, false, err
		}
	}
	after := opt.RegroupAfter
	if after <= 0 {
		after = max(20, st.Faces/10)
	}
	full = st.Unplaced >= after || (st.Unplaced > 0 && time.Since(st.At) > opt.RegroupEvery)
	return placed, full, nil
}

// twinPersons returns, for each face of file bucket/key, the person its
// face has in another file with the same content (nil if there is none
// with persons).
func twinPersons(ctx context.Context, cat *catalog.Catalog, user, bucket, key string, m catalog.Media) ([]string, error) {
	var twins []catalog.Object
	err := cat.FilesWithContent(ctx, user, m.SHA256, func(o catalog.Object) error {
		if o.Bucket != bucket || o.Key != key {
			twins = append(twins, o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copies of %s/%s: %w", bucket, key, err)
	}
	var out []string
	for _, o := range twins {
		tm, err := cat.MediaOf(ctx, user, o.Bucket, o.Key)
		if err != nil || len(tm.Faces) != len(m.Faces) {
			continue
		}
		for i, f := range tm.Faces {
			if f.Person == "" {
				continue
			}
			if out == nil {
				out = make([]string, len(m.Faces))
			}
			if out[i] == "" {
				out[i] = f.Person
			}
		}
	}
	return out, nil
}

// majority returns the person (index in people) most of the group's faces
// belong to now, with the unused centroid of theirs nearest to dir (a new
// one if all are used: a person whose faces split into several groups
// keeps them all), or -1.
func majority(g []int, refs []faceRef, current map[[2]string][]string, people []catalog.Person, used map[int]map[int]bool, dir []float64) (int, int) {
	votes := map[string]int{}
	for _, i := range g {
		r := refs[i]
		if ps := current[[2]string{r.bucket, r.key}]; r.idx < len(ps) && ps[r.idx] != "" {
			votes[ps[r.idx]]++
		}
	}
	for i := range people {
		if votes[people[i].ID]*2 <= len(g) {
			continue
		}
		best, bestSim := -1, -2.0
		for ci, c := range people[i].Centroids {
			if used[i][ci] || len(c) != 128 {
				continue
			}
			if sim := cosine(dir, c); sim > bestSim {
				best, bestSim = ci, sim
			}
		}
		if best < 0 {
			// Every centroid of the person is taken (its faces fell into
			// more groups this pass than it has centroids): the group is
			// still the person's, with a centroid of its own.
			people[i].Centroids = append(people[i].Centroids, make([]float32, 128))
			best = len(people[i].Centroids) - 1
		}
		return i, best
	}
	return -1, -1
}

// cosine is the cosine similarity of a unit vector and a centroid.
func cosine(unit []float64, c []float32) float64 {
	var d, n float64
	for j := range unit {
		d += unit[j] * float64(c[j])
		n += float64(c[j]) * float64(c[j])
	}
	if n == 0 {
		return 0
	}
	return d / math.Sqrt(n)
}

// centre subtracts the mean descriptor and normalizes each to unit length;
// it returns the mean too. The mean is over distinct faces: of the faces
// with one faceKey (copies of a photo, samples[i] describing descs[i]),
// only the first counts, so copies do not pull the mean towards
// themselves (nil samples: every face counts).
func centre(descs [][]float64, samples []faceSample) ([]float64, [][]float64) {
	if len(descs) == 0 {
		return nil, nil
	}
	mean := make([]float64, len(descs[0]))
	seen := map[faceKey]bool{}
	n := 0
	for i, d := range descs {
		if samples != nil {
			if seen[samples[i].faceKey] {
				continue
			}
			seen[samples[i].faceKey] = true
		}
		n++
		for j, v := range d {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	out := make([][]float64, len(descs))
	for i, d := range descs {
		v := make([]float64, len(d))
		for j := range d {
			v[j] = d[j] - mean[j]
		}
		normalize(v)
		out[i] = v
	}
	return mean, out
}

func normalize(v []float64) {
	n := 0.0
	for _, x := range v {
		n += x * x
	}
	if n = math.Sqrt(n); n > 0 {
		for i := range v {
			v[i] /= n
		}
	}
}

// clusterFaces groups unit vectors by average linkage: two groups merge
// while the mean cosine similarity between their members is at least
// minSim. The mean similarity of groups A and B is sum(A)·sum(B)/(|A||B|),
// so each group keeps only its sum.
func clusterFaces(vecs [][]float64, minSim float64) [][]int {
	n := len(vecs)
	parent := make([]int, n)
	sums := make([][]float64, n)
	sizes := make([]int, n)
	for i := range vecs {
		parent[i] = i
		sums[i] = slices.Clone(vecs[i])
		sizes[i] = 1
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	h := &pairHeap{}
	for i := range n {
		for j := i + 1; j < n; j++ {
			if s := dot(vecs[i], vecs[j]); s >= minSim {
				*h = append(*h, pair{s, i, j})
			}
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		p := heap.Pop(h).(pair)
		a, b := find(p.i), find(p.j)
		if a == b {
			continue
		}
		// The groups grew since the pair was queued: check them as they are.
		if s := dot(sums[a], sums[b]) / float64(sizes[a]*sizes[b]); s < minSim {
			continue
		}
		parent[b] = a
		for j := range sums[a] {
			sums[a][j] += sums[b][j]
		}
		sizes[a] += sizes[b]
	}
	byRoot := map[int][]int{}
	for i := range n {
		r := find(i)
		byRoot[r] = append(byRoot[r], i)
	}
	out := make([][]int, 0, len(byRoot))
	for _, g := range byRoot {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b []int) int { return a[0] - b[0] })
	return out
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

type pair struct {
	sim  float64
	i, j int
}

type pairHeap []pair

func (h pairHeap) Len() int           { return len(h) }
func (h pairHeap) Less(i, j int) bool { return h[i].sim > h[j].sim }
func (h pairHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)        { *h = append(*h, x.(pair)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
