package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// backfill builds an index kept with the object rows (write adds one
// row's entries to wb) for a catalog made before the index existed: once,
// over every object row, then marker records that it is done. Open calls
// it for each such index.
func (c *Catalog) backfill(ctx context.Context, marker []byte, what string, write func(wb *badger.WriteBatch, user string, o Object) error) error {
	return c.backfillRows(ctx, marker, what, pfxObject, func(wb *badger.WriteBatch, user, bucket, key string, v []byte) error {
		var o Object
		if err := json.Unmarshal(v, &o); err != nil {
			return fmt.Errorf("decode object %s/%s of %s: %w", bucket, key, user, err)
		}
		o.Bucket, o.Key = bucket, key
		return write(wb, user, o)
	})
}

// backfillMedia is backfill for an index kept with the media rows.
func (c *Catalog) backfillMedia(ctx context.Context, marker []byte, what string, write func(wb *badger.WriteBatch, user, bucket, key string, m Media) error) error {
	return c.backfillRows(ctx, marker, what, pfxMedia, func(wb *badger.WriteBatch, user, bucket, key string, v []byte) error {
		var m Media
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode media of %s/%s of %s: %w", bucket, key, user, err)
		}
		return write(wb, user, bucket, key, m)
	})
}

// backfillRows calls write with every row under pfx (keys pfx+U|B|K) once,
// then sets marker.
func (c *Catalog) backfillRows(ctx context.Context, marker []byte, what, pfx string, write func(wb *badger.WriteBatch, user, bucket, key string, v []byte) error) error {
	if err := c.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(marker)
		return err
	}); err == nil {
		return nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("index %s: %w", what, err)
	}
	wb := c.db.NewWriteBatch()
	defer wb.Cancel()
	n := 0
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			parts := strings.SplitN(strings.TrimPrefix(string(it.Item().Key()), pfx), sep, 3)
			if len(parts) != 3 {
				continue
			}
			if err := it.Item().Value(func(v []byte) error { return write(wb, parts[0], parts[1], parts[2], v) }); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index %s: %w", what, err)
	}
	if err := wb.Set(marker, nil); err != nil {
		return err
	}
	if err := c.flushBatch(wb); err != nil {
		return fmt.Errorf("index %s: %w", what, err)
	}
	if n > 0 {
		c.log.Info("indexed "+what, "rows", n)
	}
	return nil
}
