package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// The library indexes: derived from media records, written in the same
// transaction as the record (CompleteJob, FailJob), moved and deleted with
// the file, dropped and rebuilt by RequeueAll. Each is keyed for the
// prefix scan that lists one virtual folder, so a listing costs what the
// folder holds, not what the library holds.
//
//	ixd|U|YYYY-MM-DD|B|KEY    by taken day (the camera's local date)
//	ixdm|U|YYYY-MM-DD         newest modification time seen that day (8 bytes)
//	ixc|U|CAMERA|B|KEY        by camera
//	ixcm|U|CAMERA             newest modification time seen for the camera
//	ixl|U|COUNTRY|CITY|B|KEY  by place (folder names: Media.PlaceFolders)
//	ixlm|U|COUNTRY|CITY       newest modification time seen for the place
//	ixs|U|SHA256|B|KEY        exact duplicates
//	ixp|U|I:CHUNK|B|KEY       perceptual hash split into 7 chunks (value: the hash)
//	dupm|U|B|KEY              the duplicate group of a file (value: group id)
//	dupg|U|GID|B|KEY          a group's members (value: what the summary needs, dupgroups.go)
//	dups|U|GID                a group's summary (dupgroups.go)
//
// Near duplicates are found by multi-index hashing: two 64-bit hashes at
// Hamming distance <= NearDistance (6) agree exactly on at least one of 7
// disjoint chunks, so 7 exact prefix scans, each read to its end, find
// every candidate.
const (
	pfxIxDay    = "ixd|"
	pfxIxDayMax = "ixdm|"
	pfxIxCam    = "ixc|"
	pfxIxCamMax = "ixcm|"
	pfxIxSHA    = "ixs|"
	pfxIxPHash  = "ixp|"
	pfxDupOf    = "dupm|"
	pfxDupGroup = "dupg|"
	// pface|U|PID|B|KEY: the photos a person is in (derived from the
	// faces' Person in media records).
	pfxPersonFace = "pface|"
	// fwait|U|B|KEY: photos enriched without face models (FacesWaiting).
	pfxFacesWaiting = "fwait|"
	// twait|U|B|KEY: videos enriched without ffmpeg (ThumbnailWaiting).
	pfxThumbsWaiting = "twait|"
	// fnew|U|B|KEY: photos with faces grouping has not looked at yet.
	pfxFacesNew = "fnew|"
	// pstat|U: what the last full grouping pass left (PeopleStats).
	pfxPeopleStats = "pstat|"
	// fkind|: the face descriptor kind photos were last requeued for
	// (RequeueFacesNotOf).
	pfxFacesKind = "fkind|"
)

// NearDistance is the largest Hamming distance between perceptual hashes
// of near duplicates (see enrich.NearDistance, which is the same).
const NearDistance = 6

var derivedPrefixes = []string{pfxIxTag, pfxIxTagMax, pfxIxRating, pfxRegions, pfxMedia, pfxIxDay, pfxIxDayMax, pfxIxCam, pfxIxCamMax, pfxIxPlace, pfxIxPlaceMax, pfxIxSHA, pfxIxPHash, pfxDupOf, pfxDupGroup, pfxDupSummary, pfxPersonFace, pfxFacesWaiting, pfxThumbsWaiting, pfxFacesNew, pfxPeopleStats, pfxFacesKind, pfxIxWhen, pfxIxWhenOf, pfxIxWord, pfxIxLens, pfxIxGeo, pfxIxLive}

// Day is the local date a record files under ("2006-01-02"), or "".
func (m Media) Day() string {
	if len(m.TakenLocal) >= 10 && (m.Kind == "photo" || m.Kind == "video") {
		return m.TakenLocal[:10]
	}
	return ""
}

