package davfs

import (
	"errors"
	"sort"
	"strings"
	"testing"
	"time"
)

// clock is a settable time source for Locks.now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestLocks() (*Locks, *clock) {
	c := &clock{t: time.Unix(1700000000, 0)}
	ls := NewLocks()
	ls.now = c.now
	return ls, c
}

func mustLock(t *testing.T, ls *Locks, l Lock) Lock {
	t.Helper()
	if l.User == "" {
		l.User = "alice"
	}
	got, err := ls.Create(l)
	if err != nil {
		t.Fatalf("Create(%s deep=%v shared=%v): %v", l.Root, l.Deep, l.Shared, err)
	}
	return got
}

func toks(ls ...Lock) map[string]bool {
	m := map[string]bool{}
	for _, l := range ls {
		m[l.Token] = true
	}
	return m
}

func TestLockConflicts(t *testing.T) {
	type lk struct {
		user   string
		root   string
		deep   bool
		shared bool
	}
	tests := []struct {
		name     string
		existing []lk
		new      lk
		conflict bool
	}{
		{"exclusive vs exclusive", []lk{{root: "/b/f"}}, lk{root: "/b/f"}, true},
		{"exclusive vs shared", []lk{{root: "/b/f"}}, lk{root: "/b/f", shared: true}, true},
		{"shared vs exclusive", []lk{{root: "/b/f", shared: true}}, lk{root: "/b/f"}, true},
		{"shared vs shared", []lk{{root: "/b/f", shared: true}}, lk{root: "/b/f", shared: true}, false},
		{"three shared", []lk{{root: "/b/f", shared: true}, {root: "/b/f", shared: true}}, lk{root: "/b/f", shared: true}, false},
		{"other resource", []lk{{root: "/b/f"}}, lk{root: "/b/g"}, false},
		{"name prefix is not a parent", []lk{{root: "/b/d", deep: true}}, lk{root: "/b/dx"}, false},
		{"deep lock covers child", []lk{{root: "/b/d", deep: true}}, lk{root: "/b/d/x"}, true},
		{"deep lock covers grandchild", []lk{{root: "/b/d", deep: true, shared: true}}, lk{root: "/b/d/x/y"}, true},
		{"deep shared vs shared below", []lk{{root: "/b/d", deep: true, shared: true}}, lk{root: "/b/d/x", shared: true}, false},
		{"deep lock over a locked child", []lk{{root: "/b/d/x"}}, lk{root: "/b/d", deep: true}, true},
		{"deep lock over a locked grandchild", []lk{{root: "/b/d/x/y", shared: true}}, lk{root: "/b", deep: true}, true},
		{"depth-0 lock over a locked child", []lk{{root: "/b/d/x"}}, lk{root: "/b/d"}, false},
		{"child of a depth-0 lock", []lk{{root: "/b/d"}}, lk{root: "/b/d/x"}, false},
		{"user root deep lock", []lk{{root: "/", deep: true}}, lk{root: "/b/x"}, true},
		{"user root depth-0 lock", []lk{{root: "/"}}, lk{root: "/b"}, false},
		{"another user's lock", []lk{{user: "bob", root: "/b/f"}}, lk{root: "/b/f"}, false},
		{"another user's deep lock", []lk{{user: "bob", root: "/", deep: true}}, lk{root: "/b/f", deep: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ls, _ := newTestLocks()
			for _, e := range tc.existing {
				mustLock(t, ls, Lock{User: e.user, Root: e.root, Deep: e.deep, Shared: e.shared})
			}
			_, err := ls.Create(Lock{User: "alice", Root: tc.new.root, Deep: tc.new.deep, Shared: tc.new.shared})
			if tc.conflict && !errors.Is(err, ErrLocked) {
				t.Errorf("Create: got %v; want ErrLocked", err)
			}
			if !tc.conflict && err != nil {
				t.Errorf("Create: got %v; want nil", err)
			}
			want := len(tc.existing)
			if !tc.conflict {
				want++
			}
			if n := len(ls.byToken); n != want {
				t.Errorf("locks held: got %d; want %d", n, want)
			}
		})
	}
}

