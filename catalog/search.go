package catalog

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/dgraph-io/badger/v4"
)

// Search finds a user's photos and videos by what enrichment learned,
// newest first, from indexes kept with the media rows (indexRows):
//
//	ixq|U|WHEN|B|K     KIND + searchEntry: the library in capture order
//	ixqk|U|B|K         WHEN+KIND + searchEntry: the same entry, by path
//	ixw|U|WORD|B|K     WHEN+KIND: the words of file names (lower case)
//	ixo|U|LENS|B|K     WHEN+KIND: by lens
//	ixg|U|L:CELL|B|K   WHEN+KIND: by position, in cells of two sizes
//
// and the library's other indexes, whose rows carry WHEN+KIND too (ixc,
// ixs, pface, ixl, ixt, ixr). WHEN is the capture time as the camera showed it, fixed
// width ("2006-01-02T15:04:05.000"), so key order is capture order; KIND
// is one byte, 'p' or 'v'.
//
// A page is planned from what each filter costs, on one rule: read
// indexes in order, not row by row (a point read costs as much as
// dozens of rows read in order). Each filter that can list what it admits
// (a camera, a person, words, a place, a small album) is read up to
// Catalog.search.setCap rows; the complete lists are intersected and
// sorted by the WHEN their rows carry, and the other filters are checked
// on the candidates in order until the page is full. When every filter is
// larger than that, the page walks the capture-order index backwards from
// the cursor and checks each entry; if that finds too few within
// walkBudget entries, the filters are read in full and intersected. No
// read is proportional to the library except that last resort, which
// reads index keys in order.
const (
	pfxIxWhen   = "ixq|"
	pfxIxWhenOf = "ixqk|"
	pfxIxWord   = "ixw|"
	pfxIxLens   = "ixo|"
	pfxIxGeo    = "ixg|"
)

// whenWidth is the width of WHEN in the capture-order index.
const whenWidth = len("2006-01-02T15:04:05.000")

// searchEntry is what the capture-order index keeps of a file: enough to
// check every filter but duplicates without reading its media record.
// When and Kind are not encoded: the key and the value's first byte hold
// them.
type searchEntry struct {
	When   string
	Kind   string
	SHA256 string
	Camera string
	Lens   string
	Lat    *float64
	Lon    *float64
	// Country and City are the place's folder names (PlaceFolders), CC
	// the country's code.
	Country, CC, City string
	// Persons, Tags (cleaned) and Rating let the walk check those filters
	// on the entry it holds instead of with a point read each.
	Persons []string
	Tags    []string
	Rating  *int
}

// The entry's encoding: six strings (SHA256, Camera, Lens, Country, CC,
// City), each a uvarint length and its bytes; a flags byte (1: a
// position follows, two float64 bits big-endian; 2: a rating follows, one
// byte); Persons and Tags, each a uvarint count and strings. Compact, and
// decoded ten times faster than JSON: the walk decodes one per entry.
const (
	entryHasPos    = 1
	entryHasRating = 2
)

func (e *searchEntry) encode() []byte {
	var b []byte
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	for _, s := range []string{e.SHA256, e.Camera, e.Lens, e.Country, e.CC, e.City} {
		str(s)
	}
	var flags byte
	if e.Lat != nil && e.Lon != nil {
		flags |= entryHasPos
	}
	if e.Rating != nil {
		flags |= entryHasRating
	}
	b = append(b, flags)
	if flags&entryHasPos != 0 {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(*e.Lat))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(*e.Lon))
	}
	if flags&entryHasRating != 0 {
		b = append(b, byte(int8(*e.Rating)))
	}
	for _, list := range [][]string{e.Persons, e.Tags} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, s := range list {
			str(s)
		}
	}
	return b
}

var errEntry = errors.New("malformed search entry")

// decode reads what encode wrote (When and Kind stay as they are).
func (e *searchEntry) decode(b []byte) error {
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, true
	}
	for _, p := range []*string{&e.SHA256, &e.Camera, &e.Lens, &e.Country, &e.CC, &e.City} {
		var ok bool
		if *p, ok = str(); !ok {
			return errEntry
		}
	}
	if len(b) < 1 {
		return errEntry
	}
	flags := b[0]
	b = b[1:]
	if flags&entryHasPos != 0 {
		if len(b) < 16 {
			return errEntry
		}
		la, lo := math.Float64frombits(binary.BigEndian.Uint64(b)), math.Float64frombits(binary.BigEndian.Uint64(b[8:]))
		e.Lat, e.Lon = &la, &lo
		b = b[16:]
	}
	if flags&entryHasRating != 0 {
		if len(b) < 1 {
			return errEntry
		}
		r := int(int8(b[0]))
		e.Rating = &r
		b = b[1:]
	}
	for _, list := range []*[]string{&e.Persons, &e.Tags} {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)) {
			return errEntry
		}
		b = b[k:]
		*list = make([]string, 0, n)
		for range n {
			s, ok := str()
			if !ok {
				return errEntry
			}
			*list = append(*list, s)
		}
	}
	return nil
}

