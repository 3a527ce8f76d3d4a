package enrich

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"shoebox/catalog"
)

// The user's edits of people state beyond names and merges: persons made
// by hand (Create), faces put into a person (Assign, Reassign) or taken
// out of one (Reject). A photo is named by one file, and an edit applies
// to every copy of it (every file with the same SHA-256): copies have the
// same faces at the same indexes, so a face is named by its photo's
// content and its index (catalog.Person.IncludedFace).

// ErrAmbiguousFace is returned when a photo is put into a person and it
// cannot be told which of its faces is meant: several faces, none
// unassigned alone, and a person without faces to compare with.
var ErrAmbiguousFace = catalog.ErrAmbiguousFace

// Create makes a person named name, with no face yet (MKCOL in
// /by-person): a seed the grouping keeps (catalog.Person.CreatedNs) until
// the user forgets it. It returns the new person's id; a name a person
// shown has is an error wrapping catalog.ErrExists.
func (p *People) Create(ctx context.Context, user, name string) (string, error) {
	if name == "" {
		return "", errors.New("a person needs a name")
	}
	var id string
	err := p.edit(ctx, user, func() error {
		all, err := p.cat.People(ctx, user)
		if err != nil {
			return fmt.Errorf("persons of %s: %w", user, err)
		}
		for _, ps := range all {
			if !ps.Hidden && ps.Label() == name {
				return fmt.Errorf("person %q: %w", name, catalog.ErrExists)
			}
		}
		ps := catalog.Person{Name: name, CreatedNs: time.Now().UnixNano()}
		if err := p.cat.PutPerson(ctx, user, &ps); err != nil {
			return fmt.Errorf("person %q: %w", name, err)
		}
		id = ps.ID
		return nil
	})
	return id, err
}

// Assign says the photo bucket/key shows person to: the face meant
// (the one nearest to the person's faces, or, for a person without faces
// yet, the photo's only face or only unassigned face; else
// ErrAmbiguousFace) becomes to's in every copy of the photo, and every
// later pass and placement keeps it so. A person the face was given to
// before loses the photo (as with Reassign).
func (p *People) Assign(ctx context.Context, user, bucket, key, to string) error {
	return p.edit(ctx, user, func() error {
		return p.assign(ctx, user, bucket, key, "", to)
	})
}

// assign does Reassign (from set) and Assign (from ""), under the lock.
func (p *People) assign(ctx context.Context, user, bucket, key, from, to string) error {
	sha, err := p.photoSHA(ctx, user, bucket, key)
	if err != nil {
		return err
	}
	m, err := p.cat.MediaOf(ctx, user, bucket, key)
	if err != nil {
		return fmt.Errorf("faces of %s/%s: %w", bucket, key, err)
	}
	dst, err := p.person(ctx, user, to)
	if err != nil {
		return err
	}
	var src catalog.Person
	if from != "" {
		if src, err = p.person(ctx, user, from); err != nil {
			return err
		}
	}
	face := -1
	if from != "" {
		face = slices.IndexFunc(m.Faces, func(f catalog.Face) bool { return f.Person == from })
	}
	if face < 0 {
		if face, err = p.chooseFace(ctx, user, m, dst); err != nil {
			return fmt.Errorf("%s/%s into %s: %w", bucket, key, dst.Label(), err)
		}
	}
	// The person that face had (when not from) loses the photo too.
	if prev := m.Faces[face].Person; from == "" && prev != "" && prev != to {
		from = prev
		if src, err = p.person(ctx, user, from); err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return err
		} else if err != nil {
			from = ""
		}
	}
	include(&dst, sha, face)
	p.seedCentroid(ctx, user, &dst, m.Faces[face])
	if from != "" {
		exclude(&src, sha)
		if err := p.cat.PutPerson(ctx, user, &src); err != nil {
			return err
		}
	}
	if err := p.cat.PutPerson(ctx, user, &dst); err != nil {
		return err
	}
	return p.eachCopy(ctx, user, bucket, key, sha, func(b, k string) error {
		if from != "" {
			if err := p.cat.ReassignFaces(ctx, user, b, k, from, ""); err != nil {
				return err
			}
		}
		// A person is in a photo once: another face of to's leaves it.
		if err := p.cat.ReassignFaces(ctx, user, b, k, to, ""); err != nil {
			return err
		}
		return p.cat.SetFacePerson(ctx, user, b, k, face, to)
	})
}

// chooseFace picks the face of m that a photo put into person ps means.
func (p *People) chooseFace(ctx context.Context, user string, m catalog.Media, ps catalog.Person) (int, error) {
	if len(m.Faces) == 0 {
		return -1, fmt.Errorf("no face found in the photo: %w", catalog.ErrNotFound)
	}
	if i := slices.IndexFunc(m.Faces, func(f catalog.Face) bool { return f.Person == ps.ID }); i >= 0 {
		return i, nil
	}
	if len(m.Faces) == 1 {
		return 0, nil
	}
	if st, err := p.cat.GetPeopleStats(ctx, user); err == nil && len(st.Mean) == 128 && len(ps.Centroids) > 0 {
		best, bestSim := -1, -2.0
		for i, f := range m.Faces {
			v := p.centred(f, st.Mean)
			if v == nil {
				continue
			}
			for _, c := range ps.Centroids {
				if len(c) != 128 {
					continue
				}
				if sim := cosine(v, c); sim > bestSim {
					best, bestSim = i, sim
				}
			}
		}
		if best >= 0 {
			return best, nil
		}
	}
	free := -1
	for i, f := range m.Faces {
		if f.Person == "" {
			if free >= 0 {
				return -1, ErrAmbiguousFace
			}
			free = i
		}
	}
	if free < 0 {
		return -1, ErrAmbiguousFace
	}
	return free, nil
}

