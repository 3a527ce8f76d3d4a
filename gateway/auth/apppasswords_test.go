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

func TestNewAppPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		pw := auth.NewAppPassword()
		if len(pw) != auth.AppPasswordLen || strings.Trim(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
			t.Fatalf("NewAppPassword() = %q: want %d letters and digits", pw, auth.AppPasswordLen)
		}
		if seen[pw] {
			t.Fatalf("NewAppPassword() repeated %q", pw)
		}
		seen[pw] = true
	}
	if h := auth.HashAppPassword("x"); !strings.HasPrefix(h, "sha256:") || len(h) != len("sha256:")+64 {
		t.Errorf("HashAppPassword = %q", h)
	}
}

func TestAppPasswords(t *testing.T) {
	cat, a := setup(t)
	ctx := context.Background()
	p, secret, err := a.GrantAppPassword(ctx, "ann", "Mozilla/5.0 (Android) Nextcloud-android/3.30.0")
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := cat.AppPasswords(ctx, "ann")
	if len(rows) != 1 || rows[0].ID != p.ID || rows[0].Name != "Mozilla/5.0 (Android) Nextcloud-android/3.30.0" || rows[0].Hash == secret || strings.Contains(rows[0].Hash, secret) {
		t.Fatalf("rows after grant: %+v", rows)
	}
	if !rows[0].LastUsed.IsZero() {
		t.Errorf("LastUsed before any use: %v", rows[0].LastUsed)
	}
	if _, _, err := a.GrantAppPassword(ctx, "nobody", "x"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("GrantAppPassword for a missing user: got %v; want ErrNotFound", err)
	}

	// Accepted in place of the password, by Check only; last use recorded.
	if err := a.Check(ctx, "ann", secret); err != nil {
		t.Fatalf("Check with the app password: %v", err)
	}
	if err := a.CheckPassword(ctx, "ann", secret); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("CheckPassword with an app password: got %v; want ErrBadCredentials", err)
	}
	if rows, _ := cat.AppPasswords(ctx, "ann"); len(rows) != 1 || time.Since(rows[0].LastUsed) > time.Minute {
		t.Errorf("LastUsed after a use: %+v", rows)
	}
	if err := a.Check(ctx, "bob", secret); err == nil {
		t.Error("another user's name with ann's app password accepted")
	}
	other := auth.NewAppPassword()
	if err := a.Check(ctx, "ann", other); err == nil {
		t.Error("a random app password accepted")
	}
	// The main password still works, and its cache does not keep a
	// revoked app password alive.
	if err := a.Check(ctx, "ann", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.DeleteAppPassword(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.Check(ctx, "ann", secret); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("Check with a revoked app password: got %v; want ErrBadCredentials", err)
	}
	if err := a.Check(ctx, "ann", "s3cret"); err != nil {
		t.Errorf("password after revoking an app password: %v", err)
	}
}

func TestAppPasswordBasicAndLimiter(t *testing.T) {
	cat, _ := setup(t)
	ctx := context.Background()
	lim := auth.NewLimiter(auth.LimiterOptions{AddrFailures: 2, Delay: time.Hour})
	a := auth.New(cat, time.Minute, lim)
	_, secret, err := a.GrantAppPassword(ctx, "ann", "phone")
	if err != nil {
		t.Fatal(err)
	}
	h := a.Basic("Shoebox", "webdav", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(auth.User(r.Context())))
	}))
	do := func(remote, pw string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/dav/", nil)
		r.RemoteAddr = remote
		r.SetBasicAuth("ann", pw)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := do("192.0.2.1:1", secret); w.Code != 200 || w.Body.String() != "ann" {
		t.Fatalf("Basic with the app password: %d %s", w.Code, w.Body)
	}
	// Wrong app passwords are failed logins like wrong passwords.
	for range 3 {
		if w := do("192.0.2.2:1", auth.NewAppPassword()); w.Code != 401 {
			t.Fatalf("wrong app password: %d", w.Code)
		}
	}
	if w := do("192.0.2.2:1", secret); w.Code != 429 {
		t.Errorf("after 3 failures from the address: %d; want 429", w.Code)
	}

	// SignIn (the Login Flow's form) takes the password, not an app
	// password, and counts failures.
	if wait, err := a.SignIn(ctx, "nextcloud-login", "192.0.2.3:1", "ann", secret); wait != 0 || err == nil {
		t.Errorf("SignIn with an app password: %v, %v; want refused", wait, err)
	}
	if wait, err := a.SignIn(ctx, "nextcloud-login", "192.0.2.3:1", "ann", "nope"); wait != 0 || err == nil {
		t.Errorf("SignIn with a wrong password: %v, %v; want refused", wait, err)
	}
	if wait, err := a.SignIn(ctx, "nextcloud-login", "192.0.2.3:1", "ann", "nope"); err == nil {
		t.Errorf("SignIn with a wrong password: %v, %v; want refused", wait, err)
	}
	if wait, _ := a.SignIn(ctx, "nextcloud-login", "192.0.2.3:1", "ann", "s3cret"); wait <= 0 {
		t.Errorf("SignIn after 3 failures: wait %v; want > 0", wait)
	}
	if wait, err := a.SignIn(ctx, "nextcloud-login", "192.0.2.4:1", "ann", "s3cret"); wait != 0 || err != nil {
		t.Errorf("SignIn with the password from a clean address: %v, %v", wait, err)
	}
}