// Camera is the folder name of the camera: "Canon EOS 5D Mark IV",
// "Apple iPhone 13 Pro" (Make is left out when Model starts with it).
func (m Media) Camera() string {
	mk, md := strings.TrimSpace(m.Make), strings.TrimSpace(m.Model)
	name := md
	if mk != "" && !strings.HasPrefix(strings.ToLower(md), strings.ToLower(strings.Fields(mk)[0])) {
		name = strings.TrimSpace(mk + " " + md)
	}
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '|' || r == '\\' || r < 0x20 {
			return '-'
		}
		return r
	}, name)
	if m.Kind != "photo" && m.Kind != "video" {
		return ""
	}
	return name
}

// PHashValue returns the record's perceptual hash.
func (m Media) PHashValue() (uint64, bool) {
	if len(m.PHash) != 16 {
		return 0, false
	}
	h, err := strconv.ParseUint(m.PHash, 16, 64)
	return h, err == nil
}

// phashChunks splits a hash into 7 chunks of 9 or 10 bits.
func phashChunks(h uint64) [7]string {
	var out [7]string
	shift := 0
	for i := range 7 {
		w := 9
		if i == 6 {
			w = 10
		}
		out[i] = fmt.Sprintf("%d:%03x", i, (h>>shift)&(1<<w-1))
		shift += w
	}
	return out
}

func u64(v int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	return b[:]
}

// indexRows returns the index rows of a file's media record. Files in the
// trash have none: they are out of the library until restored.
func indexRows(user, bucket, key string, m Media) map[string][]byte {
	rows := map[string][]byte{}
	if bucket == TrashBucket {
		return rows
	}
	ref := sep + bucket + sep + key
	if m.ContentID != "" && (m.Kind == "photo" || m.Kind == "video") {
		rows[pfxIxLive+user+sep+m.ContentID+ref] = nil
	}
	if m.LiveRole == LiveMotion {
		// The still stands for its Live Photo (live.go).
		if m.ThumbnailState == ThumbnailWaiting {
			rows[pfxThumbsWaiting+user+ref] = nil
		}
		return rows
	}
	wk := whenKind(m) // rows a search lists carry it (search.go)
	if d := m.Day(); d != "" {
		rows[pfxIxDay+user+sep+d+ref] = nil
	}
	if c := m.Camera(); c != "" {
		rows[pfxIxCam+user+sep+c+ref] = wk
	}
	if country, city := m.PlaceFolders(); country != "" {
		rows[pfxIxPlace+user+sep+country+sep+city+ref] = wk
	}
	if m.Kind == "photo" || m.Kind == "video" {
		if m.SHA256 != "" {
			rows[pfxIxSHA+user+sep+m.SHA256+ref] = wk
		}
		if h, ok := m.PHashValue(); ok {
			for _, c := range phashChunks(h) {
				rows[pfxIxPHash+user+sep+c+ref] = u64(int64(h))
			}
		}
		for _, f := range m.Faces {
			if f.Person != "" {
				rows[pfxPersonFace+user+sep+f.Person+ref] = wk
			} else if !f.Checked {
				rows[pfxFacesNew+user+ref] = nil
			}
		}
		tagRows(rows, user, ref, m)
		if m.FacesState == FacesWaiting {
			rows[pfxFacesWaiting+user+ref] = nil
		}
		if m.ThumbnailState == ThumbnailWaiting {
			rows[pfxThumbsWaiting+user+ref] = nil
		}
	}
	searchRows(rows, user, bucket, key, m)
	return rows
}

// unindex deletes the index rows of a file's current media record and its
// group membership, inside txn.
func unindex(txn *badger.Txn, user, bucket, key string) error {
	var old Media
	err := getJSON(txn, keyMedia(user, bucket, key), &old)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for k := range indexRows(user, bucket, key, old) {
		if err := txn.Delete([]byte(k)); err != nil {
			return err
		}
	}
	return leaveGroup(txn, user, bucket, key)
}