// searchWhen is a record's capture time in index form, "" for files that
// are not dated photos or videos.
func searchWhen(m Media) string {
	if m.Day() == "" {
		return ""
	}
	t := m.TakenLocal
	if len(t) < 19 {
		t += "T00:00:00"[len(t)-10:]
	}
	date, frac := t[:19], ""
	if len(t) > 20 && t[19] == '.' {
		frac = t[20:]
		if i := strings.IndexFunc(frac, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			frac = frac[:i]
		}
	}
	frac = (frac + "000")[:3]
	return date + "." + frac
}

// nameWords are the words of a file's name (its last path element), lower
// case, for the word index: "IMG_2019 Lisbon.jpg" → img, 2019, lisbon, jpg.
func nameWords(key string) []string {
	base := key[strings.LastIndexByte(key, '/')+1:]
	words := strings.FieldsFunc(strings.ToLower(base), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := words[:0]
	for _, w := range words {
		if len(w) <= 40 && !slices.Contains(out, w) {
			out = append(out, w)
		}
		if len(out) == 16 {
			break
		}
	}
	return out
}

// Geo cells: level 1 is 1°, level 2 is 0.05° (about 5.5 km at the
// equator); a query picks the level that covers its circle in few cells.
var geoLevels = [...]float64{1: 1, 2: 0.05}

func geoCell(level int, lat, lon float64) string {
	s := geoLevels[level]
	return fmt.Sprintf("%d:%d:%d", level, int(math.Floor(lat/s)), int(math.Floor(lon/s)))
}

// searchRows adds a record's search rows to rows (see indexRows).
func searchRows(rows map[string][]byte, user, bucket, key string, m Media) {
	when := searchWhen(m)
	if when == "" {
		return
	}
	ref := sep + bucket + sep + key
	wk := whenKind(m)
	e := searchEntry{When: when, Kind: m.Kind, SHA256: m.SHA256, Camera: m.Camera(), Lens: m.Lens, Lat: m.Lat, Lon: m.Lon}
	e.Country, e.City = m.PlaceFolders()
	if m.Place != nil {
		e.CC = m.Place.CountryCode
	}
	for _, f := range m.Faces {
		if f.Person != "" && !slices.Contains(e.Persons, f.Person) {
			e.Persons = append(e.Persons, f.Person)
		}
	}
	for _, t := range m.Tags {
		if t = CleanTag(t); t != "" {
			e.Tags = append(e.Tags, t)
		}
	}
	e.Rating = m.Rating
	v := e.encode()
	rows[pfxIxWhen+user+sep+when+ref] = append([]byte{wk[whenWidth]}, v...)
	rows[pfxIxWhenOf+user+ref] = append(slices.Clip(wk), v...)
	for _, w := range nameWords(key) {
		rows[pfxIxWord+user+sep+w+ref] = wk
	}
	if l := strings.ReplaceAll(strings.TrimSpace(m.Lens), sep, "-"); l != "" {
		rows[pfxIxLens+user+sep+l+ref] = wk
	}
	if m.Lat != nil && m.Lon != nil {
		for l := 1; l < len(geoLevels); l++ {
			rows[pfxIxGeo+user+sep+geoCell(l, *m.Lat, *m.Lon)+ref] = wk
		}
	}
}

// whenKind is the value of the rows a search lists: WHEN and KIND.
func whenKind(m Media) []byte {
	w := searchWhen(m)
	if w == "" {
		return nil
	}
	k := byte('p')
	if m.Kind == "video" {
		k = 'v'
	}
	return append([]byte(w), k)
}

// Query is a search. Every filter set must hold (AND); the zero Query
// matches the whole library (the timeline).
type Query struct {
	// From and To bound the capture date, inclusive, as the camera showed
	// it: "2019", "2019-06" or "2019-06-12".
	From, To string
	// Camera is a camera's folder name (Media.Camera), Lens a lens, exact.
	Camera, Lens string
	// Persons are persons by id or by name (case-insensitive); each must
	// be in the photo.
	Persons []string
	// Album is an album's name.
	Album string
	// Kind is "photo" or "video".
	Kind string
	// Duplicates keeps files with an exact or near duplicate.
	Duplicates bool
	// Near keeps files taken within RadiusKm of a point.
	Near *Near
	// Country is a country's name as /by-place shows it, or its ISO code
	// ("FR"); City a city's name there (with or without Country).
	Country, City string
	// Tags are keywords (as /by-tag shows them, any case); each must be
	// on the photo.
	Tags []string
	// MinRating keeps photos rated at least that (1-5; 0 is no filter).
	MinRating int
	// Text is free text: each word must match a file name's word (by
	// prefix), or be in a camera, a lens, a person's name, a place's
	// name or a tag.
	Text string
	// After is the cursor a previous page returned; Limit the page size
	// (default 100, at most 1000).
	After string
	Limit int
}

// Near is a circle on the map.
type Near struct{ Lat, Lon, RadiusKm float64 }

// Hit is one file found, with its capture time as the camera showed it.
type Hit struct {
	Bucket, Key string
	When        string
	Kind        string
}

// ErrBadQuery wraps the reason a query cannot run (an unknown album, a
// malformed cursor, an impossible circle, ...).
var ErrBadQuery = errors.New("bad query")

// searchTuning sets the planner's two thresholds; tests lower them to
// cover every plan on small libraries.
type searchTuning struct {
	// setCap is how many rows a filter's list is read to before the
	// planner calls it large and checks it file by file instead.
	setCap int
	// walkBudget is how many entries the walk through the capture order
	// checks before it falls back to reading every list in full.
	walkBudget int
}

// The defaults balance a list's cost (about 1 µs a row read in order)
// against the walk's (a few µs an entry, plus a point read per check):
// for a page of 100 in a library of 100,000 they meet near 5,000 rows.
var defaultSearchTuning = searchTuning{setCap: 4096, walkBudget: 10000}

// cand is a file a page considers: its "B|K", its WHEN+KIND, and its
// capture-order entry once a filter needed it.
type cand struct {
	ref string
	wk  string
	e   *searchEntry
}

func (c *cand) when() string { return c.wk[:whenWidth] }

func (c *cand) kind() string {
	if c.wk[whenWidth] == 'v' {
		return "video"
	}
	return "photo"
}

// filter is one condition of a query.
type filter interface {
	// list calls fn with every file the filter admits ("B|K" and the
	// row's WHEN+KIND, which may be missing), a file possibly more than
	// once, until fn returns false. It reports false when the filter
	// cannot list (it only checks).
	list(ks *keyScan, fn func(ref string, wk []byte) bool) bool
	// exact: list gives exactly what admits admits (not a superset).
	exact() bool
	// admits checks one file.
	admits(p *plan, c *cand) (bool, error)
}

// Search returns a page of the files matching q, newest first, and the
// cursor of the next page ("" after the last).
func (c *Catalog) Search(ctx context.Context, user string, q Query) ([]Hit, string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	after := ""
	if q.After != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.After)
		if err != nil || len(b) < whenWidth+2 {
			return nil, "", fmt.Errorf("%w: cursor %q", ErrBadQuery, q.After)
		}
		after = string(b)
	}
	lo, hi := q.From, q.To
	if hi != "" {
		hi += "\xff"
	}
	if lo != "" && hi != "" && lo > hi {
		return nil, "", fmt.Errorf("%w: from %s is after to %s", ErrBadQuery, q.From, q.To)
	}
	var hits []Hit
	err := c.db.View(func(txn *badger.Txn) error {
		ks := newKeyScan(txn)
		defer ks.close()
		filters, err := c.filters(ctx, ks, user, q)
		if err != nil {
			return err
		}
		p := &plan{user: user, txn: txn, ks: ks, filters: filters, lo: lo, hi: hi, after: after, limit: limit, searchTuning: c.search}
		hits, err = p.run(ctx)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(hits) > limit {
		hits = hits[:limit]
		last := hits[limit-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(last.When + sep + last.Bucket + sep + last.Key))
	}
	return hits, next, nil
}

// plan runs one page of a query in one read transaction.
type plan struct {
	user    string
	txn     *badger.Txn
	ks      *keyScan
	filters []filter
	lo, hi  string // capture time bounds, "" when open
	after   string // the cursor: WHEN|B|K of the last hit already given
	limit   int
	searchTuning
	// sets are the lists read completely, by filter; a filter with a
	// set is checked by it.
	sets map[int]map[string]string
	// entries: a filter reads entries, so the walk decodes each.
	entries bool
}

func (p *plan) run(ctx context.Context) ([]Hit, error) {
	p.sets = map[int]map[string]string{}
	listable := false
	for i, f := range p.filters {
		got, ok, complete := p.collect(f, p.setCap)
		listable = listable || ok
		if ok && complete {
			p.sets[i] = got
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if len(p.sets) > 0 {
		return p.fromSets(ctx)
	}
	hits, done, err := p.walk(ctx, listable)
	if err != nil || done {
		return hits, err
	}
	// Every list is large and together they are rare: read the lists
	// again with twice the cap until one is complete; it drives, the
	// others are checked file by file.
	for n := 2 * p.setCap; ; n *= 2 {
		for i, f := range p.filters {
			got, ok, complete := p.collect(f, n)
			if ok && complete {
				p.sets[i] = got
				return p.fromSets(ctx)
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
}

// collect reads what f admits, up to n files (all when n < 0). ok is false
// when f cannot list; complete is false when it had more than n.
func (p *plan) collect(f filter, n int) (got map[string]string, ok, complete bool) {
	got, complete = map[string]string{}, true
	ok = f.list(p.ks, func(ref string, wk []byte) bool {
		if _, seen := got[ref]; !seen || len(wk) == whenWidth+1 {
			got[ref] = string(wk)
		}
		if n >= 0 && len(got) > n {
			complete = false
			return false
		}
		return true
	})
	return got, ok, complete
}

// entry returns a candidate's capture-order entry, read once; nil when it
// has none (not a dated photo or video).
func (p *plan) entry(c *cand) (*searchEntry, error) {
	if c.e == nil {
		item, err := p.txn.Get([]byte(pfxIxWhenOf + p.user + sep + c.ref))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("search entry of %s: %w", c.ref, err)
		}
		var e searchEntry
		if err := item.Value(func(v []byte) error {
			if len(v) < whenWidth+1 {
				return fmt.Errorf("search entry of %s: %d bytes", c.ref, len(v))
			}
			c.wk = string(v[:whenWidth+1])
			return e.decode(v[whenWidth+1:])
		}); err != nil {
			return nil, err
		}
		c.e = &e
	}
	return c.e, nil
}

// check applies the filters to a candidate (by their sets where read).
func (p *plan) check(c *cand) (bool, error) {
	for i, f := range p.filters {
		if set, ok := p.sets[i]; ok {
			if _, in := set[c.ref]; !in {
				return false, nil
			}
			if f.exact() {
				continue
			}
		}
		if ok, err := f.admits(p, c); !ok || err != nil {
			return false, err
		}
	}
	return true, nil
}

// fromSets pages through the intersection of the sets read, in capture
// order.
func (p *plan) fromSets(ctx context.Context) ([]Hit, error) {
	var smallest map[string]string
	for _, s := range p.sets {
		if smallest == nil || len(s) < len(smallest) {
			smallest = s
		}
	}
	cands := make([]cand, 0, len(smallest))
	for ref, wk := range smallest {
		c := cand{ref: ref, wk: wk}
		if len(wk) != whenWidth+1 { // a row written before rows carried it
			e, err := p.entry(&c)
			if err != nil {
				return nil, err
			}
			if e == nil {
				continue
			}
		}
		if w := c.when(); p.lo != "" && w < p.lo || p.hi != "" && w > p.hi {
			continue
		}
		if p.after != "" && c.when()+sep+ref >= p.after {
			continue
		}
		cands = append(cands, c)
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := strings.Compare(b.wk[:whenWidth], a.wk[:whenWidth]); c != 0 {
			return c
		}
		return strings.Compare(b.ref, a.ref)
	})
	var hits []Hit
	for i := range cands {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c := &cands[i]
		if ok, err := p.check(c); err != nil {
			return nil, err
		} else if ok {
			hits = append(hits, c.hit())
			if len(hits) > p.limit {
				break
			}
		}
	}
	return hits, nil
}

func (c *cand) hit() Hit {
	r := parseRef(c.ref)
	return Hit{Bucket: r.Bucket, Key: r.Key, When: c.when(), Kind: c.kind()}
}

// walk goes backwards through the capture order from the cursor, checking
// each entry, until the page is full (done). With budget, it gives up
// (not done) after walkBudget entries.
func (p *plan) walk(ctx context.Context, budget bool) (hits []Hit, done bool, err error) {
	pfx := pfxIxWhen + p.user + sep
	it := p.txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), Reverse: true, PrefetchValues: true, PrefetchSize: 64})
	for _, f := range p.filters {
		switch f.(type) {
		case kindFilter, dupFilter:
		default: // checked on the entry: decoding it costs less than a point read
			p.entries = true
		}
	}
	defer it.Close()
	start := pfx + "\xff"
	switch {
	case p.after != "":
		start = pfx + p.after
	case p.hi != "":
		start = pfx + p.hi
	}
	n := 0
	for it.Seek([]byte(start)); it.Valid(); it.Next() {
		if n++; n%512 == 0 && ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		if budget && n > p.walkBudget {
			return nil, false, nil
		}
		sk := string(it.Item().Key()[len(pfx):])
		if p.after != "" && sk >= p.after {
			continue
		}
		if p.lo != "" && sk < p.lo {
			break
		}
		c := cand{ref: sk[whenWidth+1:]}
		if err := it.Item().Value(func(v []byte) error {
			if len(v) < 1 {
				return errors.New("empty")
			}
			c.wk = sk[:whenWidth] + string(v[:1])
			if p.entries { // decoded only for the filters that need it
				c.e = new(searchEntry)
				return c.e.decode(v[1:])
			}
			return nil
		}); err != nil {
			return nil, false, fmt.Errorf("search entry %q: %w", sk, err)
		}
		if ok, err := p.check(&c); err != nil {
			return nil, false, err
		} else if ok {
			hits = append(hits, c.hit())
			if len(hits) > p.limit {
				break
			}
		}
	}
	return hits, true, nil
}

// keyScan is one iterator a query seeks around with: far cheaper than an
// iterator per prefix.
type keyScan struct {
	txn *badger.Txn
	it  *badger.Iterator
}

func newKeyScan(txn *badger.Txn) *keyScan {
	return &keyScan{txn, txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})}
}

