package catalog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
)

// Tags and ratings (from XMP) are indexed like days and cameras:
//
//	ixt|U|TAG|B|KEY    a file with the keyword TAG (Media.Tags)
//	ixtm|U|TAG         newest modification time seen with the tag (8 bytes)
//	ixr|U|RATING|B|KEY a file's rating ("-1" rejected, "0" .. "5")
//	rgn|U|B|KEY        a photo with both named XMP regions and faces
const (
	pfxIxTag    = "ixt|"
	pfxIxTagMax = "ixtm|"
	pfxIxRating = "ixr|"
	pfxRegions  = "rgn|"
)

// DerivedVersion is the version of what enrichment stores in media
// records and their indexes. A catalog whose records were made under an
// older one has its photos and videos queued again once, at Open (their
// records stay until they are enriched again): version 1 added XMP
// (tags, rating, named regions, XMP dates); version 2, Live Photo pairs
// (content identifiers, live.go).
const DerivedVersion = 2

func keyDerivedVersion() []byte { return []byte(pfxMeta + "derived") }

// maxTagLen is the longest tag kept, in bytes.
const maxTagLen = 200

// CleanTag returns a keyword as it is indexed and shown as a folder
// name: spaces trimmed, '/', '\\', '|' and control characters made '-',
// cut to 200 bytes; "" for one that cannot name a folder ("", ".", "..").
func CleanTag(t string) string {
	t = strings.Map(func(r rune) rune {
		if r == '/' || r == '|' || r == '\\' || r < 0x20 || r == 0x7f {
			return '-'
		}
		return r
	}, strings.ToValidUTF8(strings.TrimSpace(t), ""))
	for len(t) > maxTagLen {
		_, n := utf8.DecodeLastRuneInString(t)
		t = t[:len(t)-n]
	}
	t = strings.TrimSpace(t)
	if t == "." || t == ".." {
		return ""
	}
	return t
}

// tagRows adds the tag and rating rows of a record to rows.
func tagRows(rows map[string][]byte, user, ref string, m Media) {
	wk := whenKind(m) // a search lists these rows (search.go)
	for _, t := range m.Tags {
		if t = CleanTag(t); t != "" {
			rows[pfxIxTag+user+sep+t+ref] = wk
		}
	}
	if m.Rating != nil {
		rows[pfxIxRating+user+sep+strconv.Itoa(*m.Rating)+ref] = wk
	}
	if len(m.Regions) > 0 && len(m.Faces) > 0 {
		rows[pfxRegions+user+ref] = nil
	}
}

// RegionFaces calls fn with each of the user's photos that has both named
// XMP regions and faces (indexed: rgn rows), reading only those.
func (c *Catalog) RegionFaces(ctx context.Context, user string, fn func(bucket, key string, m Media) error) error {
	pfx := []byte(pfxRegions + user + sep)
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			b, k, ok := strings.Cut(string(it.Item().Key()[len(pfx):]), sep)
			if !ok {
				continue
			}
			var m Media
			if err := getJSON(txn, keyMedia(user, b, k), &m); err != nil {
				continue // a row a crash left behind: reindex drops it
			}
			if err := fn(b, k, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// Tags returns the user's tags, in order.
func (c *Catalog) Tags(ctx context.Context, user string) ([]string, error) {
	return c.distinct(ctx, pfxIxTag+user+sep, 0)
}

// ByTag calls fn with the file rows of the photos and videos with a tag.
func (c *Catalog) ByTag(ctx context.Context, user, tag string, fn func(Object) error) error {
	return c.refs(ctx, user, pfxIxTag+user+sep+tag+sep, fn)
}

// ByRating calls fn with the file rows of the photos and videos rated
// rating (-1 rejected, 0 .. 5).
func (c *Catalog) ByRating(ctx context.Context, user string, rating int, fn func(Object) error) error {
	return c.refs(ctx, user, pfxIxRating+user+sep+strconv.Itoa(rating)+sep, fn)
}

// NewestTagged returns the newest modification time recorded for each of
// the user's tags, in Unix ns.
func (c *Catalog) NewestTagged(ctx context.Context, user string) (map[string]int64, error) {
	pfx := pfxIxTagMax + user + sep
	out := map[string]int64{}
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
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

// checkDerived queues again, once, the photos and videos whose records an
// older DerivedVersion made (see DerivedVersion); a new catalog is marked
// current.
func (c *Catalog) checkDerived(ctx context.Context) error {
	var got uint64
	err := c.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyDerivedVersion())
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		got, _ = binary.Uvarint(v)
		return err
	})
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("read derived version: %w", err)
	}
	if err == nil && got >= DerivedVersion {
		return nil
	}
	n, err := c.RequeueMediaWhere(ctx, func(_, _, _ string, m Media) bool { return m.Kind == "photo" || m.Kind == "video" })
	if err != nil {
		return fmt.Errorf("requeue media of derived version %d: %w", got, err)
	}
	if n > 0 {
		c.log.Info("media queued again for a newer enrichment", "files", n, "from_version", got, "to_version", DerivedVersion)
	}
	return c.update(ctx, func(txn *badger.Txn) error {
		return txn.Set(keyDerivedVersion(), binary.AppendUvarint(nil, DerivedVersion))
	})
}