func leaveGroup(txn *badger.Txn, user, bucket, key string) error {
	mk := []byte(pfxDupOf + user + sep + bucket + sep + key)
	item, err := txn.Get(mk)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	gid, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	if err := txn.Delete(mk); err != nil {
		return err
	}
	ref := bucket + sep + key
	gk := keyDupGroupMember(user, string(gid), ref)
	old := dupMember{ModNs: 1<<63 - 1} // unknown (no row, or no value): rescan
	if item, err := txn.Get(gk); err == nil {
		if err := item.Value(func(v []byte) error {
			if d, ok := decodeDupMember(v); ok {
				old = d
			}
			return nil
		}); err != nil {
			return err
		}
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	if err := txn.Delete(gk); err != nil {
		return err
	}
	return editGroup(txn, user, string(gid), []dupEdit{{ref: ref, old: &old}})
}

// index writes the media record of a file and its index rows inside txn,
// replacing the previous record's, and joins the file to its duplicates.
func index(txn *badger.Txn, user, bucket, key string, m Media, modNs int64) error {
	if err := unindex(txn, user, bucket, key); err != nil {
		return err
	}
	if err := setJSON(txn, keyMedia(user, bucket, key), m); err != nil {
		return err
	}
	for k, v := range indexRows(user, bucket, key, m) {
		if err := txn.Set([]byte(k), v); err != nil {
			return err
		}
	}
	if bucket == TrashBucket || m.LiveRole == LiveMotion {
		return nil
	}
	country, city := m.PlaceFolders()
	place := ""
	if country != "" {
		place = country + sep + city
	}
	newest := []struct{ pfx, name string }{{pfxIxDayMax, m.Day()}, {pfxIxCamMax, m.Camera()}, {pfxIxPlaceMax, place}}
	if m.Kind == "photo" || m.Kind == "video" {
		for _, t := range m.Tags {
			newest = append(newest, struct{ pfx, name string }{pfxIxTagMax, CleanTag(t)})
		}
	}
	for _, mx := range newest {
		if mx.name == "" {
			continue
		}
		k := []byte(mx.pfx + user + sep + mx.name)
		if item, err := txn.Get(k); err == nil {
			if v, err := item.ValueCopy(nil); err == nil && len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= modNs {
				continue
			}
		}
		if err := txn.Set(k, u64(modNs)); err != nil {
			return err
		}
	}
	return group(txn, user, bucket, key, m, modNs)
}

// group puts a file in a duplicate group with its exact and near
// duplicates, merging their groups when it bridges several.
//
// Every row of each bucket it looks up is read (the file's SHA-256, and
// the 7 chunk values of its perceptual hash): a candidate left unread
// would be a duplicate silently missed, so there is no cap. The cost is
// the rows that share a chunk value with the file (a 2^-9 share of the
// library for well-spread hashes), never the library. Only the files
// whose group changes are written, so a file joining a large group costs
// two rows and its group's summary (editGroup), not the group's size.
func group(txn *badger.Txn, user, bucket, key string, m Media, modNs int64) error {
	self := bucket + sep + key
	near := map[string]bool{} // "B|KEY"
	scan := func(pfx string, match func(v []byte) bool) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), PrefetchValues: match != nil, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			ref := string(it.Item().Key()[len(pfx):])
			if ref == self || near[ref] {
				continue
			}
			ok := true
			if match != nil {
				err := it.Item().Value(func(v []byte) error {
					ok = match(v)
					return nil
				})
				if err != nil {
					return fmt.Errorf("duplicates of %s: reading %q: %w", self, it.Item().Key(), err)
				}
			}
			if ok {
				near[ref] = true
			}
		}
		return nil
	}
	if m.SHA256 != "" && (m.Kind == "photo" || m.Kind == "video") {
		if err := scan(pfxIxSHA+user+sep+m.SHA256+sep, nil); err != nil {
			return err
		}
	}
	if h, ok := m.PHashValue(); ok {
		for _, c := range phashChunks(h) {
			err := scan(pfxIxPHash+user+sep+c+sep, func(v []byte) bool {
				return len(v) == 8 && bits.OnesCount64(binary.BigEndian.Uint64(v)^h) <= NearDistance
			})
			if err != nil {
				return err
			}
		}
	}
	if len(near) == 0 {
		return nil
	}
	// The group: the smallest id among the neighbours', or a new one.
	groupOf := map[string]string{} // ref -> its group now ("" for none)
	gids := map[string]bool{}
	gid := ""
	for ref := range near {
		item, err := txn.Get([]byte(pfxDupOf + user + sep + ref))
		if errors.Is(err, badger.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		groupOf[ref] = string(v)
		gids[string(v)] = true
		if gid == "" || string(v) < gid {
			gid = string(v)
		}
	}
	if gid == "" {
		s := sha256.Sum256([]byte(user + sep + self))
		gid = hex.EncodeToString(s[:8])
	}
	// Members of other groups move into gid, with their values; their
	// groups' summaries go.
	vals := map[string][]byte{}
	for g := range gids {
		if g == gid {
			continue
		}
		pfx := []byte(pfxDupGroup + user + sep + g + sep)
		var refs []string
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true})
		for it.Rewind(); it.Valid(); it.Next() {
			ref := string(it.Item().Key()[len(pfx):])
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				it.Close()
				return fmt.Errorf("duplicates of %s: reading %q: %w", self, it.Item().Key(), err)
			}
			refs = append(refs, ref)
			vals[ref] = v
		}
		it.Close()
		for _, ref := range refs {
			if err := txn.Delete(append(pfx, ref...)); err != nil {
				return err
			}
			near[ref] = true
			groupOf[ref] = g
		}
		if err := txn.Delete(keyDupSummary(user, g)); err != nil {
			return err
		}
	}
	near[self] = true // index left its old group (unindex)
	var edits []dupEdit
	for ref := range near {
		if groupOf[ref] == gid {
			continue // already there
		}
		var d dupMember
		ok := false
		switch {
		case ref == self:
			var o Object
			if err := getJSON(txn, keyObject(user, bucket, key), &o); err != nil && !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("duplicates of %s: %w", self, err)
			}
			d, ok = memberData(m, o.Size, modNs), true
		case vals[ref] != nil:
			d, ok = decodeDupMember(vals[ref])
		}
		if !ok {
			var err error
			if d, ok, err = memberOf(txn, user, ref); err != nil {
				return err
			}
		}
		if err := txn.Set([]byte(pfxDupOf+user+sep+ref), []byte(gid)); err != nil {
			return err
		}
		v := d.encode()
		if !ok {
			v = nil // its file is gone: counted by no summary
		}
		if err := txn.Set(keyDupGroupMember(user, gid, ref), v); err != nil {
			return err
		}
		if ok {
			edits = append(edits, dupEdit{ref: ref, new: &d})
		}
	}
	return editGroup(txn, user, gid, edits)
}

