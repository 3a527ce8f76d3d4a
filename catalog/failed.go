package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// FailedJobs returns the enrichment jobs kept as failed (the jobf| rows:
// out of attempts, with their last error), of one user or of everyone
// (user ""), in key order.
func (c *Catalog) FailedJobs(ctx context.Context, user string) ([]Job, error) {
	pfx := pfxJobFailed
	if user != "" {
		pfx += user + sep
	}
	var out []Job
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var j Job
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &j) }); err != nil {
				return fmt.Errorf("failed job %q: %w", it.Item().Key(), err)
			}
			var ok bool
			j.User, j.Key, ok = strings.Cut(string(it.Item().Key()[len(pfxJobFailed):]), sep)
			if ok {
				j.Bucket, j.Key, ok = strings.Cut(j.Key, sep)
			}
			if !ok {
				return fmt.Errorf("malformed failed job key %q", it.Item().Key())
			}
			out = append(out, j)
		}
		return nil
	})
	return out, err
}

// RetryFailed queues again every failed job of user (everyone's for ""),
// each with its attempts reset (Requeue), and returns how many it queued.
func (c *Catalog) RetryFailed(ctx context.Context, user string) (int, error) {
	jobs, err := c.FailedJobs(ctx, user)
	if err != nil {
		return 0, err
	}
	for i, j := range jobs {
		if err := c.Requeue(ctx, j.User, j.Bucket, j.Key); err != nil {
			return i, fmt.Errorf("retry %s/%s of %s: %w", j.Bucket, j.Key, j.User, err)
		}
	}
	return len(jobs), nil
}
