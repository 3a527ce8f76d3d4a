// Package loginflow serves Nextcloud's Login Flow v2, the way the Nextcloud
// desktop and mobile apps sign in: the app starts a flow, opens its login
// URL in a browser, where the user enters their password, and polls until
// the server hands it an app password for that device (gateway/auth).
//
//	POST <base>                → {"poll":{"token":T,"endpoint":<base>/poll},"login":<base>/flow/L}
//	GET  <base>/flow/L         → the sign-in page (embedded HTML, no external assets)
//	POST <base>/flow/L         → user, password and the page's CSRF field: grants the flow
//	POST <base>/poll  token=T  → 404 until granted; then once {"server","loginName","appPassword"}
//
// <base> is the path up to and including "/login/v2" (Nextcloud's
// "/index.php/login/v2", or "/login/v2"): a Handler serves any path that
// contains it, so mount it, unstripped, at both. The poll token T and the
// login token L are independent random strings: the login URL, seen by the
// browser (its history, a proxy's log), does not let anyone poll.
//
// Flows live in memory, at most MaxFlows of them (the oldest gives way),
// each for Expiry (20 minutes) from its start. The app password is made
// when the granted flow is polled, so a flow granted but never collected
// leaves no password behind. The page's form carries a per-flow random
// token, also set as a SameSite=Strict cookie scoped to the flow's path;
// a POST without both is refused. Wrong passwords are failed logins for
// the server's Limiter, like any other.
package loginflow

import (
	"container/list"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"shoebox/catalog"
)

// Defaults of Options.
const (
	DefaultExpiry   = 20 * time.Minute
	DefaultMaxFlows = 1024
)

// Protocol names the sign-in page in the Limiter's logs and metrics.
const Protocol = "nextcloud-login"

// Backend checks passwords and grants app passwords: *auth.Authenticator.
type Backend interface {
	// SignIn checks the user's own password (never an app password)
	// under the brute-force limits: a positive wait means the attempt was
	// not checked and must wait.
	SignIn(ctx context.Context, protocol, remote, user, pw string) (time.Duration, error)
	// GrantAppPassword creates an app password of user for device.
	GrantAppPassword(ctx context.Context, user, device string) (catalog.AppPassword, string, error)
}

// Options configures a Handler; zero fields take the defaults.
type Options struct {
	Backend Backend
	// ExternalPrefix is a path prefix a reverse proxy puts in front of
	// this server's paths (cmd/shoebox's external_prefix), for the URLs
	// handed out; a request's X-Forwarded-Prefix overrides it.
	ExternalPrefix string
	Expiry         time.Duration    // how long a flow lives (default 20 minutes)
	MaxFlows       int              // flows kept at once (default 1024)
	Now            func() time.Time // the clock (default time.Now)
	Logger         *slog.Logger     // default slog.Default()
}

// Handler serves Login Flow v2. It is safe for concurrent use.
type Handler struct {
	opt Options
	log *slog.Logger

	mu      sync.Mutex
	byLogin map[string]*flow   // login token → flow
	byPoll  map[[32]byte]*flow // SHA-256 of the poll token → flow
	order   list.List          // of *flow, oldest first
}

type flow struct {
	login   string
	poll    [32]byte
	csrf    string
	device  string
	created time.Time
	user    string // who granted it; "" until then
	elem    *list.Element
}

// New returns a Handler.
func New(opt Options) *Handler {
	if opt.Expiry <= 0 {
		opt.Expiry = DefaultExpiry
	}
	if opt.MaxFlows <= 0 {
		opt.MaxFlows = DefaultMaxFlows
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.ExternalPrefix = strings.TrimSuffix(opt.ExternalPrefix, "/")
	lg := opt.Logger
	if lg == nil {
		lg = slog.Default()
	}
	return &Handler{opt: opt, log: lg.With("component", "loginflow"),
		byLogin: map[string]*flow{}, byPoll: map[[32]byte]*flow{}}
}

const marker = "/login/v2"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := strings.Index(r.URL.Path, marker)
	if i < 0 {
		http.NotFound(w, r)
		return
	}
	base, rest := r.URL.Path[:i+len(marker)], r.URL.Path[i+len(marker):]
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case rest == "" || rest == "/":
		if !allow(w, r, http.MethodPost) {
			return
		}
		h.start(w, r, base)
	case rest == "/poll":
		if !allow(w, r, http.MethodPost) {
			return
		}
		h.poll(w, r)
	case strings.HasPrefix(rest, "/flow/") && !strings.Contains(rest[len("/flow/"):], "/"):
		if !allow(w, r, http.MethodGet, http.MethodHead, http.MethodPost) {
			return
		}
		h.page(w, r, base, rest[len("/flow/"):])
	default:
		http.NotFound(w, r)
	}
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
	return false
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// purge drops expired flows; h.mu is held.
func (h *Handler) purge(now time.Time) {
	for e := h.order.Front(); e != nil; e = h.order.Front() {
		f := e.Value.(*flow)
		if now.Sub(f.created) < h.opt.Expiry {
			return
		}
		h.drop(f)
	}
}

