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
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxObject), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			parts := strings.SplitN(strings.TrimPrefix(string(it.Item().Key()), pfxObject), sep, 3)
			if len(parts) != 3 {
				continue
			}
			var o Object
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &o) }); err != nil {
				return fmt.Errorf("decode %q: %w", it.Item().Key(), err)
			}
			o.Bucket, o.Key = parts[1], parts[2]
			if err := write(wb, parts[0], o); err != nil {
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
