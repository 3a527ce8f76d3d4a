package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// The modification-time index: ixm|<user>|<inverted mtime>|<bucket>|<key>
// → empty, one entry per file row (not folders, not the trash), newest
// first. The inverted mtime is ^(ModNs with its sign bit flipped), 16 hex
// digits, so key order is mtime descending. It is written in the
// transaction or batch that writes the row (Put, PutFile, Move, copies
// included), replaced when an overwrite or a move's mod changes the mtime,
// and deleted with the file (deleteFile, a folder's deleteRows). A catalog
// from before the index is indexed once at Open (meta|mtix marks it done).
// It serves WebDAV SEARCH ordered by last modification: a page of n reads
// about n rows (ByModTime), not the library.
const pfxIxMod = "ixm|"

// keyModIndexed marks a catalog whose file rows are all in the mtime index.
func keyModIndexed() []byte { return []byte(pfxMeta + "mtix") }

func invertedMod(ns int64) string {
	return fmt.Sprintf("%016x", ^(uint64(ns) ^ 1<<63))
}

func keyModIndex(user string, o Object) []byte {
	return []byte(pfxIxMod + user + sep + invertedMod(o.ModNs) + sep + o.Bucket + sep + o.Key)
}

// modIndexed reports whether o (Bucket and Key set) has an mtime entry.
func modIndexed(o Object) bool {
	return o.Key != "" && !o.IsDir() && o.Bucket != TrashBucket
}

// setModIndex writes o's mtime entry inside txn, dropping the entry of the
// row o replaces when its mtime differs. Call it before writing o's row.
func setModIndex(txn *badger.Txn, user string, o Object) error {
	if !modIndexed(o) {
		return nil
	}
	var cur Object
	switch err := getJSON(txn, keyObject(user, o.Bucket, o.Key), &cur); {
	case err == nil:
		if cur.ModNs != o.ModNs {
			cur.Bucket, cur.Key = o.Bucket, o.Key
			if err := txn.Delete(keyModIndex(user, cur)); err != nil {
				return err
			}
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	return txn.Set(keyModIndex(user, o), nil)
}

// dropModIndex deletes o's mtime entry inside txn.
func dropModIndex(txn *badger.Txn, user string, o Object) error {
	if !modIndexed(o) {
		return nil
	}
	return txn.Delete(keyModIndex(user, o))
}

// dropModIndexTree deletes, in wb, the mtime entries of the file rows
// under the folder key ("" for the whole bucket, else ending in '/').
func (c *Catalog) dropModIndexTree(ctx context.Context, wb *badger.WriteBatch, user, bucket, key string) error {
	pfx := keyObjectPrefix(user, bucket)
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: append(append([]byte{}, pfx...), key...), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			o := Object{Bucket: bucket, Key: string(it.Item().Key()[len(pfx):])}
			if !modIndexed(o) {
				continue
			}
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &o) }); err != nil {
				return fmt.Errorf("decode %q: %w", it.Item().Key(), err)
			}
			if err := wb.Delete(keyModIndex(user, o)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ByModTime calls fn with user's file rows, newest modification first
// (ties in bucket and key order), from the mtime index: only rows in
// bucket (all buckets when "") whose key starts with prefix are read, so
// a caller that stops after n rows (fn returning an error, which
// ByModTime returns) has read n rows. Folders and the trash are left out.
// read is the number of rows read.
func (c *Catalog) ByModTime(ctx context.Context, user, bucket, prefix string, fn func(Object) error) (read int, err error) {
	pfx := []byte(pfxIxMod + user + sep)
	err = c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%256 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			rest := string(it.Item().Key()[len(pfx):])
			if len(rest) < 17 || rest[16] != '|' {
				continue
			}
			r := parseRef(rest[17:])
			if (bucket != "" && r.Bucket != bucket) || !strings.HasPrefix(r.Key, prefix) {
				continue
			}
			var o Object
			read++
			if err := getJSON(txn, keyObject(user, r.Bucket, r.Key), &o); errors.Is(err, ErrNotFound) {
				continue // cannot happen while the index is exact
			} else if err != nil {
				return err
			}
			o.Bucket, o.Key = r.Bucket, r.Key
			if invertedMod(o.ModNs) != rest[:16] {
				continue // likewise
			}
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	})
	return read, err
}

// indexModTimes writes the mtime index of every file row once, for a
// catalog made before the index existed.
func (c *Catalog) indexModTimes(ctx context.Context) error {
	return c.backfill(ctx, keyModIndexed(), "modification times", func(wb *badger.WriteBatch, user string, o Object) error {
		if !modIndexed(o) {
			return nil
		}
		return wb.Set(keyModIndex(user, o), nil)
	})
}

// modIndexMove writes, in wb, the mtime entry of row o, which moveRows
// wrote from old (copied when keep), and drops old's unless kept.
func modIndexMove(wb *badger.WriteBatch, user string, old, o Object, keep bool) error {
	if !keep && modIndexed(old) {
		if err := wb.Delete(keyModIndex(user, old)); err != nil {
			return err
		}
	}
	if !modIndexed(o) {
		return nil
	}
	return wb.Set(keyModIndex(user, o), nil)
}
