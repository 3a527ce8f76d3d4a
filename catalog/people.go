package catalog

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// People: a person is primary data (its name, a stable sequence number,
// and the centroid of its faces, by which a later grouping pass finds it
// again, even after `shoebox reindex`); which face belongs to which person
// is derived (Face.Person in media records, indexed as pface rows).
//
// The methods that write people state (PutPerson, DeletePerson,
// SetFacePersons, SetFacePerson, ReassignFaces, PutPeopleStats) are for its one owner,
// enrich.People, which serializes every change; anything else reads.
//
//	person|U|PID   Person JSON
//	pseq|U         the last sequence number given, 8 bytes
const (
	pfxPerson    = "person|"
	pfxPersonSeq = "pseq|"
)

// ErrAmbiguousFace is returned when a photo is put into a person and it
// cannot be told which of its faces is meant (enrich.People.Assign).
var ErrAmbiguousFace = errors.New("the photo has several faces and none of them is clearly this person's: move it from the folder of the person its face is in now")

// Person is a group of faces, with the corrections the user made through
// /by-person, which every later grouping pass respects.
type Person struct {
	ID   string `json:"-"`
	Name string `json:"name,omitempty"`
	Seq  int64  `json:"seq"` // "Person <Seq>" while unnamed
	// Centroids are the means of the (centred) descriptor groups the person
	// is made of: one, or several after the user merged persons.
	Centroids [][]float32 `json:"centroids"`
	Faces     int         `json:"faces"` // how many at the last pass
	// Rejected and Included name photos (by SHA-256) the user said are not,
	// or are, of this person.
	Rejected []string `json:"rejected,omitempty"`
	Included []string `json:"included,omitempty"`
	// IncludedFace says which face of an Included photo (by SHA-256) the
	// user put into the person: its index in Media.Faces, which is the
	// same in every copy of that content (the same bytes give the same
	// faces). A photo of Included without an entry here gives the person
	// its face nearest to the person's centroids. Every copy of the
	// content has that face in the person after every pass and placement.
	IncludedFace map[string]int `json:"included_face,omitempty"`
	// CreatedNs is when the user made the person (MKCOL /by-person/<name>/,
	// the API), 0 for persons the grouping found. A person the user made
	// is a seed: no pass forgets it, and its folder is listed even while
	// it holds no photo.
	CreatedNs int64 `json:"created,omitempty"`
	// Hidden: the user deleted the folder; the grouping is kept out of sight.
	Hidden bool `json:"hidden,omitempty"`
}

// Label is the person's folder name: its name, else "Person <seq>".
func (p Person) Label() string {
	if p.Name != "" {
		return p.Name
	}
	return fmt.Sprintf("Person %d", p.Seq)
}

// People returns the user's persons.
func (c *Catalog) People(ctx context.Context, user string) ([]Person, error) {
	var out []Person
	pfx := []byte(pfxPerson + user + sep)
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var p Person
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &p) }); err != nil {
				return err
			}
			p.ID = string(it.Item().Key()[len(pfx):])
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// PutPerson writes a person; a person without ID gets the next sequence
// number and an id made from it.
func (c *Catalog) PutPerson(ctx context.Context, user string, p *Person) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		if p.ID == "" {
			var seq int64
			if item, err := txn.Get([]byte(pfxPersonSeq + user)); err == nil {
				v, _ := item.ValueCopy(nil)
				if len(v) == 8 {
					seq = int64(binary.BigEndian.Uint64(v))
				}
			}
			seq++
			if err := txn.Set([]byte(pfxPersonSeq+user), u64(seq)); err != nil {
				return err
			}
			p.Seq, p.ID = seq, fmt.Sprintf("p%06d", seq)
		}
		return setJSON(txn, []byte(pfxPerson+user+sep+p.ID), p)
	})
}

// DeletePerson forgets a person (the faces' grouping, never photos).
func (c *Catalog) DeletePerson(ctx context.Context, user, id string) error {
	return c.update(ctx, func(txn *badger.Txn) error { return txn.Delete([]byte(pfxPerson + user + sep + id)) })
}

// PersonPhotos calls fn with the file rows of the photos a person is in.
func (c *Catalog) PersonPhotos(ctx context.Context, user, id string, fn func(Object) error) error {
	return c.refs(ctx, user, pfxPersonFace+user+sep+id+sep, fn)
}

// UserFaces calls fn with every media record of the user that has faces.
func (c *Catalog) UserFaces(ctx context.Context, user string, fn func(bucket, key string, m Media) error) error {
	pfx := pfxMedia + user + sep
	return c.db.View(func(txn *badger.Txn) error {
		return eachMedia(ctx, txn, []byte(pfx), len(pfx), func(rest string, m Media) error {
			if len(m.Faces) == 0 {
				return nil
			}
			b, k, _ := strings.Cut(rest, sep)
			return fn(b, k, m)
		})
	})
}

