package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
)

// Extractor fills in what it can learn about one file. It reads the file
// through in.File (random access, positioned at 0) and writes into m. An
// error fails the job; what it wrote into m before failing is kept.
type Extractor interface {
	Name() string
	Extract(ctx context.Context, in *Input, m *catalog.Media) error
}

// Input is the file an extractor works on, and its way to its neighbours.
type Input struct {
	User, Bucket string
	Object       catalog.Object
	File         gateway.File
	// Open opens another file of the same bucket (a sidecar).
	Open func(ctx context.Context, key string) (gateway.File, catalog.Object, error)
	// Media returns another file's media record.
	Media func(ctx context.Context, key string) (catalog.Media, error)
	// Requeue queues another file of the bucket for enrichment again.
	Requeue func(ctx context.Context, key string) error
}

// Options configure a Pool.
type Options struct {
	// Workers is the number of concurrent jobs; 0 means the number of CPUs.
	Workers int
	// Lease is how long a job is a worker's before another may take it
	// (a worker that died); 0 means 10 minutes.
	Lease time.Duration
	// Idle is how often idle workers look for due jobs (retries); 0 means 2 s.
	Idle       time.Duration
	Extractors []Extractor
	Logger     *slog.Logger
	// Observe, when set, hears of every finished try: result is "done",
	// "retry" or "failed", kind the file's ("photo", "video", "other")
	// (metrics).
	Observe func(result, kind string, took time.Duration)
	// Busy, when set, says whether clients are being served at the moment:
	// a worker then waits a little before its next job (at most
	// busyWait), so that uploads and listings come first and enrichment
	// takes the time they leave.
	Busy func() bool
}

// busyWait is the longest a worker defers its next job to clients, and
// busyPoll how often it looks again.
const (
	busyWait = 250 * time.Millisecond
	busyPoll = 10 * time.Millisecond
)

// Pool is the set of enrichment workers.
type Pool struct {
	gw   *gateway.Gateway
	cat  *catalog.Catalog
	opt  Options
	log  *slog.Logger
	wake chan struct{}
	// paused: the disk was below its reserve at the last look.
	paused atomic.Bool
}

// NewPool returns a pool; Run starts it.
func NewPool(gw *gateway.Gateway, opt Options) *Pool {
	if opt.Workers <= 0 {
		opt.Workers = runtime.NumCPU()
	}
	if opt.Lease <= 0 {
		opt.Lease = 10 * time.Minute
	}
	if opt.Idle <= 0 {
		opt.Idle = 2 * time.Second
	}
	if opt.Extractors == nil {
		opt.Extractors = []Extractor{Metadata{}}
	}
	lg := opt.Logger
	if lg == nil {
		lg = slog.Default()
	}
	return &Pool{gw: gw, cat: gw.Catalog(), opt: opt, log: lg.With("component", "enrich"), wake: make(chan struct{}, 1)}
}

// Committed implements gateway.Hook: a new file wakes an idle worker.
func (p *Pool) Committed(ctx context.Context, ev gateway.Event) error {
	if ev.Op == gateway.OpPut {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

var _ gateway.Hook = (*Pool)(nil)

// Run works the queue until ctx ends. Jobs leased by an earlier process
// (killed mid-job) are released first, so they run now.
func (p *Pool) Run(ctx context.Context) {
	if n, err := p.cat.ReleaseLeases(ctx); err != nil {
		if ctx.Err() == nil { // a start-up that failed says why itself
			p.log.Error("release stale leases", "err", err)
		}
	} else if n > 0 {
		p.log.Info("resuming jobs a stopped worker had in hand", "jobs", n)
	}
	var wg sync.WaitGroup
	for range p.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.worker(ctx)
		}()
	}
	wg.Wait()
}

