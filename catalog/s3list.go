package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// KeyPage is one page of an S3-style listing.
type KeyPage struct {
	Objects   []Object
	Prefixes  []string // common prefixes, each ending in the delimiter
	Truncated bool
	// Next is the last key or common prefix on the page: the marker of the
	// next page when Truncated.
	Next string
}

// ListKeys lists, in key order, the S3 keys of a bucket that start with
// prefix and sort after marker: files and explicit folders ("name/"), not
// the folders Shoebox made only to hold files. With a delimiter, keys that
// contain it after the prefix are rolled into one common prefix each, and
// the scan seeks past them, so a page costs what it returns, not what the
// bucket holds. At most max entries (keys plus prefixes) are returned.
func (c *Catalog) ListKeys(ctx context.Context, user, bucket, prefix, delimiter, marker string, max int) (KeyPage, error) {
	var page KeyPage
	if max <= 0 {
		return page, nil
	}
	err := c.db.View(func(txn *badger.Txn) error {
		bpfx := keyObjectPrefix(user, bucket)
		at := func(k string) []byte { return append(append([]byte{}, bpfx...), k...) }
		start := at(prefix)
		if marker != "" && marker >= prefix {
			start = append(at(marker), 0)
			if delimiter != "" && strings.HasPrefix(marker, prefix) {
				rest := marker[len(prefix):]
				if i := strings.Index(rest, delimiter); i >= 0 {
					start = append(at(prefix+rest[:i+len(delimiter)]), 0xFF)
				}
			}
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: at(prefix), PrefetchValues: true, PrefetchSize: 128})
		defer it.Close()
		n := 0
		for it.Seek(start); it.Valid(); {
			if n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			key := string(it.Item().Key()[len(bpfx):])
			var o Object
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &o) }); err != nil {
				return fmt.Errorf("decode %q: %w", it.Item().Key(), err)
			}
			o.Bucket, o.Key = bucket, key
			if o.IsDir() && !o.Explicit {
				it.Next()
				continue
			}
			if delimiter != "" {
				if i := strings.Index(key[len(prefix):], delimiter); i >= 0 {
					cp := key[:len(prefix)+i+len(delimiter)]
					if n == max {
						page.Truncated = true
						return nil
					}
					page.Prefixes = append(page.Prefixes, cp)
					page.Next = cp
					n++
					it.Seek(append(at(cp), 0xFF))
					continue
				}
			}
			if n == max {
				page.Truncated = true
				return nil
			}
			page.Objects = append(page.Objects, o)
			page.Next = key
			n++
			it.Next()
		}
		return nil
	})
	return page, err
}

// HasKeys reports whether the bucket holds any S3 key (a file or an
// explicit folder), as opposed to only folders made to hold files.
func (c *Catalog) HasKeys(ctx context.Context, user, bucket string) (bool, error) {
	p, err := c.ListKeys(ctx, user, bucket, "", "", "", 1)
	return len(p.Objects) > 0, err
}
