package catalog

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// Saved searches are folders under /search whose name is the query
// (ParseQuery): primary data, kept by reindex.
//
//	srch|U|NAME   creation time, 8 bytes BE
const pfxSavedSearch = "srch|"

// SaveSearch keeps a search by its name; ErrExists when it is kept.
func (c *Catalog) SaveSearch(ctx context.Context, user, name string, now int64) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		k := []byte(pfxSavedSearch + user + sep + name)
		if _, err := txn.Get(k); err == nil {
			return fmt.Errorf("saved search %q: %w", name, ErrExists)
		}
		return txn.Set(k, u64(now))
	})
}

// DeleteSearch forgets a saved search (never a photo); ErrNotFound when
// there is none of that name.
func (c *Catalog) DeleteSearch(ctx context.Context, user, name string) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		k := []byte(pfxSavedSearch + user + sep + name)
		if _, err := txn.Get(k); err != nil {
			return fmt.Errorf("saved search %q: %w", name, notFound(err))
		}
		return txn.Delete(k)
	})
}

// SavedSearches returns the user's saved searches and their creation
// times (Unix ns).
func (c *Catalog) SavedSearches(ctx context.Context, user string) (map[string]int64, error) {
	out := map[string]int64{}
	pfx := pfxSavedSearch + user + sep
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var ns int64
			if v, err := it.Item().ValueCopy(nil); err == nil && len(v) == 8 {
				ns = int64(binary.BigEndian.Uint64(v))
			}
			out[string(it.Item().Key()[len(pfx):])] = ns
		}
		return nil
	})
	return out, err
}

// ParseQuery reads a search typed as words, the way a saved search's
// folder is named: a year, month or day (2019, 2019-06, 2019-06-12) or a
// range of them (2018..2020) bounds the capture date; "video(s)" or
// "photo(s)" picks the kind; every other word is free text (Query.Text).
func ParseQuery(s string) Query {
	var q Query
	var text []string
	for _, w := range strings.Fields(s) {
		lw := strings.ToLower(w)
		if from, to, ok := strings.Cut(w, ".."); ok && IsDatePrefix(from) && IsDatePrefix(to) {
			q.From, q.To = from, to
			continue
		}
		switch {
		case IsDatePrefix(w):
			q.From, q.To = w, w
		case lw == "video" || lw == "videos":
			q.Kind = "video"
		case lw == "photo" || lw == "photos":
			q.Kind = "photo"
		default:
			text = append(text, w)
		}
	}
	q.Text = strings.Join(text, " ")
	return q
}

// IsDatePrefix reports whether s is YYYY, YYYY-MM or YYYY-MM-DD (what
// Query.From and To take).
func IsDatePrefix(s string) bool {
	const layout = "0000-00-00"
	if len(s) != 4 && len(s) != 7 && len(s) != 10 {
		return false
	}
	for i := range len(s) {
		if layout[i] == '-' && s[i] != '-' || layout[i] == '0' && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}
