package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/gateway/auth"
)

func setup(t *testing.T) (*catalog.Catalog, *auth.Authenticator) {
	t.Helper()
	cat, err := catalog.Open("", catalog.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	h, err := auth.HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h, "s3cret") || !strings.HasPrefix(h, "$2") {
		t.Fatalf("hash %q is not a bcrypt hash", h)
	}
	if err := cat.PutUser(context.Background(), catalog.User{Name: "ann", PasswordHash: h}, true); err != nil {
		t.Fatal(err)
	}
	return cat, auth.New(cat, time.Minute, nil)
}

func TestCheck(t *testing.T) {
	cat, a := setup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		user, pw string
		ok       bool
	}{
		{"ann", "s3cret", true},
		{"ann", "s3cret", true}, // from the cache
		{"ann", "wrong", false},
		{"bob", "s3cret", false},
		{"ann", "", false},
	} {
		err := a.Check(ctx, tc.user, tc.pw)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, auth.ErrBadCredentials)) {
			t.Errorf("Check(%q, %q) = %v; want ok=%v", tc.user, tc.pw, err, tc.ok)
		}
	}
	// A changed password takes effect for a new Authenticator (and for
	// this one once its cache entry expires).
	h, _ := auth.HashPassword("new")
	cat.PutUser(ctx, catalog.User{Name: "ann", PasswordHash: h}, false)
	fresh := auth.New(cat, time.Minute, nil)
	if err := fresh.Check(ctx, "ann", "s3cret"); err == nil {
		t.Error("old password still accepted after passwd")
	}
	if err := fresh.Check(ctx, "ann", "new"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
}

func TestBasic(t *testing.T) {
	_, a := setup(t)
	var seen string
	h := a.Basic("Shoebox", "webdav", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = auth.User(r.Context())
	}))
	for _, tc := range []struct {
		user, pw string
		status   int
	}{{"ann", "s3cret", 200}, {"ann", "nope", 401}, {"", "", 401}} {
		seen = ""
		r := httptest.NewRequest("GET", "/dav/", nil)
		if tc.user != "" {
			r.SetBasicAuth(tc.user, tc.pw)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("%s/%s: status %d; want %d", tc.user, tc.pw, w.Code, tc.status)
		}
		if tc.status == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), `Basic realm="Shoebox"`) {
			t.Errorf("401 without a Basic challenge: %q", w.Header().Get("WWW-Authenticate"))
		}
		if tc.status == 200 && seen != "ann" {
			t.Errorf("handler saw user %q; want ann", seen)
		}
	}
}

// TestBasicLimited: wrong passwords are failures, missing credentials are
// not; an address beyond its failures gets 429 with Retry-After, even with
// the right password, while another address logs in.
func TestBasicLimited(t *testing.T) {
	cat, _ := setup(t)
	c := newClock()
	var failed, throttled int
	lim := auth.NewLimiter(auth.LimiterOptions{AddrFailures: 2, Now: c.now, Logger: quiet(),
		Observe: func(_ string, th bool) {
			if th {
				throttled++
			} else {
				failed++
			}
		}})
	a := auth.New(cat, time.Minute, lim)
	h := a.Basic("Shoebox", "webdav", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for i, tc := range []struct {
		remote, user, pw string
		status           int
		retryAfter       string
	}{
		{attacker, "", "", 401, ""}, // the challenge: no failure
		{attacker, "", "", 401, ""},
		{attacker, "", "", 401, ""},
		{attacker, "ann", "nope", 401, ""},
		{attacker, "zed", "nope", 401, ""},
		{attacker, "ann", "nope", 401, ""},
		{attacker, "ann", "s3cret", 429, "1"},
		{attacker, "", "", 401, ""}, // a challenge is still a challenge
		{home, "ann", "s3cret", 200, ""},
	} {
		r := httptest.NewRequest("PROPFIND", "/dav/", nil)
		r.RemoteAddr = tc.remote
		if tc.user != "" {
			r.SetBasicAuth(tc.user, tc.pw)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status || w.Header().Get("Retry-After") != tc.retryAfter {
			t.Errorf("%d: %s as %q: status %d, Retry-After %q; want %d, %q", i, tc.remote, tc.user, w.Code, w.Header().Get("Retry-After"), tc.status, tc.retryAfter)
		}
	}
	if failed != 3 || throttled != 1 {
		t.Errorf("%d failures, %d throttled; want 3, 1", failed, throttled)
	}
}
