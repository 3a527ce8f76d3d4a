package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"shoebox/catalog"
	"shoebox/gateway/wal"
)

// Small files are journaled. Making a new file durable costs two flushes
// of the file system (the file's bytes, then its folder entry) and the
// block allocation and write of each file on its own; for a few KiB
// that is most of an upload's cost. So a file of at most
// Options.JournalLimit bytes, when the gateway has a write-ahead log
// (Options.Journal) and the backend can defer durability (Flusher), goes:
//
//  1. its bytes are staged without fsync;
//  2. its bytes and its catalog row are appended to the log, whose
//     fdatasync is shared by concurrent uploads: from here the upload
//     survives a crash;
//  3. its row (with its enrichment job) is committed to the catalog
//     without waiting for the disk (catalog.PutFileLogged), with a mark
//     naming the log record;
//  4. the staged file is renamed into place, and the client answered;
//  5. in the background, every 100 ms, one Flush of the backend (Linux:
//     syncfs) and one Sync of the catalog make every file renamed and
//     every row committed before them durable, and their log records are
//     released (a segment whose records are all released is deleted,
//     then the catalog's marks of it).
//
// One device flush per upload, the log's, shared with the uploads beside
// it. The rename comes after the log and the catalog, so a crash never
// leaves a file on disk whose bytes are durable nowhere (Reconcile would
// adopt it).
//
// Reconcile first replays the log. Only the last record of each file
// counts (earlier ones were replaced by it). If the catalog has the
// record's mark, the row's commit survived, and the catalog is the truth:
// a row that still has the record's SHA-256 gets its bytes written again,
// durably, and otherwise the record is stale (the file was replaced, moved
// or deleted since). If the mark is missing, the commit was lost with the
// crash, and so was any later change of the file (a durable commit makes
// every commit before it durable, the mark's too): the record's row and
// bytes are written again. Moves and copies first wait for the pending
// flush (barrier), so they never move a file whose bytes are durable only
// in the log. Removes need no barrier: the backend makes a removal durable
// itself. Their catalog delete is durable (making the mark durable with
// it) when the log may still hold a record of the file, which a replay
// would otherwise write again (inLog); else it waits for no disk, since
// Reconcile drops a row whose file is gone.

// Flusher is implemented by backends that can defer durability.
type Flusher interface {
	// CreateUnsynced is Create, except that the committed file need not be
	// on stable storage until a Flush that starts after its Commit
	// returns. The Pending's Sync is not called.
	CreateUnsynced(ctx context.Context, p Path, r io.Reader) (Pending, error)
	// Flush makes every file committed before the call durable, with the
	// folder entries that name them.
	Flush(ctx context.Context) error
}

// DefaultJournalLimit is the largest file journaled when
// Options.JournalLimit is zero.
const DefaultJournalLimit = 64 << 10

// defaultFlushEvery is how long the flusher lets renamed files gather
// before a flush, unless someone waits for it (a barrier, a full journal):
// a flush writes back the whole file system, and flushing as often as
// files arrived competed with the uploads' own commits (measured with the
// first design, which kept the bytes in the catalog: 4 KiB PUTs at 16
// clients went from 1,240 to 650 per second).
const defaultFlushEvery = 100 * time.Millisecond

// journalMaxPending bounds the bytes of journaled files waiting for a
// flush: an upload that finds more waits for the flush in progress.
const journalMaxPending = 32 << 20

// JournalHeadroom is the most disk the journal's segments take: the bytes
// of files waiting for their flush (a free-space reserve keeps room for it).
const JournalHeadroom = journalMaxPending

type journal struct {
	fl    Flusher
	cat   *catalog.Catalog
	log   *wal.Log
	every time.Duration // see defaultFlushEvery
	lg    *slog.Logger
	bufs  sync.Pool

	mu   sync.Mutex
	idle sync.Cond // broadcast after each flush and when the flusher stops
	// logged counts, per file, its records in segments that still exist
	// (a replay would see them); segFiles lists each segment's files.
	logged   map[Path]int
	segFiles map[uint64][]Path
	next     *flushRound // collecting: files renamed, not yet in a flush
	cur      *flushRound // being flushed
	busy     bool        // the flusher goroutine is running
	// urgent wakes the flusher before its interval is up.
	urgent chan struct{}
}

