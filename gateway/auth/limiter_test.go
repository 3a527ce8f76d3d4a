package auth_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"shoebox/gateway/auth"
)

// clock is a settable time for a Limiter.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)} }
func quiet() *slog.Logger            { return slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)) }
func login(remote, user string) auth.Login {
	return auth.Login{Protocol: "webdav", Remote: remote, User: user}
}

// step is one event of a scenario: after advancing the clock by after, do
// op ("fail", "ok", or "admit", which must answer wait) as user from
// remote; n repeats a fail.
type step struct {
	after        time.Duration
	op           string
	remote, user string
	n            int
	wait         time.Duration
}

const (
	attacker = "192.0.2.1:40000"
	home     = "198.51.100.7:50000"
	office   = "203.0.113.9:1234"
)

func TestLimiter(t *testing.T) {
	opt := auth.LimiterOptions{AddrFailures: 5, UserFailures: 10, Delay: time.Second, MaxDelay: time.Minute, Forget: 10 * time.Minute}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a few failures are free", []step{
			{op: "fail", remote: attacker, user: "ann", n: 5},
			{op: "admit", remote: attacker, user: "ann", wait: 0},
			{op: "admit", remote: attacker, user: "bob", wait: 0},
		}},
		{"beyond them the address waits, doubling, whoever it tries", []step{
			{op: "fail", remote: attacker, user: "ann", n: 6},
			{op: "admit", remote: attacker, user: "ann", wait: time.Second},
			{op: "admit", remote: attacker, user: "bob", wait: time.Second},
			{op: "admit", remote: attacker, user: "", wait: time.Second},
			{after: 400 * time.Millisecond, op: "admit", remote: attacker, user: "ann", wait: 600 * time.Millisecond},
			{after: 600 * time.Millisecond, op: "admit", remote: attacker, user: "ann", wait: 0},
			{op: "fail", remote: attacker, user: "ann"},
			{op: "admit", remote: attacker, user: "ann", wait: 2 * time.Second},
			{after: 2 * time.Second, op: "fail", remote: attacker, user: "ann"},
			{op: "admit", remote: attacker, user: "ann", wait: 4 * time.Second},
		}},
		{"the wait stops at MaxDelay", []step{
			{op: "fail", remote: attacker, user: "ann", n: 40},
			{op: "admit", remote: attacker, user: "ann", wait: time.Minute},
		}},
		{"other addresses are not slowed by one address's failures", []step{
			{op: "fail", remote: attacker, user: "ann", n: 8},
			{op: "admit", remote: home, user: "ann", wait: 0},
		}},
		{"an IPv6 /64 is one address, an IPv4-mapped address is IPv4", []step{
			{op: "fail", remote: "[2001:db8:1:2::1]:1", user: "ann", n: 3},
			{op: "fail", remote: "[2001:db8:1:2:ffff::9]:2", user: "ann", n: 3},
			{op: "admit", remote: "[2001:db8:1:2::77]:3", user: "ann", wait: time.Second},
			{op: "admit", remote: "[2001:db8:1:3::1]:3", user: "ann", wait: 0},
			{op: "fail", remote: "[::ffff:192.0.2.1]:9", user: "bob", n: 6},
			{op: "admit", remote: attacker, user: "bob", wait: time.Second},
		}},
		{"failures are forgotten one per Forget", []step{
			{op: "fail", remote: attacker, user: "ann", n: 7},
			{op: "admit", remote: attacker, user: "ann", wait: 2 * time.Second},
			// 7 failures, one forgotten: 6 left, 1s after the last failure, long past.
			{after: 10 * time.Minute, op: "admit", remote: attacker, user: "ann", wait: 0},
			{op: "fail", remote: attacker, user: "ann"}, // 7 again
			{op: "admit", remote: attacker, user: "ann", wait: 2 * time.Second},
			{after: 70 * time.Minute, op: "fail", remote: attacker, user: "ann"}, // 1
			{op: "admit", remote: attacker, user: "ann", wait: 0},
		}},
		{"a hot user: failed addresses wait, from their own last failure", []step{
			// Three addresses fail 4 times each against ann: 12 > 10.
			{op: "fail", remote: "192.0.2.10:1", user: "ann", n: 4},
			{op: "fail", remote: "192.0.2.11:1", user: "ann", n: 4},
			{op: "fail", remote: "192.0.2.12:1", user: "ann", n: 4},
			// 12 failures against ann: 2 beyond 10, 2s.
			{op: "admit", remote: "192.0.2.10:1", user: "ann", wait: 2 * time.Second},
			// Not for another user: the address itself is under its limit.
			{op: "admit", remote: "192.0.2.10:1", user: "bob", wait: 0},
			// A clean address tries ann at once (the real user at home).
			{op: "admit", remote: home, user: "ann", wait: 0},
			{op: "ok", remote: home, user: "ann"},
			// Fresh attackers keep ann hot, but do not prolong the wait of
			// an address that failed earlier.
			{after: time.Second, op: "fail", remote: "192.0.2.13:1", user: "ann"},
			{op: "fail", remote: "192.0.2.14:1", user: "ann"},
			{op: "admit", remote: "192.0.2.10:1", user: "ann", wait: 7 * time.Second}, // 14 failures: 8s from its own last failure, 1s ago
			{after: 7 * time.Second, op: "admit", remote: "192.0.2.10:1", user: "ann", wait: 0},
		}},
		{"a success does not reset the user's count", []step{
			{op: "fail", remote: "192.0.2.10:1", user: "ann", n: 4},
			{op: "fail", remote: "192.0.2.11:1", user: "ann", n: 4},
			{op: "fail", remote: "192.0.2.12:1", user: "ann", n: 4},
			{op: "ok", remote: home, user: "ann"},
			{op: "admit", remote: "192.0.2.10:1", user: "ann", wait: 2 * time.Second},
		}},
		{"a success forgives the user's own typos", []step{
			{op: "fail", remote: home, user: "ann", n: 5},
			{op: "ok", remote: home, user: "ann"},
			// The address and ann start from zero again: 5 more are free.
			{op: "fail", remote: home, user: "ann", n: 5},
			{op: "admit", remote: home, user: "ann", wait: 0},
			{op: "fail", remote: home, user: "ann"},
			{op: "admit", remote: home, user: "ann", wait: time.Second},
		}},
		{"a success at one's own account forgives nothing against another's", []step{
			{op: "fail", remote: attacker, user: "bob", n: 5},
			{op: "ok", remote: attacker, user: "mallory"},
			{op: "fail", remote: attacker, user: "bob"},
			{op: "admit", remote: attacker, user: "bob", wait: time.Second},
			{op: "admit", remote: attacker, user: "mallory", wait: time.Second},
		}},
		{"a success forgives what that address did against that user only", []step{
			{op: "fail", remote: home, user: "bob", n: 3},
			{op: "fail", remote: home, user: "ann", n: 3},
			{op: "ok", remote: home, user: "ann"},
			{op: "fail", remote: home, user: "bob", n: 2}, // 5: still free
			{op: "admit", remote: home, user: "bob", wait: 0},
			{op: "fail", remote: home, user: "bob"},
			{op: "admit", remote: home, user: "bob", wait: time.Second},
		}},
		{"unknown S3 keys count for the address only", []step{
			{op: "fail", remote: attacker, user: "", n: 6},
			{op: "admit", remote: attacker, user: "", wait: time.Second},
			{op: "admit", remote: home, user: "", wait: 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			o := opt
			o.Now, o.Logger = c.now, quiet()
			lim := auth.NewLimiter(o)
			for i, s := range tc.steps {
				c.add(s.after)
				l := login(s.remote, s.user)
				switch s.op {
				case "fail":
					for range max(s.n, 1) {
						lim.Failed(l)
					}
				case "ok":
					lim.Succeeded(l)
				case "admit":
					if got := lim.Admit(l); got != s.wait {
						t.Fatalf("step %d: Admit(%s as %q) = %v; want %v", i, s.remote, s.user, got, s.wait)
					}
				default:
					t.Fatalf("step %d: op %q", i, s.op)
				}
			}
		})
	}
}

