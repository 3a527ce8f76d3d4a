package catalog

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

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

// The file id index: fid|<user>|<id, 8 bytes BE> → "<bucket>|<key>", the
// place of the row with that id, written with every row write (Put,
// PutFile, Move) and deleted with the file (deleteFile). Rows in the trash
// are not indexed (a kept version carries its file's id). A lookup checks
// the row it points to still has that id (FileByID), so an entry a folder
// delete leaves behind answers "not found", never another file; rows
// written before the index existed are indexed once at Open
// (indexFileIDs).
const pfxFileID = "fid|"

func keyFileID(user string, id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(pfxFileID+user+sep), id)
}

// keyFileIDsIndexed marks a catalog whose rows are all in the file id index.
func keyFileIDsIndexed() []byte { return []byte(pfxMeta + "fidix") }

// setFileID points the file id index at o (a row of user, with its id
// assigned), inside txn.
func setFileID(txn *badger.Txn, user string, o Object) error {
	if o.Bucket == TrashBucket {
		return nil
	}
	return txn.Set(keyFileID(user, FileIDOf(user, o)), []byte(o.Bucket+sep+o.Key))
}

// fileIDWrite is setFileID for a write batch.
func fileIDWrite(wb *badger.WriteBatch, user string, o Object) error {
	if o.Bucket == TrashBucket {
		return nil
	}
	return wb.Set(keyFileID(user, FileIDOf(user, o)), []byte(o.Bucket+sep+o.Key))
}

// dropFileID removes the index entry of id when it points at bucket/key.
func dropFileID(txn *badger.Txn, user string, id uint64, bucket, key string) error {
	k := keyFileID(user, id)
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	if string(v) != bucket+sep+key {
		return nil
	}
	return txn.Delete(k)
}

// FileByID returns user's row with file id id (not in the trash), or
// ErrNotFound. Only user's rows are looked at.
func (c *Catalog) FileByID(ctx context.Context, user string, id uint64) (Object, error) {
	var o Object
	err := c.db.View(func(txn *badger.Txn) error {
		var err error
		o, err = fileByID(txn, user, id)
		return err
	})
	if err != nil {
		return Object{}, fmt.Errorf("file id %d of %s: %w", id, user, err)
	}
	return o, nil
}

func fileByID(txn *badger.Txn, user string, id uint64) (Object, error) {
	var o Object
	item, err := txn.Get(keyFileID(user, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return o, err
	}
	bucket, key, ok := strings.Cut(string(v), sep)
	if !ok {
		return o, fmt.Errorf("file id index %d: bad value %q", id, v)
	}
	if err := getJSON(txn, keyObject(user, bucket, key), &o); err != nil {
		return o, err
	}
	o.Bucket, o.Key = bucket, key
	if FileIDOf(user, o) != id {
		return Object{}, ErrNotFound // a stale entry
	}
	return o, nil
}

// indexFileIDs writes the file id index of every row once, for a catalog
// made before the index existed.
func (c *Catalog) indexFileIDs(ctx context.Context) error {
	return c.backfill(ctx, keyFileIDsIndexed(), "file ids", fileIDWrite)
}
