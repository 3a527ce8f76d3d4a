package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"shoebox/catalog"
)

// App passwords are device passwords, one per signed-in client (Nextcloud's
// Login Flow v2 grants them; see loginflow). They are accepted wherever the
// user's password is (Check, hence Basic: WebDAV, the API, the Nextcloud
// front door), never by a sign-in form that grants more of them
// (CheckPassword), and revoked one by one without touching the password.
//
// An app password is AppPasswordLen characters drawn uniformly from 62
// letters and digits, Nextcloud's format: about 428 bits of entropy. It is
// stored as its SHA-256, not with bcrypt: a slow hash protects secrets
// people choose, which are few enough to guess through; a random secret of
// 428 bits cannot be guessed through any hash, so SHA-256 is as safe for
// it, and it costs a microsecond where bcrypt costs tens of milliseconds
// on every request that presents it. That is also why app passwords are not
// kept in Check's cache: each use is a hash and one catalog read, so a
// revoked app password (or one removed with its user) fails on the very
// next request, whatever the cache holds.

// AppPasswordLen is the length of an app password.
const AppPasswordLen = 72

const appPasswordChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// touchEvery is how stale an app password's last use may get before a use
// writes it again: last use is kept lazily, one catalog write per device
// per touchEvery at most.
const touchEvery = 10 * time.Minute

// maxDeviceName bounds the device name kept (from a client's User-Agent).
const maxDeviceName = 200

// NewAppPassword returns a new random app password.
func NewAppPassword() string {
	b := make([]byte, 0, AppPasswordLen)
	var buf [64]byte
	for len(b) < AppPasswordLen {
		rand.Read(buf[:])
		for _, c := range buf {
			// 248 = 4*62: rejecting the bytes above keeps the draw uniform.
			if c < 248 && len(b) < AppPasswordLen {
				b = append(b, appPasswordChars[c%62])
			}
		}
	}
	return string(b)
}

// looksLikeAppPassword reports whether pw has an app password's shape, so
// that only such passwords are looked up among app passwords.
func looksLikeAppPassword(pw string) bool {
	if len(pw) != AppPasswordLen {
		return false
	}
	for i := 0; i < len(pw); i++ {
		c := pw[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// HashAppPassword is what the catalog stores of an app password.
func HashAppPassword(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// GrantAppPassword creates an app password of user for the device named
// device and returns its row and its secret, which is shown only then.
func (a *Authenticator) GrantAppPassword(ctx context.Context, user, device string) (catalog.AppPassword, string, error) {
	if len(device) > maxDeviceName {
		device = device[:maxDeviceName]
	}
	for attempt := 0; ; attempt++ {
		var id [8]byte
		rand.Read(id[:])
		secret := NewAppPassword()
		p := catalog.AppPassword{ID: hex.EncodeToString(id[:]), User: user, Hash: HashAppPassword(secret),
			Name: device, Created: time.Now().UTC()}
		err := a.cat.PutAppPassword(ctx, p)
		if errors.Is(err, catalog.ErrExists) && attempt < 3 {
			continue
		}
		if err != nil {
			return catalog.AppPassword{}, "", fmt.Errorf("grant an app password to %s: %w", user, err)
		}
		return p, secret, nil
	}
}

// checkAppPassword reports whether pw is one of user's app passwords, and
// records its use (lazily).
func (a *Authenticator) checkAppPassword(ctx context.Context, user, pw string) bool {
	if !looksLikeAppPassword(pw) {
		return false
	}
	p, err := a.cat.MatchAppPassword(ctx, user, HashAppPassword(pw))
	if err != nil {
		return false
	}
	now := time.Now().UTC()
	if now.Sub(p.LastUsed) < touchEvery {
		return true
	}
	a.mu.Lock()
	last, ok := a.touched[p.ID]
	due := !ok || now.Sub(last) >= touchEvery
	if due {
		if len(a.touched) >= maxTouched {
			for id, t := range a.touched {
				if now.Sub(t) >= touchEvery {
					delete(a.touched, id)
				}
			}
			if len(a.touched) >= maxTouched {
				clear(a.touched)
			}
		}
		a.touched[p.ID] = now
	}
	a.mu.Unlock()
	if due {
		// A failed write costs only the last-use time; the login stands.
		if err := a.cat.TouchAppPassword(ctx, user, p.ID, now); err != nil && !errors.Is(err, catalog.ErrNotFound) {
			a.log.Warn("record an app password's use", "user", user, "id", p.ID, "err", err)
		}
	}
	return true
}

// maxTouched bounds the table of recent last-use writes.
const maxTouched = 4096
