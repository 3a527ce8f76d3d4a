package davfs

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrLocked means a lock held by someone else forbids the operation (423).
var ErrLocked = errors.New("locked")

// ErrNoSuchLock means a lock token names no current lock (409 on UNLOCK,
// 412 on refresh).
var ErrNoSuchLock = errors.New("no such lock")

// Lock is one WebDAV write lock.
type Lock struct {
	Token   string
	User    string
	Root    string // "/bucket/key", no trailing slash; "/" is the user's root
	Deep    bool   // Depth: infinity
	Shared  bool
	Owner   string // the owner element's inner XML, as sent
	Timeout time.Duration
	Expires time.Time
}

// Locks is an in-memory lock manager with shared and exclusive write locks
// of depth 0 and infinity (RFC 4918 §6–7). Locks do not survive a restart;
// clients re-lock, as they must after a timeout anyway. Safe for concurrent use.
type Locks struct {
	mu      sync.Mutex
	byToken map[string]*Lock
	now     func() time.Time
}

// NewLocks returns an empty lock manager.
func NewLocks() *Locks { return &Locks{byToken: map[string]*Lock{}, now: time.Now} }

func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("opaquelocktoken:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// covers reports whether lock l applies to path p.
func (l *Lock) covers(p string) bool {
	if l.Root == p {
		return true
	}
	return l.Deep && isUnder(p, l.Root)
}

// isUnder reports whether p lies strictly below dir.
func isUnder(p, dir string) bool {
	if dir == "/" {
		return p != "/"
	}
	return strings.HasPrefix(p, dir+"/")
}

// expired reports whether l has timed out at now.
func (l *Lock) expired(now time.Time) bool { return l.Timeout > 0 && !now.Before(l.Expires) }

func (ls *Locks) expire() {
	now := ls.now()
	for t, l := range ls.byToken {
		if l.expired(now) {
			delete(ls.byToken, t)
		}
	}
}

// relevant returns the user's locks that apply to a change of p: locks
// covering p; with deep, locks anywhere below p; with member, locks on p's
// parent folder (a lock on a folder protects its list of members).
func (ls *Locks) relevant(user, p string, deep, member bool) []*Lock {
	var out []*Lock
	par := parentOf(p)
	for _, l := range ls.byToken {
		if l.User != user {
			continue
		}
		if l.covers(p) || (deep && isUnder(l.Root, p)) || (member && p != "/" && l.Root == par) {
			out = append(out, l)
		}
	}
	return out
}

func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// Create makes a new lock on l.Root, filling in Token and Expires, or
// returns ErrLocked when it conflicts with another lock: an exclusive lock
// conflicts with any lock on the same resources, a shared lock with
// exclusive ones only.
func (ls *Locks) Create(l Lock) (Lock, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.expire()
	for _, o := range ls.relevant(l.User, l.Root, l.Deep, false) {
		if !o.Shared || !l.Shared {
			return Lock{}, fmt.Errorf("%s: %w by %s", l.Root, ErrLocked, o.Root)
		}
	}
	l.Token = newToken()
	l.Expires = ls.now().Add(l.Timeout)
	ls.byToken[l.Token] = &l
	return l, nil
}

// Refresh resets the timeout of the lock with token, which must apply to p.
func (ls *Locks) Refresh(user, token, p string, timeout time.Duration) (Lock, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.expire()
	l := ls.byToken[token]
	if l == nil || l.User != user || !l.covers(p) {
		return Lock{}, ErrNoSuchLock
	}
	l.Timeout = timeout
	l.Expires = ls.now().Add(timeout)
	return *l, nil
}

// Unlock removes the lock with token, which must apply to p.
func (ls *Locks) Unlock(user, token, p string) error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.expire()
	l := ls.byToken[token]
	if l == nil || l.User != user || !l.covers(p) {
		return ErrNoSuchLock
	}
	delete(ls.byToken, token)
	return nil
}

// Valid reports whether token names a current lock of user's that applies to p.
func (ls *Locks) Valid(user, token, p string) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.byToken[token]
	return l != nil && l.User == user && l.covers(p) && !l.expired(ls.now())
}

// On returns the current locks that apply to p (for lockdiscovery).
func (ls *Locks) On(user, p string) []Lock {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.byToken) == 0 {
		return nil
	}
	ls.expire()
	var out []Lock
	for _, l := range ls.byToken {
		if l.User == user && l.covers(p) {
			out = append(out, *l)
		}
	}
	return out
}

// Any reports whether the user holds any lock at all (a fast path for listings).
func (ls *Locks) Any(user string) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.byToken) == 0 {
		return false
	}
	ls.expire()
	for _, l := range ls.byToken {
		if l.User == user {
			return true
		}
	}
	return false
}

// CheckWrite returns ErrLocked unless every lock relevant to changing p
// (see relevant) is matched by a submitted token; a submitted token of a
// shared lock stands for the other shared locks with the same root and depth
// (the same resources), never for locks elsewhere.
func (ls *Locks) CheckWrite(user, p string, deep, member bool, submitted map[string]bool) error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.byToken) == 0 {
		return nil
	}
	ls.expire()
	type scope struct {
		root string
		deep bool
	}
	sharedHeld := map[scope]bool{}
	for tok := range submitted {
		if l := ls.byToken[tok]; l != nil && l.User == user && l.Shared {
			sharedHeld[scope{l.Root, l.Deep}] = true
		}
	}
	for _, l := range ls.relevant(user, p, deep, member) {
		if submitted[l.Token] || (l.Shared && sharedHeld[scope{l.Root, l.Deep}]) {
			continue
		}
		return fmt.Errorf("%s: %w by %s", p, ErrLocked, l.Root)
	}
	return nil
}

// Moved drops the locks on and below p (a MOVE or DELETE took the resources away).
func (ls *Locks) Moved(user, p string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for t, l := range ls.byToken {
		if l.User == user && (l.Root == p || isUnder(l.Root, p)) {
			delete(ls.byToken, t)
		}
	}
}