func TestCreateFillsIn(t *testing.T) {
	ls, c := newTestLocks()
	a := mustLock(t, ls, Lock{Root: "/b/f", Timeout: time.Minute, Owner: "<D:href>me</D:href>"})
	b := mustLock(t, ls, Lock{Root: "/b/g"})
	if !strings.HasPrefix(a.Token, "opaquelocktoken:") || len(a.Token) != len("opaquelocktoken:")+36 {
		t.Errorf("token: got %q; want opaquelocktoken: and a UUID", a.Token)
	}
	if a.Token == b.Token {
		t.Errorf("tokens: got %q twice; want distinct tokens", a.Token)
	}
	if want := c.t.Add(time.Minute); !a.Expires.Equal(want) {
		t.Errorf("Expires: got %v; want %v", a.Expires, want)
	}
	on := ls.On("alice", "/b/f")
	if len(on) != 1 || on[0].Token != a.Token || on[0].Owner != a.Owner {
		t.Errorf("On(/b/f): got %+v; want the lock %s with its owner", on, a.Token)
	}
}

func TestCheckWrite(t *testing.T) {
	type call struct {
		p            string
		deep, member bool
		submit       []int // indexes of locks whose tokens are submitted
		ok           bool
	}
	type lk struct {
		root         string
		deep, shared bool
	}
	tests := []struct {
		name  string
		locks []lk
		calls []call
	}{
		{
			"exclusive lock on a file",
			[]lk{{root: "/b/f"}},
			[]call{
				{p: "/b/f", ok: false},
				{p: "/b/f", submit: []int{0}, ok: true},
				{p: "/b/g", ok: true},
				{p: "/b/f2", member: true, deep: true, ok: true},
			},
		},
		{
			"deep lock on a folder",
			[]lk{{root: "/b/d", deep: true}},
			[]call{
				{p: "/b/d", ok: false},
				{p: "/b/d/x", ok: false},
				{p: "/b/d/x/y", member: true, ok: false},
				{p: "/b/d/x/y", submit: []int{0}, ok: true},
				{p: "/b/dx", ok: true},
				{p: "/b", ok: true},
				{p: "/b", deep: true, ok: false}, // removing /b takes /b/d away
				{p: "/b", deep: true, submit: []int{0}, ok: true},
			},
		},
		{
			"depth-0 lock on a folder protects its membership",
			[]lk{{root: "/b/d"}},
			[]call{
				{p: "/b/d", ok: false},
				{p: "/b/d/new", member: true, ok: false},
				{p: "/b/d/new", member: true, submit: []int{0}, ok: true},
				{p: "/b/d/existing", member: false, ok: true}, // changing a member's content
				{p: "/b/d/x/y", member: true, ok: true},       // a grandchild is not a member
				{p: "/b/e", member: true, ok: true},
			},
		},
		{
			"lock on a child blocks a deep write of the parent",
			[]lk{{root: "/b/d/x"}},
			[]call{
				{p: "/b/d", deep: true, ok: false},
				{p: "/b/d", deep: false, ok: true},
				{p: "/b/d", deep: true, submit: []int{0}, ok: true},
			},
		},
		{
			"shared locks on one resource: one token suffices",
			[]lk{{root: "/b/f", shared: true}, {root: "/b/f", shared: true}},
			[]call{
				{p: "/b/f", ok: false},
				{p: "/b/f", submit: []int{0}, ok: true},
				{p: "/b/f", submit: []int{1}, ok: true},
			},
		},
		{
			"two locks needed",
			[]lk{{root: "/b/d"}, {root: "/b/d/f"}},
			[]call{
				{p: "/b/d/f", member: true, submit: []int{1}, ok: false},
				{p: "/b/d/f", member: true, submit: []int{0}, ok: false},
				{p: "/b/d/f", member: true, submit: []int{0, 1}, ok: true},
				{p: "/b/d/f", member: false, submit: []int{1}, ok: true},
			},
		},
		{
			"an exclusive token does not stand for a shared lock",
			[]lk{{root: "/b/d"}, {root: "/b/d/x", shared: true}},
			[]call{
				{p: "/b/d/x", member: true, submit: []int{0}, ok: false},
				{p: "/b/d/x", member: true, submit: []int{0, 1}, ok: true},
				{p: "/b/d/x", member: false, submit: []int{1}, ok: true},
			},
		},
		{
			"user root lock",
			[]lk{{root: "/", deep: true}},
			[]call{
				{p: "/b", member: true, ok: false},
				{p: "/b/x/y", ok: false},
				{p: "/b/x/y", submit: []int{0}, ok: true},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ls, _ := newTestLocks()
			var held []Lock
			for _, l := range tc.locks {
				held = append(held, mustLock(t, ls, Lock{Root: l.root, Deep: l.deep, Shared: l.shared}))
			}
			for _, c := range tc.calls {
				sub := map[string]bool{"opaquelocktoken:not-a-lock": true}
				for _, i := range c.submit {
					sub[held[i].Token] = true
				}
				err := ls.CheckWrite("alice", c.p, c.deep, c.member, sub)
				if c.ok && err != nil {
					t.Errorf("CheckWrite(%s, deep=%v, member=%v, tokens %v): got %v; want nil", c.p, c.deep, c.member, c.submit, err)
				}
				if !c.ok && !errors.Is(err, ErrLocked) {
					t.Errorf("CheckWrite(%s, deep=%v, member=%v, tokens %v): got %v; want ErrLocked", c.p, c.deep, c.member, c.submit, err)
				}
				// Another user is never held back by alice's locks.
				if err := ls.CheckWrite("bob", c.p, c.deep, c.member, nil); err != nil {
					t.Errorf("CheckWrite by bob of %s: got %v; want nil", c.p, err)
				}
			}
		})
	}
}