func (p *Pool) worker(ctx context.Context) {
	t := time.NewTicker(p.opt.Idle)
	defer t.Stop()
	for ctx.Err() == nil {
		for waited := time.Duration(0); p.opt.Busy != nil && waited < busyWait && p.opt.Busy(); waited += busyPoll {
			select {
			case <-ctx.Done():
				return
			case <-time.After(busyPoll):
			}
		}
		if !p.spaceLeft() {
			select { // no derived data (rows, thumbnails) below the reserve
			case <-ctx.Done():
			case <-t.C:
			}
			continue
		}
		jobs, err := p.cat.LeaseJobs(ctx, time.Now(), p.opt.Lease, 1)
		if err != nil {
			p.log.Error("lease jobs", "err", err)
		}
		if len(jobs) == 0 {
			select {
			case <-ctx.Done():
			case <-p.wake:
			case <-t.C:
			}
			continue
		}
		for _, j := range jobs {
			p.process(ctx, j)
		}
		// More may be waiting: pass the wake-up on.
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// spaceLeft reports whether the disk is above its free-space reserve
// (gateway.Admit); below it, workers write nothing and wait, and the pool
// says so once.
func (p *Pool) spaceLeft() bool {
	err := p.gw.Admit(0)
	if err == nil {
		if p.paused.CompareAndSwap(true, false) {
			p.log.Info("free space is back: enrichment resumes")
		}
		return true
	}
	if p.paused.CompareAndSwap(false, true) {
		p.log.Warn("enrichment paused: the disk is below its free-space reserve; no thumbnails or media records are written until space is freed", "err", err)
	}
	return false
}

func (p *Pool) process(ctx context.Context, j catalog.Job) {
	start := time.Now()
	m, err := p.extract(ctx, j)
	observe := func(result string) {
		if p.opt.Observe != nil {
			kind := m.Kind
			if kind == "" {
				kind = "other"
			}
			p.opt.Observe(result, kind, time.Since(start))
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down: the lease runs out and the job is done later
		}
		if _, serr := p.cat.Stat(ctx, j.User, j.Bucket, j.Key); errors.Is(serr, catalog.ErrNotFound) {
			// Deleted or moved while it was read: its job went with it.
			p.log.Debug("enrichment skipped: the file is gone", "bucket", j.Bucket, "key", j.Key, "err", err)
			return
		}
		p.log.Warn("enrichment failed", "bucket", j.Bucket, "key", j.Key, "attempt", j.Attempts+1, "err", err)
		retry := retryable(err) && j.Attempts+1 < catalog.MaxAttempts
		var partial *catalog.Media
		if m.Kind != "" {
			partial = &m // what was learnt before the failure
		}
		if ferr := p.cat.FailJob(ctx, j, time.Now(), err, retryable(err), partial); ferr != nil {
			p.log.Error("record failed job", "key", j.Key, "err", ferr)
		}
		if retry {
			observe("retry")
		} else {
			observe("failed")
		}
		return
	}
	if err := p.cat.CompleteJob(ctx, j, m); err != nil {
		p.log.Error("record media", "key", j.Key, "err", err)
		return
	}
	observe("done")
	p.log.Debug("enriched", "bucket", j.Bucket, "key", j.Key, "kind", m.Kind, "took", time.Since(start))
}

// permanent marks errors that a retry cannot fix (bad file contents).
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

func retryable(err error) bool {
	_, perm := err.(permanent)
	return !perm
}

func (p *Pool) extract(ctx context.Context, j catalog.Job) (m catalog.Media, err error) {
	f, o, err := p.gw.Open(ctx, j.User, j.Bucket, j.Key)
	if err != nil {
		return m, err
	}
	defer f.Close()
	if o.UploadNs != j.Gen {
		return m, fmt.Errorf("%s/%s changed before enrichment", j.Bucket, j.Key)
	}
	in := &Input{
		User: j.User, Bucket: j.Bucket, Object: o, File: f,
		Open: func(ctx context.Context, key string) (gateway.File, catalog.Object, error) {
			return p.gw.Open(ctx, j.User, j.Bucket, key)
		},
		Media: func(ctx context.Context, key string) (catalog.Media, error) {
			return p.cat.MediaOf(ctx, j.User, j.Bucket, key)
		},
		Requeue: func(ctx context.Context, key string) error {
			err := p.cat.Requeue(ctx, j.User, j.Bucket, key)
			p.Committed(ctx, gateway.Event{Op: gateway.OpPut})
			return err
		},
	}
	// A failed extractor fails the job, but the ones after it still run
	// on what was learnt (a truncated photo with GPS still gets its place).
	var first error
	for _, x := range p.opt.Extractors {
		if err := p.safely(ctx, x, in, &m); err != nil && first == nil {
			first = err
		}
	}
	return m, first
}

// safely runs one extractor, turning a panic into its job's error.
func (p *Pool) safely(ctx context.Context, x Extractor, in *Input, m *catalog.Media) (err error) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("extractor panicked", "extractor", x.Name(), "key", in.Object.Key, "panic", r, "stack", string(debug.Stack()))
			err = permanent{fmt.Errorf("%s: %s crashed on this file: %v", in.Object.Key, x.Name(), r)}
		}
	}()
	if _, err := in.File.Seek(0, 0); err != nil {
		return err
	}
	return x.Extract(ctx, in, m)
}
