package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/dgraph-io/badger/v4"
)

// fileIDBandwidth is how many file ids the sequence leases at a time; a
// crash skips at most that many.
const fileIDBandwidth = 1000

// derivedIDBase is where derived file ids start (FileIDOf): 2^52. Assigned
// ids count up from 1 and never reach it; derived ones stay below 2^53 so
// that JavaScript clients read them exactly.
const derivedIDBase = 1 << 52

// FileIDOf returns the file id of o, a row of user: o.ID when it has one,
// else the id derived from its place (user, bucket, key), which the row
// keeps from its first move or overwrite on (see doc.go, "File ids").
func FileIDOf(user string, o Object) uint64 {
	if o.ID != 0 {
		return o.ID
	}
	return derivedID(user, o.Bucket, o.Key)
}

func derivedID(user, bucket, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return derivedIDBase + h.Sum64()%derivedIDBase
}

// newFileID returns a fresh file id from the catalog's sequence.
func (c *Catalog) newFileID() (uint64, error) {
	for {
		n, err := c.ids.Next()
		if err != nil {
			return 0, fmt.Errorf("file id sequence: %w", err)
		}
		if n != 0 { // 0 means "none"
			return n, nil
		}
	}
}

// assignID gives o, about to be written in txn as a row of user, its file
// id: the one it has, else the id of the row it replaces (an overwrite keeps
// the file's id), else a new one.
func (c *Catalog) assignID(txn *badger.Txn, user string, o *Object) error {
	if o.ID != 0 {
		return nil
	}
	item, err := txn.Get(keyObject(user, o.Bucket, o.Key))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		o.ID, err = c.newFileID()
		return err
	case err != nil:
		return err
	}
	var cur Object
	if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &cur) }); err != nil {
		return fmt.Errorf("decode %s/%s/%s: %w", user, o.Bucket, o.Key, err)
	}
	cur.Bucket, cur.Key = o.Bucket, o.Key
	o.ID = FileIDOf(user, cur)
	return nil
}