// SetFacePersons records what grouping decided for each face of one file:
// persons[i] is the person of Faces[i] ("" none), and every face is marked
// Checked (no longer new). The index rows follow; nothing happens if the
// file changed meanwhile.
func (c *Catalog) SetFacePersons(ctx context.Context, user, bucket, key string, persons []string) error {
	return c.updateIndex(ctx, func(txn *badger.Txn) error {
		var m Media
		if err := getJSON(txn, keyMedia(user, bucket, key), &m); err != nil {
			return nil
		}
		if len(m.Faces) != len(persons) {
			return nil
		}
		var o Object
		if err := getJSON(txn, keyObject(user, bucket, key), &o); err != nil {
			return nil
		}
		for i := range m.Faces {
			m.Faces[i].Person = persons[i]
			m.Faces[i].Checked = true
		}
		return index(txn, user, bucket, key, m, o.ModNs)
	})
}

// NewFaces calls fn for each of the user's photos with faces grouping has
// not looked at yet (see Face.Checked), reading only those.
func (c *Catalog) NewFaces(ctx context.Context, user string, fn func(bucket, key string, m Media) error) error {
	pfx := []byte(pfxFacesNew + user + sep)
	var refs [][2]string
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			b, k, ok := strings.Cut(string(it.Item().Key()[len(pfx):]), sep)
			if ok {
				refs = append(refs, [2]string{b, k})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := c.MediaOf(ctx, user, r[0], r[1])
		if errors.Is(err, ErrNotFound) {
			continue // gone meanwhile
		} else if err != nil {
			return err
		}
		if err := fn(r[0], r[1], m); err != nil {
			return err
		}
	}
	return nil
}

// PeopleStats is what the last full grouping pass of a user left for the
// passes that place new faces between full ones (derived data).
type PeopleStats struct {
	// Mean is the mean descriptor of the user's faces, subtracted before
	// descriptors are compared.
	Mean []float32 `json:"mean"`
	// Faces is how many faces the full pass grouped; Unplaced, how many
	// new faces found no person since.
	Faces    int       `json:"faces"`
	Unplaced int       `json:"unplaced"`
	At       time.Time `json:"at"`
}

// GetPeopleStats returns the user's PeopleStats, or ErrNotFound before
// the first full pass.
func (c *Catalog) GetPeopleStats(ctx context.Context, user string) (PeopleStats, error) {
	var st PeopleStats
	err := c.db.View(func(txn *badger.Txn) error { return getJSON(txn, []byte(pfxPeopleStats+user), &st) })
	return st, err
}

// PutPeopleStats stores the user's PeopleStats.
func (c *Catalog) PutPeopleStats(ctx context.Context, user string, st PeopleStats) error {
	return c.update(ctx, func(txn *badger.Txn) error { return setJSON(txn, []byte(pfxPeopleStats+user), st) })
}

// GetPerson returns one person.
func (c *Catalog) GetPerson(ctx context.Context, user, id string) (Person, error) {
	var p Person
	err := c.db.View(func(txn *badger.Txn) error { return getJSON(txn, []byte(pfxPerson+user+sep+id), &p) })
	p.ID = id
	return p, err
}

// FilesWithContent calls fn with the user's files whose content has the
// given SHA-256 (exact copies, through the ixs index rows of enriched
// files), in key order.
func (c *Catalog) FilesWithContent(ctx context.Context, user, sha string, fn func(Object) error) error {
	if sha == "" {
		return nil
	}
	return c.refs(ctx, user, pfxIxSHA+user+sep+sha+sep, fn)
}

// SetFacePerson gives face i of one file to person ("" nobody); no-op
// when the file has no such face. The face is marked Checked.
func (c *Catalog) SetFacePerson(ctx context.Context, user, bucket, key string, i int, person string) error {
	return c.updateIndex(ctx, func(txn *badger.Txn) error {
		var m Media
		if err := getJSON(txn, keyMedia(user, bucket, key), &m); err != nil {
			return fmt.Errorf("%s/%s: %w", bucket, key, err)
		}
		if i < 0 || i >= len(m.Faces) || (m.Faces[i].Person == person && m.Faces[i].Checked) {
			return nil
		}
		var o Object
		if err := getJSON(txn, keyObject(user, bucket, key), &o); err != nil {
			return fmt.Errorf("%s/%s: %w", bucket, key, err)
		}
		m.Faces[i].Person, m.Faces[i].Checked = person, true
		return index(txn, user, bucket, key, m, o.ModNs)
	})
}

// ReassignFaces gives the faces of one file that belong to person from to
// person to ("" for nobody).
func (c *Catalog) ReassignFaces(ctx context.Context, user, bucket, key, from, to string) error {
	return c.updateIndex(ctx, func(txn *badger.Txn) error {
		var m Media
		if err := getJSON(txn, keyMedia(user, bucket, key), &m); err != nil {
			return err
		}
		var o Object
		if err := getJSON(txn, keyObject(user, bucket, key), &o); err != nil {
			return err
		}
		changed := false
		for i := range m.Faces {
			if m.Faces[i].Person == from {
				m.Faces[i].Person, changed = to, true
			}
		}
		if !changed {
			return nil
		}
		return index(txn, user, bucket, key, m, o.ModNs)
	})
}
