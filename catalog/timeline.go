package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// The timeline (the web gallery's main view) is a Search with the zero
// Query: the capture-order index read backwards from a cursor. Files then
// reads what the page shows of each hit.

// File is one file with its media record.
type File struct {
	Object Object
	Media  Media
}

// Files reads the object row and media record of each of refs in one
// snapshot, in the order given. A file whose row or record is gone (moved
// or deleted since the refs were read) is left out.
func (c *Catalog) Files(ctx context.Context, user string, refs []Ref) ([]File, error) {
	out := make([]File, 0, len(refs))
	err := c.db.View(func(txn *badger.Txn) error {
		for i, r := range refs {
			if i%256 == 255 && ctx.Err() != nil {
				return ctx.Err()
			}
			var f File
			if err := getJSON(txn, keyObject(user, r.Bucket, r.Key), &f.Object); err != nil {
				if errors.Is(err, ErrNotFound) {
					continue
				}
				return fmt.Errorf("object %s/%s/%s: %w", user, r.Bucket, r.Key, err)
			}
			f.Object.Bucket, f.Object.Key = r.Bucket, r.Key
			if err := getJSON(txn, keyMedia(user, r.Bucket, r.Key), &f.Media); err != nil {
				if errors.Is(err, ErrNotFound) {
					continue
				}
				return fmt.Errorf("media of %s/%s/%s: %w", user, r.Bucket, r.Key, err)
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}
