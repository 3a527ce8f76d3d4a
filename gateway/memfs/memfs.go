// Package memfs is an in-memory gateway.Backend, for tests and for trying
// Shoebox without touching the disk. It passes the same conformance suite
// (gateway/storetest) as the local-disk backend.
package memfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"shoebox/gateway"
)

type node struct {
	data     []byte // nil for a folder
	dir      bool
	mod      time.Time
	volatile bool // committed unsynced and not flushed since (Volatile)
}

// FS is an in-memory backend. The zero value is not usable; call New.
type FS struct {
	mu    sync.Mutex
	nodes map[string]*node // "user/bucket/key" without trailing '/'
}

var _ gateway.Backend = (*FS)(nil)

// New returns an empty backend.
func New() *FS { return &FS{nodes: map[string]*node{}} }

func name(p gateway.Path) string {
	n := p.User + "/" + p.Bucket
	if k := strings.TrimSuffix(p.Key, "/"); k != "" {
		n += "/" + k
	}
	return n
}

func notExist(op string, p gateway.Path) error {
	return &fs.PathError{Op: op, Path: p.String(), Err: fs.ErrNotExist}
}

type pending struct {
	f        *FS
	p        gateway.Path
	data     []byte
	done     bool
	volatile bool
}

// Create implements gateway.Backend.
func (f *FS) Create(ctx context.Context, p gateway.Path, r io.Reader) (gateway.Pending, error) {
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("stage %s: %w", p, err)
	}
	return &pending{f: f, p: p, data: b.Bytes()}, nil
}

func (p *pending) Size() int64 { return int64(len(p.data)) }

func (p *pending) Commit(ctx context.Context, mod time.Time) error {
	if p.done {
		return errors.New("memfs: commit after commit or abort")
	}
	p.done = true
	if mod.IsZero() {
		mod = time.Now()
	}
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	p.f.mkdirAll(parentName(name(p.p)), mod)
	if n := p.f.nodes[name(p.p)]; n != nil && n.dir {
		return &fs.PathError{Op: "commit", Path: p.p.String(), Err: gateway.ErrIsDir}
	}
	p.f.nodes[name(p.p)] = &node{data: p.data, mod: mod, volatile: p.volatile}
	return nil
}

func (p *pending) Sync(ctx context.Context) error { return nil }

func (p *pending) Abort() error { p.done = true; p.data = nil; return nil }

func parentName(n string) string {
	if i := strings.LastIndexByte(n, '/'); i >= 0 {
		return n[:i]
	}
	return ""
}

func (f *FS) mkdirAll(n string, mod time.Time) {
	for n != "" && f.nodes[n] == nil {
		f.nodes[n] = &node{dir: true, mod: mod}
		n = parentName(n)
	}
}

type file struct{ *bytes.Reader }

func (file) Close() error { return nil }

// Open implements gateway.Backend.
func (f *FS) Open(ctx context.Context, p gateway.Path) (gateway.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[name(p)]
	if n == nil {
		return nil, notExist("open", p)
	}
	if n.dir {
		return nil, &fs.PathError{Op: "open", Path: p.String(), Err: gateway.ErrIsDir}
	}
	return file{bytes.NewReader(n.data)}, nil
}

// Stat implements gateway.Backend.
func (f *FS) Stat(ctx context.Context, p gateway.Path) (gateway.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[name(p)]
	if n == nil || n.dir != p.IsDir() {
		return gateway.Entry{}, notExist("stat", p)
	}
	return gateway.Entry{Path: p, Size: int64(len(n.data)), ModTime: n.mod}, nil
}

// Mkdir implements gateway.Backend.
func (f *FS) Mkdir(ctx context.Context, p gateway.Path) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := f.nodes[name(p)]; n != nil && !n.dir {
		return &fs.PathError{Op: "mkdir", Path: p.String(), Err: fs.ErrExist}
	}
	f.mkdirAll(name(p), time.Now())
	return nil
}

