package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// inflight is the middleware both listeners share: it cuts request bodies
// that make no progress for idle (a read deadline moved on as bytes come
// in), and counts the requests in progress so that shutdown can wait for
// them after closing their connections.
type inflight struct {
	idle time.Duration // 0 or less: bodies are not cut

	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0; nil while nobody waits
}

func (f *inflight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.n++
		f.mu.Unlock()
		defer f.done()
		if f.idle > 0 && r.Body != nil && r.Body != http.NoBody {
			b := &idleBody{rc: http.NewResponseController(w), r: r.Body, idle: f.idle}
			if b.extend(time.Now()) == nil { // else a writer without deadlines (tests): leave it
				// On a copy: the server looks at its own request's Body
				// after the handler, and would drain (and send 100
				// Continue for) a body it does not recognize.
				r = r.WithContext(r.Context())
				r.Body = b
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (f *inflight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n--; f.n == 0 && f.zero != nil {
		close(f.zero)
		f.zero = nil
	}
}

// wait returns the number of requests still running after at most d.
func (f *inflight) wait(d time.Duration) int {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return 0
	}
	if f.zero == nil {
		f.zero = make(chan struct{})
	}
	zero := f.zero
	f.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-zero:
	case <-t.C:
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// idleBody is a request body whose connection's read deadline is moved
// to idle from now as it is read; a read that waits longer fails with an
// error wrapping os.ErrDeadlineExceeded (davfs answers 408, s3api
// RequestTimeout), and the server closes the connection.
type idleBody struct {
	rc   *http.ResponseController
	r    io.ReadCloser
	idle time.Duration
	set  time.Time // when the deadline was last moved
}

func (b *idleBody) extend(now time.Time) error {
	b.set = now
	return b.rc.SetReadDeadline(now.Add(b.idle))
}

func (b *idleBody) Read(p []byte) (int, error) {
	// Moving the deadline on every read costs a timer reset; an eighth of
	// idle late is close enough (a stall is cut after 7/8 to 8/8 of idle).
	if now := time.Now(); now.Sub(b.set) > b.idle/8 {
		b.extend(now)
	}
	n, err := b.r.Read(p)
	switch {
	case err == io.EOF:
		// The whole body is in: the server's background read of the
		// connection must not time out under a slow handler.
		b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("request body: no progress for %s: %w", b.idle, err)
	}
	return n, err
}

func (b *idleBody) Close() error { return b.r.Close() }
