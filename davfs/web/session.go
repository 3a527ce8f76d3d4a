package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"shoebox/gateway/auth"
)

// Sessions of the web app: a random 32-byte token in an HttpOnly,
// SameSite=Strict cookie (Secure when the request came over TLS), kept in
// memory only, under the SHA-256 of the token (a memory dump does not give
// out live cookies). A restart signs every browser out; scripts use Basic
// authentication, which has no session. Each session has its own CSRF
// token, which the app sends in the X-CSRF-Token header of every request
// that changes something; a request with the cookie and without the token
// is refused.

// CookieName is the session cookie's name.
const CookieName = "shoebox_session"

// CSRFHeader carries a session's CSRF token.
const CSRFHeader = "X-CSRF-Token"

// maxSessions bounds the sessions kept; past it, the oldest goes.
const maxSessions = 10000

type session struct {
	user    string
	csrf    string
	created time.Time
	seen    time.Time
}

type sessions struct {
	idle, max time.Duration
	mu        sync.Mutex
	m         map[[32]byte]*session
}

func newSessions(idle, max time.Duration) *sessions {
	return &sessions{idle: idle, max: max, m: map[[32]byte]*session{}}
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for user; it returns the cookie's token.
func (s *sessions) create(user string, now time.Time) (string, *session) {
	tok := randomToken()
	ss := &session{user: user, csrf: randomToken(), created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if len(s.m) >= maxSessions {
		var oldest [32]byte
		var ot time.Time
		for k, v := range s.m {
			if ot.IsZero() || v.seen.Before(ot) {
				oldest, ot = k, v.seen
			}
		}
		delete(s.m, oldest)
	}
	s.m[sha256.Sum256([]byte(tok))] = ss
	return tok, ss
}

func (s *sessions) sweep(now time.Time) {
	for k, v := range s.m {
		if s.expired(v, now) {
			delete(s.m, k)
		}
	}
}

func (s *sessions) expired(v *session, now time.Time) bool {
	return now.Sub(v.seen) > s.idle || now.Sub(v.created) > s.max
}

// get returns the live session of a token, marking it used.
func (s *sessions) get(tok string, now time.Time) (session, bool) {
	k := sha256.Sum256([]byte(tok))
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return session{}, false
	}
	if s.expired(v, now) {
		delete(s.m, k)
		return session{}, false
	}
	v.seen = now
	return *v, true
}

func (s *sessions) drop(tok string) {
	s.mu.Lock()
	delete(s.m, sha256.Sum256([]byte(tok)))
	s.mu.Unlock()
}

// dropUser ends every session of user.
func (s *sessions) dropUser(user string) {
	s.mu.Lock()
	for k, v := range s.m {
		if v.user == user {
			delete(s.m, k)
		}
	}
	s.mu.Unlock()
}

func isTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, tok string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: tok, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteStrictMode})
}

// sessionInfo is the answer of GET and POST /api/v1/session.
type sessionInfo struct {
	User string `json:"user"`
	CSRF string `json:"csrf,omitempty"` // the token to send in X-CSRF-Token
}

// signIn serves POST /api/v1/session: a form (user, password) checked
// like Basic (the user's password or an app password, under the shared
// Limiter); on success a new session and its cookie.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		apiError(w, http.StatusForbidden, "sign in from this server's page")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		apiError(w, http.StatusBadRequest, "the sign-in form could not be read: "+err.Error())
		return
	}
	user, pw := r.PostForm.Get("user"), r.PostForm.Get("password")
	if user == "" || pw == "" {
		apiError(w, http.StatusBadRequest, "give a user name and a password")
		return
	}
	login := auth.Login{Protocol: "web", Remote: r.RemoteAddr, User: user}
	if wait := h.cfg.Limiter.Admit(login); wait > 0 {
		w.Header().Set("Retry-After", auth.RetryAfter(wait))
		apiError(w, http.StatusTooManyRequests, "too many failed sign-ins; try again in "+auth.RetryAfter(wait)+" s")
		return
	}
	if err := h.cfg.Auth.Check(r.Context(), user, pw); err != nil {
		h.cfg.Limiter.Failed(login)
		apiError(w, http.StatusUnauthorized, auth.ErrBadCredentials.Error())
		return
	}
	h.cfg.Limiter.Succeeded(login)
	if old, err := r.Cookie(CookieName); err == nil {
		h.sessions.drop(old.Value) // no session fixation
	}
	tok, ss := h.sessions.create(user, time.Now())
	h.setCookie(w, r, tok, int(h.cfg.SessionMax/time.Second))
	h.log.Info("signed in", "user", user, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, sessionInfo{User: user, CSRF: ss.csrf})
}

// signOut serves DELETE /api/v1/session (behind authenticate, so with the
// CSRF token): the session ends and its cookie is cleared.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		h.sessions.drop(c.Value)
	}
	h.setCookie(w, r, "", -1)
	w.WriteHeader(http.StatusNoContent)
}

// hasSession reports whether the request carries a live session cookie.
func (h *Handler) hasSession(r *http.Request) bool {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return false
	}
	_, ok := h.sessions.get(c.Value, time.Now())
	return ok
}

var errNoSession = errors.New("sign in first")

// authenticate puts the user in the request's context: from the session
// cookie (and then, for a change, the CSRF token must be in the header),
// else from Basic credentials (scripts; a change must not come from
// another site's page, as a browser may send Basic credentials it
// remembers). Without either: 401, with a Basic challenge unless the app
// asked (X-Shoebox-App), so a browser shows no password dialog.
func (h *Handler) authenticate(next http.Handler) http.Handler {
	basic := h.cfg.Auth.Basic("Shoebox", "api", next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
		if _, _, ok := r.BasicAuth(); ok {
			if !safe && !sameOrigin(r) {
				apiError(w, http.StatusForbidden, "changes through Basic authentication are refused from another site's page")
				return
			}
			basic.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(CookieName); err == nil {
			ss, ok := h.sessions.get(c.Value, time.Now())
			if ok {
				if _, err := h.cat.GetUser(r.Context(), ss.user); err != nil {
					h.sessions.dropUser(ss.user) // removed since
					ok = false
				}
			}
			if ok {
				if !safe && subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(ss.csrf)) != 1 {
					apiError(w, http.StatusForbidden, "missing or wrong "+CSRFHeader+" header (reload the page)")
					return
				}
				ctx := auth.WithUser(r.Context(), ss.user)
				next.ServeHTTP(w, r.WithContext(withCSRF(ctx, ss.csrf)))
				return
			}
		}
		if r.Header.Get("X-Shoebox-App") != "" {
			apiError(w, http.StatusUnauthorized, errNoSession.Error())
			return
		}
		basic.ServeHTTP(w, r)
	})
}