// subtree returns n and the names below it.
func (f *FS) subtree(n string) []string {
	out := []string{n}
	for k := range f.nodes {
		if strings.HasPrefix(k, n+"/") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Remove implements gateway.Backend.
func (f *FS) Remove(ctx context.Context, p gateway.Path) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[name(p)]
	if n == nil || n.dir != p.IsDir() {
		return notExist("remove", p)
	}
	for _, k := range f.subtree(name(p)) {
		delete(f.nodes, k)
	}
	return nil
}

func (f *FS) transfer(src, dst gateway.Path, keep bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	sn, dn := name(src), name(dst)
	n := f.nodes[sn]
	if n == nil || n.dir != src.IsDir() {
		return notExist("rename", src)
	}
	moved := map[string]*node{}
	for _, k := range f.subtree(sn) {
		c := *f.nodes[k]
		moved[dn+strings.TrimPrefix(k, sn)] = &c
		if !keep {
			delete(f.nodes, k)
		}
	}
	for _, k := range f.subtree(dn) {
		delete(f.nodes, k)
	}
	f.mkdirAll(parentName(dn), time.Now())
	for k, v := range moved {
		f.nodes[k] = v
	}
	return nil
}

// Rename implements gateway.Backend.
func (f *FS) Rename(ctx context.Context, src, dst gateway.Path) error {
	return f.transfer(src, dst, false)
}

// Copy implements gateway.Backend.
func (f *FS) Copy(ctx context.Context, src, dst gateway.Path) error {
	return f.transfer(src, dst, true)
}

// SetModTime implements gateway.Backend.
func (f *FS) SetModTime(ctx context.Context, p gateway.Path, t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[name(p)]
	if n == nil {
		return notExist("chtimes", p)
	}
	n.mod = t
	return nil
}

// Walk implements gateway.Backend.
func (f *FS) Walk(ctx context.Context, fn func(gateway.Entry) error) error {
	f.mu.Lock()
	var entries []gateway.Entry
	for k, n := range f.nodes {
		parts := strings.SplitN(k, "/", 3)
		if len(parts) < 2 {
			continue
		}
		p := gateway.Path{User: parts[0], Bucket: parts[1]}
		if len(parts) == 3 {
			p.Key = parts[2]
			if n.dir {
				p.Key += "/"
			}
		}
		entries = append(entries, gateway.Entry{Path: p, Size: int64(len(n.data)), ModTime: n.mod})
	}
	f.mu.Unlock()
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path.String() < entries[j].Path.String() })
	skip := "" // a folder whose subtree fn skipped
	for _, e := range entries {
		name := e.Path.String()
		if skip != "" && strings.HasPrefix(name, skip) {
			continue
		}
		if err := fn(e); errors.Is(err, fs.SkipDir) && e.Path.IsDir() {
			skip = name
		} else if err != nil {
			return err
		}
	}
	return nil
}

// Volatile is an FS that is also a gateway.Flusher, with a model of a disk
// cache to test what survives a crash: a file committed through
// CreateUnsynced, and not covered by a Flush since, is lost by Crash
// (renames and copies of it too).
type Volatile struct{ *FS }

var _ gateway.Flusher = Volatile{}

// NewVolatile returns an empty Volatile backend.
func NewVolatile() Volatile { return Volatile{New()} }

// CreateUnsynced implements gateway.Flusher.
func (v Volatile) CreateUnsynced(ctx context.Context, p gateway.Path, r io.Reader) (gateway.Pending, error) {
	pd, err := v.Create(ctx, p, r)
	if err != nil {
		return nil, err
	}
	pd.(*pending).volatile = true
	return pd, nil
}

// Flush implements gateway.Flusher.
func (v Volatile) Flush(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, n := range v.nodes {
		n.volatile = false
	}
	return nil
}

// Crash drops what a crash of the machine would: every file committed
// unsynced since the last Flush.
func (v Volatile) Crash() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, n := range v.nodes {
		if n.volatile {
			delete(v.nodes, k)
		}
	}
}