// Ref names a file of a user's library.
type Ref struct{ Bucket, Key string }

func parseRef(s string) Ref {
	b, k, _ := strings.Cut(s, sep)
	return Ref{b, k}
}

// Values of one level of an index: the distinct values after a prefix
// (years, months, days, cameras), by skip-scanning: one seek per value.
func (c *Catalog) distinct(ctx context.Context, pfx string, width int) ([]string, error) {
	var out []string
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx)})
		defer it.Close()
		for it.Rewind(); it.Valid(); {
			if err := ctx.Err(); err != nil {
				return err
			}
			rest := string(it.Item().Key()[len(pfx):])
			var v string
			if width > 0 {
				if len(rest) < width {
					it.Next()
					continue
				}
				v = rest[:width]
			} else {
				v, _, _ = strings.Cut(rest, sep)
			}
			out = append(out, v)
			it.Seek([]byte(pfx + v + "\xff"))
		}
		return nil
	})
	return out, err
}

// Days returns the days under a date prefix ("" for all, "2019", "2019-06")
// that hold photos or videos of the user, in order.
func (c *Catalog) Days(ctx context.Context, user, prefix string) ([]string, error) {
	days, err := c.distinct(ctx, pfxIxDay+user+sep+prefix, 10-len(prefix))
	for i := range days {
		days[i] = prefix + days[i]
	}
	return days, err
}

// Cameras returns the cameras of the user's photos, in order.
func (c *Catalog) Cameras(ctx context.Context, user string) ([]string, error) {
	return c.distinct(ctx, pfxIxCam+user+sep, 0)
}

