package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
	"shoebox/gateway/auth"
	"shoebox/virtualdirs"
)

//go:embed static
var static embed.FS

// People applies the user's corrections to persons: the owner of people
// state (enrich.People), the same one the /by-person folders use. Ids are
// catalog.Person ids; a person or photo that is gone is an error wrapping
// catalog.ErrNotFound.
type People interface {
	Rename(ctx context.Context, user, id, name string) error
	Merge(ctx context.Context, user, from, into string) error
	Reject(ctx context.Context, user, id, bucket, key string) error
	Hide(ctx context.Context, user, id string) error
}

// Config configures a Handler. Gateway, Thumbs and Auth are required.
type Config struct {
	Gateway *gateway.Gateway
	Thumbs  *enrich.ThumbStore
	// Auth checks passwords (the user's or an app password) and serves
	// Basic authentication for scripts; Limiter is the failed-login
	// limiter every front end shares (nil: none).
	Auth    *auth.Authenticator
	Limiter *auth.Limiter
	// Virtual is the tree behind the virtual folders: the person folders,
	// duplicate groups and albums the app shows are those it lists.
	Virtual *virtualdirs.Tree
	// People, when set, takes the edits of persons (else they are refused).
	People People
	// Cover makes a person's cover picture (a crop of their best face).
	Cover func(ctx context.Context, user string, p catalog.Person) ([]byte, error)
	// MaxUpload bounds an upload's size (0: 1 TiB).
	MaxUpload int64
	// SessionIdle is how long an unused session lives (default 24 h);
	// SessionMax how long any session lives (default 30 days).
	SessionIdle, SessionMax time.Duration
	Logger                  *slog.Logger
}

// Handler serves the web gallery (GET /, /app/...) and the JSON API
// (/api/v1/...). It is safe for concurrent use.
type Handler struct {
	cfg      Config
	gw       *gateway.Gateway
	cat      *catalog.Catalog
	log      *slog.Logger
	sessions *sessions
	api      http.Handler
	assets   http.Handler
	index    []byte
}

var _ http.Handler = (*Handler)(nil)

// New returns the handler of cfg.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 1 << 40
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 24 * time.Hour
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = 30 * 24 * time.Hour
	}
	sub, _ := fs.Sub(static, "static")
	index, _ := fs.ReadFile(sub, "index.html")
	h := &Handler{cfg: cfg, gw: cfg.Gateway, cat: cfg.Gateway.Catalog(), log: cfg.Logger.With("component", "web"),
		sessions: newSessions(cfg.SessionIdle, cfg.SessionMax), index: index}
	h.assets = http.StripPrefix("/app/", http.FileServerFS(sub))
	h.api = h.routes()
	return h
}

// The Content-Security-Policy of every answer: scripts and styles from
// the app's own files only (no inline script, no eval), pictures and
// videos from the server, nothing framed.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func securityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
}

// ServeHTTP serves "/" (the app's page), "/app/..." (its scripts and
// styles) and "/api/..." (the JSON API).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/api/"):
		h.api.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/app/"):
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		// The files change with the binary: revalidated (by modification
		// time of the binary's build) rather than cached for long.
		w.Header().Set("Cache-Control", "no-cache")
		h.assets.ServeHTTP(w, r)
	case p == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(h.index)
	default:
		http.NotFound(w, r)
	}
}

// writeJSON writes v as the JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// apiError answers {"error": msg}.
func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// statusFor maps an error of the gateway or the catalog to a status.
func statusFor(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, gateway.ErrNotFound), errors.Is(err, catalog.ErrNotFound), errors.Is(err, gateway.ErrNotInTrash), errors.Is(err, virtualdirs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, gateway.ErrNoParent), errors.Is(err, gateway.ErrNotDir):
		return http.StatusConflict
	case errors.Is(err, gateway.ErrExists), errors.Is(err, catalog.ErrExists), errors.Is(err, gateway.ErrIsDir):
		return http.StatusConflict
	case errors.Is(err, gateway.ErrInsufficientStorage):
		return http.StatusInsufficientStorage
	case errors.Is(err, gateway.ErrReserved):
		return http.StatusForbidden
	case errors.Is(err, gateway.ErrBadPath):
		return http.StatusBadRequest
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, context.Canceled):
		return 499
	}
	return http.StatusInternalServerError
}

// fail answers err with the status it maps to.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	st := statusFor(err)
	if st >= 500 {
		h.log.Error("api", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	apiError(w, st, err.Error())
}

// sameOrigin reports whether a browser request comes from a page of this
// server: Sec-Fetch-Site says so, or the Origin (else Referer) names this
// host. A request that carries none of them is not from a browser page
// (curl, scripts), and passes.
func sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s == "same-origin" || s == "none"
	}
	for _, hd := range []string{"Origin", "Referer"} {
		v := r.Header.Get(hd)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || v == "null" {
			return false
		}
		host := r.Host
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			host = fh
		}
		return u.Host == host
	}
	return true
}