// flushRound is one Flush and the log records it covers.
type flushRound struct {
	refs  []wal.Ref
	bytes int64
	done  chan struct{}
	err   error
}

func newJournal(be Backend, cat *catalog.Catalog, opt Options, lg *slog.Logger) *journal {
	fl, ok := be.(Flusher)
	limit, every := opt.JournalLimit, opt.JournalFlushEvery
	if !ok || opt.Journal == nil || limit < 0 {
		return nil
	}
	if limit == 0 {
		limit = DefaultJournalLimit
	}
	if every <= 0 {
		every = defaultFlushEvery
	}
	j := &journal{fl: fl, cat: cat, log: opt.Journal, every: every, lg: lg, urgent: make(chan struct{}, 1),
		logged: map[Path]int{}, segFiles: map[uint64][]Path{}}
	j.idle.L = &j.mu
	j.bufs.New = func() any { b := make([]byte, limit+1); return &b }
	return j
}

// head reads the body up to the journal limit. small reports that it
// ended within it (data is then the whole body); otherwise rest is the
// whole body, data included. release returns the buffer once data is no
// longer used.
func (j *journal) head(r io.Reader) (data []byte, small bool, rest io.Reader, release func(), err error) {
	bp := j.bufs.Get().(*[]byte)
	release = func() { j.bufs.Put(bp) }
	n, err := io.ReadFull(r, *bp)
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		return (*bp)[:n], true, nil, release, nil
	case nil:
		return nil, false, io.MultiReader(bytes.NewReader((*bp)[:n]), r), release, nil
	default:
		release()
		return nil, false, nil, func() {}, err
	}
}

// add hands a record of p whose file has been renamed into place to the
// next flush. When too many bytes are waiting it waits for them.
func (j *journal) add(ctx context.Context, p Path, ref wal.Ref, size int64) {
	j.mu.Lock()
	j.logged[p]++
	seg := ref.Pos().Seg
	j.segFiles[seg] = append(j.segFiles[seg], p)
	if j.next == nil {
		j.next = &flushRound{done: make(chan struct{})}
	}
	r := j.next
	r.refs = append(r.refs, ref)
	r.bytes += size
	j.start(ctx)
	full := r.bytes > journalMaxPending
	j.mu.Unlock()
	if full {
		j.hurry()
		select {
		case <-r.done:
		case <-ctx.Done():
		}
	}
}

// start runs the flusher unless it runs already; j.mu is held.
func (j *journal) start(ctx context.Context) {
	if j.busy {
		return
	}
	j.busy = true
	go j.flusher(context.WithoutCancel(ctx))
}

// hurry asks the flusher not to wait for more files.
func (j *journal) hurry() {
	select {
	case j.urgent <- struct{}{}:
	default:
	}
}

// flusher flushes rounds until none is waiting.
func (j *journal) flusher(ctx context.Context) {
	wait := time.NewTimer(j.every)
	defer wait.Stop()
	for {
		select {
		case <-wait.C:
		case <-j.urgent:
		}
		wait.Reset(j.every)
		j.mu.Lock()
		r := j.next
		j.next, j.cur = nil, r
		if r == nil {
			j.busy = false
			j.idle.Broadcast()
			j.mu.Unlock()
			return
		}
		j.mu.Unlock()
		start := time.Now()
		// Records appended from now on go to a new segment, so this
		// round's can be deleted once released.
		r.err = j.log.Rotate()
		if r.err == nil {
			r.err = j.fl.Flush(ctx)
		}
		if r.err == nil {
			r.err = j.cat.Sync(ctx)
		}
		if r.err == nil {
			j.release(ctx, r.refs...)
		} else {
			// The records stay; the next start-up replays them.
			j.lg.Error("journal flush failed", "files", len(r.refs), "err", r.err)
			r.err = fmt.Errorf("flush journaled files: %w", r.err)
		}
		j.lg.Debug("journal flushed", "files", len(r.refs), "bytes", r.bytes, "took", time.Since(start))
		j.mu.Lock()
		j.cur = nil
		j.idle.Broadcast()
		j.mu.Unlock()
		close(r.done)
	}
}