func TestCheckWriteNoLocks(t *testing.T) {
	ls, _ := newTestLocks()
	if err := ls.CheckWrite("alice", "/b/f", true, true, nil); err != nil {
		t.Errorf("CheckWrite with no locks: got %v; want nil", err)
	}
}

func TestRefreshUnlock(t *testing.T) {
	ls, c := newTestLocks()
	l := mustLock(t, ls, Lock{Root: "/b/d", Deep: true, Timeout: time.Minute})
	f := mustLock(t, ls, Lock{Root: "/b/f", Timeout: time.Minute})

	c.t = c.t.Add(30 * time.Second)
	for _, tc := range []struct {
		name, user, token, path string
	}{
		{"wrong token", "alice", "opaquelocktoken:nope", "/b/d"},
		{"other lock's token", "alice", f.Token, "/b/d"},
		{"path outside the lock", "alice", l.Token, "/b/e"},
		{"parent path", "alice", l.Token, "/b"},
		{"other user", "bob", l.Token, "/b/d"},
	} {
		if _, err := ls.Refresh(tc.user, tc.token, tc.path, time.Hour); !errors.Is(err, ErrNoSuchLock) {
			t.Errorf("Refresh, %s: got %v; want ErrNoSuchLock", tc.name, err)
		}
		if err := ls.Unlock(tc.user, tc.token, tc.path); !errors.Is(err, ErrNoSuchLock) {
			t.Errorf("Unlock, %s: got %v; want ErrNoSuchLock", tc.name, err)
		}
	}
	r, err := ls.Refresh("alice", l.Token, "/b/d/x", 2*time.Minute)
	if err != nil {
		t.Fatalf("Refresh from inside the lock: %v", err)
	}
	if want := c.t.Add(2 * time.Minute); !r.Expires.Equal(want) || r.Timeout != 2*time.Minute || r.Token != l.Token {
		t.Errorf("Refresh: got expires %v timeout %v token %s; want %v, 2m, %s", r.Expires, r.Timeout, r.Token, want, l.Token)
	}
	// Past the first timeout, the refreshed lock lives on; the other does not.
	c.t = c.t.Add(90 * time.Second)
	if !ls.Valid("alice", l.Token, "/b/d") {
		t.Errorf("refreshed lock after its first timeout: not valid; want valid")
	}
	if ls.Valid("alice", f.Token, "/b/f") {
		t.Errorf("unrefreshed lock after its timeout: valid; want expired")
	}
	if err := ls.Unlock("alice", l.Token, "/b/d/x/y"); err != nil {
		t.Errorf("Unlock from inside the lock: got %v; want nil", err)
	}
	if err := ls.Unlock("alice", l.Token, "/b/d"); !errors.Is(err, ErrNoSuchLock) {
		t.Errorf("Unlock twice: got %v; want ErrNoSuchLock", err)
	}
	if err := ls.CheckWrite("alice", "/b/d/x", true, true, nil); err != nil {
		t.Errorf("CheckWrite after Unlock: got %v; want nil", err)
	}
}

