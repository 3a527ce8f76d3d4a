package export

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"shoebox/catalog"
)

// Schema and SchemaVersion identify the JSON document's format; a change
// that breaks a reader of version N makes version N+1.
const (
	Schema        = "shoebox-export"
	SchemaVersion = 1
)

// Document is a user's JSON document (<user>.json). The README documents
// it field by field.
type Document struct {
	Schema   string        `json:"schema"`  // always Schema
	Version  int           `json:"version"` // SchemaVersion
	User     string        `json:"user"`
	Exported time.Time     `json:"exported"`
	Keywords KeywordScheme `json:"keywords"`
	Albums   []Album       `json:"albums"`
	Persons  []Person      `json:"persons"`
	Trash    []TrashItem   `json:"trash"`
}

// KeywordScheme says how names became keywords in the sidecars.
type KeywordScheme struct {
	People    string `json:"people"`    // "People": a person is People|<name>
	Albums    string `json:"albums"`    // "Albums": an album is Albums|<name>
	Separator string `json:"separator"` // "|"
}

// FileRef names a file of the user's library.
type FileRef struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// Album is an album and its photos. Albums hold photos by content: a
// member is a SHA-256, with every file that has those bytes.
type Album struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Members []Member  `json:"members"`
}

// Member is one photo of an album.
type Member struct {
	SHA256 string    `json:"sha256"`
	Files  []FileRef `json:"files"`
}

// Person is a group of faces and the user's corrections to it.
type Person struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"` // empty while the user has not named it
	Label  string `json:"label"`          // the /by-person folder: the name, else "Person <n>"
	Hidden bool   `json:"hidden,omitempty"`
	Faces  []Face `json:"faces"`
	// Rejected and Included are photos (by SHA-256) the user said are
	// not, or are, of this person.
	Rejected []string `json:"rejected,omitempty"`
	Included []string `json:"included,omitempty"`
}

// Face is one face of a person.
type Face struct {
	FileRef
	SHA256 string `json:"sha256,omitempty"`
	// Box is left, top, width and height normalized (0..1) to the image as
	// displayed (EXIF orientation applied); BoxPx the same in pixels of
	// the displayed image, whose size is Width × Height (0 when unknown,
	// and then BoxPx is absent).
	Box    Box     `json:"box"`
	BoxPx  *BoxPx  `json:"box_px,omitempty"`
	Width  int     `json:"width,omitempty"`
	Height int     `json:"height,omitempty"`
	Score  float64 `json:"score,omitempty"`
}

// Box is a normalized rectangle.
type Box struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// BoxPx is a rectangle in pixels.
type BoxPx struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// TrashItem is an item in the user's trash.
type TrashItem struct {
	ID      string    `json:"id"`
	Bucket  string    `json:"bucket"`
	Key     string    `json:"key"` // as it was; a folder's ends in '/'
	Deleted time.Time `json:"deleted"`
	// Version: the previous content of a file that was replaced, rather
	// than a deleted item.
	Version bool `json:"version,omitempty"`
}

// Sink receives what an export writes.
type Sink interface {
	// Sidecar writes the XMP sidecar of the user's file bucket/key.
	Sidecar(ctx context.Context, user, bucket, key string, xmp []byte) error
	// Document writes the user's JSON document.
	Document(ctx context.Context, user string, doc []byte) error
}

// Options configure an Exporter.
type Options struct {
	Logger *slog.Logger     // nil: slog.Default()
	Now    func() time.Time // nil: time.Now
}

// Exporter reads a catalog and exports its users' data.
type Exporter struct {
	cat *catalog.Catalog
	lg  *slog.Logger
	now func() time.Time
}

// New returns an Exporter reading cat.
func New(cat *catalog.Catalog, opt Options) *Exporter {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Exporter{cat: cat, lg: opt.Logger.With("component", "export"), now: opt.Now}
}

// Result is a user's export before it is written.
type Result struct {
	Document Document
	Sidecars map[FileRef]Sidecar // only files with something to say
}

// Stats counts what an export wrote.
type Stats struct {
	Sidecars, Albums, Persons, Faces, Trash int
}

