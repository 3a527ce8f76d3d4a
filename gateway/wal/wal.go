package wal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Record is one small file.
type Record struct {
	User, Bucket, Key string
	SHA256            string // hex, as in the catalog row written with it
	// ModNs is the modification time the upload set.
	ModNs int64
	// Row is the file's catalog row, opaque to the log; nil in the
	// records of version 1 segments, written while the row was committed
	// durably on its own.
	Row  []byte
	Data []byte
}

// Pos is where a record is: its segment's sequence number and its offset
// there. No two records of one directory share a Pos while either
// segment exists.
type Pos struct {
	Seg uint64
	Off int64
}

// Ref names an appended record, for Release.
type Ref struct {
	seg *segment
	off int64
}

// Pos is the record's position.
func (r Ref) Pos() Pos {
	if r.seg == nil {
		return Pos{}
	}
	return Pos{r.seg.seq, r.off}
}

// Log is an open write-ahead log. It is safe for concurrent use.
type Log struct {
	dir    string
	noSync bool

	mu     sync.Mutex
	active *segment
	live   int      // records appended and not released
	old    []uint64 // segments an earlier run left, for Scan
	first  uint64   // this run's first segment

	syncMu   sync.Mutex
	syncCond sync.Cond
	syncing  bool
}

type segment struct {
	seq    uint64
	f      *os.File
	size   int64 // bytes appended (under Log.mu)
	synced int64 // bytes known durable (under Log.syncMu)
	live   int   // records appended and not released (under Log.mu)
	broken bool  // a write or sync failed: append no more (under Log.mu)
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// maxRecord bounds a record's length when reading (a corrupt length must
// not make Scan allocate gigabytes).
const maxRecord = 64 << 20

// magic opens every segment of version 2 (records with a Row); a segment
// without it is of version 1.
const magic = "SBXWAL2\n"

// Options for Open.
type Options struct {
	// NoSync skips fdatasync (tests, --unsafe-no-fsync).
	NoSync bool
}

// Open opens the log in dir (created if needed) and starts a new segment;
// segments found there are kept for Scan, until DropOld.
func Open(dir string, opt Options) (*Log, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("wal %s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal %s: %w", dir, err)
	}
	l := &Log{dir: dir, noSync: opt.NoSync}
	l.syncCond.L = &l.syncMu
	var last uint64
	for _, e := range ents {
		var seq uint64
		if n, _ := fmt.Sscanf(e.Name(), "%016x.wal", &seq); n == 1 && e.Name() == segName(seq) {
			l.old = append(l.old, seq)
			last = max(last, seq)
		}
	}
	slices.Sort(l.old)
	if l.first, err = l.nextRun(last + 1); err != nil {
		return nil, err
	}
	if l.active, err = l.newSegment(l.first); err != nil {
		return nil, err
	}
	return l, nil
}

// runSpan is how many segments one run may number: each run starts at
// least this far above the last one's start (recorded in the file floor),
// so no sequence number is used twice, even after every segment was
// deleted, and something naming an old run's record (a catalog mark) can
// never be taken for a new one's.
const runSpan = 1 << 32

// nextRun returns this run's first sequence number, at least min, and
// records durably where the next run is to start.
func (l *Log) nextRun(min uint64) (uint64, error) {
	name := filepath.Join(l.dir, "floor")
	first := min
	if b, err := os.ReadFile(name); err == nil {
		if f, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			first = max(first, f)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("wal: %w", err)
	}
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return 0, fmt.Errorf("wal: %w", err)
	}
	_, err = fmt.Fprintf(f, "%d\n", first+runSpan)
	if err == nil && !l.noSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err == nil {
		err = l.syncDir()
	}
	if err != nil {
		return 0, fmt.Errorf("wal: record the next run's start: %w", err)
	}
	return first, nil
}

// First is the sequence number of this run's first segment: every segment
// below it is an earlier run's.
func (l *Log) First() uint64 { return l.first }

func segName(seq uint64) string { return fmt.Sprintf("%016x.wal", seq) }

