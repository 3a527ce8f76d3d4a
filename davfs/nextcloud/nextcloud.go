package nextcloud

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"shoebox/gateway/auth"
)

// The Nextcloud server version announced: one the current desktop and
// mobile clients accept.
const (
	versionMajor, versionMinor, versionMicro = 28, 0, 0
)

// Config configures a Handler.
type Config struct {
	// Files serves the user's tree (a *davfs.Handler): requests reach it
	// with davfs.WithMount set to their mount point.
	Files http.Handler
	// Mount returns r's context with the tree mounted at prefix
	// (davfs.WithMount).
	Mount func(r *http.Request, prefix string) *http.Request
	// Authenticate wraps a handler with authentication (Basic auth and
	// the failed-login limiter: auth.Authenticator.Basic); protocol names
	// the front end in logs and metrics.
	Authenticate func(protocol string, h http.Handler) http.Handler
	// Free gives the free bytes of the data disk (quota); nil: unknown.
	Free func() (int64, error)
	// Used gives the bytes a user stores (quota used); nil: 0.
	Used   func(r *http.Request, user string) (int64, error)
	Logger *slog.Logger

	// ---- hooks filled in by other parts (nil: 501) ----

	// Uploads serves /remote.php/dav/uploads/USER/… (chunked upload v2).
	Uploads http.Handler
	// Trashbin serves /remote.php/dav/trashbin/USER/….
	Trashbin http.Handler
	// Versions serves /remote.php/dav/versions/USER/….
	Versions http.Handler
	// LoginFlow serves /index.php/login/v2… (and /login/v2…), without
	// authentication.
	LoginFlow http.Handler
	// Preview serves /index.php/core/preview… and /core/preview.png
	// (authenticated).
	Preview http.Handler
	// Search answers SEARCH /remote.php/dav/ (authenticated; the apps'
	// media views), e.g. (*davfs.Handler).Search with root
	// "/remote.php/dav", which checks the scope is the user's.
	Search http.Handler
}

// Handler routes the Nextcloud URLs (see the package doc).
type Handler struct {
	cfg                       Config
	log                       *slog.Logger
	files, uploads, trash     http.Handler
	versions, preview, ocsAPI http.Handler
	loginFlow, search         http.Handler
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler.
func New(cfg Config) *Handler {
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	h := &Handler{cfg: cfg, log: lg.With("component", "nextcloud")}
	authn := cfg.Authenticate
	if authn == nil {
		authn = func(string, http.Handler) http.Handler { return http.HandlerFunc(unauthorized) }
	}
	h.files = authn("nextcloud-dav", http.HandlerFunc(h.serveFiles))
	h.uploads = authn("nextcloud-dav", userScoped("/remote.php/dav/uploads/", cfg.Uploads))
	h.trash = authn("nextcloud-dav", userScoped("/remote.php/dav/trashbin/", cfg.Trashbin))
	h.versions = authn("nextcloud-dav", userScoped("/remote.php/dav/versions/", cfg.Versions))
	h.preview = authn("nextcloud", orNotImplemented(cfg.Preview))
	h.ocsAPI = authn("nextcloud-ocs", http.HandlerFunc(h.serveOCSAuthed))
	h.loginFlow = orNotImplemented(cfg.LoginFlow)
	h.search = authn("nextcloud-dav", orNotImplemented(cfg.Search))
	return h
}

func unauthorized(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
}

func orNotImplemented(h http.Handler) http.Handler {
	if h != nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "501 Not Implemented: "+r.URL.Path+" is not served by this Shoebox yet", http.StatusNotImplemented)
	})
}

