package catalog

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// AppPassword is a password for one device (a Nextcloud client signed in
// with Login Flow v2), accepted in place of the user's password. Hash is a
// hash of the secret computed by the caller (gateway/auth); the catalog
// never sees a clear app password.
type AppPassword struct {
	ID       string    `json:"-"`
	User     string    `json:"-"`
	Hash     string    `json:"hash"`
	Name     string    `json:"name"` // the device, as its client names itself
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Rows are apw|<user>|<id>: a user's app passwords are one prefix, read
// when one of them is presented and deleted with the user. IDs are unique
// over all users (RevokeAppPassword takes an ID alone).
func keyAppPasswordPrefix(user string) []byte { return []byte(pfxAppPassword + user + sep) }

func keyAppPassword(user, id string) []byte { return append(keyAppPasswordPrefix(user), id...) }

// validAppPasswordID: the IDs gateway/auth makes, and nothing a key could
// be confused by.
func validAppPasswordID(id string) bool {
	return id != "" && len(id) <= 64 && !strings.Contains(id, sep)
}

// PutAppPassword stores a new app password of an existing user:
// ErrNotFound if there is no such user, ErrExists if the ID is taken (by
// any user).
func (c *Catalog) PutAppPassword(ctx context.Context, p AppPassword) error {
	if !validAppPasswordID(p.ID) || p.User == "" || p.Hash == "" {
		return fmt.Errorf("app password %q: ID, user and hash are required", p.ID)
	}
	return c.update(ctx, func(txn *badger.Txn) error {
		if _, err := txn.Get(keyUser(p.User)); err != nil {
			return fmt.Errorf("app password %s: user %s: %w", p.ID, p.User, notFound(err))
		}
		if _, _, err := findAppPassword(txn, p.ID); err == nil {
			return fmt.Errorf("app password %s: %w", p.ID, ErrExists)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		return setJSON(txn, keyAppPassword(p.User, p.ID), p)
	})
}

// AppPasswords lists the app passwords of user, oldest first.
func (c *Catalog) AppPasswords(ctx context.Context, user string) ([]AppPassword, error) {
	var out []AppPassword
	err := c.db.View(func(txn *badger.Txn) error {
		var err error
		out, err = appPasswordsOf(txn, user)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app passwords of %s: %w", user, err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// MatchAppPassword returns the app password of user whose Hash is hash, or
// ErrNotFound (also when the user does not exist). Hashes are compared in
// constant time.
func (c *Catalog) MatchAppPassword(ctx context.Context, user, hash string) (AppPassword, error) {
	var found AppPassword
	err := c.db.View(func(txn *badger.Txn) error {
		if _, err := txn.Get(keyUser(user)); err != nil {
			return notFound(err)
		}
		ps, err := appPasswordsOf(txn, user)
		if err != nil {
			return err
		}
		ok := false
		for _, p := range ps {
			if subtle.ConstantTimeCompare([]byte(p.Hash), []byte(hash)) == 1 {
				found, ok = p, true
			}
		}
		if !ok {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return AppPassword{}, fmt.Errorf("app password of %s: %w", user, err)
	}
	return found, nil
}

// TouchAppPassword sets the last use of an app password to t if it is
// later than the one stored. A revoked password is ErrNotFound.
func (c *Catalog) TouchAppPassword(ctx context.Context, user, id string, t time.Time) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		var p AppPassword
		if err := getJSON(txn, keyAppPassword(user, id), &p); err != nil {
			return fmt.Errorf("app password %s: %w", id, err)
		}
		if !t.After(p.LastUsed) {
			return nil
		}
		p.LastUsed = t
		return setJSON(txn, keyAppPassword(user, id), p)
	})
}

// DeleteAppPassword removes an app password by ID and returns it (its
// user, for the caller to forget): ErrNotFound if there is none.
func (c *Catalog) DeleteAppPassword(ctx context.Context, id string) (AppPassword, error) {
	var p AppPassword
	err := c.update(ctx, func(txn *badger.Txn) error {
		key, row, err := findAppPassword(txn, id)
		if err != nil {
			return err
		}
		p = row
		return txn.Delete(key)
	})
	if err != nil {
		return AppPassword{}, fmt.Errorf("app password %s: %w", id, err)
	}
	return p, nil
}

// findAppPassword finds an app password by ID over all users. It scans
// every app password row: there are few (one per device).
func findAppPassword(txn *badger.Txn, id string) ([]byte, AppPassword, error) {
	if !validAppPasswordID(id) {
		return nil, AppPassword{}, ErrNotFound
	}
	pfx := []byte(pfxAppPassword)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		rest := string(it.Item().Key()[len(pfx):])
		user, rid, ok := strings.Cut(rest, sep)
		if !ok || rid != id {
			continue
		}
		key := it.Item().KeyCopy(nil)
		var p AppPassword
		if err := getJSON(txn, key, &p); err != nil {
			return nil, AppPassword{}, err
		}
		p.User, p.ID = user, rid
		return key, p, nil
	}
	return nil, AppPassword{}, ErrNotFound
}

// appPasswordsOf reads user's app passwords in txn, in ID order.
func appPasswordsOf(txn *badger.Txn, user string) ([]AppPassword, error) {
	var out []AppPassword
	pfx := keyAppPasswordPrefix(user)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var p AppPassword
		if err := getJSON(txn, it.Item().KeyCopy(nil), &p); err != nil {
			return nil, err
		}
		p.User, p.ID = user, string(it.Item().Key()[len(pfx):])
		out = append(out, p)
	}
	return out, nil
}

// deleteAppPasswordsOf deletes every app password of user in txn.
func deleteAppPasswordsOf(txn *badger.Txn, user string) error {
	ps, err := appPasswordsOf(txn, user)
	if err != nil {
		return fmt.Errorf("user %s: list app passwords: %w", user, err)
	}
	for _, p := range ps {
		if err := txn.Delete(keyAppPassword(user, p.ID)); err != nil {
			return fmt.Errorf("user %s: delete app password %s: %w", user, p.ID, err)
		}
	}
	return nil
}
