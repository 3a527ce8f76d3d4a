package diskspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// ErrInsufficientStorage is wrapped by every refusal.
var ErrInsufficientStorage = errors.New("insufficient storage")

// Options configure a Guard.
type Options struct {
	// Reserve is the free space to keep, in bytes; 0 or less disables the
	// guard.
	Reserve int64
	// Ballast is the path of the ballast file (on the guarded filesystem);
	// empty: none.
	Ballast string
	// TTL is how long a statfs answer is trusted (0: 1 s); bytes staged
	// meanwhile are counted on top.
	TTL    time.Duration
	Logger *slog.Logger
	// Statfs returns the bytes available to this process on the filesystem
	// holding dir (tests); nil means statfs(2).
	Statfs func(dir string) (int64, error)
}

// Guard keeps the reserve. It is safe for concurrent use.
type Guard struct {
	dir     string
	reserve int64
	ballast string
	bsize   int64 // the ballast's size: half the reserve
	ttl     time.Duration
	log     *slog.Logger
	statfs  func(string) (int64, error)
	now     func() time.Time

	mu      sync.Mutex
	free    int64 // statfs at checked
	checked time.Time
	charged int64 // bytes staged since checked
	held    bool  // the ballast file is in place
	full    bool  // the last answer was a refusal (for log lines)
}

// New returns a guard of the filesystem holding dir. It checks the space at
// once, and deletes the ballast if the disk is nearly full (so that the
// catalog can open), or makes it if there is room.
func New(dir string, opt Options) (*Guard, error) {
	lg := opt.Logger
	if lg == nil {
		lg = slog.Default()
	}
	g := &Guard{dir: dir, reserve: opt.Reserve, ttl: opt.TTL, log: lg.With("component", "diskspace"), statfs: opt.Statfs, now: time.Now}
	if g.ttl <= 0 {
		g.ttl = time.Second
	}
	if g.statfs == nil {
		g.statfs = statfs
	}
	if g.reserve <= 0 {
		return g, nil
	}
	if opt.Ballast != "" && supported {
		g.ballast, g.bsize = opt.Ballast, g.reserve/2
		if fi, err := os.Stat(g.ballast); err == nil && fi.Size() >= g.bsize {
			g.held = true
		}
	}
	if err := g.Maintain(); err != nil {
		return nil, err
	}
	return g, nil
}

// Reserve is the free space kept, in bytes.
func (g *Guard) Reserve() int64 { return g.reserve }

// refresh reads statfs when the cached figure is stale. g.mu is held.
func (g *Guard) refresh(force bool) error {
	if !force && g.now().Sub(g.checked) < g.ttl {
		return nil
	}
	free, err := g.statfs(g.dir)
	if err != nil {
		return fmt.Errorf("free space of %s: %w", g.dir, err)
	}
	g.free, g.charged, g.checked = free, 0, g.now()
	return nil
}

// avail is the space writes may still take. g.mu is held.
func (g *Guard) avail() int64 {
	a := g.free - g.charged - g.reserve
	if g.held {
		a += g.bsize // the ballast is reserve already kept
	}
	return a
}

// Available returns the bytes writes may take before the reserve (negative:
// below it).
func (g *Guard) Available() (int64, error) {
	if g.reserve <= 0 {
		return 1 << 62, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.refresh(false); err != nil {
		return 0, err
	}
	return g.avail(), nil
}

// Free returns the bytes free on the guarded filesystem, as last read
// (at most a second ago) less what uploads took since.
func (g *Guard) Free() (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.refresh(false); err != nil {
		return 0, err
	}
	return g.free - g.charged, nil
}

// Admit returns nil when a write adding about n bytes (0: unknown, or
// metadata only) may start, else an error wrapping ErrInsufficientStorage.
func (g *Guard) Admit(n int64) error {
	if g.reserve <= 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.refresh(false); err != nil {
		// Unknown free space: let the write try (ENOSPC still stops it).
		g.log.Warn("cannot read the free space", "err", err)
		return nil
	}
	return g.check(n)
}

// check refuses when n bytes do not fit above the reserve. g.mu is held.
func (g *Guard) check(n int64) error {
	a := g.avail()
	if a > 0 && n <= a {
		if g.full {
			g.full = false
			g.log.Info("free space is above the reserve again: writes resume", "available_mib", a>>20, "reserve_mib", g.reserve>>20)
		}
		return nil
	}
	if n > 0 && a > 0 {
		return fmt.Errorf("%d bytes do not fit: %d bytes free above the %d-byte reserve on %s: %w", n, a, g.reserve, g.dir, ErrInsufficientStorage)
	}
	if !g.full {
		g.full = true
		g.log.Warn("free space is below the reserve: writes are refused until space is freed", "dir", g.dir,
			"free_mib", (g.free-g.charged)>>20, "reserve_mib", g.reserve>>20)
	}
	return fmt.Errorf("%d bytes free on %s, below the %d-byte reserve: %w", g.free-g.charged, g.dir, g.reserve, ErrInsufficientStorage)
}

// Counted returns r, charging the bytes read from it against the free
// space as they are staged; a read that goes past it fails with an error
// wrapping ErrInsufficientStorage.
func (g *Guard) Counted(r io.Reader) io.Reader {
	if g.reserve <= 0 {
		return r
	}
	return &counted{g: g, r: r}
}

type counted struct {
	g   *Guard
	r   io.Reader
	err error
}

func (c *counted) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	if n > 0 {
		g := c.g
		g.mu.Lock()
		_ = g.refresh(false) // on error, count on the last figure
		g.charged += int64(n)
		if g.avail() < 0 {
			c.err = g.check(0)
		}
		g.mu.Unlock()
		if c.err != nil {
			return 0, c.err
		}
	}
	return n, err
}

// Maintain reads the free space, deletes the ballast when the disk is
// nearly full (less than a quarter of the reserve free) and makes it when
// there is room for it and half the reserve besides.
func (g *Guard) Maintain() error {
	if g.reserve <= 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.refresh(true); err != nil {
		return err
	}
	if g.ballast == "" {
		return nil
	}
	switch {
	case g.held && g.free < g.reserve/4:
		if err := os.Remove(g.ballast); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("release the ballast %s: %w", g.ballast, err)
		}
		g.held = false
		g.log.Warn("the disk is nearly full: deleted the ballast file so the catalog keeps room; writes are refused until space is freed",
			"dir", g.dir, "free_mib", g.free>>20, "released_mib", g.bsize>>20)
		return g.refresh(true)
	case !g.held && g.free >= g.bsize+g.reserve/2:
		if err := makeBallast(g.ballast, g.bsize); err != nil {
			g.log.Warn("cannot make the ballast file", "path", g.ballast, "err", err)
			return nil
		}
		g.held = true
		g.log.Info("made the ballast file", "path", g.ballast, "mib", g.bsize>>20)
		return g.refresh(true)
	}
	return nil
}

// Run calls Maintain every interval (0: 1 s) until ctx ends.
func (g *Guard) Run(ctx context.Context, every time.Duration) {
	if g.reserve <= 0 {
		return
	}
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := g.Maintain(); err != nil {
			g.log.Error("free space", "err", err)
		}
	}
}

// makeBallast writes a file of size bytes, blocks allocated, via a
// temporary name so that a crash leaves no short ballast behind.
func makeBallast(path string, size int64) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	err = allocate(f, size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ballast %s: %w", path, err)
	}
	return nil
}
