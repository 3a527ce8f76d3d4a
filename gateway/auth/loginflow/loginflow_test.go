package loginflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/gateway/auth/loginflow"
)

// backend is a Backend with one user, ann, password "pw".
type backend struct {
	mu      sync.Mutex
	fails   int
	granted []string // devices
	wait    time.Duration
}

func (b *backend) SignIn(ctx context.Context, protocol, remote, user, pw string) (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.wait > 0 {
		return b.wait, nil
	}
	if protocol != loginflow.Protocol || remote == "" {
		return 0, errors.New("bad call")
	}
	if user != "ann" || pw != "pw" {
		b.fails++
		return 0, errors.New("wrong")
	}
	return 0, nil
}

func (b *backend) GrantAppPassword(ctx context.Context, user, device string) (catalog.AppPassword, string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if user != "ann" {
		return catalog.AppPassword{}, "", catalog.ErrNotFound
	}
	b.granted = append(b.granted, device)
	return catalog.AppPassword{ID: "id1", User: user, Name: device}, "APPPW", nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type started struct {
	Poll  struct{ Token, Endpoint string }
	Login string
}

func serve(h http.Handler, method, target string, body url.Values, hdr ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(body.Encode())
	}
	r := httptest.NewRequest(method, target, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func start(t *testing.T, h http.Handler, target string, hdr ...string) started {
	t.Helper()
	w := serve(h, "POST", target, nil, hdr...)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("start: %d %s", w.Code, w.Body)
	}
	var s started
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// grant fetches the page and posts the form from it, with its cookie.
func grant(t *testing.T, h http.Handler, login, user, pw string) *httptest.ResponseRecorder {
	t.Helper()
	u, _ := url.Parse(login)
	w := serve(h, "GET", u.Path, nil)
	m := csrfRE.FindStringSubmatch(w.Body.String())
	if w.Code != 200 || m == nil {
		t.Fatalf("page: %d %s", w.Code, w.Body)
	}
	cookie := w.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || !strings.HasSuffix(cookie.Path, u.Path) {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, the flow's path", cookie)
	}
	return serve(h, "POST", u.Path, url.Values{"csrf": {m[1]}, "user": {user}, "password": {pw}}, "Cookie", cookie.Name+"="+cookie.Value)
}

func poll(h http.Handler, s started) *httptest.ResponseRecorder {
	return serve(h, "POST", s.Poll.Endpoint, url.Values{"token": {s.Poll.Token}})
}

func TestFlow(t *testing.T) {
	b := &backend{}
	clk := &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := loginflow.New(loginflow.Options{Backend: b, Logger: slog.New(slog.DiscardHandler), Now: clk.now})

	s := start(t, h, "http://shoebox.lan:8080/index.php/login/v2", "User-Agent", "Nextcloud-android/3.30 <b>")
	if s.Poll.Endpoint != "http://shoebox.lan:8080/index.php/login/v2/poll" || !strings.HasPrefix(s.Login, "http://shoebox.lan:8080/index.php/login/v2/flow/") || s.Poll.Token == "" {
		t.Fatalf("start: %+v", s)
	}
	if strings.Contains(s.Login, s.Poll.Token) {
		t.Fatal("the login URL holds the poll token")
	}
	if w := poll(h, s); w.Code != 404 {
		t.Fatalf("poll before grant: %d", w.Code)
	}
	// The page names the device, escaped, and sets security headers.
	u, _ := url.Parse(s.Login)
	w := serve(h, "GET", u.Path, nil)
	if body := w.Body.String(); !strings.Contains(body, "Nextcloud-android/3.30 &lt;b&gt;") || strings.Contains(body, "<b>") || strings.Contains(body, "http://") && strings.Contains(body, "src=") {
		t.Errorf("page: %s", body)
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP: %q", w.Header().Get("Content-Security-Policy"))
	}

	// A form without the CSRF cookie or field is refused, unchecked.
	m := csrfRE.FindStringSubmatch(w.Body.String())
	if w := serve(h, "POST", u.Path, url.Values{"csrf": {m[1]}, "user": {"ann"}, "password": {"pw"}}); w.Code != 403 {
		t.Errorf("POST without the cookie: %d", w.Code)
	}
	if w := serve(h, "POST", u.Path, url.Values{"user": {"ann"}, "password": {"pw"}}, "Cookie", "shoebox_login_csrf="+m[1]); w.Code != 403 {
		t.Errorf("POST without the field: %d", w.Code)
	}
	if b.fails != 0 {
		t.Errorf("CSRF failures checked the password: %d", b.fails)
	}
	// Wrong password: the page again, with an error, counted.
	if w := grant(t, h, s.Login, "ann", "bad"); w.Code != 403 || !strings.Contains(w.Body.String(), "Wrong user name or password") || !csrfRE.MatchString(w.Body.String()) {
		t.Errorf("wrong password: %d %s", w.Code, w.Body)
	}
	if b.fails != 1 {
		t.Errorf("failures counted: %d; want 1", b.fails)
	}
	if w := poll(h, s); w.Code != 404 {
		t.Fatalf("poll after a wrong password: %d", w.Code)
	}
	if w := grant(t, h, s.Login, "ann", "pw"); w.Code != 200 || !strings.Contains(w.Body.String(), "close this window") {
		t.Fatalf("grant: %d %s", w.Code, w.Body)
	}
	w = poll(h, s)
	var got map[string]string
	json.Unmarshal(w.Body.Bytes(), &got)
	if w.Code != 200 || got["server"] != "http://shoebox.lan:8080" || got["loginName"] != "ann" || got["appPassword"] != "APPPW" {
		t.Fatalf("poll after grant: %d %s", w.Code, w.Body)
	}
	if len(b.granted) != 1 || b.granted[0] != "Nextcloud-android/3.30 <b>" {
		t.Errorf("granted devices: %q", b.granted)
	}
	if w := poll(h, s); w.Code != 404 {
		t.Errorf("second poll: %d; want 404", w.Code)
	}
	if w := serve(h, "GET", u.Path, nil); w.Code != 404 {
		t.Errorf("page after the flow is done: %d; want 404", w.Code)
	}
}

func TestFlowExpiryAndURLs(t *testing.T) {
	b := &backend{}
	clk := &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := loginflow.New(loginflow.Options{Backend: b, Logger: slog.New(slog.DiscardHandler), Now: clk.now, ExternalPrefix: "/shoebox/", MaxFlows: 3})

	// Behind a proxy: its scheme, host and prefix; no index.php.
	s := start(t, h, "http://10.0.0.2:8080/login/v2", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "photos.example.org")
	if s.Poll.Endpoint != "https://photos.example.org/shoebox/login/v2/poll" || !strings.HasPrefix(s.Login, "https://photos.example.org/shoebox/login/v2/flow/") {
		t.Fatalf("start behind a proxy: %+v", s)
	}
	// Granted, then expired before the poll: gone, no password made.
	// (The proxy takes its prefix off before the request reaches us.)
	login := strings.Replace(s.Login, "https://photos.example.org/shoebox", "http://x", 1)
	if w := grant(t, h, login, "ann", "pw"); w.Code != 200 {
		t.Fatalf("grant: %d", w.Code)
	}
	clk.add(20*time.Minute + time.Second)
	if w := poll(h, s); w.Code != 404 {
		t.Errorf("poll after expiry: %d; want 404", w.Code)
	}
	if len(b.granted) != 0 {
		t.Errorf("an expired flow made an app password: %q", b.granted)
	}
	// Just before expiry it still works.
	s = start(t, h, "http://h/login/v2")
	clk.add(19 * time.Minute)
	if w := grant(t, h, strings.Replace(s.Login, "/shoebox", "", 1), "ann", "pw"); w.Code != 200 {
		t.Fatalf("grant at 19 min: %d", w.Code)
	}
	if w := poll(h, s); w.Code != 200 {
		t.Errorf("poll at 19 min: %d", w.Code)
	}
	// Bounded: the oldest flow gives way.
	first := start(t, h, "http://h/login/v2")
	for range 3 {
		start(t, h, "http://h/login/v2")
	}
	u, _ := url.Parse(strings.Replace(first.Login, "/shoebox", "", 1))
	if w := serve(h, "GET", u.Path, nil); w.Code != 404 {
		t.Errorf("oldest flow beyond MaxFlows: %d; want 404", w.Code)
	}
	// The Limiter's wait is shown, with Retry-After, and checks nothing.
	s = start(t, h, "http://h/login/v2")
	b.wait = 90 * time.Second
	if w := grant(t, h, strings.Replace(s.Login, "/shoebox", "", 1), "ann", "pw"); w.Code != 429 || w.Header().Get("Retry-After") != "90" {
		t.Errorf("grant while limited: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	// Methods and unknown paths.
	if w := serve(h, "GET", "/index.php/login/v2", nil); w.Code != 405 {
		t.Errorf("GET of the start: %d", w.Code)
	}
	if w := serve(h, "POST", "/index.php/login/v2/other", nil); w.Code != 404 {
		t.Errorf("unknown path: %d", w.Code)
	}
	if w := serve(h, "POST", "/login/v2/poll", url.Values{}); w.Code != 404 {
		t.Errorf("poll without a token: %d", w.Code)
	}
}