func TestDepthZeroUnlockPath(t *testing.T) {
	ls, _ := newTestLocks()
	l := mustLock(t, ls, Lock{Root: "/b/d"})
	if err := ls.Unlock("alice", l.Token, "/b/d/x"); !errors.Is(err, ErrNoSuchLock) {
		t.Errorf("Unlock of a depth-0 lock from a member: got %v; want ErrNoSuchLock", err)
	}
	if ls.Valid("alice", l.Token, "/b/d/x") {
		t.Errorf("Valid of a depth-0 lock for a member: got true; want false")
	}
	if !ls.Valid("alice", l.Token, "/b/d") {
		t.Errorf("Valid of a depth-0 lock for its root: got false; want true")
	}
}

func TestExpiry(t *testing.T) {
	ls, c := newTestLocks()
	short := mustLock(t, ls, Lock{Root: "/b/f", Timeout: 10 * time.Second})
	forever := mustLock(t, ls, Lock{Root: "/b/g", Timeout: 0})

	c.t = c.t.Add(9 * time.Second)
	if !ls.Valid("alice", short.Token, "/b/f") {
		t.Errorf("Valid before the timeout: got false; want true")
	}
	if err := ls.CheckWrite("alice", "/b/f", false, false, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("CheckWrite before the timeout: got %v; want ErrLocked", err)
	}
	c.t = c.t.Add(2 * time.Second)
	if ls.Valid("alice", short.Token, "/b/f") {
		t.Errorf("Valid after the timeout: got true; want false")
	}
	if err := ls.CheckWrite("alice", "/b/f", false, false, nil); err != nil {
		t.Errorf("CheckWrite after the timeout: got %v; want nil", err)
	}
	if on := ls.On("alice", "/b/f"); len(on) != 0 {
		t.Errorf("On after the timeout: got %+v; want none", on)
	}
	if _, err := ls.Refresh("alice", short.Token, "/b/f", time.Hour); !errors.Is(err, ErrNoSuchLock) {
		t.Errorf("Refresh after the timeout: got %v; want ErrNoSuchLock", err)
	}
	if _, err := ls.Create(Lock{User: "alice", Root: "/b/f"}); err != nil {
		t.Errorf("Create over an expired lock: got %v; want nil", err)
	}

	c.t = c.t.Add(1000 * time.Hour)
	if !ls.Valid("alice", forever.Token, "/b/g") {
		t.Errorf("lock without a timeout after 1000h: not valid; want valid")
	}
	if err := ls.CheckWrite("alice", "/b/g", false, false, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("CheckWrite on a lock without a timeout: got %v; want ErrLocked", err)
	}
}

func TestMoved(t *testing.T) {
	ls, _ := newTestLocks()
	onD := mustLock(t, ls, Lock{Root: "/b/d"})
	below := mustLock(t, ls, Lock{Root: "/b/d/x/y", Deep: true})
	sibling := mustLock(t, ls, Lock{Root: "/b/dx"})
	parent := mustLock(t, ls, Lock{Root: "/b", Shared: true})
	bobs := mustLock(t, ls, Lock{User: "bob", Root: "/b/d"})

	ls.Moved("alice", "/b/d")
	for _, tc := range []struct {
		name  string
		user  string
		l     Lock
		valid bool
	}{
		{"lock on the moved folder", "alice", onD, false},
		{"lock below it", "alice", below, false},
		{"sibling with a name prefix", "alice", sibling, true},
		{"lock on the parent", "alice", parent, true},
		{"other user's lock on the same path", "bob", bobs, true},
	} {
		if got := ls.Valid(tc.user, tc.l.Token, tc.l.Root); got != tc.valid {
			t.Errorf("after Moved(/b/d), %s: Valid got %v; want %v", tc.name, got, tc.valid)
		}
	}
}