// NewestIn returns the newest modification time recorded for each day (or
// camera) whose name starts with prefix, in Unix ns.
func (c *Catalog) NewestIn(ctx context.Context, user string, camera bool, prefix string) (map[string]int64, error) {
	pfx := pfxIxDayMax + user + sep
	if camera {
		pfx = pfxIxCamMax + user + sep
	}
	out := map[string]int64{}
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx + prefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil || len(v) != 8 {
				continue
			}
			out[string(it.Item().Key()[len(pfx):])] = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return out, err
}

// OnDay calls fn with the file rows of one day, in bucket and key order.
func (c *Catalog) OnDay(ctx context.Context, user, day string, fn func(Object) error) error {
	return c.refs(ctx, user, pfxIxDay+user+sep+day+sep, fn)
}

// ByCamera calls fn with the file rows of one camera.
func (c *Catalog) ByCamera(ctx context.Context, user, camera string, fn func(Object) error) error {
	return c.refs(ctx, user, pfxIxCam+user+sep+camera+sep, fn)
}

// GroupMembers calls fn with the file rows of one duplicate group.
func (c *Catalog) GroupMembers(ctx context.Context, user, gid string, fn func(Object) error) error {
	return c.refs(ctx, user, pfxDupGroup+user+sep+gid+sep, fn)
}

// refs resolves the B|KEY suffixes of the rows under pfx to object rows.
func (c *Catalog) refs(ctx context.Context, user, pfx string, fn func(Object) error) error {
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx)})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%256 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			r := parseRef(string(it.Item().Key()[len(pfx):]))
			var o Object
			if err := getJSON(txn, keyObject(user, r.Bucket, r.Key), &o); err != nil {
				continue // a row a crash left behind: reindex drops it
			}
			o.Bucket, o.Key = r.Bucket, r.Key
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	})
}

// Groups calls fn with each duplicate group of the user: its id and its
// members (groups that fell to one member are skipped).
func (c *Catalog) Groups(ctx context.Context, user string, fn func(gid string, members []Ref) error) error {
	pfx := pfxDupGroup + user + sep
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx)})
		defer it.Close()
		gid := ""
		var members []Ref
		flush := func() error {
			if len(members) > 1 {
				return fn(gid, members)
			}
			return nil
		}
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			g, ref, _ := strings.Cut(string(it.Item().Key()[len(pfx):]), sep)
			if g != gid {
				if err := flush(); err != nil {
					return err
				}
				gid, members = g, nil
			}
			members = append(members, parseRef(ref))
		}
		return flush()
	})
}

// GroupOf returns the duplicate group of a file ("" when it has none).
func (c *Catalog) GroupOf(ctx context.Context, user, bucket, key string) (string, error) {
	var gid string
	err := c.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(pfxDupOf + user + sep + bucket + sep + key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		gid = string(v)
		return err
	})
	return gid, err
}

type mediaRow struct {
	key string
	m   Media
}

// mediaUnder returns the media records of key (a file) or of the subtree
// under key (ending in '/', or "" for the bucket).
func (c *Catalog) mediaUnder(ctx context.Context, user, bucket, key string) ([]mediaRow, error) {
	var out []mediaRow
	pfx := keyMediaPrefix(user, bucket)
	err := c.db.View(func(txn *badger.Txn) error {
		exact := append(append([]byte{}, pfx...), key...)
		if key != "" && !strings.HasSuffix(key, "/") {
			var m Media
			if err := getJSON(txn, exact, &m); err == nil {
				out = append(out, mediaRow{key, m})
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
			return nil
		}
		return eachMedia(ctx, txn, exact, len(pfx), func(key string, m Media) error {
			out = append(out, mediaRow{key, m})
			return nil
		})
	})
	return out, err
}

// eachMedia calls fn with the media records under pfx, each with its row
// key less its first skip bytes.
func eachMedia(ctx context.Context, txn *badger.Txn, pfx []byte, skip int, fn func(rest string, m Media) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var m Media
		if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &m) }); err != nil {
			return err
		}
		if err := fn(string(it.Item().Key()[skip:]), m); err != nil {
			return err
		}
	}
	return nil
}

