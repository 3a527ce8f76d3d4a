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

func newTeeHasher(r io.Reader) *teeHasher {
	t := &teeHasher{
		r: r, sha: sha256.New(), md5: md5.New(),
		free:  make(chan *[]byte, hashSlots),
		shaCh: make(chan *chunk, hashSlots),
		md5Ch: make(chan *chunk, hashSlots),
	}
	for range hashSlots {
		b := hashBufs.Get().(*[]byte)
		t.bufs = append(t.bufs, b)
		t.free <- b
	}
	t.wg.Add(2)
	go t.consume(t.sha, t.shaCh)
	go t.consume(t.md5, t.md5Ch)
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
		c.refs.Store(2)
		t.shaCh <- c
		t.md5Ch <- c
		off += k
	}
	return n, err
}

// sums waits for the hashers and returns SHA-256 and MD5 of all bytes read.
func (t *teeHasher) sums() (sha, md []byte) {
	t.close()
	return t.sha.Sum(nil), t.md5.Sum(nil)
}

// close stops the hashers and returns the buffers; safe to call twice.
func (t *teeHasher) close() {
	if t.closed {
		return
	}
	t.closed = true
	close(t.shaCh)
	close(t.md5Ch)
	t.wg.Wait()
	for _, b := range t.bufs {
		hashBufs.Put(b)
	}
}
