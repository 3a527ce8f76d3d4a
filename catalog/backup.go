package catalog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/dgraph-io/badger/v4"
)

// Backups of the catalog are Badger's own backup stream (DB.Backup, loaded
// by DB.Load): a sequence of (8-byte little-endian length, protobuf KVList)
// records holding every key with its version. Backup reads at one read
// timestamp, so the stream is a consistent snapshot: every commit that
// returned before Backup was called is in it, and no part of a later one.
// Writes go on while it runs.
//
// Incremental backups: Backup returns the version the next backup passes
// as since, and a backup with since > 0 holds only the keys written (set or
// deleted) at or after that version. Restoring a chain means loading the
// full backup, then each increment in order, into the same directory
// (Restore, once per stream): later versions win. One limit comes from
// Badger: a key deleted after since is carried by its deletion marker, and
// compaction may have dropped that marker before the incremental backup
// runs, so a restored chain can bring back a row deleted between two
// backups. Rows of files whose bytes are gone are then removed by the
// start-up reconciliation; an album or a user deleted in between comes back.
// A full backup has no such gap.

// backupStreams is how many goroutines read the catalog for a backup: the
// server keeps serving meanwhile.
const backupStreams = 2

// Backup writes a consistent snapshot of the catalog to w in Badger's
// backup format: every key written at version since or later (0: all of
// them). It returns the version a later incremental backup passes as
// since to get what changed after this one. ctx cancels it (the next write
// to w fails).
func (c *Catalog) Backup(ctx context.Context, w io.Writer, since uint64) (uint64, error) {
	st := c.db.NewStream()
	st.NumGo = backupStreams
	st.LogPrefix = "catalog backup"
	st.SinceTs = since
	last, err := st.Backup(ctxWriter{ctx: ctx, w: w}, since)
	if err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("back up the catalog: %w", ctx.Err())
		}
		return 0, fmt.Errorf("back up the catalog: %w", err)
	}
	next := max(last+1, since)
	if since == 0 && last == 0 {
		next = 1
	}
	return next, nil
}

// Restore loads a stream written by Backup into the catalog in dir,
// creating it. The catalog must not be open. A full backup goes into an
// empty directory (the caller checks); the incremental backups that
// follow it are loaded, in order, by one call each on the same directory.
// After loading, the catalog must hold a schema version this binary reads
// (an increment alone does not). ctx cancels it between reads.
func Restore(ctx context.Context, dir string, r io.Reader, lg *slog.Logger) error {
	if lg == nil {
		lg = slog.Default()
	}
	lg = lg.With("component", "catalog")
	db, err := badger.Open(badgerOptions(dir, false, lg))
	if err != nil {
		if isLockErr(err) {
			return fmt.Errorf("restore catalog %s: %w", dir, ErrLocked)
		}
		return fmt.Errorf("restore catalog %s: %w", dir, err)
	}
	if err := db.Load(ctxReader{ctx: ctx, r: r}, 256); err != nil {
		db.Close()
		if ctx.Err() != nil {
			return fmt.Errorf("restore catalog %s: %w", dir, ctx.Err())
		}
		return fmt.Errorf("restore catalog %s: load the backup: %w", dir, err)
	}
	err = db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(keySchema())
		if errors.Is(err, badger.ErrKeyNotFound) {
			return errors.New("it holds no schema version: an incremental backup needs the full backup it follows restored first")
		}
		if err != nil {
			return err
		}
		v, err := it.ValueCopy(nil)
		if err != nil {
			return err
		}
		if got, _ := binary.Uvarint(v); got != SchemaVersion {
			return fmt.Errorf("the backup's catalog has schema version %d; this binary needs %d", got, SchemaVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return fmt.Errorf("restore catalog %s: %w", dir, err)
	}
	if err := db.Sync(); err != nil {
		db.Close()
		return fmt.Errorf("restore catalog %s: sync: %w", dir, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("restore catalog %s: close: %w", dir, err)
	}
	return nil
}

// ctxWriter fails writes once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w ctxWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
