package catalog

// Blob map: where the bytes of each file live when originals are kept in an
// upstream S3 service (gateway/s3store). Upstream objects are named by blob
// id, not by path, so renaming a folder is a rewrite of these rows only.
//
//	blob|<user>|<bucket>|<key>  → Blob JSON: a file (id, size, mtime), a
//	                              folder (key ending in '/', no id) or the
//	                              bucket itself (key "")          (primary)
//	blobmv|<name>               → BlobMove JSON: a rename in progress (primary)
//
// A rename first records a BlobMove intent, then deletes the destination's
// rows and moves the source's in WriteBatches; the intent is removed at the
// end. An intent found later (a crash in the middle) is finished by running
// the move again: BlobMoveRun is idempotent.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

const (
	pfxBlob     = "blob|"
	pfxBlobMove = "blobmv|"
)

func keyBlobBucket(user, bucket string) []byte {
	return []byte(pfxBlob + user + sep + bucket + sep)
}

func keyBlob(user, bucket, key string) []byte {
	return append(keyBlobBucket(user, bucket), key...)
}

// Blob is one row of the blob map. ID is empty for folders and buckets.
type Blob struct {
	User   string `json:"-"`
	Bucket string `json:"-"`
	Key    string `json:"-"`

	ID    string `json:"id,omitempty"` // upstream blob id (hex)
	Size  int64  `json:"s,omitempty"`
	ModNs int64  `json:"mt"`          // modification time, Unix ns
	WNs   int64  `json:"w,omitempty"` // when the row was written (commit), Unix ns
}

// IsDir reports whether b is a folder or bucket row.
func (b Blob) IsDir() bool { return b.Key == "" || strings.HasSuffix(b.Key, "/") }

// BlobMove is a rename of the blob map in progress (see BlobMoveBegin).
type BlobMove struct {
	Name      string `json:"-"`
	User      string `json:"u"`
	SrcBucket string `json:"sb"`
	Src       string `json:"s"`
	DstBucket string `json:"db"`
	Dst       string `json:"d"`
	// Journal is an opaque record kept for the caller (s3store keeps the
	// upstream journal entry there, to write it again when finishing).
	Journal []byte `json:"j,omitempty"`
	Phase   int    `json:"p"` // 0: destination not yet cleared; 1: moving
}

// blobParents returns the folder keys above key, bucket ("") first.
func blobParents(key string) []string {
	out := []string{""}
	k := strings.TrimSuffix(key, "/")
	for i := 0; i < len(k); i++ {
		if k[i] == '/' {
			out = append(out, k[:i+1])
		}
	}
	return out
}