// Export collects the user's data and writes it to sink: a sidecar per
// file with user-authored data, in bucket and key order, then the
// document.
func (e *Exporter) Export(ctx context.Context, user string, sink Sink) (Stats, error) {
	r, err := e.Collect(ctx, user)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Albums: len(r.Document.Albums), Persons: len(r.Document.Persons), Trash: len(r.Document.Trash)}
	for _, p := range r.Document.Persons {
		st.Faces += len(p.Faces)
	}
	refs := make([]FileRef, 0, len(r.Sidecars))
	for ref := range r.Sidecars {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, cmpRef)
	for _, ref := range refs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := sink.Sidecar(ctx, user, ref.Bucket, ref.Key, r.Sidecars[ref].MarshalXMP()); err != nil {
			return st, fmt.Errorf("sidecar of %s/%s: %w", ref.Bucket, ref.Key, err)
		}
		st.Sidecars++
	}
	doc, err := json.MarshalIndent(r.Document, "", "  ")
	if err != nil {
		return st, fmt.Errorf("encode the document of %s: %w", user, err)
	}
	if err := sink.Document(ctx, user, append(doc, '\n')); err != nil {
		return st, fmt.Errorf("document of %s: %w", user, err)
	}
	e.lg.Info("exported", "user", user, "sidecars", st.Sidecars, "albums", st.Albums, "persons", st.Persons, "faces", st.Faces, "trash", st.Trash)
	return st, nil
}

func cmpRef(a, b FileRef) int {
	return cmp.Or(cmp.Compare(a.Bucket, b.Bucket), cmp.Compare(a.Key, b.Key))
}

