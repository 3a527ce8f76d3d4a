package enrich_test

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/enrich/faces"
	"shoebox/gateway"
	"shoebox/gateway/memfs"
)

// faceModels returns the face models from $SHOEBOX_FACE_MODELS or the
// cache `shoebox models install` tests fill; it skips (fails under CI)
// when there are none.
func faceModels(t *testing.T) *faces.Models {
	t.Helper()
	dir := os.Getenv("SHOEBOX_FACE_MODELS")
	if dir == "" {
		c, _ := os.UserCacheDir()
		dir = filepath.Join(c, "shoebox", "face-api-1.7.15")
		if err := faces.Install(context.Background(), "", dir, nil); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("face models: %v", err)
			}
			t.Skipf("face models: %v", err)
		}
	}
	m, err := faces.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// faceLib is a library of photos enriched with faces, in memory.
type faceLib struct {
	t        *testing.T
	cat      *catalog.Catalog
	gw       *gateway.Gateway
	models   *faces.Models
	ts       *enrich.ThumbStore
	detector string // Metadata.FaceDetector
}

func newFaceLib(t *testing.T) *faceLib {
	models := faceModels(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	gw := gateway.New(memfs.New(), cat, gateway.Options{Logger: quiet})
	gw.MakeBucket(context.Background(), "u", "f")
	ds, _ := enrich.NewDirStore(t.TempDir())
	return &faceLib{t: t, cat: cat, gw: gw, models: models, ts: enrich.NewThumbStore(ds)}
}

// add stores the files (under key prefix+name) and enriches them.
func (l *faceLib) add(prefix string, files ...string) {
	ctx := context.Background()
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if _, err := l.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "f", Key: prefix + filepath.Base(f), Body: bytes.NewReader(b), MakeParents: true}); err != nil {
			l.t.Fatal(err)
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := enrich.NewPool(l.gw, enrich.Options{Workers: 2, Idle: 20 * time.Millisecond, Logger: quiet,
		Extractors: []enrich.Extractor{enrich.Metadata{Thumbs: l.ts, Faces: l.models, FaceDetector: l.detector}}})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { pool.Run(pctx); close(done) }()
	for {
		q, _ := l.cat.Queue(ctx, time.Now())
		if q.Pending+q.Running == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
}

// pairwise scores the persons of user "u" against the identities in the
// file names (the name without digits; the group photo "pristin" has no
// labels): pairs of photos in one person that are one identity (tp) or
// not (fp), and each person's photos.
func pairwise(cat *catalog.Catalog) (tp, fp int, desc []string) {
	ctx := context.Background()
	id := func(n string) string {
		n = filepath.Base(n)
		return strings.TrimRight(strings.TrimSuffix(n, filepath.Ext(n)), "0123456789")
	}
	people, _ := cat.People(ctx, "u")
	for _, p := range people {
		var names []string
		cat.PersonPhotos(ctx, "u", p.ID, func(o catalog.Object) error {
			if !strings.HasPrefix(o.Key, "pristin") {
				names = append(names, o.Key)
			}
			return nil
		})
		slices.Sort(names)
		desc = append(desc, strings.Join(names, "+"))
		for i := range names {
			for j := i + 1; j < len(names); j++ {
				if id(names[i]) == id(names[j]) {
					tp++
				} else {
					fp++
				}
			}
		}
	}
	return tp, fp, desc
}

// extraPhotos are the single-person photos of faces-extra (adults the
// descriptors tell apart: the grouping makes persons of them).
func extraPhotos(t *testing.T) []string {
	files, _ := filepath.Glob("../../shared/testdata/faces-extra/*.*")
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, ".md") })
	if len(files) != 30 {
		t.Fatalf("%d photos in faces-extra; want 30", len(files))
	}
	return files
}

