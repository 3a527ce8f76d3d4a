package virtualdirs

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"shoebox/catalog"
)

// RootNames returns the virtual roots, in the order they are listed.
func RootNames() []string {
	return []string{"by-date", "by-camera", "by-place", "by-person", "by-tag", "duplicates", "albums", "search", "trash"}
}

// ErrNotFound is returned for a virtual path that does not exist.
var ErrNotFound = errors.New("no such virtual folder or file")

// ErrReadOnly is returned for writes the virtual folders do not take.
var ErrReadOnly = errors.New("virtual folders are read-only here")

// Entry is one thing in a virtual folder: a folder, or a file that is an
// original of the library (Object, with its Bucket and Key).
type Entry struct {
	Name    string
	Dir     bool
	ModTime time.Time
	Object  catalog.Object
	// Data, when set, is the content of a file made here, not an original
	// (a person folder's .folder.jpg); Object then describes it.
	Data []byte
}

// CoverName is the picture of a person folder that file managers show.
const CoverName = ".folder.jpg"

// Options configure a Tree.
type Options struct {
	// Cover, when set, makes the JPEG shown as a person folder's
	// .folder.jpg (a crop of the person's best face).
	Cover func(ctx context.Context, user string, p catalog.Person) ([]byte, error)
	// MinPhotos is the fewest photos an unnamed person needs to get a
	// folder (named persons always have one); 0 means no minimum.
	MinPhotos int
	// Location is the time zone capture times without an offset (the
	// camera's clock only) are read in; nil means time.Local.
	Location *time.Location
}

// Tree computes the virtual folders of a catalog.
type Tree struct {
	cat   *catalog.Catalog
	start time.Time
	opt   Options
}

// New returns the tree over cat.
func New(cat *catalog.Catalog, opt Options) *Tree {
	return &Tree{cat: cat, start: time.Now(), opt: opt}
}

// IsRoot reports whether name is a virtual root.
func IsRoot(name string) bool { return slices.Contains(RootNames(), name) }

func (t *Tree) dir(name string, ns int64) Entry {
	if ns == 0 {
		ns = t.start.UnixNano()
	}
	return Entry{Name: name, Dir: true, ModTime: time.Unix(0, ns)}
}