// userScoped checks that the USER after base is the authenticated user
// before h (nil: 501).
func userScoped(base string, h http.Handler) http.Handler {
	h = orNotImplemented(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, status := pathUser(r, base); status != 0 {
			http.Error(w, http.StatusText(status), status)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// pathUser reads the USER segment after base in r's path and checks it is
// the authenticated user; mount is base+USER. status is non-zero when not.
func pathUser(r *http.Request, base string) (user, mount string, status int) {
	rest := strings.TrimPrefix(r.URL.Path, base)
	name, _, _ := strings.Cut(rest, "/")
	if name == "" {
		return "", "", http.StatusNotFound
	}
	if name != auth.User(r.Context()) {
		// Nextcloud answers another user's tree as missing or forbidden;
		// Shoebox has no shares, so it is forbidden.
		return "", "", http.StatusForbidden
	}
	return name, base + name, 0
}

// ServeHTTP resolves the route, then hands to the authenticated handlers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/status.php":
		h.status(w, r)
	case strings.HasPrefix(p, "/ocs/v1.php/"), strings.HasPrefix(p, "/ocs/v2.php/"):
		h.serveOCS(w, r)
	case (p == "/remote.php/dav" || p == "/remote.php/dav/") && r.Method == "SEARCH":
		h.search.ServeHTTP(w, r)
	case p == "/remote.php/webdav" || strings.HasPrefix(p, "/remote.php/webdav/"),
		strings.HasPrefix(p, "/remote.php/dav/files/"):
		h.files.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/remote.php/dav/uploads/"):
		h.uploads.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/remote.php/dav/trashbin/"):
		h.trash.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/remote.php/dav/versions/"):
		h.versions.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/index.php/login/v2"), strings.HasPrefix(p, "/login/v2"):
		h.loginFlow.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/index.php/core/preview"), strings.HasPrefix(p, "/core/preview"):
		h.preview.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// serveFiles serves /remote.php/dav/files/USER/… and /remote.php/webdav/…
// (authenticated) from the user's tree.
func (h *Handler) serveFiles(w http.ResponseWriter, r *http.Request) {
	mount := "/remote.php/webdav"
	if strings.HasPrefix(r.URL.Path, "/remote.php/dav/files/") {
		_, m, status := pathUser(r, "/remote.php/dav/files/")
		if status != 0 {
			http.Error(w, http.StatusText(status), status)
			return
		}
		mount = m
	}
	if h.cfg.Files == nil || h.cfg.Mount == nil {
		orNotImplemented(nil).ServeHTTP(w, r)
		return
	}
	h.cfg.Files.ServeHTTP(w, h.cfg.Mount(r, mount))
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"installed":       true,
		"maintenance":     false,
		"needsDbUpgrade":  false,
		"version":         fmt.Sprintf("%d.%d.%d.0", versionMajor, versionMinor, versionMicro),
		"versionstring":   fmt.Sprintf("%d.%d.%d", versionMajor, versionMinor, versionMicro),
		"edition":         "",
		"productname":     "Shoebox",
		"extendedSupport": false,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// ---- OCS ----

// ocsEndpoint is an OCS path without its /ocs/vN.php prefix.
func ocsEndpoint(p string) (v2 bool, ep string) {
	if rest, ok := strings.CutPrefix(p, "/ocs/v2.php"); ok {
		return true, strings.TrimSuffix(rest, "/")
	}
	return false, strings.TrimSuffix(strings.TrimPrefix(p, "/ocs/v1.php"), "/")
}

// serveOCS answers the capabilities without authentication (clients ask
// before logging in, as Nextcloud allows) and everything else after it.
func (h *Handler) serveOCS(w http.ResponseWriter, r *http.Request) {
	_, ep := ocsEndpoint(r.URL.Path)
	if ep == "/cloud/capabilities" && r.Header.Get("Authorization") == "" {
		h.ocsReply(w, r, http.StatusOK, h.capabilities())
		return
	}
	h.ocsAPI.ServeHTTP(w, r)
}

func (h *Handler) serveOCSAuthed(w http.ResponseWriter, r *http.Request) {
	_, ep := ocsEndpoint(r.URL.Path)
	user := auth.User(r.Context())
	switch ep {
	case "/cloud/capabilities":
		h.ocsReply(w, r, http.StatusOK, h.capabilities())
	case "/cloud/user":
		h.ocsReply(w, r, http.StatusOK, h.cloudUser(r, user))
	default:
		h.ocsReply(w, r, http.StatusNotFound, nil)
	}
}

func (h *Handler) capabilities() map[string]any {
	return map[string]any{
		"version": map[string]any{
			"major": versionMajor, "minor": versionMinor, "micro": versionMicro,
			"string": fmt.Sprintf("%d.%d.%d", versionMajor, versionMinor, versionMicro), "edition": "", "extendedSupport": false,
		},
		"capabilities": map[string]any{
			"core": map[string]any{
				"pollinterval": 60, "webdav-root": "remote.php/webdav",
			},
			"dav": map[string]any{
				"chunking": "1.0",
			},
			// Every upload is hashed with SHA-256 and MD5 (OC-Checksum is
			// verified for MD5, SHA1, SHA256 and ADLER32).
			"checksums": map[string]any{
				"supportedTypes":      []string{"SHA256", "MD5"},
				"preferredUploadType": "SHA256",
			},
			"files": map[string]any{
				"bigfilechunking":   true,
				"undelete":          true,
				"versioning":        true,
				"blacklisted_files": []string{".htaccess"},
			},
		},
	}
}

func (h *Handler) cloudUser(r *http.Request, user string) map[string]any {
	q := map[string]any{"free": int64(-3), "used": int64(0), "total": int64(-3), "relative": 0.0, "quota": int64(-3)}
	var used, free int64 = 0, -1
	if h.cfg.Used != nil {
		if n, err := h.cfg.Used(r, user); err == nil {
			used = n
		} else {
			h.log.Warn("quota used", "user", user, "err", err)
		}
	}
	if h.cfg.Free != nil {
		if n, err := h.cfg.Free(); err == nil {
			free = max(n, 0)
		}
	}
	q["used"] = used
	if free >= 0 {
		total := used + free
		q["free"], q["total"] = free, total
		if total > 0 {
			q["relative"] = float64(int64(float64(used)/float64(total)*10000)) / 100
		}
	}
	return map[string]any{
		"enabled": true, "id": user, "display-name": user, "displayname": user,
		"email": nil, "groups": []string{}, "language": "en", "locale": "",
		"backend": "Shoebox", "quota": q,
	}
}

// ocsReply writes an OCS envelope with data, in JSON or XML as asked.
// OCS v1 answers HTTP 200 with the status in meta; v2 uses the HTTP status.
func (h *Handler) ocsReply(w http.ResponseWriter, r *http.Request, status int, data any) {
	v2, _ := ocsEndpoint(r.URL.Path)
	code, msg := 100, "OK"
	if v2 {
		code = 200
	}
	if status != http.StatusOK {
		code, msg = status, http.StatusText(status)
	}
	httpStatus := status
	if !v2 {
		httpStatus = http.StatusOK
	}
	meta := map[string]any{"status": "ok", "statuscode": code, "message": msg, "totalitems": "", "itemsperpage": ""}
	if status != http.StatusOK {
		meta["status"] = "failure"
	}
	if data == nil {
		data = []any{}
	}
	if wantsJSON(r) {
		writeJSON(w, httpStatus, map[string]any{"ocs": map[string]any{"meta": meta, "data": data}})
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.WriteHeader(httpStatus)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n<ocs><meta>")
	writeXML(&b, "status", meta["status"])
	writeXML(&b, "statuscode", meta["statuscode"])
	writeXML(&b, "message", meta["message"])
	writeXML(&b, "totalitems", "")
	writeXML(&b, "itemsperpage", "")
	b.WriteString("</meta>")
	writeXML(&b, "data", data)
	b.WriteString("</ocs>\n")
	fmt.Fprint(w, b.String())
}

func wantsJSON(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return strings.EqualFold(f, "json")
	}
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// writeXML writes v as OCS XML: maps as elements (keys sorted), lists as
// <element> items, scalars as text.
func writeXML(b *strings.Builder, name string, v any) {
	b.WriteString("<" + name + ">")
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			writeXML(b, k, t[k])
		}
	case []string:
		for _, s := range t {
			writeXML(b, "element", s)
		}
	case []any:
		for _, s := range t {
			writeXML(b, "element", s)
		}
	case nil:
	case bool:
		if t {
			b.WriteString("1")
		}
	default:
		var sb strings.Builder
		xml.EscapeText(&sb, []byte(fmt.Sprint(t)))
		b.WriteString(sb.String())
	}
	b.WriteString("</" + name + ">")
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
