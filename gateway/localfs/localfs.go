// Package localfs is the local-disk gateway.Backend: originals live under
// <root>/<user>/<bucket>/<key> exactly as uploaded, so Shoebox can be removed
// and nothing is locked in.
//
// Every access goes through the root directory, and no operation follows a
// symbolic link at any component of a path (on Linux openat2(2) with
// RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH resolves every path, elsewhere each
// component is checked with Lstat before an os.Root operation): a link
// planted behind Shoebox's back, to another user's files or outside the
// data directory, is refused with ErrSymlink (a not-found error), never
// served, written through or walked into; Walk reports it (Entry.Symlink)
// for Reconcile to name. Users, buckets and keys are single plain segments
// below <root>/<user>, so each user stays in their folder. See
// nofollow.go. Uploads are written to
// <root>/.tmp/ (same filesystem, a name no user can have; on Linux as
// unnamed O_TMPFILE files, see unnamed_linux.go), their writeback started
// every 8 MiB as they arrive (Linux: sync_file_range; the final fsync then
// waits for the tail only: 64 MiB PUTs +11%), fsynced, and renamed (or
// linked) into place; the parent folder is fsynced after. New removes what
// a crash left in .tmp. Copies of files are hard links where
// the filesystem allows (writes always replace a file with a new inode, so a
// link is as independent as a copy) and byte copies otherwise; a folder copy
// is assembled in .tmp and renamed into place in one step. A name between
// slashes longer than file systems keep (255 bytes) is stored under its
// SHA-256 and recorded in <root>/.names (see longName).
//
// On Linux FS is also a gateway.Flusher: CreateUnsynced stages without
// fsync, and Flush is one syncfs(2) of the file system, which makes every
// file and folder entry written before it durable at once (the gateway
// journals small files and flushes them in batches).
package localfs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"shoebox/gateway"
)

const tmpDir = ".tmp"

// FS is a gateway.Backend on a local directory.
type FS struct {
	root   *os.Root
	noSync bool
	// bn resolves paths without following links (Linux: openat2); nil
	// where there is none, and paths are checked by checkLinks (see
	// nofollow.go).
	bn beneath
	// syncers fsync folders in batches: concurrent commits into the same
	// folder share one fsync of it.
	syncers [16]dirSyncer
	seed    maphash.Seed // spreads folders over the syncers
	names   sync.Map     // hex SHA-256 → long segment (see longName)
	// unnamed: uploads are staged as unnamed files in tmp (see
	// unnamed_linux.go), else as named files in .tmp.
	unnamed bool
	tmp     *os.File
	// reap takes what Remove set aside in .tmp, for reaper.
	reap   chan string
	reaped chan struct{}
}

var _ gateway.Backend = (*FS)(nil)

// Options for New.
type Options struct {
	// NoSync skips fsync calls. Never use it for data you care about.
	NoSync bool
	// noBeneath forces the Lstat fallback of nofollow.go (tests).
	noBeneath bool
}

// New opens (creating if needed) a local backend rooted at dir and removes
// any staging files left by a crash.
func New(dir string, opt Options) (*FS, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("local backend %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("local backend %s: %w", dir, err)
	}
	if err := root.RemoveAll(tmpDir); err != nil {
		root.Close()
		return nil, fmt.Errorf("local backend %s: clear staging: %w", dir, err)
	}
	if err := root.Mkdir(tmpDir, 0o700); err != nil {
		root.Close()
		return nil, fmt.Errorf("local backend %s: %w", dir, err)
	}
	if err := root.Mkdir(namesDir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		root.Close()
		return nil, fmt.Errorf("local backend %s: %w", dir, err)
	}
	f := &FS{root: root, noSync: opt.NoSync, seed: maphash.MakeSeed(), reap: make(chan string, 4096), reaped: make(chan struct{})}
	if !opt.noBeneath {
		f.bn = newBeneath(root)
	}
	f.probeUnnamed()
	go f.reaper()
	for i := range f.syncers {
		f.syncers[i].wake = make(chan struct{}, 1)
		go f.syncers[i].run(f)
	}
	return f, nil
}

// Close stops the folder syncers and releases the root directory. No other
// method may be running or called after it.
func (f *FS) Close() error {
	for i := range f.syncers {
		close(f.syncers[i].wake)
	}
	close(f.reap)
	<-f.reaped
	if f.tmp != nil {
		f.tmp.Close()
	}
	if f.bn != nil {
		f.bn.close()
	}
	return f.root.Close()
}

