package catalog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// Duplicate group summaries. Listing /duplicates needs, per group, its
// member count, its newest modification time and its best copy (whose
// name and day name the folder); opening one needs its members. Both are
// kept, not computed per read:
//
//	dupg|U|GID|B|KEY  a member (value: dupMember: pixels, size, mtime, day)
//	dups|U|GID        the group (value: dupSummary: count, newest, best copy)
//
// A member's value follows its media record (pixels, day: written by
// group) and its object row (size, mtime: refreshed by Put and PutFile
// through refreshMember). The summary is updated in the same transaction
// as every change of membership or member value (editGroup): adding a
// member is O(1); removing or changing the best copy or the newest member
// reads the group's member rows again (values only, one prefix scan), so
// no change costs more than one group's rows.
const (
	pfxDupSummary = "dups|"
)

// keyDupSumIndexed marks a catalog whose groups all have their summary
// and whose member rows all carry their values (backfillDupGroups).
func keyDupSumIndexed() []byte { return []byte(pfxMeta + "dupsum") }

// DupGroup is a duplicate group as the catalog keeps it.
type DupGroup struct {
	ID       string
	Count    int   // members
	NewestNs int64 // newest modification time of a member, Unix ns
	// Best is the best copy: the most pixels, then the most bytes, then
	// the shortest name (path.Base of the key), then bucket/key order.
	Best Ref
	// BestDay is the day the best copy files under (Media.Day), or "".
	BestDay string
}

// dupMember is what a group keeps of one member.
type dupMember struct {
	Pixels int64  // Media.Width * Media.Height
	Size   int64  // Object.Size
	ModNs  int64  // Object.ModNs
	Day    string // Media.Day
}

func (d dupMember) encode() []byte {
	b := make([]byte, 0, 24+len(d.Day))
	b = binary.BigEndian.AppendUint64(b, uint64(d.Pixels))
	b = binary.BigEndian.AppendUint64(b, uint64(d.Size))
	b = binary.BigEndian.AppendUint64(b, uint64(d.ModNs))
	return append(b, d.Day...)
}

// decodeDupMember decodes a member row's value; false for a row written
// before members carried one (empty).
func decodeDupMember(v []byte) (dupMember, bool) {
	if len(v) < 24 {
		return dupMember{}, false
	}
	return dupMember{
		Pixels: int64(binary.BigEndian.Uint64(v)),
		Size:   int64(binary.BigEndian.Uint64(v[8:])),
		ModNs:  int64(binary.BigEndian.Uint64(v[16:])),
		Day:    string(v[24:]),
	}, true
}

// dupSummary is the value of dups|U|GID.
type dupSummary struct {
	Count  int64
	Newest int64
	Best   string // "B|KEY"
	BestM  dupMember
}

func (s dupSummary) encode() []byte {
	m := s.BestM.encode()
	b := make([]byte, 0, 18+len(s.Best)+len(m))
	b = binary.BigEndian.AppendUint64(b, uint64(s.Count))
	b = binary.BigEndian.AppendUint64(b, uint64(s.Newest))
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.Best)))
	b = append(b, s.Best...)
	return append(b, m...)
}

func decodeDupSummary(v []byte) (dupSummary, bool) {
	if len(v) < 18 {
		return dupSummary{}, false
	}
	s := dupSummary{Count: int64(binary.BigEndian.Uint64(v)), Newest: int64(binary.BigEndian.Uint64(v[8:]))}
	n := int(binary.BigEndian.Uint16(v[16:]))
	if len(v) < 18+n {
		return dupSummary{}, false
	}
	s.Best = string(v[18 : 18+n])
	m, ok := decodeDupMember(v[18+n:])
	if !ok {
		return dupSummary{}, false
	}
	s.BestM = m
	return s, true
}

// add counts member ref with value d into s.
func (s *dupSummary) add(ref string, d dupMember) {
	s.Count++
	s.Newest = max(s.Newest, d.ModNs)
	if s.Count == 1 || betterCopy(ref, d, s.Best, s.BestM) {
		s.Best, s.BestM = ref, d
	}
}

// betterCopy reports whether member a ("B|KEY") is a better copy than b:
// more pixels, then more bytes, then the shorter name, then bucket/key.
func betterCopy(a string, ad dupMember, b string, bd dupMember) bool {
	if ad.Pixels != bd.Pixels {
		return ad.Pixels > bd.Pixels
	}
	if ad.Size != bd.Size {
		return ad.Size > bd.Size
	}
	ar, br := parseRef(a), parseRef(b)
	if na, nb := len(path.Base(ar.Key)), len(path.Base(br.Key)); na != nb {
		return na < nb
	}
	return ar.Bucket+"/"+ar.Key < br.Bucket+"/"+br.Key
}

