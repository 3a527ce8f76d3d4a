package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"shoebox/catalog"
)

// Cost is the bcrypt cost of new password hashes.
const Cost = 11

// ErrBadCredentials is returned for an unknown user or a wrong password.
var ErrBadCredentials = errors.New("wrong user name or password")

// HashPassword returns the hash to store for a password.
func HashPassword(pw string) (string, error) {
	if len(pw) < 1 || len(pw) > 72 {
		return "", fmt.Errorf("password must be 1 to 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), Cost)
	return string(h), err
}

// Authenticator checks Basic credentials.
type Authenticator struct {
	cat   *catalog.Catalog
	ttl   time.Duration
	limit *Limiter // nil: no limit
	key   [32]byte
	dummy []byte // a hash to spend time on for unknown users

	log *slog.Logger

	mu      sync.Mutex
	cache   map[string]cached    // user → last good check of their password
	touched map[string]time.Time // app password ID → when its last use was written
}

type cached struct {
	mac     [32]byte
	expires time.Time
}

// New returns an Authenticator that remembers good passwords for ttl and
// slows down failed logins with limit (nil: never).
func New(cat *catalog.Catalog, ttl time.Duration, limit *Limiter) *Authenticator {
	a := &Authenticator{cat: cat, ttl: ttl, limit: limit, cache: map[string]cached{}, touched: map[string]time.Time{},
		log: limit.logger().With("component", "auth")}
	rand.Read(a.key[:])
	a.dummy, _ = bcrypt.GenerateFromPassword(a.key[:16], Cost)
	return a
}

func (a *Authenticator) mac(user, pw string) [32]byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(pw))
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

// Check verifies a user name and password: the user's password or one of
// their app passwords.
func (a *Authenticator) Check(ctx context.Context, user, pw string) error {
	if a.checkAppPassword(ctx, user, pw) {
		return nil
	}
	return a.CheckPassword(ctx, user, pw)
}

// CheckPassword verifies a user name and the user's own password; an app
// password is refused.
func (a *Authenticator) CheckPassword(ctx context.Context, user, pw string) error {
	mac := a.mac(user, pw)
	now := time.Now()
	a.mu.Lock()
	c, ok := a.cache[user]
	a.mu.Unlock()
	if ok && now.Before(c.expires) && subtle.ConstantTimeCompare(c.mac[:], mac[:]) == 1 {
		return nil
	}
	u, err := a.cat.GetUser(ctx, user)
	if err != nil {
		// Spend the same time as a real check, so user names cannot be probed.
		bcrypt.CompareHashAndPassword(a.dummy, []byte(pw))
		return ErrBadCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) != nil {
		return ErrBadCredentials
	}
	a.mu.Lock()
	a.cache[user] = cached{mac: mac, expires: now.Add(a.ttl)}
	a.mu.Unlock()
	return nil
}

// Forget drops what Check remembers of user, so a new password or a
// removed user takes effect at once.
func (a *Authenticator) Forget(user string) {
	a.mu.Lock()
	delete(a.cache, user)
	a.mu.Unlock()
}

// SignIn checks a user's own password entered in a sign-in form (the
// Nextcloud Login Flow's page), under the Limiter like Basic: a positive
// wait means the attempt must wait that long and was not checked; wrong
// credentials are a failure for the Limiter, remote is the client's
// address (http.Request.RemoteAddr) and protocol names the form in logs
// and metrics.
func (a *Authenticator) SignIn(ctx context.Context, protocol, remote, user, pw string) (time.Duration, error) {
	login := Login{Protocol: protocol, Remote: remote, User: user}
	if wait := a.limit.Admit(login); wait > 0 {
		return wait, nil
	}
	if err := a.CheckPassword(ctx, user, pw); err != nil {
		a.limit.Failed(login)
		return 0, err
	}
	a.limit.Succeeded(login)
	return 0, nil
}

type userKey struct{}

// WithUser returns ctx carrying the authenticated user name.
func WithUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}

// User returns the authenticated user carried by ctx, or "".
func User(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}

// Basic wraps h with HTTP Basic authentication: a request without
// credentials gets 401 with a WWW-Authenticate challenge for realm, as does
// one with wrong credentials (saying "wrong user name or password"), which
// is also a failure for the Limiter; an
// address the Limiter says must wait gets 429 with Retry-After, its
// credentials unchecked; a good request reaches h with the user in its
// context. protocol names the front end in logs and metrics.
func (a *Authenticator) Basic(realm, protocol string, h http.Handler) http.Handler {
	challenge := fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", realm)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, ok := r.BasicAuth()
		if !ok || (user == "" && pw == "") { // no credentials yet: not a failure
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, "401 Unauthorized: Shoebox needs a user name and password", http.StatusUnauthorized)
			return
		}
		login := Login{Protocol: protocol, Remote: r.RemoteAddr, User: user}
		if wait := a.limit.Admit(login); wait > 0 {
			w.Header().Set("Retry-After", RetryAfter(wait))
			http.Error(w, "429 Too Many Requests: too many failed logins; try again in "+RetryAfter(wait)+" s", http.StatusTooManyRequests)
			return
		}
		if err := a.Check(r.Context(), user, pw); err != nil {
			a.limit.Failed(login)
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, "401 Unauthorized: "+ErrBadCredentials.Error(), http.StatusUnauthorized)
			return
		}
		a.limit.Succeeded(login)
		h.ServeHTTP(w, r.WithContext(WithUser(r.Context(), user)))
	})
}