// TestLimiterBounded: spraying addresses and user names does not grow
// the tables beyond MaxEntries, and long names are kept short.
func TestLimiterBounded(t *testing.T) {
	c := newClock()
	lim := auth.NewLimiter(auth.LimiterOptions{MaxEntries: 100, Now: c.now, Logger: quiet()})
	long := strings.Repeat("x", 60<<10)
	for i := range 5000 {
		lim.Failed(login(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255), fmt.Sprintf("%s%d", long, i)))
		c.add(time.Millisecond)
	}
	for i := range 300 {
		lim.Failed(login(fmt.Sprintf("[2001:db8:%x::1]:1", i), fmt.Sprint("user", i)))
	}
	if a, u, p := lim.Sizes(); a > 100 || u > 100 || p > 100 {
		t.Errorf("tables hold %d addresses, %d users, %d pairs; want at most 100 each", a, u, p)
	}
	// The newest entries are kept: the last address still waits.
	for range 6 {
		lim.Failed(login("[2001:db8:12b::2]:1", "user299"))
	}
	if w := lim.Admit(login("[2001:db8:12b::3]:1", "user299")); w == 0 {
		t.Error("the latest address was dropped from a full table")
	}
	// Forgotten entries go when looked at.
	c.add(24 * time.Hour)
	lim.Admit(login("[2001:db8:12b::3]:1", "user299"))
	if a, _, _ := lim.Sizes(); a > 99 {
		t.Errorf("a forgotten address was kept: %d entries", a)
	}
}