// Collect reads the user's albums, persons, faces and trash from the
// catalog and builds the document and the sidecars. Files in the trash
// get no sidecar.
func (e *Exporter) Collect(ctx context.Context, user string) (*Result, error) {
	doc := Document{Schema: Schema, Version: SchemaVersion, User: user, Exported: e.now().UTC(),
		Keywords: KeywordScheme{People: KeywordPeople, Albums: KeywordAlbums, Separator: KeywordSeparator},
		Albums:   []Album{}, Persons: []Person{}, Trash: []TrashItem{}}
	sidecars := map[FileRef]Sidecar{}

	// Albums, and which content is in which album.
	albums, err := e.cat.Albums(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("albums of %s: %w", user, err)
	}
	names := make([]string, 0, len(albums))
	for n := range albums {
		names = append(names, n)
	}
	slices.Sort(names)
	shaAlbums := map[string][]string{}
	for _, n := range names {
		a := Album{Name: n, Created: time.Unix(0, albums[n]).UTC(), Members: []Member{}}
		err := e.cat.AlbumMembers(ctx, user, n, func(o catalog.Object) error {
			if o.SHA256 != "" {
				a.Members = append(a.Members, Member{SHA256: o.SHA256})
				shaAlbums[o.SHA256] = append(shaAlbums[o.SHA256], n)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("album %q of %s: %w", n, user, err)
		}
		doc.Albums = append(doc.Albums, a)
	}

	// Persons, and the photos the user put in a named one by hand.
	people, err := e.cat.People(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("persons of %s: %w", user, err)
	}
	slices.SortFunc(people, func(a, b catalog.Person) int { return cmp.Compare(a.Seq, b.Seq) })
	byID := map[string]int{}
	shaPeople := map[string][]string{}
	for i, p := range people {
		byID[p.ID] = i
		doc.Persons = append(doc.Persons, Person{ID: p.ID, Name: p.Name, Label: p.Label(), Hidden: p.Hidden,
			Faces: []Face{}, Rejected: slices.Sorted(slices.Values(p.Rejected)), Included: slices.Sorted(slices.Values(p.Included))})
		if p.Name != "" && !p.Hidden {
			for _, sha := range p.Included {
				shaPeople[sha] = append(shaPeople[sha], p.Name)
			}
		}
	}

	// Every file with the content of an album member or of an included
	// photo: albums refer to content, so each copy carries the keywords.
	filesBySHA := map[string][]FileRef{}
	if len(shaAlbums)+len(shaPeople) > 0 {
		buckets, err := e.cat.Buckets(ctx, user)
		if err != nil {
			return nil, fmt.Errorf("buckets of %s: %w", user, err)
		}
		for _, b := range buckets {
			if b.Name == catalog.TrashBucket {
				continue
			}
			err := e.cat.Walk(ctx, user, b.Name, "", "", func(o catalog.Object) error {
				if o.IsDir() || o.SHA256 == "" {
					return nil
				}
				if shaAlbums[o.SHA256] != nil || shaPeople[o.SHA256] != nil {
					filesBySHA[o.SHA256] = append(filesBySHA[o.SHA256], FileRef{Bucket: o.Bucket, Key: o.Key})
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("files of %s/%s: %w", user, b.Name, err)
			}
		}
	}
	for ai := range doc.Albums {
		for mi := range doc.Albums[ai].Members {
			m := &doc.Albums[ai].Members[mi]
			m.Files = append([]FileRef{}, filesBySHA[m.SHA256]...)
		}
	}
	for sha, as := range shaAlbums {
		for _, ref := range filesBySHA[sha] {
			s := sidecars[ref]
			s.Albums = append(s.Albums, as...)
			sidecars[ref] = s
		}
	}
	for sha, ps := range shaPeople {
		for _, ref := range filesBySHA[sha] {
			s := sidecars[ref]
			s.People = append(s.People, ps...)
			sidecars[ref] = s
		}
	}

	// Faces: every face of a person goes in the document; those of named
	// persons shown to the user become regions.
	err = e.cat.UserFaces(ctx, user, func(bucket, key string, m catalog.Media) error {
		if bucket == catalog.TrashBucket {
			return nil
		}
		ref := FileRef{Bucket: bucket, Key: key}
		for _, f := range m.Faces {
			i, ok := byID[f.Person]
			if !ok {
				continue
			}
			p := people[i]
			doc.Persons[i].Faces = append(doc.Persons[i].Faces, faceOf(ref, m, f))
			if p.Name == "" || p.Hidden || slices.Contains(p.Rejected, m.SHA256) {
				continue
			}
			s := sidecars[ref]
			sw, sh := m.Width, m.Height
			if m.Orientation >= 5 {
				sw, sh = sh, sw
			}
			s.Width, s.Height = sw, sh
			x, y, w, h := storedRegion(f.Box, m.Orientation)
			s.Regions = append(s.Regions, Region{Name: p.Name, X: x, Y: y, W: w, H: h})
			s.People = append(s.People, p.Name)
			sidecars[ref] = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("faces of %s: %w", user, err)
	}
	for i := range doc.Persons {
		slices.SortFunc(doc.Persons[i].Faces, func(a, b Face) int { return cmpRef(a.FileRef, b.FileRef) })
	}

	err = e.cat.Trash(ctx, user, func(t catalog.TrashItem) error {
		doc.Trash = append(doc.Trash, TrashItem{ID: t.ID, Bucket: t.Bucket, Key: t.Key, Deleted: time.Unix(0, t.DeletedNs).UTC(), Version: t.Version})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("trash of %s: %w", user, err)
	}
	return &Result{Document: doc, Sidecars: sidecars}, nil
}

// faceOf is the document's record of one face.
func faceOf(ref FileRef, m catalog.Media, f catalog.Face) Face {
	out := Face{FileRef: ref, SHA256: m.SHA256, Box: Box{X: f.Box[0], Y: f.Box[1], W: f.Box[2], H: f.Box[3]},
		Width: m.Width, Height: m.Height, Score: math.Round(f.Score*1e4) / 1e4}
	if m.Width > 0 && m.Height > 0 {
		w, h := float64(m.Width), float64(m.Height)
		out.BoxPx = &BoxPx{X: int(math.Round(f.Box[0] * w)), Y: int(math.Round(f.Box[1] * h)),
			W: int(math.Round(f.Box[2] * w)), H: int(math.Round(f.Box[3] * h))}
	}
	return out
}