// newSegment creates segment seq, durably (its directory entry too).
func (l *Log) newSegment(seq uint64) (*segment, error) {
	name := filepath.Join(l.dir, segName(seq))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("wal: new segment: %w", err)
	}
	// The magic is made durable by the first record's sync.
	if _, err := f.WriteString(magic); err != nil {
		f.Close()
		os.Remove(name)
		return nil, fmt.Errorf("wal: new segment: %w", err)
	}
	if err := l.syncDir(); err != nil {
		f.Close()
		return nil, err
	}
	return &segment{seq: seq, f: f, size: int64(len(magic))}, nil
}

func (l *Log) syncDir() error {
	if l.noSync {
		return nil
	}
	d, err := os.Open(l.dir)
	if err != nil {
		return fmt.Errorf("wal: sync %s: %w", l.dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("wal: sync %s: %w", l.dir, err)
	}
	return nil
}

func encode(r Record) []byte {
	b := make([]byte, 8, 8+len(r.User)+len(r.Bucket)+len(r.Key)+len(r.SHA256)+len(r.Row)+len(r.Data)+40)
	for _, s := range []string{r.User, r.Bucket, r.Key, r.SHA256} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, r.ModNs)
	b = binary.AppendUvarint(b, uint64(len(r.Row)))
	b = append(b, r.Row...)
	b = append(b, r.Data...)
	binary.BigEndian.PutUint32(b[0:4], uint32(len(b)-8))
	binary.BigEndian.PutUint32(b[4:8], crc32.Checksum(b[8:], crcTable))
	return b
}

func decode(p []byte, version int) (Record, error) {
	var r Record
	for _, f := range []*string{&r.User, &r.Bucket, &r.Key, &r.SHA256} {
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			return r, errors.New("corrupt record")
		}
		*f = string(p[k : k+int(n)])
		p = p[k+int(n):]
	}
	mod, k := binary.Varint(p)
	if k <= 0 {
		return r, errors.New("corrupt record")
	}
	r.ModNs, p = mod, p[k:]
	if version >= 2 {
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			return r, errors.New("corrupt record")
		}
		r.Row, p = p[k:k+int(n)], p[k+int(n):]
	}
	r.Data = p
	return r, nil
}

// Append writes r to the log and returns once it is durable. The caller
// must Release the Ref once the record is no longer needed, whether or not
// what it wrote the record for succeeded.
func (l *Log) Append(ctx context.Context, r Record) (Ref, error) {
	if err := ctx.Err(); err != nil {
		return Ref{}, err
	}
	b := encode(r)
	l.mu.Lock()
	if l.active.broken {
		// A failed write or sync left it in doubt: a torn record would end
		// its replay, and records after it would be lost.
		if err := l.rotateLocked(); err != nil {
			l.mu.Unlock()
			return Ref{}, fmt.Errorf("wal: append %s/%s: %w", r.Bucket, r.Key, err)
		}
	}
	seg := l.active
	off := seg.size
	n, err := seg.f.Write(b)
	seg.size += int64(n)
	if err != nil {
		seg.broken = true
		l.mu.Unlock()
		return Ref{}, fmt.Errorf("wal: append %s/%s: %w", r.Bucket, r.Key, err)
	}
	seg.live++
	l.live++
	end := seg.size
	l.mu.Unlock()
	ref := Ref{seg, off}
	if err := l.syncTo(seg, end); err != nil {
		l.mu.Lock()
		seg.broken = true
		l.mu.Unlock()
		l.Release(ref)
		return Ref{}, fmt.Errorf("wal: append %s/%s: %w", r.Bucket, r.Key, err)
	}
	return ref, nil
}