// ensureBlobParents writes a folder row for every missing parent of key.
func ensureBlobParents(txn *badger.Txn, user, bucket, key string, ns int64) error {
	for _, pk := range blobParents(key) {
		if pk == key {
			continue
		}
		if _, err := txn.Get(keyBlob(user, bucket, pk)); errors.Is(err, badger.ErrKeyNotFound) {
			if err := setJSON(txn, keyBlob(user, bucket, pk), Blob{ModNs: ns, WNs: ns}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	return nil
}

// GetBlob returns the row for key (a file, a folder when key ends in '/',
// the bucket when key is ""), or ErrNotFound.
func (c *Catalog) GetBlob(ctx context.Context, user, bucket, key string) (Blob, error) {
	b := Blob{User: user, Bucket: bucket, Key: key}
	err := c.db.View(func(txn *badger.Txn) error {
		return getJSON(txn, keyBlob(user, bucket, key), &b)
	})
	if err != nil {
		return Blob{}, fmt.Errorf("blob %s/%s/%s: %w", user, bucket, key, err)
	}
	return b, nil
}

// PutBlob writes the file row b, creating missing parent folders, and
// returns the id of the blob it replaced ("" if none). A folder with the
// file's name gives ErrExists.
func (c *Catalog) PutBlob(ctx context.Context, b Blob) (old string, err error) {
	if b.IsDir() || b.ID == "" {
		return "", fmt.Errorf("put blob %s/%s/%s: not a file row", b.User, b.Bucket, b.Key)
	}
	if b.WNs == 0 {
		b.WNs = time.Now().UnixNano()
	}
	err = c.update(ctx, func(txn *badger.Txn) error {
		old = ""
		if _, err := txn.Get(keyBlob(b.User, b.Bucket, b.Key+"/")); err == nil {
			return fmt.Errorf("put blob %s/%s/%s: a folder has that name: %w", b.User, b.Bucket, b.Key, ErrExists)
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		var prev Blob
		if err := getJSON(txn, keyBlob(b.User, b.Bucket, b.Key), &prev); err == nil {
			old = prev.ID
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := setJSON(txn, keyBlob(b.User, b.Bucket, b.Key), b); err != nil {
			return err
		}
		return ensureBlobParents(txn, b.User, b.Bucket, b.Key, b.WNs)
	})
	return old, err
}

// MkdirBlob writes the folder row key ("" for the bucket) and its missing
// parents. An existing folder is kept; a file with the folder's name gives
// ErrExists.
func (c *Catalog) MkdirBlob(ctx context.Context, user, bucket, key string, modNs int64) error {
	if key != "" && !strings.HasSuffix(key, "/") {
		return fmt.Errorf("mkdir blob %s/%s/%s: not a folder key", user, bucket, key)
	}
	return c.update(ctx, func(txn *badger.Txn) error {
		if key != "" {
			if _, err := txn.Get(keyBlob(user, bucket, strings.TrimSuffix(key, "/"))); err == nil {
				return fmt.Errorf("mkdir blob %s/%s/%s: a file has that name: %w", user, bucket, key, ErrExists)
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
		}
		if _, err := txn.Get(keyBlob(user, bucket, key)); errors.Is(err, badger.ErrKeyNotFound) {
			if err := setJSON(txn, keyBlob(user, bucket, key), Blob{ModNs: modNs, WNs: modNs}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		return ensureBlobParents(txn, user, bucket, key, modNs)
	})
}

// SetBlobModTime sets the modification time of a row; ErrNotFound if none.
func (c *Catalog) SetBlobModTime(ctx context.Context, user, bucket, key string, modNs int64) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		var b Blob
		if err := getJSON(txn, keyBlob(user, bucket, key), &b); err != nil {
			return fmt.Errorf("blob %s/%s/%s: %w", user, bucket, key, err)
		}
		b.ModNs = modNs
		return setJSON(txn, keyBlob(user, bucket, key), b)
	})
}

// scanBlobTree calls fn for the row of key and, when key is a folder or the
// bucket, every row below it. Keys are copies; values are decoded.
func (c *Catalog) scanBlobTree(ctx context.Context, user, bucket, key string, fn func(k []byte, b Blob) error) error {
	return c.db.View(func(txn *badger.Txn) error {
		exact := keyBlob(user, bucket, key)
		if key != "" && !strings.HasSuffix(key, "/") {
			var b Blob
			if err := getJSON(txn, exact, &b); errors.Is(err, ErrNotFound) {
				return nil
			} else if err != nil {
				return err
			}
			b.User, b.Bucket, b.Key = user, bucket, key
			return fn(exact, b)
		}
		bpfx := keyBlobBucket(user, bucket)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: exact, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			var b Blob
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &b) }); err != nil {
				return fmt.Errorf("decode %q: %w", it.Item().Key(), err)
			}
			k := it.Item().KeyCopy(nil)
			b.User, b.Bucket, b.Key = user, bucket, string(k[len(bpfx):])
			if err := fn(k, b); err != nil {
				return err
			}
		}
		return nil
	})
}

// BlobTree calls fn for the row of key and, when key is a folder (or the
// bucket, key ""), every row below it, in key order. ErrNotFound when key
// has no row.
func (c *Catalog) BlobTree(ctx context.Context, user, bucket, key string, fn func(Blob) error) error {
	if _, err := c.GetBlob(ctx, user, bucket, key); err != nil {
		return err
	}
	return c.scanBlobTree(ctx, user, bucket, key, func(_ []byte, b Blob) error { return fn(b) })
}

// DeleteBlobs removes the row of key and, for a folder (or the bucket, key
// ""), every row below it, in batches. It returns the ids of the removed
// files' blobs; ErrNotFound when key has no row.
func (c *Catalog) DeleteBlobs(ctx context.Context, user, bucket, key string) (ids []string, err error) {
	if _, err := c.GetBlob(ctx, user, bucket, key); err != nil {
		return nil, err
	}
	return c.deleteBlobTree(ctx, user, bucket, key)
}

func (c *Catalog) deleteBlobTree(ctx context.Context, user, bucket, key string) (ids []string, err error) {
	wb := c.db.NewWriteBatch()
	defer wb.Cancel()
	err = c.scanBlobTree(ctx, user, bucket, key, func(k []byte, b Blob) error {
		if b.ID != "" {
			ids = append(ids, b.ID)
		}
		return wb.Delete(k)
	})
	if err != nil {
		return nil, err
	}
	return ids, c.flushBatch(wb)
}

// ForgetBlob removes the file row key if it still refers to blob id
// (reconciliation: the blob is gone upstream). It reports whether it did.
func (c *Catalog) ForgetBlob(ctx context.Context, user, bucket, key, id string) (bool, error) {
	done := false
	err := c.update(ctx, func(txn *badger.Txn) error {
		done = false
		var b Blob
		if err := getJSON(txn, keyBlob(user, bucket, key), &b); errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if b.ID != id {
			return nil
		}
		done = true
		return txn.Delete(keyBlob(user, bucket, key))
	})
	return done, err
}

// ReplaceBlobTree removes the rows of dst (a file, or a folder subtree) and
// writes rows in their place (their User and Bucket must be dst's), with
// dst's missing parents, in batches. It returns the ids of the blobs that
// were removed. A crash in the middle leaves part of the rows written;
// blobs no row refers to are found by the backend's reconciliation.
func (c *Catalog) ReplaceBlobTree(ctx context.Context, user, bucket, dst string, rows []Blob) (freed []string, err error) {
	freed, err = c.deleteBlobTree(ctx, user, bucket, dst)
	if err != nil {
		return nil, err
	}
	wb := c.db.NewWriteBatch()
	defer wb.Cancel()
	for _, b := range rows {
		if b.User != user || b.Bucket != bucket || !strings.HasPrefix(b.Key, strings.TrimSuffix(dst, "/")) {
			return freed, fmt.Errorf("replace blob tree %s/%s/%s: row %s/%s/%s outside", user, bucket, dst, b.User, b.Bucket, b.Key)
		}
		v, err := json.Marshal(b)
		if err != nil {
			return freed, err
		}
		if err := wb.Set(keyBlob(user, bucket, b.Key), v); err != nil {
			return freed, err
		}
	}
	if err := c.flushBatch(wb); err != nil {
		return freed, err
	}
	now := time.Now().UnixNano()
	return freed, c.update(ctx, func(txn *badger.Txn) error { return ensureBlobParents(txn, user, bucket, dst, now) })
}

// BlobMoveBegin records the intent m (m.Name must be unique; it orders
// intents). Run it with BlobMoveRun, or drop it with BlobMoveCancel.
func (c *Catalog) BlobMoveBegin(ctx context.Context, m BlobMove) error {
	if m.SrcBucket == m.DstBucket {
		s, d := strings.TrimSuffix(m.Src, "/"), strings.TrimSuffix(m.Dst, "/")
		if s == d || m.Src == "" || m.Dst == "" || strings.HasPrefix(s+"/", d+"/") || strings.HasPrefix(d+"/", s+"/") {
			return fmt.Errorf("move %s/%s/%s to %s: overlapping source and destination", m.User, m.SrcBucket, m.Src, m.Dst)
		}
	}
	return c.update(ctx, func(txn *badger.Txn) error {
		return setJSON(txn, []byte(pfxBlobMove+m.Name), m)
	})
}

// BlobMoveCancel drops an intent that was not run.
func (c *Catalog) BlobMoveCancel(ctx context.Context, name string) error {
	return c.update(ctx, func(txn *badger.Txn) error { return txn.Delete([]byte(pfxBlobMove + name)) })
}

// BlobMoves lists the intents not yet finished, oldest name first.
func (c *Catalog) BlobMoves(ctx context.Context) ([]BlobMove, error) {
	var out []BlobMove
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxBlobMove), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var m BlobMove
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &m) }); err != nil {
				return err
			}
			m.Name = string(it.Item().Key()[len(pfxBlobMove):])
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// BlobMoveRun carries out the intent m: the rows of m.Dst are removed, the
// rows of m.Src (a file, or a folder subtree) are moved there, dst's
// missing parents are created, and the intent is removed. It returns the
// ids of the blobs whose rows were replaced. Running it again after a crash
// finishes the move (rows already moved stay moved).
func (c *Catalog) BlobMoveRun(ctx context.Context, m BlobMove) (freed []string, err error) {
	key := []byte(pfxBlobMove + m.Name)
	if m.Phase == 0 {
		if freed, err = c.deleteBlobTree(ctx, m.User, m.DstBucket, m.Dst); err != nil {
			return nil, err
		}
		m.Phase = 1
		if err := c.update(ctx, func(txn *badger.Txn) error { return setJSON(txn, key, m) }); err != nil {
			return freed, err
		}
	}
	wb := c.db.NewWriteBatch()
	defer wb.Cancel()
	srcKeyLen := len(keyBlob(m.User, m.SrcBucket, m.Src))
	dstKey := keyBlob(m.User, m.DstBucket, m.Dst)
	err = c.scanBlobTree(ctx, m.User, m.SrcBucket, m.Src, func(k []byte, b Blob) error {
		v, err := json.Marshal(b)
		if err != nil {
			return err
		}
		nk := append(append([]byte{}, dstKey...), k[srcKeyLen:]...)
		if err := wb.Set(nk, v); err != nil {
			return err
		}
		return wb.Delete(k)
	})
	if err != nil {
		return freed, fmt.Errorf("move %s/%s/%s to %s/%s: %w", m.User, m.SrcBucket, m.Src, m.DstBucket, m.Dst, err)
	}
	if err := c.flushBatch(wb); err != nil {
		return freed, err
	}
	now := time.Now().UnixNano()
	err = c.update(ctx, func(txn *badger.Txn) error {
		if err := ensureBlobParents(txn, m.User, m.DstBucket, m.Dst, now); err != nil {
			return err
		}
		return txn.Delete(key)
	})
	return freed, err
}

// WalkBlobs calls fn for every row of every user and bucket in key order,
// so parents come before their children. When fn returns fs.SkipDir for a
// folder or bucket row, the rows below it are skipped; any other error
// stops the walk and is returned.
func (c *Catalog) WalkBlobs(ctx context.Context, fn func(Blob) error) error {
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxBlob), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			item := it.Item()
			k := item.Key()
			user, rest, ok1 := strings.Cut(string(k[len(pfxBlob):]), sep)
			bucket, key, ok2 := strings.Cut(rest, sep)
			if !ok1 || !ok2 {
				it.Next()
				continue
			}
			var b Blob
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &b) }); err != nil {
				return fmt.Errorf("decode %q: %w", k, err)
			}
			b.User, b.Bucket, b.Key = user, bucket, key
			err := fn(b)
			if errors.Is(err, fs.SkipDir) && b.IsDir() {
				it.Seek(append(keyBlob(user, bucket, key), 0xFF))
				continue
			}
			if err != nil {
				return err
			}
			it.Next()
		}
		return nil
	})
}