// inChunks runs fn over rows, a transaction per chunk.
func (c *Catalog) inChunks(ctx context.Context, rows []mediaRow, fn func(txn *badger.Txn, r mediaRow) error) error {
	for len(rows) > 0 {
		n := min(len(rows), 128)
		err := c.updateIndex(ctx, func(txn *badger.Txn) error {
			for _, r := range rows[:n] {
				if err := fn(txn, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// dropIndex removes the index rows of files whose records are gone.
func (c *Catalog) dropIndex(ctx context.Context, user, bucket string, rows []mediaRow) error {
	return c.inChunks(ctx, rows, func(txn *badger.Txn, r mediaRow) error {
		for k := range indexRows(user, bucket, r.key, r.m) {
			if err := txn.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return leaveGroup(txn, user, bucket, r.key)
	})
}

// addIndex indexes files whose records were moved to dst (src keys
// rewritten from srcPfx to dstPfx).
func (c *Catalog) addIndex(ctx context.Context, user, bucket, srcPfx, dstPfx string, rows []mediaRow) error {
	return c.inChunks(ctx, rows, func(txn *badger.Txn, r mediaRow) error {
		key := dstPfx + strings.TrimPrefix(r.key, srcPfx)
		var o Object
		if err := getJSON(txn, keyObject(user, bucket, key), &o); err != nil {
			return nil // gone meanwhile
		}
		return index(txn, user, bucket, key, r.m, o.ModNs)
	})
}

// Albums are primary data (never dropped by reindex): an album is a name
// and a set of photos referred to by content and by the file that was
// added, so a reference survives the file's moves and renames:
//
//	alb|U|NAME          the album (value: creation time, 8 bytes)
//	albm|U|NAME|SHA256  a member (value: the file id of the file added,
//	                    8 bytes; empty in rows from before, or when only
//	                    the content was given)
//
// An album lists the file that was added, under its own name, as long as
// it has that content (it follows the file's moves, by its id); after
// that, or for a row without a file, the first file with the content.
const (
	pfxAlbum       = "alb|"
	pfxAlbumMember = "albm|"
)

// Albums returns the user's albums and their creation times.
func (c *Catalog) Albums(ctx context.Context, user string) (map[string]int64, error) {
	out := map[string]int64{}
	pfx := pfxAlbum + user + sep
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, _ := it.Item().ValueCopy(nil)
			var ns int64
			if len(v) == 8 {
				ns = int64(binary.BigEndian.Uint64(v))
			}
			out[string(it.Item().Key()[len(pfx):])] = ns
		}
		return nil
	})
	return out, err
}

// CreateAlbum makes an album; ErrExists when it is there.
func (c *Catalog) CreateAlbum(ctx context.Context, user, name string, now int64) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		k := []byte(pfxAlbum + user + sep + name)
		if _, err := txn.Get(k); err == nil {
			return fmt.Errorf("album %q: %w", name, ErrExists)
		}
		return txn.Set(k, u64(now))
	})
}

// DeleteAlbum removes an album and its references (never the photos).
func (c *Catalog) DeleteAlbum(ctx context.Context, user, name string) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		k := []byte(pfxAlbum + user + sep + name)
		if _, err := txn.Get(k); err != nil {
			return fmt.Errorf("album %q: %w", name, notFound(err))
		}
		pfx := []byte(pfxAlbumMember + user + sep + name + sep)
		var del [][]byte
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		for it.Rewind(); it.Valid(); it.Next() {
			del = append(del, it.Item().KeyCopy(nil))
		}
		it.Close()
		for _, d := range append(del, k) {
			if err := txn.Delete(d); err != nil {
				return err
			}
		}
		return nil
	})
}