// syncTo returns once seg's first end bytes are durable: one caller at a
// time runs fdatasync, covering everything written before it started, and
// the others wait for it.
func (l *Log) syncTo(seg *segment, end int64) error {
	if l.noSync {
		return nil
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	for seg.synced < end {
		if l.syncing {
			l.syncCond.Wait()
			continue
		}
		l.syncing = true
		l.mu.Lock()
		target := seg.size
		l.mu.Unlock()
		l.syncMu.Unlock()
		err := datasync(seg.f)
		l.syncMu.Lock()
		l.syncing = false
		l.syncCond.Broadcast()
		if err != nil {
			return err
		}
		seg.synced = max(seg.synced, target)
	}
	return nil
}

// Release marks records as no longer needed. It returns the segments it
// deleted for good (their removal durable): none of their records will
// be seen by a Scan again.
func (l *Log) Release(refs ...Ref) (dropped []uint64, err error) {
	l.mu.Lock()
	for _, r := range refs {
		if r.seg == nil {
			continue
		}
		r.seg.live--
		l.live--
		if l.dropIfDone(r.seg) {
			dropped = append(dropped, r.seg.seq)
		}
	}
	l.mu.Unlock()
	if len(dropped) == 0 {
		return nil, nil
	}
	if err := l.syncDir(); err != nil {
		return nil, err
	}
	return dropped, nil
}

// dropIfDone deletes seg once it is neither appended to nor needed, and
// reports whether it did; l.mu is held. The removal is durable with the
// next syncDir.
func (l *Log) dropIfDone(seg *segment) bool {
	if seg == l.active || seg.live > 0 || seg.f == nil {
		return false
	}
	seg.f.Close()
	seg.f = nil
	return os.Remove(filepath.Join(l.dir, segName(seg.seq))) == nil
}

// Rotate starts a new segment, so that the current one can be deleted once
// its records are released. It does nothing when the current one is empty.
func (l *Log) Rotate() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active.size == int64(len(magic)) {
		return nil
	}
	return l.rotateLocked()
}

// rotateLocked makes a new segment the active one; l.mu is held.
func (l *Log) rotateLocked() error {
	next, err := l.newSegment(l.active.seq + 1)
	if err != nil {
		return err
	}
	old := l.active
	l.active = next
	l.dropIfDone(old)
	return nil
}

// Live is the number of records appended and not released.
func (l *Log) Live() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live
}

// Scan calls fn for every intact record of the segments an earlier run
// left, oldest first. fn's error stops it. The record's Row and Data are
// valid only during the call.
func (l *Log) Scan(ctx context.Context, fn func(Pos, Record) error) error {
	for _, seq := range l.old {
		if err := l.scanSegment(ctx, seq, fn); err != nil {
			return err
		}
	}
	return nil
}

// DropOld deletes, durably, the segments an earlier run left.
func (l *Log) DropOld() error {
	if len(l.old) == 0 {
		return nil
	}
	for _, seq := range l.old {
		if err := os.Remove(filepath.Join(l.dir, segName(seq))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("wal: %w", err)
		}
	}
	if err := l.syncDir(); err != nil {
		return err
	}
	l.old = nil
	return nil
}

func (l *Log) scanSegment(ctx context.Context, seq uint64, fn func(Pos, Record) error) error {
	f, err := os.Open(filepath.Join(l.dir, segName(seq)))
	if err != nil {
		return fmt.Errorf("wal: replay: %w", err)
	}
	defer f.Close()
	var hdr [8]byte
	version, off := 1, int64(0)
	if n, _ := io.ReadFull(f, hdr[:]); n == len(magic) && string(hdr[:]) == magic {
		version, off = 2, int64(len(magic))
	} else if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("wal: replay: %w", err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := io.ReadFull(f, hdr[:]); err != nil {
			return nil // the end, or a header cut short
		}
		n := binary.BigEndian.Uint32(hdr[0:4])
		if n > maxRecord {
			return nil
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(f, p); err != nil || crc32.Checksum(p, crcTable) != binary.BigEndian.Uint32(hdr[4:8]) {
			return nil // a record cut short: never acknowledged
		}
		r, err := decode(p, version)
		if err != nil {
			return nil
		}
		if err := fn(Pos{seq, off}, r); err != nil {
			return err
		}
		off += int64(len(hdr)) + int64(n)
	}
}

// Close closes the log; no method may be called after it. The active
// segment is deleted when no record in it is needed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	seg := l.active
	l.active = nil
	if seg.live == 0 {
		seg.f.Close()
		if err := os.Remove(filepath.Join(l.dir, segName(seg.seq))); err != nil {
			return err
		}
		return l.syncDir()
	}
	return seg.f.Close()
}
