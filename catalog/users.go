package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// User is an account. PasswordHash is a bcrypt hash; the catalog never sees
// a clear password.
type User struct {
	Name         string    `json:"-"`
	PasswordHash string    `json:"pw"`
	Created      time.Time `json:"c"`
}

// PutUser creates or replaces a user. With create set, ErrExists if the user exists;
// without it, ErrNotFound if it does not. A created user has no access
// keys or app passwords: those a removed user of that name left behind
// (catalogs written before DeleteUser removed them) are deleted in the
// same transaction.
func (c *Catalog) PutUser(ctx context.Context, u User, create bool) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		_, err := txn.Get(keyUser(u.Name))
		switch {
		case err == nil && create:
			return fmt.Errorf("user %s: %w", u.Name, ErrExists)
		case errors.Is(err, badger.ErrKeyNotFound) && !create:
			return fmt.Errorf("user %s: %w", u.Name, ErrNotFound)
		case err != nil && !errors.Is(err, badger.ErrKeyNotFound):
			return fmt.Errorf("user %s: %w", u.Name, err)
		}
		if create {
			if _, err := deleteAccessKeysOf(txn, u.Name); err != nil {
				return err
			}
			if err := deleteAppPasswordsOf(txn, u.Name); err != nil {
				return err
			}
		}
		return setJSON(txn, keyUser(u.Name), u)
	})
}

// GetUser returns the user or ErrNotFound.
func (c *Catalog) GetUser(ctx context.Context, name string) (User, error) {
	var u User
	err := c.db.View(func(txn *badger.Txn) error { return getJSON(txn, keyUser(name), &u) })
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", name, err)
	}
	u.Name = name
	return u, nil
}

// Users lists every user in name order.
func (c *Catalog) Users(ctx context.Context) ([]User, error) {
	var out []User
	err := c.db.View(func(txn *badger.Txn) error {
		pfx := []byte(pfxUser)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var u User
			if err := getJSON(txn, it.Item().KeyCopy(nil), &u); err != nil {
				return err
			}
			u.Name = string(it.Item().Key()[len(pfx):])
			out = append(out, u)
		}
		return nil
	})
	return out, err
}

// DeleteUser removes the account and, in the same transaction, every
// access key and app password of the user, so nothing that authenticated
// as them survives the account (adding the user again starts with none). The user's
// buckets and files are kept: adding the user again gives them back. It
// returns how many access keys were removed, or ErrNotFound.
func (c *Catalog) DeleteUser(ctx context.Context, name string) (keys int, err error) {
	err = c.update(ctx, func(txn *badger.Txn) error {
		keys = 0
		if _, err := txn.Get(keyUser(name)); err != nil {
			return fmt.Errorf("user %s: %w", name, notFound(err))
		}
		n, err := deleteAccessKeysOf(txn, name)
		if err != nil {
			return err
		}
		keys = n
		if err := deleteAppPasswordsOf(txn, name); err != nil {
			return err
		}
		return txn.Delete(keyUser(name))
	})
	if err != nil {
		return 0, err
	}
	return keys, nil
}

// deleteAccessKeysOf deletes every access key of user in txn and returns
// how many there were.
func deleteAccessKeysOf(txn *badger.Txn, user string) (int, error) {
	ids, err := accessKeysOf(txn, user)
	if err != nil {
		return 0, fmt.Errorf("user %s: list access keys: %w", user, err)
	}
	for _, k := range ids {
		if err := txn.Delete(k); err != nil {
			return 0, fmt.Errorf("user %s: delete access key %s: %w", user, k[len(pfxAKey):], err)
		}
	}
	return len(ids), nil
}
