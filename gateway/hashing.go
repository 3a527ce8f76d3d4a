package gateway

import (
	"crypto/md5"
	"crypto/sha256"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// The hashes of an upload run in two goroutines of their own, over copies of
// the stream kept in a small ring of buffers, so SHA-256, MD5 and the
// network and disk I/O overlap instead of adding up: on a large upload the
// slowest of them (MD5, ~600 MB/s on one core) sets the pace, not their sum.

const (
	hashChunk = 256 << 10
	hashSlots = 4
)

var hashBufs = sync.Pool{New: func() any { b := make([]byte, hashChunk); return &b }}

type chunk struct {
	b    []byte
	buf  *[]byte
	refs atomic.Int32
}

// teeHasher reads from r and hashes what it read in the background.
type teeHasher struct {
	r      io.Reader
	sha    hash.Hash
	md5    hash.Hash
	free   chan *[]byte
	shaCh  chan *chunk
	md5Ch  chan *chunk
	wg     sync.WaitGroup
	bufs   []*[]byte
	closed bool
}

// newTeeHasher hashes what is read from r: SHA-256, and MD5 unless
// withMD5 is false (someone else computes it).
func newTeeHasher(r io.Reader, withMD5 bool) *teeHasher {
	t := &teeHasher{
		r: r, sha: sha256.New(),
		free:  make(chan *[]byte, hashSlots),
		shaCh: make(chan *chunk, hashSlots),
	}
	for range hashSlots {
		b := hashBufs.Get().(*[]byte)
		t.bufs = append(t.bufs, b)
		t.free <- b
	}
	t.wg.Add(1)
	go t.consume(t.sha, t.shaCh)
	if withMD5 {
		t.md5, t.md5Ch = md5.New(), make(chan *chunk, hashSlots)
		t.wg.Add(1)
		go t.consume(t.md5, t.md5Ch)
	}
	return t
}

func (t *teeHasher) consume(h hash.Hash, ch chan *chunk) {
	defer t.wg.Done()
	for c := range ch {
		h.Write(c.b)
		if c.refs.Add(-1) == 0 {
			t.free <- c.buf
		}
	}
}

func (t *teeHasher) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	for off := 0; off < n; {
		buf := <-t.free
		k := copy(*buf, p[off:n])
		c := &chunk{b: (*buf)[:k], buf: buf}
		if t.md5Ch == nil {
			c.refs.Store(1)
			t.shaCh <- c
		} else {
			c.refs.Store(2)
			t.shaCh <- c
			t.md5Ch <- c
		}
		off += k
	}
	return n, err
}

// sums waits for the hashers and returns SHA-256 and MD5 (nil when not
// computed) of all bytes read.
func (t *teeHasher) sums() (sha, md []byte) {
	t.close()
	if t.md5 != nil {
		md = t.md5.Sum(nil)
	}
	return t.sha.Sum(nil), md
}

// close stops the hashers and returns the buffers; safe to call twice.
func (t *teeHasher) close() {
	if t.closed {
		return
	}
	t.closed = true
	close(t.shaCh)
	if t.md5Ch != nil {
		close(t.md5Ch)
	}
	t.wg.Wait()
	for _, b := range t.bufs {
		hashBufs.Put(b)
	}
}