func keyDupGroupMember(user, gid, ref string) []byte {
	return []byte(pfxDupGroup + user + sep + gid + sep + ref)
}

func keyDupSummary(user, gid string) []byte { return []byte(pfxDupSummary + user + sep + gid) }

// memberOf reads what a group keeps of the file ref ("B|KEY") from its
// object row and media record; false when either is missing.
func memberOf(txn *badger.Txn, user, ref string) (dupMember, bool, error) {
	r := parseRef(ref)
	var o Object
	if err := getJSON(txn, keyObject(user, r.Bucket, r.Key), &o); errors.Is(err, ErrNotFound) {
		return dupMember{}, false, nil
	} else if err != nil {
		return dupMember{}, false, fmt.Errorf("duplicate %s/%s: %w", r.Bucket, r.Key, err)
	}
	var m Media
	if err := getJSON(txn, keyMedia(user, r.Bucket, r.Key), &m); errors.Is(err, ErrNotFound) {
		return dupMember{}, false, nil
	} else if err != nil {
		return dupMember{}, false, fmt.Errorf("duplicate %s/%s: %w", r.Bucket, r.Key, err)
	}
	return memberData(m, o.Size, o.ModNs), true, nil
}

func memberData(m Media, size, modNs int64) dupMember {
	return dupMember{Pixels: int64(m.Width) * int64(m.Height), Size: size, ModNs: modNs, Day: m.Day()}
}

// scanGroup sums up group gid from its member rows (as txn sees them).
// A row without a value (written before values existed) is read from its
// file's rows and, when fix is set, given its value; a row whose file is
// gone is not counted.
func scanGroup(txn *badger.Txn, user, gid string, fix func(k, v []byte) error) (dupSummary, error) {
	pfx := []byte(pfxDupGroup + user + sep + gid + sep)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	var s dupSummary
	var legacy []string
	for it.Rewind(); it.Valid(); it.Next() {
		ref := string(it.Item().Key()[len(pfx):])
		var d dupMember
		ok := false
		if err := it.Item().Value(func(v []byte) error { d, ok = decodeDupMember(v); return nil }); err != nil {
			return s, fmt.Errorf("duplicate group %s: reading %s: %w", gid, ref, err)
		}
		if !ok {
			legacy = append(legacy, ref)
			continue
		}
		s.add(ref, d)
	}
	for _, ref := range legacy {
		d, ok, err := memberOf(txn, user, ref)
		if err != nil || !ok {
			if err != nil {
				return s, err
			}
			continue
		}
		if fix != nil {
			if err := fix(keyDupGroupMember(user, gid, ref), d.encode()); err != nil {
				return s, err
			}
		}
		s.add(ref, d)
	}
	return s, nil
}

// dupEdit is one member's change for editGroup: its value before (nil:
// it joins) and after (nil: it leaves).
type dupEdit struct {
	ref      string
	old, new *dupMember
}

// editGroup updates the summary of group gid for edits whose member rows
// the caller has already written in txn.
func editGroup(txn *badger.Txn, user, gid string, edits []dupEdit) error {
	sk := keyDupSummary(user, gid)
	var s dupSummary
	rescan := false
	switch item, err := txn.Get(sk); {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return fmt.Errorf("duplicate group %s: %w", gid, err)
	default:
		ok := false
		if err := item.Value(func(v []byte) error { s, ok = decodeDupSummary(v); return nil }); err != nil {
			return fmt.Errorf("duplicate group %s: %w", gid, err)
		}
		rescan = !ok
	}
	for _, e := range edits {
		if rescan {
			break
		}
		if e.old != nil {
			s.Count--
			// The best copy or the newest member leaving: only the
			// members say what comes next.
			if e.ref == s.Best || e.old.ModNs >= s.Newest {
				rescan = true
				break
			}
		}
		if e.new != nil {
			s.add(e.ref, *e.new)
		}
	}
	if rescan {
		var err error
		if s, err = scanGroup(txn, user, gid, nil); err != nil {
			return err
		}
	}
	if s.Count <= 0 {
		return txn.Delete(sk)
	}
	return txn.Set(sk, s.encode())
}

