package s3store_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"sync/atomic"
)

// counter counts the HTTP requests sent through it, by method.
type counter struct {
	rt    http.RoundTripper
	n     atomic.Int64
	mu    sync.Mutex
	byMth map[string]int
}

func newCounter() *counter {
	return &counter{rt: http.DefaultTransport.(*http.Transport).Clone(), byMth: map[string]int{}}
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	c.mu.Lock()
	c.byMth[r.Method]++
	c.mu.Unlock()
	return c.rt.RoundTrip(r)
}

func (c *counter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.byMth
	c.byMth = map[string]int{}
	c.n.Store(0)
	return m
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