// TestLimiterReports: a failure is logged at warn with the user and the
// address and observed; a refusal is observed as throttled; a success,
// and a nil Limiter, report nothing.
func TestLimiterReports(t *testing.T) {
	var logs bytes.Buffer
	type obs struct {
		protocol  string
		throttled bool
	}
	var seen []obs
	c := newClock()
	lim := auth.NewLimiter(auth.LimiterOptions{AddrFailures: 1, Now: c.now,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Observe: func(p string, th bool) { seen = append(seen, obs{p, th}) }})
	lim.Failed(auth.Login{Protocol: "s3", Remote: attacker, User: "ann", AccessKey: "SBKEY"})
	lim.Failed(auth.Login{Protocol: "webdav", Remote: attacker, User: "ann"})
	if w := lim.Admit(auth.Login{Protocol: "api", Remote: attacker, User: "ann"}); w != time.Second {
		t.Errorf("Admit = %v; want 1s", w)
	}
	lim.Succeeded(auth.Login{Protocol: "webdav", Remote: home, User: "ann"})
	want := []obs{{"s3", false}, {"webdav", false}, {"api", true}}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("observed %v; want %v", seen, want)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log:\n%s\nwant two lines", logs.String())
	}
	for i, w := range [][]string{
		{"level=WARN", `msg="login failed"`, "component=auth", "protocol=s3", "user=ann", "remote=192.0.2.1 ", "access_key=SBKEY", "failures=1"},
		{"level=WARN", "protocol=webdav", "failures=2", "retry_after=1s"},
	} {
		for _, s := range w {
			if !strings.Contains(lines[i], s) {
				t.Errorf("log line %q lacks %q", lines[i], s)
			}
		}
	}

	var none *auth.Limiter
	none.Failed(login(attacker, "ann"))
	none.Succeeded(login(attacker, "ann"))
	if w := none.Admit(login(attacker, "ann")); w != 0 {
		t.Errorf("nil Limiter: Admit = %v; want 0", w)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want string
	}{{0, "1"}, {time.Millisecond, "1"}, {time.Second, "1"}, {1001 * time.Millisecond, "2"}, {10 * time.Minute, "600"}} {
		if got := auth.RetryAfter(tc.wait); got != tc.want {
			t.Errorf("RetryAfter(%v) = %q; want %q", tc.wait, got, tc.want)
		}
	}
}
