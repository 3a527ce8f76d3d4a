package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Counts is what a user's library holds, as /api/v1/status reports it:
// files (not folders) in every bucket but the trash, the photos and videos
// among them (by their media records), and their enrichment jobs by state.
type Counts struct {
	Objects int
	Photos  int
	Videos  int
	Queue   QueueStats
}

// countCache keeps each user's Counts between writes. Every write to the
// database (update, the group commit, write batches, leases) bumps gen
// after it commits; a cached entry is good while gen is the one read
// before its snapshot was taken, and until the first lease it saw runs out
// (a running job becomes pending by the clock alone). Nothing is stored in
// Badger, so nothing can disagree with the rows after a crash.
type countCache struct {
	gen    atomic.Uint64
	mu     sync.Mutex
	byUser map[string]cachedCounts
}

type cachedCounts struct {
	gen     uint64
	counts  Counts
	validNs int64 // the first lease expiry seen: the entry is stale from then on
}

// changed records that a write committed (or may have).
func (cc *countCache) changed() { cc.gen.Add(1) }

// CountsOf returns the user's Counts at now: from the cache when nothing
// was written since it was counted, else counted in one snapshot.
func (c *Catalog) CountsOf(ctx context.Context, now time.Time, user string) (Counts, error) {
	gen := c.counts.gen.Load()
	c.counts.mu.Lock()
	e, ok := c.counts.byUser[user]
	c.counts.mu.Unlock()
	if ok && e.gen == gen && now.UnixNano() < e.validNs {
		return e.counts, nil
	}
	// gen was read before the snapshot: a write that commits after it
	// bumps gen, so this count is never kept past a write it missed.
	cnt, validNs, err := c.count(ctx, now, user)
	if err != nil {
		return Counts{}, err
	}
	c.counts.mu.Lock()
	if c.counts.byUser == nil {
		c.counts.byUser = map[string]cachedCounts{}
	}
	c.counts.byUser[user] = cachedCounts{gen: gen, counts: cnt, validNs: validNs}
	c.counts.mu.Unlock()
	return cnt, nil
}

// count counts in one snapshot: object keys without their values, the
// kind of each media record, and the job rows.
func (c *Catalog) count(ctx context.Context, now time.Time, user string) (Counts, int64, error) {
	var cnt Counts
	validNs := int64(1<<63 - 1)
	trash := []byte(TrashBucket + sep)
	err := c.db.View(func(txn *badger.Txn) error {
		// Objects: keys only.
		pfx := []byte(pfxObject + user + sep)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%4096 == 0 && ctx.Err() != nil {
				it.Close()
				return ctx.Err()
			}
			k := it.Item().Key()[len(pfx):]
			if bytes.HasPrefix(k, trash) {
				continue
			}
			if len(k) > 0 && k[len(k)-1] != '/' {
				cnt.Objects++
			}
		}
		it.Close()
		// Photos and videos: the kind of each media record.
		mpfx := []byte(pfxMedia + user + sep)
		it = txn.NewIterator(badger.IteratorOptions{Prefix: mpfx, PrefetchValues: true, PrefetchSize: 256})
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%4096 == 0 && ctx.Err() != nil {
				it.Close()
				return ctx.Err()
			}
			if bytes.HasPrefix(it.Item().Key()[len(mpfx):], trash) {
				continue
			}
			var kind string
			if err := it.Item().Value(func(v []byte) (err error) { kind, err = mediaKind(v); return err }); err != nil {
				it.Close()
				return fmt.Errorf("decode %q: %w", it.Item().Key(), err)
			}
			switch kind {
			case "photo":
				cnt.Photos++
			case "video":
				cnt.Videos++
			}
		}
		it.Close()
		// The queue, as QueueOf counts it.
		q, next, err := queueIn(txn, now, user)
		cnt.Queue, validNs = q, min(validNs, next)
		return err
	})
	return cnt, validNs, err
}

// mediaKind is the Kind of a Media record: read from the front of the JSON
// when it starts there, as json.Marshal writes it (Kind is the first field),
// else by decoding the record.
func mediaKind(v []byte) (string, error) {
	const head = `{"kind":"`
	if rest, ok := bytes.CutPrefix(v, []byte(head)); ok {
		if i := bytes.IndexByte(rest, '"'); i >= 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			return string(rest[:i]), nil
		}
	}
	var m struct {
		Kind string `json:"kind"`
	}
	err := json.Unmarshal(v, &m)
	return m.Kind, err
}