func (s *keyScan) close() { s.it.Close() }

// rows calls fn with the rest of each key under pfx ("B|K" for the
// indexes) and its value, until fn returns false; it reports whether fn
// stopped it.
func (s *keyScan) rows(pfx string, fn func(rest string, v []byte) bool) (stopped bool) {
	b := []byte(pfx)
	for s.it.Seek(b); s.it.ValidForPrefix(b); s.it.Next() {
		item := s.it.Item()
		rest := string(item.Key()[len(b):])
		stop := false
		if item.ValueSize() == int64(whenWidth+1) {
			item.Value(func(v []byte) error { stop = !fn(rest, v); return nil })
		} else {
			stop = !fn(rest, nil)
		}
		if stop {
			return true
		}
	}
	return false
}

// distinct returns the distinct first elements after pfx, skip-scanning.
func (s *keyScan) distinct(ctx context.Context, pfx string) ([]string, error) {
	var out []string
	b := []byte(pfx)
	for s.it.Seek(b); s.it.ValidForPrefix(b); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, _, _ := strings.Cut(string(s.it.Item().Key()[len(b):]), sep)
		out = append(out, v)
		s.it.Seek([]byte(pfx + v + "\xff"))
	}
	return out, nil
}

// albumListMax is the most photos an album lists by content (a point read
// each); a larger album is checked by the content of each candidate.
const albumListMax = 512