// drop forgets f; h.mu is held.
func (h *Handler) drop(f *flow) {
	h.order.Remove(f.elem)
	delete(h.byLogin, f.login)
	delete(h.byPoll, f.poll)
}

// add keeps f, making room if needed; h.mu is held.
func (h *Handler) add(f *flow) {
	for h.order.Len() >= h.opt.MaxFlows {
		h.drop(h.order.Front().Value.(*flow))
	}
	f.elem = h.order.PushBack(f)
	h.byLogin[f.login] = f
	h.byPoll[f.poll] = f
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request, base string) {
	device := strings.TrimSpace(r.UserAgent())
	if device == "" {
		device = "unknown device"
	}
	poll := randomToken()
	f := &flow{login: randomToken(), poll: sha256.Sum256([]byte(poll)), csrf: randomToken(), device: device, created: h.opt.Now()}
	h.mu.Lock()
	h.purge(f.created)
	h.add(f)
	h.mu.Unlock()
	root := h.root(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"poll":  map[string]string{"token": poll, "endpoint": root + base + "/poll"},
		"login": root + base + "/flow/" + f.login,
	})
}

func (h *Handler) poll(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	token := r.FormValue("token")
	key := sha256.Sum256([]byte(token))
	now := h.opt.Now()
	h.mu.Lock()
	h.purge(now)
	f := h.byPoll[key]
	if token == "" || f == nil || f.user == "" {
		h.mu.Unlock()
		writeJSON(w, http.StatusNotFound, []string{})
		return
	}
	h.drop(f) // answered once: a second poll finds nothing
	h.mu.Unlock()
	p, secret, err := h.opt.Backend.GrantAppPassword(r.Context(), f.user, f.device)
	if errors.Is(err, catalog.ErrNotFound) { // the user was removed meanwhile
		h.log.Warn("login flow granted by a user since removed", "user", f.user)
		writeJSON(w, http.StatusNotFound, []string{})
		return
	}
	if err != nil {
		h.log.Error("grant an app password", "user", f.user, "err", err)
		h.mu.Lock()
		if now := h.opt.Now(); now.Sub(f.created) < h.opt.Expiry {
			h.add(f) // the client may poll again
		}
		h.mu.Unlock()
		http.Error(w, "503 Service Unavailable: could not store the app password; try again", http.StatusServiceUnavailable)
		return
	}
	h.log.Info("app password granted", "user", f.user, "id", p.ID, "device", p.Name)
	writeJSON(w, http.StatusOK, map[string]string{"server": h.root(r), "loginName": f.user, "appPassword": secret})
}

// The sign-in page's cookie: the flow's CSRF token.
const csrfCookie = "shoebox_login_csrf"

