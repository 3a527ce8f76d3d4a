package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// Trash rows: primary data, one per deleted item (a file, or a folder with
// what it held), whose bytes and rows were moved to the user's hidden
// trash bucket under the key ID (a file) or ID/ (a folder):
//
//	trash|U|ID   TrashItem
const pfxTrash = "trash|"

// TrashBucket is the hidden bucket holding a user's trash. Its name is not
// a valid bucket name, so no client reaches it as a bucket; its files are
// kept out of the library's indexes.
const TrashBucket = ".trash"

// TrashItem is one deleted item: where it was and when it went.
type TrashItem struct {
	User      string `json:"-"`
	ID        string `json:"-"`
	Bucket    string `json:"b"`
	Key       string `json:"k"` // as it was; a folder's ends in '/'
	DeletedNs int64  `json:"d"`
	// Version marks the previous content of a file that an upload, COPY
	// or MOVE replaced (DeletedNs is when), rather than a deleted item.
	Version bool `json:"v,omitempty"`
}

// PutTrash records a trashed item.
func (c *Catalog) PutTrash(ctx context.Context, t TrashItem) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		return setJSON(txn, []byte(pfxTrash+t.User+sep+t.ID), t)
	})
}

// GetTrash returns one trashed item; ErrNotFound when there is none.
func (c *Catalog) GetTrash(ctx context.Context, user, id string) (TrashItem, error) {
	t := TrashItem{User: user, ID: id}
	err := c.db.View(func(txn *badger.Txn) error {
		return getJSON(txn, []byte(pfxTrash+user+sep+id), &t)
	})
	if err != nil {
		return TrashItem{User: user, ID: id}, notFound(err)
	}
	return t, nil
}

// DeleteTrash forgets a trashed item (restored or purged).
func (c *Catalog) DeleteTrash(ctx context.Context, user, id string) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		return txn.Delete([]byte(pfxTrash + user + sep + id))
	})
}

// Trash calls fn for the trashed items of user ("" for every user's),
// oldest id first.
func (c *Catalog) Trash(ctx context.Context, user string, fn func(TrashItem) error) error {
	pfx := pfxTrash
	if user != "" {
		pfx += user + sep
	}
	var items []TrashItem
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var t TrashItem
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &t) }); err != nil {
				return err
			}
			u, id, ok := strings.Cut(string(it.Item().Key()[len(pfxTrash):]), sep)
			if !ok {
				return fmt.Errorf("malformed trash key %q", it.Item().Key())
			}
			t.User, t.ID = u, id
			items = append(items, t)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range items {
		if err := fn(t); err != nil {
			return err
		}
	}
	return nil
}