// TestPlaceNewFaces: between full passes, a new photo's face joins the
// person it is closest to through the persons' centroids (a copy of a
// photo: its twin's person, counted once), without a full regrouping, and
// the photo is no longer new.
func TestPlaceNewFaces(t *testing.T) {
	l := newFaceLib(t)
	cat, ctx := l.cat, context.Background()
	owner := enrich.NewPeople(cat, enrich.PeopleOptions{})
	if _, full, err := owner.PlaceNewFaces(ctx, "u"); err != nil || !full {
		t.Fatalf("before any full pass: full %v, %v; want a full pass due", full, err)
	}
	dir := "../../shared/testdata/faces-extra"
	l.add("", extraPhotos(t)...)
	if _, err := owner.Group(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	newCount := func() int {
		n := 0
		cat.NewFaces(ctx, "u", func(string, string, catalog.Media) error { n++; return nil })
		return n
	}
	if n := newCount(); n != 0 {
		t.Fatalf("%d photos still new after a full pass; want 0", n)
	}
	// The largest person's first photo arrives again under another name.
	people, _ := cat.People(ctx, "u")
	slices.SortFunc(people, func(a, b catalog.Person) int { return b.Faces - a.Faces })
	if len(people) == 0 || people[0].Faces < 2 {
		t.Fatalf("no person with two faces: %+v", people)
	}
	p := people[0]
	var first string
	cat.PersonPhotos(ctx, "u", p.ID, func(o catalog.Object) error {
		if first == "" {
			first = o.Key
		}
		return nil
	})
	l.add("again/", filepath.Join(dir, first))
	if n := newCount(); n != 1 {
		t.Fatalf("%d new photos after one arrived; want 1", n)
	}
	placed, full, err := owner.PlaceNewFaces(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := cat.MediaOf(ctx, "u", "f", "again/"+first)
	if placed != 1 || full || len(m.Faces) == 0 || m.Faces[0].Person != p.ID {
		t.Errorf("placed %d (full pass due: %v), face person %q; want 1 face placed with %s (%s), no full pass", placed, full, m.Faces[0].Person, p.ID, first)
	}
	if n := newCount(); n != 0 {
		t.Errorf("%d photos still new after placing; want 0", n)
	}
	// One photo, one vote: the copy is in the person, not counted again.
	if got, _ := cat.GetPerson(ctx, "u", p.ID); got.Faces != p.Faces {
		t.Errorf("person has %d faces after a copy of its photo arrived; want still %d", got.Faces, p.Faces)
	}
	// Rejected from that person, the photo's twin does not join it.
	if err := owner.Reject(ctx, "u", p.ID, "f", "again/"+first); err != nil {
		t.Fatal(err)
	}
	l.add("third/", filepath.Join(dir, first))
	if _, _, err := owner.PlaceNewFaces(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	m, _ = cat.MediaOf(ctx, "u", "f", "third/"+first)
	if len(m.Faces) == 0 || m.Faces[0].Person == p.ID {
		t.Errorf("a photo rejected from %s joined it", p.ID)
	}
	// Unplaced faces beyond RegroupAfter call for a full pass.
	if _, full, _ := enrich.NewPeople(cat, enrich.PeopleOptions{RegroupAfter: 1}).PlaceNewFaces(ctx, "u"); !full && m.Faces[0].Person == "" {
		t.Error("an unplaced face with RegroupAfter 1: no full pass due")
	}
}

// TestGroupPeopleKeepsPersonsWhenDescriptorsChange: when the persons'
// centroids no longer fit the descriptors (a new kind of descriptor), a
// group most of whose faces are a person's is still that person, name and
// id, rather than a new one.
func TestGroupPeopleKeepsPersonsWhenDescriptorsChange(t *testing.T) {
	l := newFaceLib(t)
	cat, ctx := l.cat, context.Background()
	l.add("", extraPhotos(t)...)
	if _, err := enrich.NewPeople(cat, enrich.PeopleOptions{}).Group(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	before, _ := cat.People(ctx, "u")
	if len(before) < 2 {
		t.Fatalf("%d persons; want at least 2", len(before))
	}
	photos := func(id string) []string {
		var keys []string
		cat.PersonPhotos(ctx, "u", id, func(o catalog.Object) error { keys = append(keys, o.Key); return nil })
		return keys
	}
	want := map[string][]string{}
	for i := range before {
		p := &before[i]
		want[p.ID] = photos(p.ID)
		p.Name = "name of " + p.ID
		for ci := range p.Centroids { // centroids of another kind of descriptor
			for j := range p.Centroids[ci] {
				p.Centroids[ci][j] = float32((j*7+ci*3)%11) - 5
			}
		}
		if err := cat.PutPerson(ctx, "u", p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := enrich.NewPeople(cat, enrich.PeopleOptions{}).Group(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	after, _ := cat.People(ctx, "u")
	if len(after) != len(before) {
		t.Errorf("%d persons after regrouping; want the same %d", len(after), len(before))
	}
	for _, p := range after {
		if p.Name != "name of "+p.ID || !slices.Equal(photos(p.ID), want[p.ID]) {
			t.Errorf("person %s %q has %v; want its name and %v", p.ID, p.Name, photos(p.ID), want[p.ID])
		}
	}
}

// TestGroupPeopleSSD: with the SSD detector, faces are stored as their own
// kind of descriptor (ssd512a), more faces are found (the group photo's),
// and grouping them makes persons (TestFaceEval measures how well).
func TestGroupPeopleSSD(t *testing.T) {
	l := newFaceLib(t)
	if l.models.SSD == nil {
		t.Fatal("the SSD model is not in the models folder")
	}
	l.detector = faces.DetectorSSD
	cat, ctx := l.cat, context.Background()
	l.add("", append(extraPhotos(t), "../../shared/testdata/faces/images/pristin.jpg")...)
	m, err := cat.MediaOf(ctx, "u", "f", "pristin.jpg")
	if err != nil || len(m.Faces) < 2 || m.Faces[0].Detector != "ssd512a" {
		t.Fatalf("group photo with SSD: %d faces (%v); want several ssd512a faces", len(m.Faces), err)
	}
	t.Logf("SSD: %d faces in the group photo", len(m.Faces))
	opt := enrich.PeopleOptions{Kind: enrich.FaceKindOf(faces.DetectorSSD)}
	n, err := enrich.NewPeople(cat, opt).Group(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	tp, fp, desc := pairwise(cat)
	t.Logf("SSD: %d persons %v", n, desc)
	if n < 3 || tp == 0 {
		t.Errorf("SSD: %d persons, %d right and %d wrong pairs; want at least 3 persons", n, tp, fp)
	}
}

// TestTightCropsGrouped: 150×150 portraits cropped to the face (made here
// from photos of faces-extra) have their face found (the padded retry)
// and join the person of their identity.
func TestTightCropsGrouped(t *testing.T) {
	l := newFaceLib(t)
	cat, ctx := l.cat, context.Background()
	photos := extraPhotos(t)
	l.add("", photos...)
	dir := t.TempDir()
	var crops []string
	for _, f := range photos {
		if !strings.HasSuffix(f, "1.jpg") && !strings.HasSuffix(f, "2.jpg") {
			continue
		}
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		found, err := l.models.Detect(img)
		if err != nil || len(found) == 0 {
			t.Fatalf("%s: %v, %d faces", f, err, len(found))
		}
		b := found[0].Box
		side := max(b.W, b.H)
		cx, cy := b.X+b.W/2, b.Y+b.H/2
		box := image.Rect(int(cx-side/2), int(cy-side/2), int(cx+side/2), int(cy+side/2)).Intersect(img.Bounds())
		crop := imaging.Resize(imaging.Crop(img, box), 150, 150, imaging.Lanczos)
		name := filepath.Join(dir, filepath.Base(f))
		if err := imaging.Save(crop, name, imaging.JPEGQuality(90)); err != nil {
			t.Fatal(err)
		}
		crops = append(crops, name)
	}
	l.add("crops/", crops...)
	if _, err := enrich.NewPeople(cat, enrich.PeopleOptions{}).Group(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	withFace, grouped := 0, 0
	for _, c := range crops {
		m, err := cat.MediaOf(ctx, "u", "f", "crops/"+filepath.Base(c))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Faces) > 0 {
			withFace++
			if m.Faces[0].Person != "" {
				grouped++
			}
		}
	}
	tp, fp, desc := pairwise(cat)
	prec := float64(tp) / float64(max(1, tp+fp))
	t.Logf("%d crops: %d with a face, %d in a person; pairwise precision %.2f (%d right, %d wrong pairs) %v", len(crops), withFace, grouped, prec, tp, fp, desc)
	if withFace < len(crops)-1 {
		t.Errorf("faces found in %d of %d tight crops; want all but one at most", withFace, len(crops))
	}
	if grouped < len(crops)/2 || prec < 0.9 {
		t.Errorf("%d of %d crops in a person, precision %.2f; want at least half, precision 0.9", grouped, len(crops), prec)
	}
}

// TestCopiesCountOnce: exact copies of a photo are one vote. Three copies
// of the one photo of an identity do not make a person (MinFaces 2
// photos), and a person's Faces counts a photo's content once while its
// folder lists every copy.
func TestCopiesCountOnce(t *testing.T) {
	l := newFaceLib(t)
	cat, ctx := l.cat, context.Background()
	dir := "../../shared/testdata/faces-extra"
	l.add("", extraPhotos(t)...)
	l.add("copy1/", filepath.Join(dir, "elon_musk1.jpg"), filepath.Join(dir, "barack_obama1.jpg"))
	l.add("copy2/", filepath.Join(dir, "elon_musk1.jpg"), filepath.Join(dir, "barack_obama1.jpg"))
	if _, err := enrich.NewPeople(cat, enrich.PeopleOptions{}).Group(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"elon_musk1.jpg", "copy1/elon_musk1.jpg", "copy2/elon_musk1.jpg"} {
		m, err := cat.MediaOf(ctx, "u", "f", k)
		if err != nil || len(m.Faces) == 0 {
			t.Fatalf("%s: %v, no face", k, err)
		}
		if m.Faces[0].Person != "" {
			t.Errorf("%s is in person %s: three copies of one photo made a person", k, m.Faces[0].Person)
		}
	}
	m, _ := cat.MediaOf(ctx, "u", "f", "barack_obama1.jpg")
	if len(m.Faces) == 0 || m.Faces[0].Person == "" {
		t.Fatalf("barack_obama1.jpg in no person")
	}
	p, _ := cat.GetPerson(ctx, "u", m.Faces[0].Person)
	var keys []string
	cat.PersonPhotos(ctx, "u", p.ID, func(o catalog.Object) error { keys = append(keys, o.Key); return nil })
	distinct := map[string]bool{}
	for _, k := range keys {
		distinct[filepath.Base(k)] = true
	}
	if p.Faces != len(distinct) || len(keys) != len(distinct)+2 || !slices.Contains(keys, "copy2/barack_obama1.jpg") {
		t.Errorf("person of barack_obama1.jpg: Faces %d, photos %v; want every copy listed and each content counted once", p.Faces, keys)
	}
}