// dirSyncer is a group commit for folder fsyncs: callers add their folder to
// the batch being collected and wait; the syncer's goroutine takes the
// batch, fsyncs each folder once, and wakes them. A batch taken after a
// caller's rename is synced after it, so the rename is covered.
type dirSyncer struct {
	mu   sync.Mutex
	cur  *syncBatch
	wake chan struct{}
}

type syncBatch struct {
	dirs map[string]bool
	done chan struct{}
	err  error
}

func (d *dirSyncer) run(f *FS) {
	for range d.wake {
		for {
			d.mu.Lock()
			b := d.cur
			d.cur = nil
			d.mu.Unlock()
			if b == nil {
				break
			}
			for dir := range b.dirs {
				if err := f.fsyncDir(dir); err != nil && b.err == nil {
					b.err = err
				}
			}
			close(b.done)
		}
	}
}

// name is where p is on disk: its segments, but for those longer than file
// systems allow (see longName). Paths that could leave the user's folder
// are refused (checkPath).
func name(p gateway.Path) (string, error) {
	if err := checkPath(p); err != nil {
		return "", err
	}
	key := strings.TrimSuffix(p.Key, "/")
	if len(key) > maxName { // a segment may be too long
		segs := strings.Split(key, "/")
		for i, sg := range segs {
			if len(sg) > maxName {
				segs[i] = longName(sg)
			}
		}
		key = strings.Join(segs, "/")
	}
	return path.Join(p.User, p.Bucket, key), nil
}

// Long names. S3 keys may have segments (between slashes) of any length up
// to the key's 1,024 bytes, file systems names of 255 bytes. A longer
// segment is stored under longName(segment), a byte no key can hold (keys
// have no control bytes) followed by the hex SHA-256 of the segment; the
// segment itself is kept in <root>/.names/<hex>, written once before the
// first file or folder of that name, and read back by Walk. The records
// are content-addressed, so renames, copies and deletes never touch them.
const (
	maxName   = 255
	longMark  = "\x01"
	namesDir  = ".names"
	longBytes = len(longMark) + 2*sha256.Size
)

func longName(seg string) string {
	h := sha256.Sum256([]byte(seg))
	return longMark + hex.EncodeToString(h[:])
}

// diskName is name(p) for a path about to be created: the segments it
// names by hash are recorded first.
func (f *FS) diskName(p gateway.Path) (string, error) {
	n, err := name(p)
	if err != nil {
		return "", err
	}
	key := strings.TrimSuffix(p.Key, "/")
	if len(key) > maxName {
		for _, sg := range strings.Split(key, "/") {
			if len(sg) > maxName {
				if err := f.recordName(sg); err != nil {
					return "", fmt.Errorf("record the long name of %s: %w", p, err)
				}
			}
		}
	}
	return n, nil
}

// recordName keeps seg in .names (once: durable before it is used).
func (f *FS) recordName(seg string) error {
	hx := strings.TrimPrefix(longName(seg), longMark)
	if _, ok := f.names.Load(hx); ok {
		return nil
	}
	rec := path.Join(namesDir, hx)
	if _, err := f.root.Stat(rec); err == nil {
		f.names.Store(hx, seg)
		return nil
	}
	tmp := tmpName("name-")
	fh, err := f.root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = io.WriteString(fh, seg)
	if err == nil && !f.noSync {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = f.root.Rename(tmp, rec)
	}
	if err == nil {
		err = f.syncDir(namesDir)
	}
	if err != nil {
		f.root.Remove(tmp)
		return err
	}
	f.names.Store(hx, seg)
	return nil
}

// realName is the key segment a disk name stands for; ok is false for a
// hashed name whose record is missing.
func (f *FS) realName(disk string) (string, bool) {
	hx, long := strings.CutPrefix(disk, longMark)
	if !long {
		return disk, true
	}
	if len(disk) != longBytes {
		return "", false
	}
	if v, ok := f.names.Load(hx); ok {
		return v.(string), true
	}
	b, err := f.root.ReadFile(path.Join(namesDir, hx))
	if err != nil || longName(string(b)) != disk {
		return "", false
	}
	f.names.Store(hx, string(b))
	return string(b), true
}

func tmpName(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return path.Join(tmpDir, prefix+hex.EncodeToString(b[:]))
}

var bufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// pending is a staged upload: a named file in .tmp (tmp), or an unnamed
// one (fh, Linux O_TMPFILE) that Commit links into place.
type pending struct {
	fs        *FS
	tmp       string
	fh        *os.File
	dst       gateway.Path
	dir       string // the folder the file was renamed into
	size      int64
	done      bool
	committed bool
}

// Create implements gateway.Backend.
func (f *FS) Create(ctx context.Context, p gateway.Path, r io.Reader) (gateway.Pending, error) {
	return f.create(ctx, p, r, !f.noSync)
}

// create stages r; with sync, its bytes are on stable storage on return.
func (f *FS) create(ctx context.Context, p gateway.Path, r io.Reader, sync bool) (gateway.Pending, error) {
	var (
		tmp string
		fh  *os.File
		err error
	)
	if f.unnamed {
		fh, err = f.openUnnamed()
	} else {
		tmp = tmpName("up-")
		fh, err = f.root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	}
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", p, err)
	}
	bp := bufs.Get().(*[]byte)
	var w io.Writer = struct{ io.Writer }{fh}
	if sync {
		w = &writebackWriter{f: fh}
	}
	n, err := io.CopyBuffer(w, gateway.ContextReader(ctx, r), *bp)
	bufs.Put(bp)
	if err == nil && sync {
		err = fh.Sync()
	}
	if tmp == "" { // unnamed: kept open until linked (closing it frees it)
		if err != nil {
			fh.Close()
			return nil, fmt.Errorf("stage %s: %w", p, err)
		}
		return &pending{fs: f, fh: fh, dst: p, size: n}, nil
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		f.root.Remove(tmp)
		return nil, fmt.Errorf("stage %s: %w", p, err)
	}
	return &pending{fs: f, tmp: tmp, dst: p, size: n}, nil
}

// writebackEvery is how many bytes of an upload are written before their
// writeback to disk is started (startWriteback), so that the fsync that
// ends the upload waits for the last of them only.
const writebackEvery = 8 << 20

// writebackWriter writes to f, starting the writeback of each
// writebackEvery bytes as they are written.
type writebackWriter struct {
	f       *os.File
	off     int64 // bytes written
	started int64 // bytes whose writeback was started
}

