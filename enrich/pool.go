package enrich

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
)

// Extractor fills in what it can learn about one file. It reads the file
// through f (random access) and writes into m; an error fails the job.
type Extractor interface {
	Name() string
	Extract(ctx context.Context, o catalog.Object, f gateway.File, m *catalog.Media) error
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
	// "retry" or "failed" (metrics).
	Observe func(result string, took time.Duration)
}

// Pool is the set of enrichment workers.
type Pool struct {
	gw   *gateway.Gateway
	cat  *catalog.Catalog
	opt  Options
	log  *slog.Logger
	wake chan struct{}
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
		opt.Extractors = []Extractor{Basic{}}
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

// Run works the queue until ctx ends.
func (p *Pool) Run(ctx context.Context) {
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

func (p *Pool) process(ctx context.Context, j catalog.Job) {
	start := time.Now()
	observe := func(result string) {
		if p.opt.Observe != nil {
			p.opt.Observe(result, time.Since(start))
		}
	}
	m, err := p.extract(ctx, j)
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down: the lease runs out and the job is done later
		}
		p.log.Warn("enrichment failed", "bucket", j.Bucket, "key", j.Key, "attempt", j.Attempts+1, "err", err)
		retry := retryable(err) && j.Attempts+1 < catalog.MaxAttempts
		if ferr := p.cat.FailJob(ctx, j, time.Now(), err, retryable(err)); ferr != nil {
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
	for _, x := range p.opt.Extractors {
		if err := p.safely(ctx, x, o, f, &m); err != nil {
			return m, err
		}
	}
	return m, nil
}

// safely runs one extractor, turning a panic into its job's error.
func (p *Pool) safely(ctx context.Context, x Extractor, o catalog.Object, f gateway.File, m *catalog.Media) (err error) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("extractor panicked", "extractor", x.Name(), "key", o.Key, "panic", r, "stack", string(debug.Stack()))
			err = permanent{fmt.Errorf("%s: %s crashed on this file: %v", o.Key, x.Name(), r)}
		}
	}()
	if _, err := f.Seek(0, 0); err != nil {
		return err
	}
	return x.Extract(ctx, o, f, m)
}