// release releases log records, and the catalog's marks of the segments
// that deletes. A mark left behind is harmless (no record names it any
// more) and dropped at the next start.
func (j *journal) release(ctx context.Context, refs ...wal.Ref) {
	dropped, err := j.log.Release(refs...)
	if err == nil && len(dropped) > 0 {
		err = j.cat.DropJournalMarks(ctx, dropped...)
	}
	if err != nil {
		j.lg.Warn("journal: release records", "err", err)
	}
	j.mu.Lock()
	for _, seg := range dropped {
		for _, p := range j.segFiles[seg] {
			if j.logged[p]--; j.logged[p] <= 0 {
				delete(j.logged, p)
			}
		}
		delete(j.segFiles, seg)
	}
	j.mu.Unlock()
}

// inLog reports whether a replay could meet a record of p: one is in a
// segment that still exists.
func (j *journal) inLog(p Path) bool {
	if j == nil {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.logged[p] > 0
}

// barrier returns once every journaled file renamed before the call is
// durable in the backend, with its row in the catalog.
func (j *journal) barrier(ctx context.Context) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	r := j.next
	if r == nil {
		r = j.cur // renamed files are in the flush in progress, or none wait
	} else {
		j.start(ctx)
	}
	j.mu.Unlock()
	if r == nil {
		return nil
	}
	j.hurry()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush returns once every acknowledged write is durable in the backend
// itself (not only in the write-ahead log) and the background flusher has
// stopped. Call it before closing the catalog and the log.
func (g *Gateway) Flush(ctx context.Context) error {
	j := g.journal
	if err := j.barrier(ctx); err != nil || j == nil {
		return err
	}
	j.mu.Lock()
	for j.busy {
		j.hurry() // it stops when it wakes and finds nothing to flush
		j.idle.Wait()
	}
	j.mu.Unlock()
	return nil
}

// putJournaled is the tail of Put for a small file on a Flusher: its bytes
// and row go to the log, its row to the catalog, then the file is renamed
// into place. The caller holds the key's lock. On error the pending file
// is aborted and the catalog left as it was.
func (g *Gateway) putJournaled(ctx context.Context, in PutInput, o catalog.Object, cur *catalog.Object, pending Pending, data []byte, mod time.Time) error {
	j := g.journal
	row, err := json.Marshal(o)
	if err != nil {
		pending.Abort()
		return fmt.Errorf("put %s/%s: %w", in.Bucket, in.Key, err)
	}
	ref, err := j.log.Append(ctx, wal.Record{User: in.User, Bucket: in.Bucket, Key: in.Key, SHA256: o.SHA256, ModNs: o.ModNs, Row: row, Data: data})
	if err != nil {
		pending.Abort()
		return fmt.Errorf("put %s/%s: %w", in.Bucket, in.Key, err)
	}
	// The record is in the log: a replay would write it, so the catalog
	// and the file must follow it whatever the client does.
	ctx = context.WithoutCancel(ctx)
	pos := ref.Pos()
	mark := catalog.JournalMark{Seg: pos.Seg, Off: pos.Off}
	if err := g.cat.PutFileLogged(ctx, in.User, o, mark); err != nil {
		pending.Abort()
		// Without its mark the record would be taken for an upload whose
		// commit a crash lost, and written again by a replay.
		if merr := g.cat.MarkJournal(context.WithoutCancel(ctx), mark); merr != nil {
			g.log.Error("mark a failed upload's log record", "bucket", in.Bucket, "key", in.Key, "err", merr)
			return fmt.Errorf("put %s/%s: %w", in.Bucket, in.Key, err) // the record stays until the next start
		}
		j.release(ctx, ref)
		return fmt.Errorf("put %s/%s: %w", in.Bucket, in.Key, err)
	}
	if err := pending.Commit(ctx, mod); err != nil {
		g.undoRow(ctx, in, cur) // durable, with the mark before it
		j.release(ctx, ref)
		return fmt.Errorf("put %s/%s: %w", in.Bucket, in.Key, err)
	}
	j.add(ctx, Path{in.User, in.Bucket, in.Key}, ref, int64(len(data)))
	return nil
}

// undoRow puts back the row an upload that failed after its catalog commit
// replaced. Should that fail too, Reconcile mends it at the next start.
func (g *Gateway) undoRow(ctx context.Context, in PutInput, cur *catalog.Object) {
	ctx = context.WithoutCancel(ctx)
	var err error
	if cur != nil {
		err = g.cat.Put(ctx, in.User, *cur)
	} else {
		err = g.cat.Delete(ctx, in.User, in.Bucket, in.Key)
	}
	if err != nil {
		g.log.Error("undo the row of a failed upload", "bucket", in.Bucket, "key", in.Key, "err", err)
	}
}

// replayJournal writes again, durably, the files (and rows) whose bytes a
// crash left in the log only. It runs first in Reconcile.
func (g *Gateway) replayJournal(ctx context.Context) error {
	if g.wal == nil {
		return nil
	}
	last := map[Path]wal.Pos{} // each file's last record
	err := g.wal.Scan(ctx, func(pos wal.Pos, r wal.Record) error {
		last[Path{r.User, r.Bucket, r.Key}] = pos
		return nil
	})
	if err != nil {
		return err
	}
	rewritten, restored := 0, 0
	err = g.wal.Scan(ctx, func(pos wal.Pos, r wal.Record) error {
		p := Path{r.User, r.Bucket, r.Key}
		if last[p] != pos {
			return nil
		}
		marked := r.Row == nil // version 1: the row was committed durably on its own
		if !marked {
			var err error
			if marked, err = g.cat.JournalMarked(ctx, catalog.JournalMark{Seg: pos.Seg, Off: pos.Off}); err != nil {
				return fmt.Errorf("replay %s: %w", p, err)
			}
		}
		var o catalog.Object
		if marked {
			var err error
			o, err = g.cat.Stat(ctx, r.User, r.Bucket, r.Key)
			if errors.Is(err, catalog.ErrNotFound) || (err == nil && o.SHA256 != r.SHA256) {
				return nil // stale: the file changed after this record
			}
			if err != nil {
				return fmt.Errorf("replay %s: %w", p, err)
			}
		} else if err := json.Unmarshal(r.Row, &o); err != nil {
			return fmt.Errorf("replay %s: row: %w", p, err)
		}
		pending, err := g.be.Create(ctx, p, bytes.NewReader(r.Data))
		if err != nil {
			return fmt.Errorf("replay %s: %w", p, err)
		}
		if err := pending.Commit(ctx, o.ModTime()); err != nil {
			return fmt.Errorf("replay %s: %w", p, err)
		}
		if err := pending.Sync(ctx); err != nil {
			return fmt.Errorf("replay %s: %w", p, err)
		}
		if marked {
			rewritten++
			return nil
		}
		o.Bucket, o.Key = r.Bucket, r.Key
		if err := g.cat.PutFile(ctx, r.User, o); err != nil {
			return fmt.Errorf("replay %s: %w", p, err)
		}
		restored++
		return nil
	})
	if err != nil {
		return err
	}
	// The segments go first, durably: a mark must outlive its record.
	if err := g.wal.DropOld(); err != nil {
		return err
	}
	if err := g.cat.DropJournalMarksBefore(ctx, g.wal.First()); err != nil {
		return err
	}
	if len(last) > 0 {
		g.log.Info("replayed the journal of small files", "files", len(last), "rewritten", rewritten, "restored", restored)
	}
	return nil
}
