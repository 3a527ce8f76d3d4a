package catalog

import (
	"context"
	"errors"

	badger "github.com/dgraph-io/badger/v4"
)

// Journal marks. The gateway's write-ahead log of small files
// (gateway/wal) holds each small upload's bytes and row until both are
// durable elsewhere; meanwhile the row is committed without waiting for
// the disk (PutFileLogged), with a mark naming the log record. After a
// crash the mark says whether that commit survived: if it did, the catalog
// holds the row or whatever durably replaced it since (a durable commit
// makes every commit before it durable, the mark's included); if not, no
// later change of that file was acknowledged (it would have made the mark
// durable), and the record's row is the truth.

// JournalMark names a record of the write-ahead log: its segment and its
// offset there.
type JournalMark struct {
	Seg uint64
	Off int64
}

// PutFileLogged is PutFile for a file whose bytes and row are in the
// write-ahead log at m: it returns without waiting for the disk (the row
// is visible at once, durable at the next Sync or durable commit) and
// records the mark in the same transaction.
func (c *Catalog) PutFileLogged(ctx context.Context, user string, o Object, m JournalMark) error {
	return c.commitLazy(ctx, func(txn *badger.Txn) error {
		if err := c.putFile(txn, user, o); err != nil {
			return err
		}
		return txn.Set(keyJournal(m), nil)
	})
}

// MarkJournal records m durably without a row: the upload it logged
// failed, and a replay must leave the catalog as it is.
func (c *Catalog) MarkJournal(ctx context.Context, m JournalMark) error {
	return c.commit(ctx, func(txn *badger.Txn) error { return txn.Set(keyJournal(m), nil) })
}

// JournalMarked reports whether m is recorded.
func (c *Catalog) JournalMarked(ctx context.Context, m JournalMark) (bool, error) {
	err := c.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(keyJournal(m))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// DropJournalMarks removes the marks of the given segments, once they are
// deleted for good (a mark left by a crash meanwhile is removed by
// DropJournalMarksBefore at the next start). It does not wait for the disk.
func (c *Catalog) DropJournalMarks(ctx context.Context, segs ...uint64) error {
	for _, seg := range segs {
		if err := c.dropJournal(ctx, keyJournalSeg(seg), nil); err != nil {
			return err
		}
	}
	return nil
}

// DropJournalMarksBefore removes, durably, the marks of every segment
// before seg: after a replay, those of the segments an earlier run left.
func (c *Catalog) DropJournalMarksBefore(ctx context.Context, seg uint64) error {
	if err := c.dropJournal(ctx, []byte(pfxJournal), keyJournalSeg(seg)); err != nil {
		return err
	}
	return c.sync()
}

// dropJournal deletes the marks under prefix, below end when end is set.
func (c *Catalog) dropJournal(ctx context.Context, prefix, end []byte) error {
	for {
		var keys [][]byte
		err := c.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			defer it.Close()
			for it.Rewind(); it.Valid() && len(keys) < 1000; it.Next() {
				k := it.Item().KeyCopy(nil)
				if end != nil && string(k) >= string(end) {
					break
				}
				keys = append(keys, k)
			}
			return nil
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		err = c.commitLazy(ctx, func(txn *badger.Txn) error {
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}