func (w *writebackWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writebackEvery {
		startWriteback(w.f, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}

func (p *pending) Size() int64 { return p.size }

func (p *pending) Commit(ctx context.Context, mod time.Time) error {
	if p.done {
		return errors.New("localfs: commit after commit or abort")
	}
	p.done = true
	if p.fh != nil {
		defer p.fh.Close()
		if err := p.commitUnnamed(mod); err != nil {
			return fmt.Errorf("commit %s: %w", p.dst, err)
		}
		p.committed = true
		return nil
	}
	if !mod.IsZero() {
		if err := p.fs.root.Chtimes(p.tmp, mod, mod); err != nil {
			p.fs.root.Remove(p.tmp)
			return fmt.Errorf("commit %s: %w", p.dst, err)
		}
	}
	dst, err := p.fs.diskName(p.dst)
	if err != nil {
		p.fs.root.Remove(p.tmp)
		return err
	}
	p.dir = path.Dir(dst)
	err = p.fs.rename(p.tmp, dst)
	if errors.Is(err, fs.ErrNotExist) {
		if err = p.fs.mkdirAll(path.Dir(dst)); err == nil {
			err = p.fs.rename(p.tmp, dst)
		}
	}
	if err != nil {
		p.fs.root.Remove(p.tmp)
		return fmt.Errorf("commit %s: %w", p.dst, err)
	}
	p.committed = true
	return nil
}

// Sync waits until the rename is durable: the file's bytes were fsynced
// when staged, so only its folder remains.
func (p *pending) Sync(ctx context.Context) error {
	if !p.committed {
		return errors.New("localfs: sync before commit")
	}
	return p.fs.syncDir(p.dir)
}

func (p *pending) Abort() error {
	if p.done {
		return nil
	}
	p.done = true
	if p.fh != nil {
		return p.fh.Close()
	}
	return p.fs.root.Remove(p.tmp)
}

// syncDir makes the entries of dir durable, sharing the fsync with
// concurrent callers (see dirSyncer).
func (f *FS) syncDir(dir string) error {
	if f.noSync {
		return nil
	}
	var h maphash.Hash
	h.SetSeed(f.seed)
	h.WriteString(dir)
	d := &f.syncers[h.Sum64()%uint64(len(f.syncers))]
	d.mu.Lock()
	if d.cur == nil {
		d.cur = &syncBatch{dirs: map[string]bool{}, done: make(chan struct{})}
	}
	b := d.cur
	b.dirs[dir] = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	<-b.done
	return b.err
}

func (f *FS) fsyncDir(dir string) error {
	d, err := f.openRead(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Open implements gateway.Backend.
func (f *FS) Open(ctx context.Context, p gateway.Path) (gateway.File, error) {
	n, err := name(p)
	if err != nil {
		return nil, err
	}
	fh, err := f.openRead(n)
	if err != nil {
		return nil, err
	}
	if st, err := fh.Stat(); err != nil || st.IsDir() {
		fh.Close()
		return nil, &fs.PathError{Op: "open", Path: p.String(), Err: gateway.ErrIsDir}
	}
	return fh, nil
}

// Stat implements gateway.Backend.
func (f *FS) Stat(ctx context.Context, p gateway.Path) (gateway.Entry, error) {
	n, err := name(p)
	if err != nil {
		return gateway.Entry{}, err
	}
	st, err := f.statNoLinks(n)
	if err != nil {
		return gateway.Entry{}, err
	}
	if st.IsDir() != p.IsDir() {
		return gateway.Entry{}, &fs.PathError{Op: "stat", Path: p.String(), Err: fs.ErrNotExist}
	}
	e := gateway.Entry{Path: p, ModTime: st.ModTime()}
	if !st.IsDir() {
		e.Size = st.Size()
	}
	return e, nil
}

// Mkdir implements gateway.Backend.
func (f *FS) Mkdir(ctx context.Context, p gateway.Path) error {
	n, err := f.diskName(p)
	if err != nil {
		return err
	}
	if err := f.mkdirAll(n); err != nil {
		return fmt.Errorf("mkdir %s: %w", p, err)
	}
	return f.syncDir(path.Dir(n))
}

// Remove implements gateway.Backend. The file or folder is renamed into
// .tmp, so it disappears at once (durably, with its folder's fsync), and
// freed in the background (reaper).
func (f *FS) Remove(ctx context.Context, p gateway.Path) error {
	n, err := name(p)
	if err != nil {
		return err
	}
	if p.IsDir() {
		if _, err := f.statNoLinks(n); err != nil {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	aside := tmpName("rm-")
	if err := f.rename(n, aside); err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	if err := f.syncDir(path.Dir(n)); err != nil {
		return err
	}
	select {
	case f.reap <- aside:
	default: // the reaper is behind: free it here
		f.root.RemoveAll(aside)
	}
	return nil
}

// reaper frees what Remove set aside in .tmp, off the request's path:
// freeing a large file's blocks (with the discards some file systems do
// then) made the folder fsync that ends a delete wait for it (64 MiB
// DELETEs ran at 90 a second).
func (f *FS) reaper() {
	defer close(f.reaped)
	for aside := range f.reap {
		f.root.RemoveAll(aside)
	}
}

// Rename implements gateway.Backend.
func (f *FS) Rename(ctx context.Context, src, dst gateway.Path) error {
	sn, err := name(src)
	if err != nil {
		return err
	}
	dn, err := f.diskName(dst)
	if err != nil {
		return err
	}
	// A link is not moved either (rename would move the link itself).
	if st, err := f.lstat(sn); err != nil {
		return fmt.Errorf("rename %s: %w", src, err)
	} else if st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("rename %s: %w", src, symlinkErr("rename", sn))
	}
	if err := f.mkdirAll(path.Dir(dn)); err != nil {
		return fmt.Errorf("rename %s to %s: %w", src, dst, err)
	}
	if err := f.clear(dn); err != nil {
		return fmt.Errorf("rename %s to %s: %w", src, dst, err)
	}
	if err := f.rename(sn, dn); err != nil {
		return fmt.Errorf("rename %s to %s: %w", src, dst, err)
	}
	if err := f.syncDir(path.Dir(dn)); err != nil {
		return err
	}
	if path.Dir(sn) != path.Dir(dn) {
		return f.syncDir(path.Dir(sn))
	}
	return nil
}

// clear removes whatever sits at dn (file, folder or link: not followed).
func (f *FS) clear(dn string) error {
	st, err := f.lstat(dn)
	if errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrSymlink) {
		return nil
	} else if err != nil {
		return err
	}
	if !st.IsDir() {
		return f.remove(dn)
	}
	aside := tmpName("rm-")
	if err := f.rename(dn, aside); err != nil {
		return err
	}
	return f.root.RemoveAll(aside)
}

// Copy implements gateway.Backend.
func (f *FS) Copy(ctx context.Context, src, dst gateway.Path) error {
	sn, err := name(src)
	if err != nil {
		return err
	}
	dn, err := f.diskName(dst)
	if err != nil {
		return err
	}
	st, err := f.statNoLinks(sn)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	tmp := tmpName("cp-")
	if st.IsDir() {
		err = fs.WalkDir(f.root.FS(), sn, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			t := tmp + strings.TrimPrefix(p, sn)
			if d.IsDir() {
				return f.root.Mkdir(t, 0o750)
			}
			if !d.Type().IsRegular() {
				return nil // links (and devices) are not copied
			}
			return f.copyFile(p, t)
		})
	} else {
		err = f.copyFile(sn, tmp)
	}
	if err == nil {
		err = f.mkdirAll(path.Dir(dn))
	}
	if err == nil {
		err = f.clear(dn)
	}
	if err == nil {
		err = f.rename(tmp, dn)
	}
	if err != nil {
		f.root.RemoveAll(tmp)
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return f.syncDir(path.Dir(dn))
}

// copyFile links src at dst, or copies the bytes when links are refused.
func (f *FS) copyFile(src, dst string) error {
	if err := f.link(src, dst); err == nil {
		return nil
	}
	in, err := f.openRead(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := f.root.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil && !f.noSync {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if st, serr := in.Stat(); err == nil && serr == nil {
		err = f.root.Chtimes(dst, st.ModTime(), st.ModTime())
	}
	return err
}

// SetModTime implements gateway.Backend.
func (f *FS) SetModTime(ctx context.Context, p gateway.Path, t time.Time) error {
	n, err := name(p)
	if err != nil {
		return err
	}
	if err := f.chtimes(n, t); err != nil {
		return fmt.Errorf("set the time of %s: %w", p, err)
	}
	return nil
}

// Walk implements gateway.Backend. A symbolic link is never descended into
// nor reported as a file or folder: fn gets it with Entry.Symlink set (a
// fs.SkipDir it returns then is ignored). Walk lists folders through the
// root, which follows a link swapped in for a folder between its listing
// and its reading; what it then reports cannot be opened, as Open follows
// no link.
func (f *FS) Walk(ctx context.Context, fn func(gateway.Entry) error) error {
	return fs.WalkDir(f.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if p == tmpDir || p == namesDir {
			return fs.SkipDir
		}
		parts := strings.SplitN(p, "/", 3)
		if d.Type()&fs.ModeSymlink != 0 {
			e := gateway.Entry{Path: gateway.Path{User: parts[0]}, Symlink: true}
			if len(parts) > 1 {
				e.Path.Bucket = parts[1]
			}
			if len(parts) > 2 {
				e.Path.Key = parts[2]
				if key, ok := f.realKey(parts[2]); ok {
					e.Path.Key = key
				}
			}
			if err := fn(e); err != nil && err != fs.SkipDir {
				return err
			}
			return nil
		}
		if len(parts) == 1 { // a user's folder
			return nil
		}
		gp := gateway.Path{User: parts[0], Bucket: parts[1]}
		if len(parts) == 3 {
			key, ok := f.realKey(parts[2])
			if !ok { // a hashed name without its record: nothing to serve it as
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			gp.Key = key
			if d.IsDir() {
				gp.Key += "/"
			}
		} else if !d.IsDir() {
			return nil // a stray file beside the buckets
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := gateway.Entry{Path: gp, ModTime: info.ModTime()}
		if !d.IsDir() {
			if !d.Type().IsRegular() {
				return nil // symlinks and devices are never served
			}
			e.Size = info.Size()
		}
		return fn(e)
	})
}

// realKey turns the disk names of a key's segments back into the segments.
func (f *FS) realKey(disk string) (string, bool) {
	if !strings.Contains(disk, longMark) {
		return disk, true
	}
	segs := strings.Split(disk, "/")
	for i, sg := range segs {
		real, ok := f.realName(sg)
		if !ok {
			return "", false
		}
		segs[i] = real
	}
	return strings.Join(segs, "/"), true
}