// RenameAlbum renames an album; ErrExists when the new name is taken.
func (c *Catalog) RenameAlbum(ctx context.Context, user, from, to string) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		fk, tk := []byte(pfxAlbum+user+sep+from), []byte(pfxAlbum+user+sep+to)
		item, err := txn.Get(fk)
		if err != nil {
			return fmt.Errorf("album %q: %w", from, notFound(err))
		}
		if _, err := txn.Get(tk); err == nil {
			return fmt.Errorf("album %q: %w", to, ErrExists)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		pfx := []byte(pfxAlbumMember + user + sep + from + sep)
		var shas []string
		var vals [][]byte
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true})
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				it.Close()
				return err
			}
			shas = append(shas, string(it.Item().Key()[len(pfx):]))
			vals = append(vals, v)
		}
		it.Close()
		for i, s := range shas {
			if err := txn.Delete(append(pfx, s...)); err != nil {
				return err
			}
			if err := txn.Set([]byte(pfxAlbumMember+user+sep+to+sep+s), vals[i]); err != nil {
				return err
			}
		}
		if err := txn.Delete(fk); err != nil {
			return err
		}
		return txn.Set(tk, v)
	})
}

// AlbumAdd adds the photo with the given content to an album (listed as
// the first file with that content; AddFileToAlbum names the file).
func (c *Catalog) AlbumAdd(ctx context.Context, user, name, sha string) error {
	return c.albumAdd(ctx, user, name, sha, nil)
}

// AddFileToAlbum adds the photo of file o (a row read from the catalog,
// with its SHA-256) to an album: the album lists o, under its own name,
// wherever it is moved, while it has that content.
func (c *Catalog) AddFileToAlbum(ctx context.Context, user, name string, o Object) error {
	if o.SHA256 == "" {
		return fmt.Errorf("%s/%s: not a file of the library: %w", o.Bucket, o.Key, ErrNotFound)
	}
	return c.albumAdd(ctx, user, name, o.SHA256, u64(int64(FileIDOf(user, o))))
}

func (c *Catalog) albumAdd(ctx context.Context, user, name, sha string, ref []byte) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		if _, err := txn.Get([]byte(pfxAlbum + user + sep + name)); err != nil {
			return fmt.Errorf("album %q: %w", name, notFound(err))
		}
		return txn.Set([]byte(pfxAlbumMember+user+sep+name+sep+sha), ref)
	})
}

// AlbumRemove removes a photo (by content) from an album.
func (c *Catalog) AlbumRemove(ctx context.Context, user, name, sha string) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		return txn.Delete([]byte(pfxAlbumMember + user + sep + name + sep + sha))
	})
}

// AlbumMembers calls fn with one file row per photo of the album: the
// file that was added if it still has that content, else the first file
// with that content; photos no longer in the library are skipped.
func (c *Catalog) AlbumMembers(ctx context.Context, user, name string, fn func(Object) error) error {
	pfx := []byte(pfxAlbumMember + user + sep + name + sep)
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			sha := string(it.Item().Key()[len(pfx):])
			var o Object
			ok := false
			if v, err := it.Item().ValueCopy(nil); err == nil && len(v) == 8 {
				o, err = fileByID(txn, user, binary.BigEndian.Uint64(v))
				ok = err == nil && o.SHA256 == sha
			}
			if !ok {
				o, ok = firstBySHA(txn, user, sha)
			}
			if ok {
				if err := fn(o); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// FindBySHA returns a file of the user with the given content.
func (c *Catalog) FindBySHA(ctx context.Context, user, sha string) (Object, error) {
	var out Object
	err := c.db.View(func(txn *badger.Txn) error {
		o, ok := firstBySHA(txn, user, sha)
		if !ok {
			return ErrNotFound
		}
		out = o
		return nil
	})
	return out, err
}

func firstBySHA(txn *badger.Txn, user, sha string) (Object, bool) {
	pfx := []byte(pfxIxSHA + user + sep + sha + sep)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		r := parseRef(string(it.Item().Key()[len(pfx):]))
		var o Object
		if err := getJSON(txn, keyObject(user, r.Bucket, r.Key), &o); err == nil {
			o.Bucket, o.Key = r.Bucket, r.Key
			return o, true
		}
	}
	return Object{}, false
}