// Stat returns the entry at p ("by-date/2019/2019-06", no leading or
// trailing slash).
func (t *Tree) Stat(ctx context.Context, user, p string) (Entry, error) {
	segs := strings.Split(p, "/")
	if len(segs) == 1 {
		if !IsRoot(segs[0]) {
			return Entry{}, ErrNotFound
		}
		return t.dir(segs[0], 0), nil
	}
	parent, name := path.Dir(p), path.Base(p)
	var found *Entry
	err := t.List(ctx, user, parent, func(e Entry) error {
		if e.Name == name {
			found = &e
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return Entry{}, err
	}
	if found == nil {
		return Entry{}, ErrNotFound
	}
	return *found, nil
}

var errStop = errors.New("stop")

// List calls fn for each entry of the folder p, in name order.
func (t *Tree) List(ctx context.Context, user, p string, fn func(Entry) error) error {
	segs := strings.Split(p, "/")
	switch segs[0] {
	case "by-date":
		return t.listDate(ctx, user, segs[1:], fn)
	case "by-camera":
		return t.listCamera(ctx, user, segs[1:], fn)
	case "by-place":
		return t.listPlace(ctx, user, segs[1:], fn)
	case "by-person":
		return t.listPeople(ctx, user, segs[1:], fn)
	case "by-tag":
		return t.listTags(ctx, user, segs[1:], fn)
	case "duplicates":
		return t.listDuplicates(ctx, user, segs[1:], fn)
	case "albums":
		return t.listAlbums(ctx, user, segs[1:], fn)
	case "search":
		return t.listSearches(ctx, user, segs[1:], fn)
	case "trash":
		return t.listTrash(ctx, user, segs[1:], fn)
	}
	return ErrNotFound
}

const trashBucket = catalog.TrashBucket

// listTrash lists deleted items under their own names (a clash is told
// apart by the item's id), newest first in name order; a deleted folder
// is browsed as it was.
func (t *Tree) listTrash(ctx context.Context, user string, segs []string, fn func(Entry) error) error {
	var items []Entry
	count := map[string]int{}
	err := t.cat.Trash(ctx, user, func(it catalog.TrashItem) error {
		k := it.ID
		if strings.HasSuffix(it.Key, "/") {
			k += "/"
		}
		o, err := t.cat.Stat(ctx, user, trashBucket, k)
		if err != nil {
			return nil // purged meanwhile
		}
		name := path.Base(strings.TrimSuffix(it.Key, "/"))
		if it.Version {
			// The content an overwrite replaced, beside the file's
			// deleted copies: "IMG_1 (replaced 2026-12-07 21.30.05 UTC).jpg".
			ext := path.Ext(name)
			name = strings.TrimSuffix(name, ext) + " (replaced " + time.Unix(0, it.DeletedNs).UTC().Format("2006-01-02 15.04.05") + " UTC)" + ext
		}
		count[name]++
		items = append(items, Entry{Name: name, Dir: o.IsDir(), ModTime: time.Unix(0, it.DeletedNs), Object: o})
		return nil
	})
	if err != nil {
		return err
	}
	for i, e := range items {
		if count[e.Name] > 1 {
			id := strings.TrimSuffix(e.Object.Key, "/")
			ext := path.Ext(e.Name)
			items[i].Name = strings.TrimSuffix(e.Name, ext) + "~" + id[len(id)-8:] + ext
		}
	}
	slices.SortFunc(items, func(a, b Entry) int { return cmp.Compare(a.Name, b.Name) })
	if len(segs) == 0 {
		for _, e := range items {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
	for _, e := range items {
		if e.Name != segs[0] || !e.Dir {
			continue
		}
		dir := e.Object.Key + strings.Join(segs[1:], "/")
		if len(segs) > 1 {
			dir += "/"
			if o, err := t.cat.Stat(ctx, user, trashBucket, dir); err != nil || !o.IsDir() {
				return ErrNotFound
			}
		}
		return t.cat.List(ctx, user, trashBucket, dir, "", func(o catalog.Object) error {
			name := path.Base(strings.TrimSuffix(o.Key, "/"))
			o.HasProps = false
			return fn(Entry{Name: name, Dir: o.IsDir(), ModTime: o.ModTime(), Object: o})
		})
	}
	return ErrNotFound
}

func (t *Tree) listDate(ctx context.Context, user string, segs []string, fn func(Entry) error) error {
	// by-date, by-date/YYYY, by-date/YYYY/YYYY-MM, by-date/YYYY/YYYY-MM/YYYY-MM-DD
	prefix := ""
	switch len(segs) {
	case 0:
	case 1:
		prefix = segs[0]
	case 2:
		prefix = segs[1]
		if !strings.HasPrefix(segs[1], segs[0]+"-") || len(segs[1]) != 7 {
			return ErrNotFound
		}
	case 3:
		if !strings.HasPrefix(segs[2], segs[1]+"-") || !strings.HasPrefix(segs[1], segs[0]+"-") || len(segs[2]) != 10 {
			return ErrNotFound
		}
		return t.files(ctx, user, func(f func(catalog.Object) error) error { return t.cat.OnDay(ctx, user, segs[2], f) }, fn)
	default:
		return ErrNotFound
	}
	if len(segs) == 1 && len(prefix) != 4 {
		return ErrNotFound
	}
	days, err := t.cat.Days(ctx, user, prefix)
	if err != nil {
		return err
	}
	if len(days) == 0 && len(segs) > 0 {
		return ErrNotFound
	}
	newest, err := t.cat.NewestIn(ctx, user, false, prefix)
	if err != nil {
		return err
	}
	width := []int{4, 7, 10}[len(segs)]
	var names []string
	mod := map[string]int64{}
	for _, d := range days {
		n := d[:width]
		if len(names) == 0 || names[len(names)-1] != n {
			names = append(names, n)
		}
	}
	for d, ns := range newest {
		n := d[:min(width, len(d))]
		mod[n] = max(mod[n], ns)
	}
	for _, n := range names {
		if err := fn(t.dir(n, mod[n])); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tree) listCamera(ctx context.Context, user string, segs []string, fn func(Entry) error) error {
	switch len(segs) {
	case 0:
		cams, err := t.cat.Cameras(ctx, user)
		if err != nil {
			return err
		}
		newest, err := t.cat.NewestIn(ctx, user, true, "")
		if err != nil {
			return err
		}
		for _, c := range cams {
			if err := fn(t.dir(c, newest[c])); err != nil {
				return err
			}
		}
		return nil
	case 1:
		n := 0
		err := t.files(ctx, user, func(f func(catalog.Object) error) error {
			return t.cat.ByCamera(ctx, user, segs[0], func(o catalog.Object) error { n++; return f(o) })
		}, fn)
		if err == nil && n == 0 {
			return ErrNotFound
		}
		return err
	}
	return ErrNotFound
}

// listTags lists by-tag (a folder per keyword other tools wrote in XMP)
// and by-tag/<tag> (its photos and videos), read-only. Keywords that
// differ only in case ("beach", "Beach") are one folder, named as the
// first in byte order spells it: Windows and macOS clients cannot hold
// two folders whose names differ only in case.
func (t *Tree) listTags(ctx context.Context, user string, segs []string, fn func(Entry) error) error {
	if len(segs) > 1 {
		return ErrNotFound
	}
	tags, err := t.cat.Tags(ctx, user)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		newest, err := t.cat.NewestTagged(ctx, user)
		if err != nil {
			return err
		}
		var ents []Entry
		at := map[string]int{} // folded name -> index in ents
		for _, tag := range tags {
			k := strings.ToLower(tag)
			if i, ok := at[k]; ok {
				if ns := newest[tag]; ns > ents[i].ModTime.UnixNano() {
					ents[i].ModTime = time.Unix(0, ns)
				}
				continue
			}
			at[k] = len(ents)
			ents = append(ents, t.dir(tag, newest[tag]))
		}
		for _, e := range ents {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
	n := 0
	err = t.files(ctx, user, func(f func(catalog.Object) error) error {
		for _, tag := range tags {
			if !strings.EqualFold(tag, segs[0]) {
				continue
			}
			if err := t.cat.ByTag(ctx, user, tag, func(o catalog.Object) error { n++; return f(o) }); err != nil {
				return err
			}
		}
		return nil
	}, fn)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// files lists originals under their own names, telling clashing names
// apart by a short id of the object (stable whatever the order). An
// entry's ModTime is the photo's capture time (catalog.Media.CaptureTime),
// so file managers sort by it; the object's modification time for files
// without one.
func (t *Tree) files(ctx context.Context, user string, each func(func(catalog.Object) error) error, fn func(Entry) error) error {
	var objs []catalog.Object
	count := map[string]int{}
	err := each(func(o catalog.Object) error {
		objs = append(objs, o)
		count[path.Base(o.Key)]++
		return nil
	})
	if err != nil {
		return err
	}
	loc := t.opt.Location
	if loc == nil {
		loc = time.Local
	}
	taken, err := t.cat.CaptureTimes(ctx, user, objs, loc)
	if err != nil {
		return err
	}
	ents := make([]Entry, len(objs))
	for i, o := range objs {
		o.HasProps = false // the original's dead properties stay with it
		name := path.Base(o.Key)
		if count[name] > 1 {
			name = Disambiguate(name, o.Bucket, o.Key)
		}
		mod := o.ModTime()
		if taken[i] != 0 {
			mod = time.Unix(0, taken[i])
		}
		ents[i] = Entry{Name: name, ModTime: mod, Object: o}
	}
	slices.SortFunc(ents, func(a, b Entry) int { return cmp.Compare(a.Name, b.Name) })
	for _, e := range ents {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Disambiguate names a file whose name another file in the same virtual
// folder has: IMG_0001.jpg becomes IMG_0001~3fa2c1d0.jpg, the suffix being
// the start of the SHA-256 of its bucket and key.
func Disambiguate(name, bucket, key string) string {
	s := sha256.Sum256([]byte(bucket + "/" + key))
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "~" + hex.EncodeToString(s[:4]) + ext
}

// group is a duplicate group with its folder name.
type group struct {
	gid    string
	name   string
	newest int64
}

// groups names the user's duplicate groups from their summaries
// (catalog.DupGroups: one row per group, no member read), in name order.
func (t *Tree) groups(ctx context.Context, user string) ([]group, error) {
	var out []group
	err := t.cat.DupGroups(ctx, user, func(g catalog.DupGroup) error {
		day := g.BestDay
		if day == "" {
			day = "undated"
		}
		name := fmt.Sprintf("%s %s (%d copies)", day, path.Base(g.Best.Key), g.Count)
		out = append(out, group{gid: g.ID, name: name, newest: g.NewestNs})
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := map[string]int{}
	for _, g := range out {
		names[g.name]++
	}
	for i := range out {
		if names[out[i].name] > 1 {
			out[i].name += " ~" + out[i].gid[:8]
		}
	}
	slices.SortFunc(out, func(a, b group) int { return cmp.Compare(a.name, b.name) })
	return out, nil
}

func (t *Tree) listDuplicates(ctx context.Context, user string, segs []string, fn func(Entry) error) error {
	if len(segs) > 1 {
		return ErrNotFound
	}
	gs, err := t.groups(ctx, user)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if len(segs) == 0 {
			if err := fn(t.dir(g.name, g.newest)); err != nil {
				return err
			}
			continue
		}
		if g.name == segs[0] {
			return t.files(ctx, user, func(f func(catalog.Object) error) error {
				return t.cat.GroupMembers(ctx, user, g.gid, f)
			}, fn)
		}
	}
	if len(segs) == 1 {
		return ErrNotFound
	}
	return nil
}

func (t *Tree) listAlbums(ctx context.Context, user string, segs []string, fn func(Entry) error) error {
	albums, err := t.cat.Albums(ctx, user)
	if err != nil {
		return err
	}
	switch len(segs) {
	case 0:
		names := make([]string, 0, len(albums))
		for n := range albums {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if err := fn(t.dir(n, albums[n])); err != nil {
				return err
			}
		}
		return nil
	case 1:
		if _, ok := albums[segs[0]]; !ok {
			return ErrNotFound
		}
		return t.files(ctx, user, func(f func(catalog.Object) error) error { return t.cat.AlbumMembers(ctx, user, segs[0], f) }, fn)
	}
	return ErrNotFound
}

// person folders: named persons under their name, others "Person <n>";
// a clash of names is told apart by the person's id.
func (t *Tree) people(ctx context.Context, user string) (map[string]catalog.Person, error) {
	ps, err := t.cat.People(ctx, user)
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, p := range ps {
		count[p.Label()]++
	}
	out := map[string]catalog.Person{}
	for _, p := range ps {
		if p.Hidden || (p.Name == "" && p.Faces < t.opt.MinPhotos) {
			continue
		}
		l := p.Label()
		if count[l] > 1 {
			l += " ~" + p.ID
		}
		out[l] = p
	}
	return out, nil
}

// Person returns the person whose folder is named label.
func (t *Tree) Person(ctx context.Context, user, label string) (catalog.Person, error) {
	ps, err := t.people(ctx, user)
	if err != nil {
		return catalog.Person{}, err
	}
	p, ok := ps[label]
	if !ok {
		return p, ErrNotFound
	}
	return p, nil
}

func (t *Tree) listPeople(ctx context.Context, user string, segs []string, fn func(Entry) error) error {
	ps, err := t.people(ctx, user)
	if err != nil {
		return err
	}
	switch len(segs) {
	case 0:
		labels := make([]string, 0, len(ps))
		for l := range ps {
			labels = append(labels, l)
		}
		slices.Sort(labels)
		for _, l := range labels {
			n := int64(0)
			err := t.cat.PersonPhotos(ctx, user, ps[l].ID, func(o catalog.Object) error { n = max(n, o.ModNs); return nil })
			if err != nil {
				return err
			}
			if n == 0 && ps[l].CreatedNs == 0 {
				continue // a named person with no photo now
			}
			if n == 0 {
				n = ps[l].CreatedNs // made by the user, empty so far
			}
			if err := fn(t.dir(l, n)); err != nil {
				return err
			}
		}
		return nil
	case 1:
		p, ok := ps[segs[0]]
		if !ok {
			return ErrNotFound
		}
		if t.opt.Cover != nil {
			if b, err := t.opt.Cover(ctx, user, p); err == nil && len(b) > 0 {
				sum := md5.Sum(b)
				o := catalog.Object{Key: CoverName, Size: int64(len(b)), ContentType: "image/jpeg",
					ModNs: t.start.UnixNano(), ETagValue: `"` + hex.EncodeToString(sum[:]) + `"`}
				if err := fn(Entry{Name: CoverName, ModTime: t.start, Object: o, Data: b}); err != nil {
					return err
				}
			}
		}
		return t.files(ctx, user, func(f func(catalog.Object) error) error { return t.cat.PersonPhotos(ctx, user, p.ID, f) }, fn)
	}
	return ErrNotFound
}