func (h *Handler) page(w http.ResponseWriter, r *http.Request, base, token string) {
	now := h.opt.Now()
	h.mu.Lock()
	h.purge(now)
	f := h.byLogin[token]
	var device, csrf, user string
	if f != nil {
		device, csrf, user = f.device, f.csrf, f.user
	}
	h.mu.Unlock()
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	v := pageData{Device: device}
	switch {
	case f == nil:
		v.Gone = true
		render(w, http.StatusNotFound, v)
		return
	case user != "":
		v.Done, v.User = true, user
		render(w, http.StatusOK, v)
		return
	case r.Method != http.MethodPost:
		h.setCookie(w, r, base, token, csrf)
		v.CSRF = csrf
		render(w, http.StatusOK, v)
		return
	}

	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || !equal(c.Value, csrf) || !equal(r.PostForm.Get("csrf"), csrf) {
		// Not sent from this flow's page in this browser: show it again.
		h.setCookie(w, r, base, token, csrf)
		v.CSRF, v.Error = csrf, "The form had expired. Please sign in again."
		render(w, http.StatusForbidden, v)
		return
	}
	v.CSRF = csrf
	name, pw := strings.TrimSpace(r.PostForm.Get("user")), r.PostForm.Get("password")
	v.Name = name
	wait, err := h.opt.Backend.SignIn(r.Context(), Protocol, r.RemoteAddr, name, pw)
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		v.Error = "Too many failed sign-ins. Try again in " + strconv.Itoa(secs) + " seconds."
		render(w, http.StatusTooManyRequests, v)
		return
	}
	if err != nil {
		v.Error = "Wrong user name or password."
		render(w, http.StatusForbidden, v)
		return
	}
	h.mu.Lock()
	ok := h.byLogin[token] == f
	if ok {
		f.user = name
	}
	h.mu.Unlock()
	if !ok { // expired (or pushed out) while the password was checked
		render(w, http.StatusNotFound, pageData{Gone: true})
		return
	}
	h.log.Info("login flow granted", "user", name, "device", device)
	render(w, http.StatusOK, pageData{Done: true, User: name, Device: device})
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, base, token, csrf string) {
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: h.prefix(r) + base + "/flow/" + token,
		MaxAge: int(h.opt.Expiry / time.Second), HttpOnly: true, Secure: scheme(r) == "https", SameSite: http.SameSiteStrictMode})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// root is the server's external URL: scheme and host as the client sees
// them (X-Forwarded-Proto and -Host from a reverse proxy), and the
// external prefix.
func (h *Handler) root(r *http.Request) string {
	host := r.Host
	if fh := firstValue(r.Header.Get("X-Forwarded-Host")); fh != "" && validHost(fh) {
		host = fh
	}
	return scheme(r) + "://" + host + h.prefix(r)
}

func (h *Handler) prefix(r *http.Request) string {
	if fp := strings.TrimSuffix(r.Header.Get("X-Forwarded-Prefix"), "/"); fp != "" && strings.HasPrefix(fp, "/") && validPath(fp) {
		return fp
	}
	return h.opt.ExternalPrefix
}

func scheme(r *http.Request) string {
	switch p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p {
	case "http", "https":
		return p
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// validHost: a host name or address and an optional port, nothing that
// would change the URL's meaning.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-:[]_", c) >= 0) {
			return false
		}
	}
	return h != ""
}

func validPath(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"'<>\?#`, c) >= 0 {
			return false
		}
	}
	return true
}

type pageData struct {
	Device, CSRF, Name, User, Error string
	Gone, Done                      bool
}

func render(w http.ResponseWriter, status int, v pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pageTmpl.Execute(w, v); err != nil {
		slog.Default().Debug("login page", "err", err)
	}
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Shoebox: connect a device</title>
<style>
body{font-family:system-ui,sans-serif;background:#f3f1ec;color:#222;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;padding:2em;border-radius:12px;box-shadow:0 2px 12px #0002;max-width:24em;width:90%}
h1{font-size:1.3em;margin-top:0}label{display:block;margin:.8em 0 .2em}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5em;font-size:1em}
button{margin-top:1.2em;width:100%;padding:.6em;font-size:1em;background:#2a6f4e;color:#fff;border:0;border-radius:6px}
.device{font-family:monospace;word-break:break-all;background:#f3f3f3;padding:.3em}.error{color:#a00}
</style></head><body><main>
{{- if .Gone}}
<h1>This sign-in link has expired</h1>
<p>Start again from the app.</p>
{{- else if .Done}}
<h1>Device connected</h1>
<p>{{.User}}, your device is signed in with its own app password. You can close this window and return to the app.</p>
{{- else}}
<h1>Connect a device to Shoebox</h1>
<p>This device asks to sign in to your account:</p>
<p class="device">{{.Device}}</p>
<p>Only continue if you started this from the app yourself. It gets its own app password, which you can revoke (<code>shoebox app-password</code>).</p>
{{- if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" autocomplete="off">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="user">User name</label><input type="text" id="user" name="user" value="{{.Name}}" autocapitalize="none" autofocus required>
<label for="password">Password</label><input type="password" id="password" name="password" required>
<button type="submit">Grant access</button>
</form>
{{- end}}
</main></body></html>
`))