// filters turns a query into its filters, resolving names (persons,
// albums).
func (c *Catalog) filters(ctx context.Context, ks *keyScan, user string, q Query) ([]filter, error) {
	var fs []filter
	u := user + sep
	if q.Album != "" {
		found := false
		ks.rows(pfxAlbum+u+q.Album, func(rest string, _ []byte) bool { found = rest == ""; return false })
		if !found {
			return nil, fmt.Errorf("%w: no album %q", ErrBadQuery, q.Album)
		}
		f := albumFilter{user: user, shas: map[string]bool{}}
		ks.rows(pfxAlbumMember+u+q.Album+sep, func(sha string, _ []byte) bool { f.shas[sha] = true; return true })
		fs = append(fs, f)
	}
	if len(q.Persons) > 0 {
		people, err := c.People(ctx, user)
		if err != nil {
			return nil, err
		}
		for _, want := range q.Persons {
			i := slices.IndexFunc(people, func(p Person) bool {
				return p.ID == want || strings.EqualFold(p.Label(), want)
			})
			if i < 0 {
				return nil, fmt.Errorf("%w: no person %q", ErrBadQuery, want)
			}
			id := people[i].ID
			fs = append(fs, prefixFilter{pfxPersonFace + u + id + sep, func(e *searchEntry) bool { return slices.Contains(e.Persons, id) }})
		}
	}
	if q.Near != nil {
		f, err := nearFilter(user, *q.Near)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	if q.Camera != "" {
		fs = append(fs, prefixFilter{pfxIxCam + u + q.Camera + sep, func(e *searchEntry) bool { return e.Camera == q.Camera }})
	}
	if q.Country != "" || q.City != "" {
		f, err := placeFilterOf(ctx, ks, user, q.Country, q.City)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	for _, tag := range q.Tags {
		tags, err := ks.distinct(ctx, pfxIxTag+u)
		if err != nil {
			return nil, err
		}
		want := CleanTag(tag)
		f := anyPrefixFilter{onEntry: func(e *searchEntry) bool {
			return slices.ContainsFunc(e.Tags, func(t string) bool { return strings.EqualFold(t, want) })
		}}
		for _, t := range tags {
			if strings.EqualFold(t, want) {
				f.pfxs = append(f.pfxs, pfxIxTag+u+t+sep)
			}
		}
		if len(f.pfxs) == 0 {
			return nil, fmt.Errorf("%w: no photo is tagged %q", ErrBadQuery, tag)
		}
		fs = append(fs, f)
	}
	switch {
	case q.MinRating == 0:
	case q.MinRating < 1 || q.MinRating > 5:
		return nil, fmt.Errorf("%w: rating must be 1 to 5, not %d", ErrBadQuery, q.MinRating)
	default:
		f := anyPrefixFilter{onEntry: func(e *searchEntry) bool { return e.Rating != nil && *e.Rating >= q.MinRating }}
		for r := q.MinRating; r <= 5; r++ {
			f.pfxs = append(f.pfxs, pfxIxRating+u+strconv.Itoa(r)+sep)
		}
		fs = append(fs, f)
	}
	if q.Lens != "" {
		lens := strings.ReplaceAll(strings.TrimSpace(q.Lens), sep, "-")
		fs = append(fs, prefixFilter{pfxIxLens + u + lens + sep, func(e *searchEntry) bool {
			return strings.ReplaceAll(strings.TrimSpace(e.Lens), sep, "-") == lens
		}})
	}
	if q.Duplicates {
		fs = append(fs, dupFilter{pfxDupOf + u})
	}
	for _, w := range strings.Fields(strings.ToLower(q.Text)) {
		f, err := c.textFilter(ctx, ks, user, w)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	switch q.Kind {
	case "":
	case "photo", "video":
		fs = append(fs, kindFilter(q.Kind))
	default:
		return nil, fmt.Errorf("%w: kind must be photo or video, not %q", ErrBadQuery, q.Kind)
	}
	return fs, nil
}

func exists(txn *badger.Txn, key string) (bool, error) {
	_, err := txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// prefixFilter admits the files with a row pfx+"B|K" (a camera's, a
// person's, a lens's); onEntry checks the same on a capture-order entry.
type prefixFilter struct {
	pfx     string
	onEntry func(*searchEntry) bool
}

func (f prefixFilter) list(ks *keyScan, fn func(string, []byte) bool) bool {
	ks.rows(f.pfx, fn)
	return true
}

func (prefixFilter) exact() bool { return true }

func (f prefixFilter) admits(p *plan, c *cand) (bool, error) {
	if c.e != nil {
		return f.onEntry(c.e), nil
	}
	return exists(p.txn, f.pfx+c.ref)
}

// anyPrefixFilter admits the files with a row under any of its prefixes
// (the spellings of a tag, the ratings from a minimum); onEntry checks
// the same on a capture-order entry.
type anyPrefixFilter struct {
	pfxs    []string
	onEntry func(*searchEntry) bool
}

func (f anyPrefixFilter) list(ks *keyScan, fn func(string, []byte) bool) bool {
	for _, pfx := range f.pfxs {
		if ks.rows(pfx, fn) {
			break
		}
	}
	return true
}

func (anyPrefixFilter) exact() bool { return true }

func (f anyPrefixFilter) admits(p *plan, c *cand) (bool, error) {
	if c.e != nil {
		return f.onEntry(c.e), nil
	}
	for _, pfx := range f.pfxs {
		if ok, err := exists(p.txn, pfx+c.ref); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// placeFilter admits the files of a country, a city, or a city of a
// country: listed from the place index's COUNTRY|CITY prefixes, checked
// on the entry.
type placeFilter struct {
	country, city string
	pfxs          []string // ixl|U|COUNTRY|CITY|
}

func placeFilterOf(ctx context.Context, ks *keyScan, user, country, city string) (*placeFilter, error) {
	f := &placeFilter{city: city}
	u := user + sep
	countries, err := ks.distinct(ctx, pfxIxPlace+u)
	if err != nil {
		return nil, err
	}
	for _, co := range countries {
		if country != "" && !strings.EqualFold(co, country) {
			if len(country) != 2 {
				continue
			}
			// A country code: the country whose entries carry it.
			var e searchEntry
			var raw []byte
			ks.rows(pfxIxPlace+u+co+sep, func(rest string, _ []byte) bool {
				_, ref, _ := strings.Cut(rest, sep) // CITY|B|K
				raw = []byte(pfxIxWhenOf + u + ref)
				return false
			})
			if raw == nil {
				continue
			}
			ok := false
			if item, err := ks.txn.Get(raw); err == nil {
				item.Value(func(v []byte) error {
					if len(v) > whenWidth+1 && e.decode(v[whenWidth+1:]) == nil {
						ok = strings.EqualFold(e.CC, country)
					}
					return nil
				})
			}
			if !ok {
				continue
			}
		}
		if f.country == "" {
			f.country = co
		}
		cities, err := ks.distinct(ctx, pfxIxPlace+u+co+sep)
		if err != nil {
			return nil, err
		}
		for _, ci := range cities {
			if city == "" || strings.EqualFold(ci, city) {
				f.pfxs = append(f.pfxs, pfxIxPlace+u+co+sep+ci+sep)
			}
		}
	}
	if len(f.pfxs) == 0 {
		what := strings.TrimSpace(country + " " + city)
		return nil, fmt.Errorf("%w: no photo is placed in %q", ErrBadQuery, what)
	}
	if country == "" {
		f.country = ""
	}
	return f, nil
}

func (f *placeFilter) list(ks *keyScan, fn func(string, []byte) bool) bool {
	for _, pfx := range f.pfxs {
		if ks.rows(pfx, fn) {
			break
		}
	}
	return true
}

func (*placeFilter) exact() bool { return true }

func (f *placeFilter) admits(p *plan, c *cand) (bool, error) {
	e, err := p.entry(c)
	if e == nil || err != nil {
		return false, err
	}
	if f.country != "" && !strings.EqualFold(e.Country, f.country) {
		return false, nil
	}
	return f.city == "" || strings.EqualFold(e.City, f.city), nil
}

// dupFilter admits the files in a duplicate group. Its rows carry the
// group, not WHEN: it only checks.
type dupFilter struct{ pfx string }

func (dupFilter) list(*keyScan, func(string, []byte) bool) bool { return false }

func (dupFilter) exact() bool { return true }

func (f dupFilter) admits(p *plan, c *cand) (bool, error) { return exists(p.txn, f.pfx+c.ref) }

// albumFilter admits the files whose content is in an album. A small
// album lists its files through the content index.
type albumFilter struct {
	user string
	shas map[string]bool
}

func (f albumFilter) list(ks *keyScan, fn func(string, []byte) bool) bool {
	if len(f.shas) > albumListMax {
		return false
	}
	for sha := range f.shas {
		if ks.rows(pfxIxSHA+f.user+sep+sha+sep, fn) {
			break
		}
	}
	return true
}

func (albumFilter) exact() bool { return true }

func (f albumFilter) admits(p *plan, c *cand) (bool, error) {
	e, err := p.entry(c)
	return e != nil && f.shas[e.SHA256], err
}

// kindFilter admits photos or videos; it only checks.
type kindFilter string

func (kindFilter) list(*keyScan, func(string, []byte) bool) bool { return false }

func (kindFilter) exact() bool { return true }

func (f kindFilter) admits(_ *plan, c *cand) (bool, error) { return c.kind() == string(f), nil }

// geoFilter admits files within a circle: listed from the cells that
// cover it, checked by distance.
type geoFilter struct {
	near  Near
	cells []string // full prefixes, nil when the circle is too large to list
}

func nearFilter(user string, n Near) (*geoFilter, error) {
	if n.Lat < -90 || n.Lat > 90 || n.Lon < -180 || n.Lon > 180 || !(n.RadiusKm > 0) || n.RadiusKm > 20000 {
		return nil, fmt.Errorf("%w: near %g,%g within %g km", ErrBadQuery, n.Lat, n.Lon, n.RadiusKm)
	}
	f := &geoFilter{near: n}
	dLat := n.RadiusKm / 111.0
	cosLat := math.Cos(n.Lat * math.Pi / 180)
	dLon := 360.0
	if cosLat > 0.01 {
		dLon = min(360, dLat/cosLat)
	}
	for l := len(geoLevels) - 1; l >= 1; l-- {
		s := geoLevels[l]
		y0, y1 := int(math.Floor((n.Lat-dLat)/s)), int(math.Floor((n.Lat+dLat)/s))
		x0, x1 := int(math.Floor((n.Lon-dLon)/s)), int(math.Floor((n.Lon+dLon)/s))
		if (y1-y0+1)*(x1-x0+1) > 256 {
			continue
		}
		w := int(math.Round(360 / s))
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				xx := ((x+w/2)%w+w)%w - w/2 // across the antimeridian
				f.cells = append(f.cells, pfxIxGeo+user+sep+fmt.Sprintf("%d:%d:%d", l, y, xx)+sep)
			}
		}
		break
	}
	return f, nil
}

// exact is false: the cells cover more than the circle.
func (*geoFilter) exact() bool { return false }

func (f *geoFilter) list(ks *keyScan, fn func(string, []byte) bool) bool {
	if f.cells == nil {
		return false
	}
	for _, c := range f.cells {
		if ks.rows(c, fn) {
			break
		}
	}
	return true
}

func (f *geoFilter) admits(p *plan, c *cand) (bool, error) {
	e, err := p.entry(c)
	if e == nil || e.Lat == nil || e.Lon == nil {
		return false, err
	}
	return DistanceKm(f.near.Lat, f.near.Lon, *e.Lat, *e.Lon) <= f.near.RadiusKm, nil
}

// DistanceKm is the great-circle distance between two points, in km.
func DistanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0088
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// textFilter admits a file when a word of its name starts with the term,
// or its camera or lens contains it, or a person in it is named so.
type textFilter struct {
	term    string
	user    string
	cameras []string // cameras containing term
	lenses  []string
	persons []string // ids of persons whose label contains term
	tags    []string // tags containing term
	places  []string // ixl prefixes of the places whose names contain term
}

func (c *Catalog) textFilter(ctx context.Context, ks *keyScan, user, term string) (*textFilter, error) {
	f := &textFilter{term: term, user: user}
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), term) }
	for _, p := range []struct {
		pfx string
		out *[]string
	}{{pfxIxCam, &f.cameras}, {pfxIxLens, &f.lenses}, {pfxIxTag, &f.tags}} {
		vals, err := ks.distinct(ctx, p.pfx+user+sep)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			if has(v) {
				*p.out = append(*p.out, v)
			}
		}
	}
	people, err := c.People(ctx, user)
	if err != nil {
		return nil, err
	}
	for _, p := range people {
		if !p.Hidden && has(p.Label()) {
			f.persons = append(f.persons, p.ID)
		}
	}
	countries, err := ks.distinct(ctx, pfxIxPlace+user+sep)
	if err != nil {
		return nil, err
	}
	for _, co := range countries {
		if has(co) {
			f.places = append(f.places, pfxIxPlace+user+sep+co+sep)
			continue
		}
		cities, err := ks.distinct(ctx, pfxIxPlace+user+sep+co+sep)
		if err != nil {
			return nil, err
		}
		for _, ci := range cities {
			if has(ci) {
				f.places = append(f.places, pfxIxPlace+user+sep+co+sep+ci+sep)
			}
		}
	}
	return f, nil
}