func TestValidAndOn(t *testing.T) {
	ls, _ := newTestLocks()
	deep := mustLock(t, ls, Lock{Root: "/b/d", Deep: true, Shared: true})
	child := mustLock(t, ls, Lock{Root: "/b/d/x", Shared: true})
	for _, tc := range []struct {
		user, token, p string
		want           bool
	}{
		{"alice", deep.Token, "/b/d", true},
		{"alice", deep.Token, "/b/d/x/y", true},
		{"alice", deep.Token, "/b/dx", false},
		{"alice", deep.Token, "/b", false},
		{"bob", deep.Token, "/b/d", false},
		{"alice", "opaquelocktoken:nope", "/b/d", false},
		{"alice", child.Token, "/b/d/x", true},
		{"alice", child.Token, "/b/d", false},
	} {
		if got := ls.Valid(tc.user, tc.token, tc.p); got != tc.want {
			t.Errorf("Valid(%s, %s, %s): got %v; want %v", tc.user, tc.token, tc.p, got, tc.want)
		}
	}
	tokensOn := func(p string) []string {
		var out []string
		for _, l := range ls.On("alice", p) {
			out = append(out, l.Root)
		}
		sort.Strings(out)
		return out
	}
	if got := tokensOn("/b/d/x"); len(got) != 2 || got[0] != "/b/d" || got[1] != "/b/d/x" {
		t.Errorf("On(/b/d/x): got roots %q; want /b/d and /b/d/x", got)
	}
	if got := tokensOn("/b/d"); len(got) != 1 || got[0] != "/b/d" {
		t.Errorf("On(/b/d): got roots %q; want /b/d", got)
	}
	if got := ls.On("bob", "/b/d"); len(got) != 0 {
		t.Errorf("On for bob: got %+v; want none", got)
	}
	if !ls.Any("alice") || ls.Any("bob") {
		t.Errorf("Any: got alice %v bob %v; want true, false", ls.Any("alice"), ls.Any("bob"))
	}
}

func TestIsUnderAndParent(t *testing.T) {
	for _, tc := range []struct {
		p, dir string
		want   bool
	}{
		{"/b/d/x", "/b/d", true},
		{"/b/d", "/b/d", false},
		{"/b/dx", "/b/d", false},
		{"/b", "/", true},
		{"/", "/", false},
	} {
		if got := isUnder(tc.p, tc.dir); got != tc.want {
			t.Errorf("isUnder(%s, %s): got %v; want %v", tc.p, tc.dir, got, tc.want)
		}
	}
	for _, tc := range []struct{ p, want string }{
		{"/b/d/x", "/b/d"},
		{"/b", "/"},
		{"/", "/"},
	} {
		if got := parentOf(tc.p); got != tc.want {
			t.Errorf("parentOf(%s): got %s; want %s", tc.p, got, tc.want)
		}
	}
}

// TestSharedTokenStaysWithItsResource: a shared lock's token stands for
// other shared locks on the same resource only.
func TestSharedTokenStaysWithItsResource(t *testing.T) {
	ls, _ := newTestLocks()
	s1 := mustLock(t, ls, Lock{User: "u", Root: "/b/d/a", Shared: true, Timeout: time.Hour})
	mustLock(t, ls, Lock{User: "u", Root: "/b/d/b", Shared: true, Timeout: time.Hour})
	if err := ls.CheckWrite("u", "/b/d", true, false, toks(s1)); !errors.Is(err, ErrLocked) {
		t.Errorf("deep write to /b/d with only /b/d/a's token: %v; want ErrLocked", err)
	}
	s3 := mustLock(t, ls, Lock{User: "u", Root: "/b/d/a", Shared: true, Timeout: time.Hour})
	if err := ls.CheckWrite("u", "/b/d/a", false, false, toks(s3)); err != nil {
		t.Errorf("write to /b/d/a with one of its shared tokens: %v; want nil", err)
	}
	f1 := mustLock(t, ls, Lock{User: "u", Root: "/b/e", Shared: true, Timeout: time.Hour})
	x := mustLock(t, ls, Lock{User: "u", Root: "/b/e/x", Shared: true, Timeout: time.Hour})
	if err := ls.CheckWrite("u", "/b/e/x", true, true, toks(x)); !errors.Is(err, ErrLocked) {
		t.Errorf("delete /b/e/x without the folder's token: %v; want ErrLocked", err)
	}
	if err := ls.CheckWrite("u", "/b/e/x", true, true, toks(x, f1)); err != nil {
		t.Errorf("delete /b/e/x with both tokens: %v; want nil", err)
	}
}
