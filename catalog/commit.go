package catalog

import (
	"context"
	"errors"
	"sync"

	badger "github.com/dgraph-io/badger/v4"
)

// Group commit. Badger fsyncs its logs once per transaction, one
// transaction after another, so durable commits from many uploads at once
// queue behind each other's fsyncs. commit merges the transactions of
// concurrent callers into one: the first caller to find no commit running
// leads, runs every queued function in one transaction, commits it (one
// fsync), and tells each caller; callers that arrived meanwhile form the
// next batch. The result is as if the functions had run one after another.
//
// Functions given to commit must only read and write through the
// transaction (they may run more than once, like any Badger update that
// meets a conflict) and be small: a batch is capped at maxBatch functions.

const maxBatch = 128

type commitReq struct {
	ctx  context.Context
	fn   func(*badger.Txn) error
	err  error
	done chan struct{}
}

type committer struct {
	mu      sync.Mutex
	queue   []*commitReq
	leading bool
}

// commit runs fn in a durable transaction, shared with concurrent callers.
func (c *Catalog) commit(ctx context.Context, fn func(*badger.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &commitReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	g := &c.group
	g.mu.Lock()
	g.queue = append(g.queue, r)
	if g.leading {
		g.mu.Unlock()
		<-r.done
		return r.err
	}
	g.leading = true
	for len(g.queue) > 0 {
		n := min(len(g.queue), maxBatch)
		batch := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.mu.Unlock()
		c.runBatch(batch)
		g.mu.Lock()
	}
	g.queue = nil
	g.leading = false
	g.mu.Unlock()
	<-r.done
	return r.err
}

// runBatch commits the functions of batch in one transaction. A function
// that fails is answered with its error and the others run again without
// it; a batch too big for one transaction is committed one by one.
func (c *Catalog) runBatch(batch []*commitReq) {
	finish := func(r *commitReq, err error) {
		r.err = err
		close(r.done)
	}
	for attempt := 0; len(batch) > 0; attempt++ {
		txn := c.db.NewTransaction(true)
		failed := -1
		var ferr error
		for i, r := range batch {
			if err := r.fn(txn); err != nil {
				failed, ferr = i, err
				break
			}
		}
		if failed >= 0 {
			txn.Discard()
			if errors.Is(ferr, badger.ErrTxnTooBig) && len(batch) > 1 {
				for _, r := range batch {
					finish(r, c.update(r.ctx, r.fn))
				}
				return
			}
			finish(batch[failed], ferr)
			batch = append(batch[:failed:failed], batch[failed+1:]...)
			continue
		}
		err := txn.Commit()
		if errors.Is(err, badger.ErrConflict) && attempt < 10 {
			continue
		}
		for _, r := range batch {
			finish(r, err)
		}
		return
	}
}