func (*textFilter) exact() bool { return true }

func (f *textFilter) list(ks *keyScan, fn func(string, []byte) bool) bool {
	u := f.user + sep
	// Words by prefix: the rows of every word starting with term; the ref
	// follows the word's separator.
	if ks.rows(pfxIxWord+u+f.term, func(rest string, v []byte) bool {
		_, ref, _ := strings.Cut(rest, sep)
		return fn(ref, v)
	}) {
		return true
	}
	var pfxs []string
	for _, v := range f.cameras {
		pfxs = append(pfxs, pfxIxCam+u+v+sep)
	}
	for _, v := range f.lenses {
		pfxs = append(pfxs, pfxIxLens+u+v+sep)
	}
	for _, id := range f.persons {
		pfxs = append(pfxs, pfxPersonFace+u+id+sep)
	}
	for _, t := range f.tags {
		pfxs = append(pfxs, pfxIxTag+u+t+sep)
	}
	for _, pfx := range pfxs {
		if ks.rows(pfx, fn) {
			return true
		}
	}
	// A country's rows hold CITY|B|K.
	for _, pfx := range f.places {
		if ks.rows(pfx, func(rest string, v []byte) bool {
			if strings.Count(pfx, sep) == 3 { // ixl|U|COUNTRY|: skip the city
				_, rest, _ = strings.Cut(rest, sep)
			}
			return fn(rest, v)
		}) {
			break
		}
	}
	return true
}