// centred is f's descriptor less the library mean, of unit length; nil
// when f is not of the kind grouped.
func (p *People) centred(f catalog.Face, mean []float32) []float64 {
	if f.Detector != p.opt.Kind || len(f.Descriptor) != 128 || len(mean) != 128 {
		return nil
	}
	v := make([]float64, 128)
	for j, x := range f.Descriptor {
		v[j] = float64(x) - float64(mean[j])
	}
	normalize(v)
	return v
}

// seedCentroid gives a person without centroids (one the user made) the
// face put into it as its centroid, so that passes and placements find
// the person's other faces near it. Without stats (no pass yet) the
// person waits for its face to be grouped.
func (p *People) seedCentroid(ctx context.Context, user string, ps *catalog.Person, f catalog.Face) {
	if len(ps.Centroids) > 0 {
		return
	}
	st, err := p.cat.GetPeopleStats(ctx, user)
	if err != nil {
		return
	}
	v := p.centred(f, st.Mean)
	if v == nil {
		return
	}
	c := make([]float32, 128)
	for j, x := range v {
		c[j] = float32(x)
	}
	ps.Centroids = [][]float32{c}
}

// eachCopy calls fn with bucket/key and every other file with content sha.
func (p *People) eachCopy(ctx context.Context, user, bucket, key, sha string, fn func(bucket, key string) error) error {
	refs := [][2]string{{bucket, key}}
	err := p.cat.FilesWithContent(ctx, user, sha, func(o catalog.Object) error {
		if o.Bucket != bucket || o.Key != key {
			refs = append(refs, [2]string{o.Bucket, o.Key})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copies of %s/%s: %w", bucket, key, err)
	}
	for _, r := range refs {
		if err := fn(r[0], r[1]); err != nil {
			if errors.Is(err, catalog.ErrNotFound) && r != refs[0] {
				continue // a copy gone meanwhile
			}
			return fmt.Errorf("%s/%s: %w", r[0], r[1], err)
		}
	}
	return nil
}

// include records that face i of the photo with content sha is ps's.
func include(ps *catalog.Person, sha string, i int) {
	ps.Included = appendOnce(ps.Included, sha)
	ps.Rejected = slices.DeleteFunc(ps.Rejected, func(s string) bool { return s == sha })
	if ps.IncludedFace == nil {
		ps.IncludedFace = map[string]int{}
	}
	ps.IncludedFace[sha] = i
}

// exclude records that the photo with content sha is not of ps.
func exclude(ps *catalog.Person, sha string) {
	ps.Rejected = appendOnce(ps.Rejected, sha)
	ps.Included = slices.DeleteFunc(ps.Included, func(s string) bool { return s == sha })
	delete(ps.IncludedFace, sha)
}

// includedFace returns which face of a photo with content sha, among the
// faces of it refs names (fis), person pi was given by the user: the face
// recorded, else the one assigned to pi already, else the one nearest to
// pi's centroids; -1 when it cannot be told.
func includedFace(ps catalog.Person, pi int, sha string, fis []int, refs []faceRef, vecs [][]float64, assign map[[2]string][]int) int {
	if i, ok := ps.IncludedFace[sha]; ok {
		return i
	}
	best, bestSim := -1, -2.0
	for _, fi := range fis {
		r := refs[fi]
		if assign[[2]string{r.bucket, r.key}][r.idx] == pi {
			return r.idx
		}
		for _, c := range ps.Centroids {
			if len(c) != 128 {
				continue
			}
			if sim := cosine(vecs[fi], c); sim > bestSim {
				best, bestSim = r.idx, sim
			}
		}
	}
	if best < 0 {
		// No centroid to compare with: a photo of one face is that face.
		idx := map[int]bool{}
		for _, fi := range fis {
			idx[refs[fi].idx] = true
		}
		if len(idx) == 1 {
			best = refs[fis[0]].idx
		}
	}
	return best
}

// applyIncluded puts into each person the face the user put there of each
// photo of its Included, in every copy of the photo (every file of that
// content), over what the clustering decided; any other face of that
// person in those files leaves it (a person is in a photo once).
func applyIncluded(people []catalog.Person, refs []faceRef, vecs [][]float64, assign map[[2]string][]int, found map[int]bool) {
	bySHA := map[string][]int{}
	for fi, r := range refs {
		bySHA[r.sha] = append(bySHA[r.sha], fi)
	}
	for pi := range people {
		ps := people[pi]
		for _, sha := range ps.Included {
			fis := bySHA[sha]
			if len(fis) == 0 {
				continue
			}
			idx := includedFace(ps, pi, sha, fis, refs, vecs, assign)
			if idx < 0 {
				continue
			}
			for _, fi := range fis {
				r := refs[fi]
				a := assign[[2]string{r.bucket, r.key}]
				for j := range a {
					if a[j] == pi && j != idx {
						a[j] = -1
					}
				}
				if idx < len(a) {
					a[idx] = pi
					found[pi] = true
				}
			}
		}
	}
}

// placeIncluded gives the faces of a new file (ps: its faces' persons, as
// PlaceNewFaces decided) whose content a person includes to that person,
// when the user said which face (IncludedFace) or the photo has one face.
func placeIncluded(people []catalog.Person, m catalog.Media, ps []string) {
	for _, p := range people {
		if !slices.Contains(p.Included, m.SHA256) {
			continue
		}
		idx, ok := p.IncludedFace[m.SHA256]
		if !ok && len(ps) == 1 {
			idx, ok = 0, true
		}
		if !ok || idx < 0 || idx >= len(ps) {
			continue
		}
		for j := range ps {
			if ps[j] == p.ID {
				ps[j] = ""
			}
		}
		ps[idx] = p.ID
	}
}
