package auth

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of LimiterOptions.
const (
	DefaultAddrFailures = 5
	DefaultUserFailures = 10
	DefaultDelay        = time.Second
	DefaultMaxDelay     = 10 * time.Minute
	DefaultForget       = 10 * time.Minute
	DefaultMaxEntries   = 4096
)

// LimiterOptions configures a Limiter; zero fields take the defaults.
type LimiterOptions struct {
	// AddrFailures is how many failures an address may make before it
	// waits (default 5).
	AddrFailures int
	// UserFailures is how many failures against one user, from any
	// addresses, make the addresses that failed wait before trying that
	// user again (default 10).
	UserFailures int
	// Delay is the first wait (default 1s); each further failure doubles
	// it, up to MaxDelay (default 10 minutes).
	Delay, MaxDelay time.Duration
	// Forget is how long one failure is remembered (default 10 minutes):
	// a count of failures goes down by one every Forget.
	Forget time.Duration
	// MaxEntries bounds each of the three tables (addresses, users,
	// address and user pairs; default 4096): when one is full, the entry
	// whose last failure is oldest is dropped.
	MaxEntries int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives a warning for each failed login (default
	// slog.Default()).
	Logger *slog.Logger
	// Observe, if set, is called for each failed login (throttled false)
	// and each attempt refused because of earlier failures (throttled
	// true), for metrics.
	Observe func(protocol string, throttled bool)
}

// Login is one login attempt, as a front end tells a Limiter of it.
type Login struct {
	Protocol string // the front end, for logs and metrics: "webdav", "api", "s3"
	Remote   string // the client's address, as http.Request.RemoteAddr has it
	User     string // the user tried; "" when none is known (an S3 access key that does not exist)
	// AccessKey is the S3 access key ID tried, for the log; "" elsewhere.
	AccessKey string
}

// Limiter slows down repeated failed logins, per client address and per
// user, without letting anyone lock a user out from an address that has
// not failed. It is safe for concurrent use; a nil *Limiter admits every
// attempt and records nothing.
//
// A front end asks Admit before it checks credentials, and refuses the
// attempt (429, or S3's 503 SlowDown) with Retry-After when Admit says to
// wait; it then reports the outcome of the check with Failed or
// Succeeded. Only wrong credentials are failures: a request without any
// (the 401 challenge a WebDAV client gets first), or refused for another
// reason (a skewed clock), is not.
//
// The rules:
//   - Every address (an IPv4 address, or an IPv6 /64, which one host
//     commonly holds whole) has a count of failures. Beyond AddrFailures, it
//     waits Delay after its last failure, doubling with each further
//     failure up to MaxDelay, whoever it tries to log in as. A refused
//     attempt is not checked (no password hash is computed) and does not
//     count.
//   - Every user has a count of failures against them from all addresses.
//     Beyond UserFailures, an address that has failed itself (whose count
//     is not zero) waits before trying that user again: Delay doubling with
//     the user's count beyond UserFailures, up to MaxDelay, from the
//     address's own last failure. This slows an attack spread over many
//     addresses to about one guess per address; and since the wait runs
//     from the address's own last failure, attackers elsewhere cannot
//     prolong it. An address with no failures is never made to wait,
//     however many failures the user has: the real user logs in from any
//     address that has not failed, during an attack too.
//   - Counts decay: one failure is forgotten every Forget. A success
//     forgives the failures the same address made against the same user
//     (the user's own typos) in both counts; it forgives nothing else, so
//     logging in to one's own account does not buy guesses at another's.
//
// Memory is bounded: each table holds at most MaxEntries entries (a few
// hundred bytes each, user names longer than 64 bytes kept as a hash), and
// the entry whose last failure is oldest makes room for a new one. An
// attacker spraying addresses or user names therefore pushes out old
// entries (their own among them) but never grows the tables.
//
// Known limits: behind a reverse proxy every client has the proxy's
// address, so the per-address rule applies to all of them together;
// attempts that are already being checked when an address crosses the
// threshold are not stopped (the password hash's cost bounds how many run
// at once); a client with a stale password at home slows down everyone
// behind the same address (the warning names it).
//
// Why not golang.org/x/time/rate: its token bucket cannot give tokens back
// (forgiving a user's own typos on success), and it refills at a constant
// rate where failures here are slowed down exponentially. The counts here
// are kept as the time at which they reach zero (like GCRA), in integers,
// and a plain LRU list bounds the tables.
type Limiter struct {
	opt LimiterOptions
	log *slog.Logger

	mu    sync.Mutex
	addrs *table // address key → failures from it
	users *table // user key → failures against them
	pairs *table // address key + "\x00" + user key → failures from one against the other
}

// NewLimiter returns a Limiter with the options.
func NewLimiter(opt LimiterOptions) *Limiter {
	if opt.AddrFailures <= 0 {
		opt.AddrFailures = DefaultAddrFailures
	}
	if opt.UserFailures <= 0 {
		opt.UserFailures = DefaultUserFailures
	}
	if opt.Delay <= 0 {
		opt.Delay = DefaultDelay
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = DefaultMaxDelay
	}
	if opt.MaxDelay < opt.Delay {
		opt.MaxDelay = opt.Delay
	}
	if opt.Forget <= 0 {
		opt.Forget = DefaultForget
	}
	if opt.MaxEntries <= 0 {
		opt.MaxEntries = DefaultMaxEntries
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	lg := opt.Logger
	if lg == nil {
		lg = slog.Default()
	}
	return &Limiter{opt: opt, log: lg.With("component", "auth"),
		addrs: newTable(opt.MaxEntries), users: newTable(opt.MaxEntries), pairs: newTable(opt.MaxEntries)}
}

// logger is the Limiter's logger, or slog.Default() for a nil Limiter.
func (lim *Limiter) logger() *slog.Logger {
	if lim == nil || lim.opt.Logger == nil {
		return slog.Default()
	}
	return lim.opt.Logger
}

// Admit reports how long the attempt must wait before its credentials may
// be checked: 0 to check them now. A refused attempt is counted (Observe)
// but is no failure. With l.User "", only the address is considered (S3
// asks so before it knows whose key a request is signed with).
func (lim *Limiter) Admit(l Login) time.Duration {
	if lim == nil {
		return 0
	}
	now := lim.opt.Now()
	ak, uk := addrKey(l.Remote), nameKey(l.User)
	lim.mu.Lock()
	wait := lim.wait(ak, uk, now)
	lim.mu.Unlock()
	if wait > 0 {
		lim.log.Debug("login refused after earlier failures", lim.attrs(l, "retry_after", wait.Round(time.Millisecond))...)
		if lim.opt.Observe != nil {
			lim.opt.Observe(l.Protocol, true)
		}
	}
	return wait
}

// Failed records wrong credentials (an unknown user, a wrong password, an
// unknown S3 access key, a bad signature) and logs them at warn.
func (lim *Limiter) Failed(l Login) {
	if lim == nil {
		return
	}
	now := lim.opt.Now()
	ak, uk := addrKey(l.Remote), nameKey(l.User)
	lim.mu.Lock()
	failures := lim.addrs.fail(ak, now, lim.opt.Forget).count(now, lim.opt.Forget)
	if uk != "" {
		lim.users.fail(uk, now, lim.opt.Forget)
		lim.pairs.fail(ak+"\x00"+uk, now, lim.opt.Forget)
	}
	wait := lim.wait(ak, uk, now)
	lim.mu.Unlock()
	args := []any{"failures", failures}
	if wait > 0 {
		args = append(args, "retry_after", wait.Round(time.Millisecond))
	}
	lim.log.Warn("login failed", lim.attrs(l, args...)...)
	if lim.opt.Observe != nil {
		lim.opt.Observe(l.Protocol, false)
	}
}

// Succeeded records good credentials: the failures the same address made
// against the same user are forgiven.
func (lim *Limiter) Succeeded(l Login) {
	if lim == nil || l.User == "" {
		return
	}
	now := lim.opt.Now()
	ak, uk := addrKey(l.Remote), nameKey(l.User)
	pk := ak + "\x00" + uk
	lim.mu.Lock()
	defer lim.mu.Unlock()
	p := lim.pairs.get(pk)
	if p == nil {
		return // the common case: nothing to forgive
	}
	lim.pairs.remove(pk)
	debt := p.clear.Sub(now)
	if debt <= 0 {
		return
	}
	for _, t := range []struct {
		t   *table
		key string
	}{{lim.addrs, ak}, {lim.users, uk}} {
		if r := t.t.get(t.key); r != nil {
			r.clear = r.clear.Add(-debt)
			if !now.Before(r.clear) {
				t.t.remove(t.key)
			}
		}
	}
}

// wait is Admit's answer; lim.mu is held.
func (lim *Limiter) wait(ak, uk string, now time.Time) time.Duration {
	a := lim.addrs.live(ak, now)
	if a == nil {
		return 0 // an address that has not failed is never made to wait
	}
	until := a.last.Add(lim.backoff(a.count(now, lim.opt.Forget), lim.opt.AddrFailures))
	if uk != "" {
		if u := lim.users.live(uk, now); u != nil {
			if t := a.last.Add(lim.backoff(u.count(now, lim.opt.Forget), lim.opt.UserFailures)); t.After(until) {
				until = t
			}
		}
	}
	return max(until.Sub(now), 0)
}

// backoff is the wait after n failures when free are allowed.
func (lim *Limiter) backoff(n, free int) time.Duration {
	over := n - free
	if over <= 0 {
		return 0
	}
	if over > 40 {
		return lim.opt.MaxDelay
	}
	d := lim.opt.Delay << (over - 1)
	if d <= 0 || d > lim.opt.MaxDelay {
		return lim.opt.MaxDelay
	}
	return d
}

func (lim *Limiter) attrs(l Login, more ...any) []any {
	host := l.Remote
	if h, _, err := net.SplitHostPort(l.Remote); err == nil {
		host = h
	}
	args := []any{"protocol", l.Protocol, "user", logName(l.User), "remote", host}
	if l.AccessKey != "" {
		args = append(args, "access_key", logName(l.AccessKey))
	}
	return append(args, more...)
}

// RetryAfter is the value of a Retry-After header for a wait: whole
// seconds, rounded up, at least 1.
func RetryAfter(wait time.Duration) string {
	s := (wait + time.Second - 1) / time.Second
	return strconv.FormatInt(max(int64(s), 1), 10)
}

// addrKey is the key of a client address: the IP without its port, an
// IPv4-mapped IPv6 address as IPv4, an IPv6 address as its /64.
func addrKey(remote string) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nameKey(host) // not an IP (a test's RemoteAddr): bounded like a name
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// maxKeyName is the longest name kept as it is in the tables.
const maxKeyName = 64

// nameKey is the key of a user name: the name, or a hash of a long one, so
// that an entry's size is bounded whatever a client sends.
func nameKey(user string) string {
	if len(user) <= maxKeyName {
		return user
	}
	sum := sha256.Sum256([]byte(user))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// logName is a client-chosen name shortened for a log line.
func logName(s string) string {
	if len(s) <= maxKeyName {
		return s
	}
	return strings.ToValidUTF8(s[:maxKeyName], "") + "…"
}

// record is one address's, user's or pair's failures.
type record struct {
	key string
	// clear is when every failure is forgotten: each failure pushes it
	// Forget further (from now at the latest), so the failures remembered
	// at t are (clear-t)/Forget rounded up.
	clear time.Time
	last  time.Time // the last failure
}

func (r *record) count(now time.Time, forget time.Duration) int {
	left := r.clear.Sub(now)
	if left <= 0 {
		return 0
	}
	return int((left + forget - 1) / forget)
}

// table is a bounded map of records, the one whose last failure is oldest
// dropped first.
type table struct {
	max   int
	m     map[string]*list.Element
	order list.List // of *record; front: the latest failure
}

func newTable(max int) *table { return &table{max: max, m: map[string]*list.Element{}} }

func (t *table) get(key string) *record {
	if e, ok := t.m[key]; ok {
		return e.Value.(*record)
	}
	return nil
}

// live returns key's record if it still holds a failure at now; a record
// whose failures are all forgotten is removed.
func (t *table) live(key string, now time.Time) *record {
	r := t.get(key)
	if r != nil && !now.Before(r.clear) {
		t.remove(key)
		return nil
	}
	return r
}

// fail adds a failure at now to key's record, making room if needed.
func (t *table) fail(key string, now time.Time, forget time.Duration) *record {
	e, ok := t.m[key]
	if ok {
		t.order.MoveToFront(e)
	} else {
		for len(t.m) >= t.max {
			oldest := t.order.Back()
			t.order.Remove(oldest)
			delete(t.m, oldest.Value.(*record).key)
		}
		e = t.order.PushFront(&record{key: key})
		t.m[key] = e
	}
	r := e.Value.(*record)
	if r.clear.Before(now) {
		r.clear = now
	}
	r.clear = r.clear.Add(forget)
	r.last = now
	return r
}

func (t *table) remove(key string) {
	if e, ok := t.m[key]; ok {
		t.order.Remove(e)
		delete(t.m, key)
	}
}

// len is the number of records, forgotten ones included.
func (t *table) len() int { return len(t.m) }