// refreshMember keeps the member value of file o (its size and mtime)
// and its group's summary in step with o's row, written in txn by Put or
// PutFile. A file in no group costs one lookup.
func refreshMember(txn *badger.Txn, user string, o Object) error {
	if o.IsDir() || o.Bucket == TrashBucket {
		return nil
	}
	ref := o.Bucket + sep + o.Key
	item, err := txn.Get([]byte(pfxDupOf + user + sep + ref))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("duplicate group of %s/%s: %w", o.Bucket, o.Key, err)
	}
	gid, err := item.ValueCopy(nil)
	if err != nil {
		return fmt.Errorf("duplicate group of %s/%s: %w", o.Bucket, o.Key, err)
	}
	mk := keyDupGroupMember(user, string(gid), ref)
	item, err = txn.Get(mk)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("duplicate group of %s/%s: %w", o.Bucket, o.Key, err)
	}
	var old dupMember
	ok := false
	if err := item.Value(func(v []byte) error { old, ok = decodeDupMember(v); return nil }); err != nil {
		return fmt.Errorf("duplicate group of %s/%s: %w", o.Bucket, o.Key, err)
	}
	if ok && old.Size == o.Size && old.ModNs == o.ModNs {
		return nil
	}
	nd := old
	if !ok {
		var m Media
		if err := getJSON(txn, keyMedia(user, o.Bucket, o.Key), &m); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		nd = memberData(m, 0, 0)
	}
	nd.Size, nd.ModNs = o.Size, o.ModNs
	if err := txn.Set(mk, nd.encode()); err != nil {
		return err
	}
	e := dupEdit{ref: ref, old: &old, new: &nd}
	if !ok {
		e.old = &dupMember{ModNs: 1<<63 - 1} // unknown: rescan
	}
	return editGroup(txn, user, string(gid), []dupEdit{e})
}

// DupGroups calls fn with each duplicate group of the user that has two
// members or more, in id order. It reads one row per group.
func (c *Catalog) DupGroups(ctx context.Context, user string, fn func(DupGroup) error) error {
	pfx := []byte(pfxDupSummary + user + sep)
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%256 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			gid := string(it.Item().Key()[len(pfx):])
			var s dupSummary
			ok := false
			if err := it.Item().Value(func(v []byte) error { s, ok = decodeDupSummary(v); return nil }); err != nil {
				return fmt.Errorf("duplicate group %s: %w", gid, err)
			}
			if !ok || s.Count < 2 {
				continue
			}
			g := DupGroup{ID: gid, Count: int(s.Count), NewestNs: s.Newest, Best: parseRef(s.Best), BestDay: s.BestM.Day}
			if err := fn(g); err != nil {
				return err
			}
		}
		return nil
	})
}

// backfillDupGroups gives a catalog from before group summaries its
// summaries and its member rows their values, once (meta|dupsum marks it
// done). It reads each member's object row and media record.
func (c *Catalog) backfillDupGroups(ctx context.Context) error {
	if err := c.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(keyDupSumIndexed())
		return err
	}); err == nil {
		return nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("index duplicate groups: %w", err)
	}
	// The groups, as user|gid, from a keys-only scan.
	var groups []string
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxDupGroup)})
		defer it.Close()
		for it.Rewind(); it.Valid(); {
			rest := string(it.Item().Key()[len(pfxDupGroup):])
			user, r, _ := strings.Cut(rest, sep)
			gid, _, _ := strings.Cut(r, sep)
			g := user + sep + gid
			groups = append(groups, g)
			it.Seek([]byte(pfxDupGroup + g + sep + "\xff"))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index duplicate groups: %w", err)
	}
	wb := c.db.NewWriteBatch()
	defer wb.Cancel()
	for i, g := range groups {
		if i%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		user, gid, _ := strings.Cut(g, sep)
		err := c.db.View(func(txn *badger.Txn) error {
			s, err := scanGroup(txn, user, gid, func(k, v []byte) error { return wb.Set(k, v) })
			if err != nil {
				return err
			}
			if s.Count > 0 {
				return wb.Set(keyDupSummary(user, gid), s.encode())
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("index duplicate group %s of %s: %w", gid, user, err)
		}
	}
	if err := wb.Set(keyDupSumIndexed(), nil); err != nil {
		return err
	}
	if err := c.flushBatch(wb); err != nil {
		return fmt.Errorf("index duplicate groups: %w", err)
	}
	if len(groups) > 0 {
		c.log.Info("indexed duplicate groups", "groups", len(groups))
	}
	return nil
}