func (f *textFilter) admits(p *plan, c *cand) (bool, error) {
	_, key, _ := strings.Cut(c.ref, sep)
	for _, w := range nameWords(key) {
		if strings.HasPrefix(w, f.term) {
			return true, nil
		}
	}
	u := f.user + sep
	for _, v := range f.cameras {
		if ok, err := exists(p.txn, pfxIxCam+u+v+sep+c.ref); ok || err != nil {
			return ok, err
		}
	}
	for _, v := range f.lenses {
		if ok, err := exists(p.txn, pfxIxLens+u+v+sep+c.ref); ok || err != nil {
			return ok, err
		}
	}
	for _, id := range f.persons {
		if ok, err := exists(p.txn, pfxPersonFace+u+id+sep+c.ref); ok || err != nil {
			return ok, err
		}
	}
	for _, t := range f.tags {
		if ok, err := exists(p.txn, pfxIxTag+u+t+sep+c.ref); ok || err != nil {
			return ok, err
		}
	}
	if len(f.places) > 0 {
		e, err := p.entry(c)
		if e == nil || err != nil {
			return false, err
		}
		in := func(s string) bool { return strings.Contains(strings.ToLower(s), f.term) }
		return e.Country != "" && (in(e.Country) || in(e.City)), nil
	}
	return false, nil
}

// keySearchIndexed marks a catalog whose media rows all have their search
// rows.
func keySearchIndexed() []byte { return []byte(pfxMeta + "searchix2") }

// indexSearch writes the index rows of every media record once, for a
// catalog made before the search rows existed (and before the other
// rows carried WHEN+KIND).
func (c *Catalog) indexSearch(ctx context.Context) error {
	return c.backfillMedia(ctx, keySearchIndexed(), "search", func(wb *badger.WriteBatch, user, bucket, key string, m Media) error {
		for k, v := range indexRows(user, bucket, key, m) {
			if err := wb.Set([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
}
