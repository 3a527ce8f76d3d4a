package catalog

import (
	"context"
	"errors"
	"slices"
	"sync"

	badger "github.com/dgraph-io/badger/v4"
)

// Group commit. A durable transaction syncs the catalog's logs
// (durable.go), so durable commits from many uploads at once would queue
// behind each other's syncs. commit merges the transactions of
// concurrent callers into one: the first caller to find no commit running
// leads, runs every queued function in one transaction, commits it (one
// sync, unless every caller in it is lazy), and tells each caller;
// callers that arrived meanwhile form the next batch. The result is as if
// the functions had run one after another.
//
// Functions given to commit must only read and write through the
// transaction (they may run more than once, like any Badger update that
// meets a conflict) and be small: a batch is capped at maxBatch functions.

const maxBatch = 128

type commitReq struct {
	ctx  context.Context
	fn   func(*badger.Txn) error
	lazy bool // need not be durable when answered (PutFileLogged)
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
	return c.groupCommit(ctx, fn, false)
}

// commitLazy is commit without waiting for the disk: the transaction is
// durable at the next sync (durable.go), which every durable commit does.
func (c *Catalog) commitLazy(ctx context.Context, fn func(*badger.Txn) error) error {
	return c.groupCommit(ctx, fn, true)
}

func (c *Catalog) groupCommit(ctx context.Context, fn func(*badger.Txn) error, lazy bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &commitReq{ctx: ctx, fn: fn, lazy: lazy, done: make(chan struct{})}
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
		c.counts.changed()
		if errors.Is(err, badger.ErrConflict) && attempt < 10 {
			continue
		}
		var serr error // the sync's, for the callers that wait for it
		if err == nil && slices.ContainsFunc(batch, func(r *commitReq) bool { return !r.lazy }) {
			serr = c.sync()
		}
		for _, r := range batch {
			if err == nil && !r.lazy {
				finish(r, serr)
			} else {
				finish(r, err)
			}
		}
		return
	}
}
