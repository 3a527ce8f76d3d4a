package gateway

import "context"

// Hooks for the external tests (package gateway_test).

// InLog reports whether a replay could meet a record of p.
func (g *Gateway) InLog(p Path) bool { return g.journal.inLog(p) }

// ReleaseWaiting releases the records waiting for a flush without one,
// and without starting a new segment: as a flush does for records whose
// segment is still appended to.
func (g *Gateway) ReleaseWaiting(ctx context.Context) {
	j := g.journal
	j.mu.Lock()
	r := j.next
	j.next = nil
	j.mu.Unlock()
	if r != nil {
		j.release(ctx, r.refs...)
	}
}
