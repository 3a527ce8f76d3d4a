// Package auth checks users' passwords against the catalog and carries the
// authenticated user in a request's context. Passwords are bcrypt hashes;
// since bcrypt costs tens of milliseconds by design, a successful check is
// remembered for a few minutes under an HMAC of the password keyed with a
// per-process random key, so a busy sync client pays the cost once, and a
// changed or removed password stops working when the entry expires.
//
// S3 access keys (NewAccessKey) cannot be hashed like passwords: AWS
// Signature V4 needs the clear secret on the server to recompute each
// signature. Their secrets are therefore stored encrypted: a Sealer seals
// them with AES-256-GCM under a 32-byte server key kept in its own file,
// <data>/secret.key (mode 0600, created on first use), outside the catalog.
// A stolen catalog alone gives out no secret; the catalog and the key file
// together do. Losing the key file makes every access key unusable (create
// new ones); passwords and files are not affected.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
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
	key   [32]byte
	dummy []byte // a hash to spend time on for unknown users

	mu    sync.Mutex
	cache map[string]cached // user → last good check
}

type cached struct {
	mac     [32]byte
	expires time.Time
}

// New returns an Authenticator that remembers good passwords for ttl.
func New(cat *catalog.Catalog, ttl time.Duration) *Authenticator {
	a := &Authenticator{cat: cat, ttl: ttl, cache: map[string]cached{}}
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

// Check verifies a user name and password.
func (a *Authenticator) Check(ctx context.Context, user, pw string) error {
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

// Basic wraps h with HTTP Basic authentication: a request without good
// credentials gets 401 with a WWW-Authenticate challenge for realm; a good
// one reaches h with the user in its context.
func (a *Authenticator) Basic(realm string, h http.Handler) http.Handler {
	challenge := fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", realm)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, ok := r.BasicAuth()
		if !ok || a.Check(r.Context(), user, pw) != nil {
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, "401 Unauthorized: Shoebox needs a user name and password", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r.WithContext(WithUser(r.Context(), user)))
	})
}
