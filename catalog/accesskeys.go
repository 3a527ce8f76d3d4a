package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// AccessKey is an S3 access key. SecretSealed is the secret encrypted by the
// caller (gateway/auth's Sealer); the catalog never sees a clear secret.
type AccessKey struct {
	ID           string    `json:"-"`
	User         string    `json:"user"`
	SecretSealed []byte    `json:"secret"` // base64 in the JSON row
	Created      time.Time `json:"created"`
}

// PutAccessKey stores a new access key: ErrExists if the ID is taken.
func (c *Catalog) PutAccessKey(ctx context.Context, k AccessKey) error {
	if k.ID == "" || k.User == "" || len(k.SecretSealed) == 0 {
		return fmt.Errorf("access key %q: ID, user and sealed secret are required", k.ID)
	}
	return c.update(ctx, func(txn *badger.Txn) error {
		_, err := txn.Get(keyAccessKey(k.ID))
		switch {
		case err == nil:
			return fmt.Errorf("access key %s: %w", k.ID, ErrExists)
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		return setJSON(txn, keyAccessKey(k.ID), k)
	})
}

// GetAccessKey returns the access key or ErrNotFound.
func (c *Catalog) GetAccessKey(ctx context.Context, id string) (AccessKey, error) {
	var k AccessKey
	if id == "" {
		return k, fmt.Errorf("access key %q: %w", id, ErrNotFound)
	}
	err := c.db.View(func(txn *badger.Txn) error { return getJSON(txn, keyAccessKey(id), &k) })
	if err != nil {
		return AccessKey{}, fmt.Errorf("access key %s: %w", id, err)
	}
	k.ID = id
	return k, nil
}

// AccessKeys lists the access keys of user, oldest first. It scans every
// key row: there are few.
func (c *Catalog) AccessKeys(ctx context.Context, user string) ([]AccessKey, error) {
	var out []AccessKey
	err := c.db.View(func(txn *badger.Txn) error {
		pfx := []byte(pfxAKey)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var k AccessKey
			if err := getJSON(txn, it.Item().KeyCopy(nil), &k); err != nil {
				return err
			}
			if k.User != user {
				continue
			}
			k.ID = string(it.Item().Key()[len(pfx):])
			out = append(out, k)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// accessKeysOf returns the row keys of user's access keys, read in txn.
func accessKeysOf(txn *badger.Txn, user string) ([][]byte, error) {
	var out [][]byte
	pfx := []byte(pfxAKey)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var k AccessKey
		if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &k) }); err != nil {
			return nil, fmt.Errorf("access key %s: %w", it.Item().Key()[len(pfx):], err)
		}
		if k.User == user {
			out = append(out, it.Item().KeyCopy(nil))
		}
	}
	return out, nil
}

// DeleteAccessKey removes an access key: ErrNotFound if there is none.
func (c *Catalog) DeleteAccessKey(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("access key %q: %w", id, ErrNotFound)
	}
	return c.update(ctx, func(txn *badger.Txn) error {
		if _, err := txn.Get(keyAccessKey(id)); err != nil {
			return fmt.Errorf("access key %s: %w", id, notFound(err))
		}
		return txn.Delete(keyAccessKey(id))
	})
}
