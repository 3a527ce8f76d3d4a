package davfs

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/adler32"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"crypto/sha1"

	"golang.org/x/net/webdav"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
	"shoebox/virtualdirs"
)

// Config configures a Handler.
type Config struct {
	// Prefix is the URL path the handler is mounted at, e.g. "/dav".
	Prefix string
	// ExternalPrefix is a path prefix a reverse proxy adds in front of
	// Prefix (e.g. "/shoebox" for https://host/shoebox/dav/). Requests may
	// also say it with X-Forwarded-Prefix.
	ExternalPrefix string
	// MaxUpload caps a PUT body in bytes; 0 means no cap.
	MaxUpload int64
	// InfinityLimit caps the number of entries a Depth: infinity PROPFIND
	// may answer; larger trees get 403 propfind-finite-depth. 0 means 100,000.
	InfinityLimit int
	Logger        *slog.Logger
	// Virtual, when set, shows the virtual folders beside the buckets.
	Virtual *virtualdirs.Tree
	// Free, when set, gives the free bytes of the data disk, for
	// DAV:quota-available-bytes; without it that is -3 (unknown).
	Free func() (int64, error)
	// InstanceID ends every oc:id (ocprops.go); "" means "ocshoebox0".
	InstanceID string
	// People takes the edits made in /by-person (virtual.go); without it
	// the person folders are read-only.
	People People
}

// Handler serves WebDAV (RFC 4918, class 1 and 2) over the gateway for the
// user that authentication put in the request's context. It answers PUT,
// COPY, MOVE, DELETE, MKCOL, LOCK, UNLOCK, PROPFIND, GET and HEAD itself
// (atomic uploads, If/If-Match conditions, shared locks, streamed
// listings) and lets x/net/webdav parse PROPPATCH over FS.
type Handler struct {
	gw    *gateway.Gateway
	locks *Locks
	cfg   Config
	log   *slog.Logger
	start time.Time
}

// NewHandler returns a WebDAV handler.
func NewHandler(gw *gateway.Gateway, cfg Config) *Handler {
	if cfg.InfinityLimit <= 0 {
		cfg.InfinityLimit = 100_000
	}
	cfg.Prefix = strings.TrimSuffix(cfg.Prefix, "/")
	if cfg.InstanceID == "" {
		cfg.InstanceID = defaultInstanceID
	}
	cfg.ExternalPrefix = strings.TrimSuffix(cfg.ExternalPrefix, "/")
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	return &Handler{gw: gw, locks: NewLocks(), cfg: cfg, log: lg.With("component", "webdav"), start: time.Now()}
}

// resource is a request's target inside the user's namespace.
type resource struct {
	path   string // "/bucket/key" without trailing slash; "/" for the root
	bucket string
	key    string // without trailing slash
	// virtual: under a virtual root (bucket is the root's name).
	virtual bool
}

func (r resource) isRoot() bool { return r.bucket == "" }

// parsePath maps a URL path (already %-decoded) to a resource. ok is false
// for paths outside the handler; err for paths that can never be valid.
func (h *Handler) parsePath(r *http.Request, p string) (resource, bool, error) {
	rest, ok := strings.CutPrefix(p, h.prefix(r))
	if !ok || (rest != "" && rest[0] != '/') {
		return resource{}, false, nil
	}
	if strings.ContainsRune(rest, 0) {
		return resource{}, true, gateway.ErrBadPath
	}
	trimmed := strings.Trim(rest, "/")
	if trimmed == "" {
		return resource{path: "/"}, true, nil
	}
	for _, seg := range strings.Split(trimmed, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return resource{}, true, gateway.ErrBadPath
		}
	}
	b, k, err := split(trimmed)
	if err != nil {
		return resource{}, true, err
	}
	virtual := h.cfg.Virtual != nil && virtualdirs.IsRoot(b)
	return resource{path: "/" + trimmed, bucket: b, key: k, virtual: virtual}, true, nil
}

// base is the external URL path prefix of the handler, for hrefs.
func (h *Handler) base(r *http.Request) string {
	ext := h.cfg.ExternalPrefix
	if fp := strings.TrimSuffix(r.Header.Get("X-Forwarded-Prefix"), "/"); fp != "" && strings.HasPrefix(fp, "/") {
		ext = fp
	}
	return ext + h.prefix(r)
}

type mountKey struct{}

// WithMount returns ctx telling the Handler that the request's tree is
// mounted at prefix (e.g. "/remote.php/dav/files/alice") rather than at
// Config.Prefix. A front door that serves the same tree under other URLs
// (package davfs/nextcloud) sets it after checking the path is the user's;
// hrefs, Destination and If headers are then read against prefix.
func WithMount(ctx context.Context, prefix string) context.Context {
	return context.WithValue(ctx, mountKey{}, strings.TrimSuffix(prefix, "/"))
}

// prefix is the URL path the request's tree is mounted at.
func (h *Handler) prefix(r *http.Request) string {
	if p, ok := r.Context().Value(mountKey{}).(string); ok {
		return p
	}
	return h.cfg.Prefix
}

func hrefFor(base, p string, dir bool) string {
	if p == "/" {
		return base + "/"
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	out := base + "/" + strings.Join(segs, "/")
	if dir {
		out += "/"
	}
	return out
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user := auth.User(r.Context())
	if user == "" {
		http.Error(w, "no authenticated user", http.StatusUnauthorized)
		return
	}
	res, ok, err := h.parsePath(r, r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "400 Bad Request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if res.virtual {
		if status, ok, err := h.serveVirtual(w, r, user, res); ok {
			h.finish(w, r, status, err)
			return
		}
	}
	var status int
	switch r.Method {
	case "OPTIONS":
		status = h.options(w, r)
	case "GET", "HEAD":
		status, err = h.get(w, r, user, res)
	case "PUT":
		status, err = h.put(w, r, user, res)
	case "DELETE":
		status, err = h.delete(w, r, user, res)
	case "MKCOL":
		status, err = h.mkcol(w, r, user, res)
	case "COPY", "MOVE":
		status, err = h.copyMove(w, r, user, res, r.Method == "MOVE")
	case "LOCK":
		status, err = h.lock(w, r, user, res)
	case "UNLOCK":
		status, err = h.unlock(w, r, user, res)
	case "PROPFIND":
		status, err = h.propfind(w, r, user, res)
	case "PROPPATCH":
		status, err = h.proppatch(w, r, user, res)
	default:
		status, err = http.StatusMethodNotAllowed, fmt.Errorf("method %s is not supported", r.Method)
	}
	h.finish(w, r, status, err)
}

// serveVirtual answers the methods that work differently on virtual
// folders; ok is false for those served as everywhere else (OPTIONS,
// PROPFIND, LOCK, UNLOCK, and COPY and MOVE, which look at both ends).
func (h *Handler) serveVirtual(w http.ResponseWriter, r *http.Request, user string, res resource) (status int, ok bool, err error) {
	switch r.Method {
	case "GET", "HEAD":
		status, err = h.vget(w, r, user, res)
	case "PUT":
		status, err = h.vput(w, r, user, res)
	case "MKCOL":
		status, err = h.vmkcol(w, r, user, res)
	case "DELETE":
		status, err = h.vdelete(w, r, user, res)
	case "PROPPATCH":
		status, err = readOnly(w, "properties cannot be set")
	default:
		return 0, false, nil
	}
	return status, true, err
}

// finish writes the error answer of a request that did not answer itself.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status != 0 {
		if status >= 500 && status != http.StatusInsufficientStorage { // the guard logs a full disk once
			h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		}
		msg := http.StatusText(status)
		if err != nil {
			msg += ": " + err.Error()
		}
		http.Error(w, fmt.Sprintf("%d %s", status, msg), status)
	}
}

// statusFor maps a gateway error to an HTTP status.
func statusFor(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, gateway.ErrNotFound), errors.Is(err, catalog.ErrNotFound), errors.Is(err, gateway.ErrNotInTrash):
		return http.StatusNotFound
	case errors.Is(err, gateway.ErrNoParent), errors.Is(err, gateway.ErrNotDir):
		return http.StatusConflict
	case errors.Is(err, gateway.ErrExists), errors.Is(err, gateway.ErrIsDir):
		return http.StatusMethodNotAllowed
	case errors.Is(err, gateway.ErrPrecondition):
		return http.StatusPreconditionFailed
	case errors.Is(err, gateway.ErrInsufficientStorage):
		return http.StatusInsufficientStorage
	case errors.Is(err, os.ErrDeadlineExceeded): // the body made no progress (body_idle_timeout)
		return http.StatusRequestTimeout
	case errors.Is(err, ErrLocked):
		return http.StatusLocked
	case errors.Is(err, gateway.ErrReserved):
		return http.StatusForbidden
	case errors.Is(err, gateway.ErrBadPath), errors.Is(err, errChecksum):
		return http.StatusBadRequest
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, context.Canceled):
		return 499
	default:
		return http.StatusInternalServerError
	}
}

func (h *Handler) options(w http.ResponseWriter, r *http.Request) int {
	w.Header().Set("Allow", "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK")
	w.Header().Set("DAV", "1, 2")
	w.Header().Set("MS-Author-Via", "DAV")
	w.WriteHeader(http.StatusOK)
	return 0
}

// stat returns the catalog row of res (a folder row for the root and buckets).
func (h *Handler) stat(ctx context.Context, user string, res resource) (catalog.Object, error) {
	if res.isRoot() {
		return catalog.Object{Key: "/", ModNs: h.start.UnixNano()}, nil
	}
	if res.virtual {
		return h.vstat(ctx, user, res)
	}
	return h.gw.Stat(ctx, user, res.bucket, res.key)
}

func isDirObj(res resource, o catalog.Object) bool {
	return res.isRoot() || res.key == "" || o.IsDir()
}

// conditions checks the If header (RFC 4918 §10.4) against res and returns
// the lock tokens it submits. A false If header is ErrPrecondition.
func (h *Handler) conditions(r *http.Request, user string, res resource, cur *catalog.Object) (map[string]bool, error) {
	v := r.Header.Get("If")
	if v == "" {
		return nil, nil
	}
	ih, err := parseIf(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", gateway.ErrBadPath, err)
	}
	ok := ih.eval(func(tag string) resourceState {
		target, o := res, cur
		if tag != "" {
			u, err := url.Parse(tag)
			if err != nil {
				return resourceState{}
			}
			t, ok, err := h.parsePath(r, h.stripExternal(r, u.Path))
			if !ok || err != nil {
				return resourceState{}
			}
			target, o = t, nil
			if obj, err := h.stat(r.Context(), user, t); err == nil {
				o = &obj
			}
		}
		st := resourceState{valid: func(tok string) bool { return h.locks.Valid(user, tok, target.path) }}
		if o != nil {
			st.exists, st.etag = true, o.ETag()
		}
		return st
	})
	if !ok {
		return nil, fmt.Errorf("the If header does not match %s: %w", res.path, gateway.ErrPrecondition)
	}
	return ih.tokens(), nil
}

// httpConditions checks If-Match, If-None-Match and If-Unmodified-Since for
// a write to a resource whose current row is cur (nil when absent).
func httpConditions(r *http.Request, cur *catalog.Object) error {
	fail := func(what string) error { return fmt.Errorf("%s: %w", what, gateway.ErrPrecondition) }
	if im := r.Header.Get("If-Match"); im != "" {
		if cur == nil || !etagListHas(im, cur.ETag()) {
			return fail("If-Match")
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if cur != nil && etagListHas(inm, cur.ETag()) {
			return fail("If-None-Match")
		}
	}
	if ius := r.Header.Get("If-Unmodified-Since"); ius != "" && cur != nil {
		if t, err := http.ParseTime(ius); err == nil && cur.ModTime().Truncate(time.Second).After(t) {
			return fail("If-Unmodified-Since")
		}
	}
	return nil
}

func etagListHas(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || e == etag {
			return true
		}
	}
	return false
}

// ---- GET / HEAD ----

func (h *Handler) get(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	if res.isRoot() || res.key == "" {
		return h.listHTML(w, r, user, res)
	}
	f, o, err := h.gw.Open(r.Context(), user, res.bucket, res.key)
	if errors.Is(err, gateway.ErrIsDir) {
		return h.listHTML(w, r, user, res)
	}
	if err != nil {
		return statusFor(err), err
	}
	defer f.Close()
	w.Header().Set("ETag", o.ETag())
	if o.ContentType != "" {
		w.Header().Set("Content-Type", o.ContentType)
	}
	http.ServeContent(w, r, o.Name(), o.ModTime(), f)
	return 0, nil
}

// listHTML answers GET on a folder with a plain HTML listing, for browsers:
// a link to the parent, each entry's size and modification time, and the
// small thumbnail of photos and videos that have one (from the JSON API,
// which the browser reaches with the same credentials). Names are
// escaped, and the page may run no script (Content-Security-Policy).
func (h *Handler) listHTML(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	if _, err := h.stat(r.Context(), user, res); err != nil {
		return statusFor(err), err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method == "HEAD" {
		w.WriteHeader(http.StatusOK)
		return 0, nil
	}
	base := h.base(r)
	ext := strings.TrimSuffix(base, h.prefix(r)) // the server's root, behind a proxy's prefix
	fmt.Fprintf(w, "<!doctype html>\n<meta charset=\"utf-8\"><title>%s</title>\n"+
		"<style>body{font:14px system-ui,sans-serif}td{padding:2px 10px}td.n{text-align:right}img{width:48px;height:48px;object-fit:cover;vertical-align:middle}</style>\n"+
		"<h1>%s</h1>\n<table>\n", xmlEscape(res.path), xmlEscape(res.path))
	if !res.isRoot() {
		parent := path.Dir(strings.TrimSuffix(res.path, "/"))
		fmt.Fprintf(w, "<tr><td></td><td><a href=\"%s\">../</a></td><td></td><td></td></tr>\n", xmlEscape(hrefFor(base, parent, true)))
	}
	cat := h.gw.Catalog()
	err := h.children(r.Context(), user, res, func(c resource, o catalog.Object) error {
		dir := isDirObj(c, o)
		name := c.path[strings.LastIndexByte(c.path, '/')+1:]
		thumb, size := "", ""
		if dir {
			name += "/"
		} else {
			size = strconv.FormatInt(o.Size, 10)
			b, k := o.Bucket, o.Key
			if b == "" {
				b = c.bucket
			}
			if b != catalog.TrashBucket && len(o.SHA256) >= 16 {
				if m, err := cat.MediaOf(r.Context(), user, b, k); err == nil && (m.Kind == "photo" || m.Kind == "video") && m.ThumbnailState == "" && m.SHA256 == o.SHA256 {
					thumb = fmt.Sprintf("<img src=\"%s\" alt=\"\" loading=\"lazy\">", xmlEscape(ext+"/api/v1/objects/"+url.PathEscape(b)+"/"+
						strings.TrimPrefix(hrefFor("", "/"+k, false), "/")+"/thumbnail?size=small&v="+o.SHA256[:16]))
				}
			}
		}
		mod := ""
		if o.ModNs != 0 {
			mod = o.ModTime().UTC().Format("2006-01-02 15:04")
		}
		_, err := fmt.Fprintf(w, "<tr><td>%s</td><td><a href=\"%s\">%s</a></td><td class=\"n\">%s</td><td>%s</td></tr>\n",
			thumb, xmlEscape(hrefFor(base, c.path, dir)), xmlEscape(name), size, mod)
		return err
	})
	fmt.Fprint(w, "</table>\n")
	if err != nil {
		h.log.Warn("listing interrupted", "path", res.path, "err", err)
	}
	return 0, nil
}

// children calls fn for each direct child of the folder res.
func (h *Handler) children(ctx context.Context, user string, res resource, fn func(resource, catalog.Object) error) error {
	if res.isRoot() {
		bs, err := h.gw.Buckets(ctx, user)
		if err != nil {
			return err
		}
		for _, b := range bs {
			if err := fn(resource{path: "/" + b.Name, bucket: b.Name}, catalog.Object{Bucket: b.Name, ModNs: b.Created.UnixNano()}); err != nil {
				return err
			}
		}
		if h.cfg.Virtual != nil {
			for _, v := range virtualdirs.RootNames() {
				if err := fn(resource{path: "/" + v, bucket: v, virtual: true}, catalog.Object{Key: v + "/", ModNs: h.start.UnixNano()}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if res.virtual {
		return h.vchildren(ctx, user, res, fn)
	}
	dir := ""
	if res.key != "" {
		dir = res.key + "/"
	}
	return h.gw.List(ctx, user, res.bucket, dir, "", func(o catalog.Object) error {
		k := strings.TrimSuffix(o.Key, "/")
		return fn(resource{path: "/" + res.bucket + "/" + k, bucket: res.bucket, key: k}, o)
	})
}

// ---- PUT ----

var errChecksum = errors.New("checksum mismatch")

func (h *Handler) put(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	if res.isRoot() || res.key == "" || strings.HasSuffix(r.URL.Path, "/") {
		return http.StatusMethodNotAllowed, errors.New("PUT needs a file path inside a bucket")
	}
	ctx := r.Context()
	var cur *catalog.Object
	if o, err := h.gw.Stat(ctx, user, res.bucket, res.key); err == nil {
		if o.IsDir() {
			return http.StatusMethodNotAllowed, fmt.Errorf("%s is a folder", res.path)
		}
		cur = &o
	}
	tokens, err := h.conditions(r, user, res, cur)
	if err != nil {
		return statusFor(err), err
	}
	if err := h.locks.CheckWrite(user, res.path, false, cur == nil, tokens); err != nil {
		return http.StatusLocked, err
	}
	if err := httpConditions(r, cur); err != nil { // early answer; checked again under the write lock
		return statusFor(err), err
	}
	in := gateway.PutInput{
		User: user, Bucket: res.bucket, Key: res.key, Body: r.Body, Size: expectedLength(r),
		Check: func(c *catalog.Object) error { return httpConditions(r, c) },
	}
	if h.cfg.MaxUpload > 0 {
		in.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxUpload)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/octet-stream" {
		in.ContentType = ct
	}
	mtimeSet := false
	if t, ok := ocMtime(r); ok {
		in.ModTime, mtimeSet = t, true
	}
	var verifies []func(gateway.Sums) error
	if v := r.Header.Get("Content-MD5"); v != "" {
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return http.StatusBadRequest, fmt.Errorf("Content-MD5: %w", err)
		}
		verifies = append(verifies, func(s gateway.Sums) error {
			if string(want) != string(s.MD5) {
				return fmt.Errorf("Content-MD5 of %s: %w", res.path, errChecksum)
			}
			return nil
		})
	}
	if v := r.Header.Get("OC-Checksum"); v != "" {
		check, body, err := ocChecksum(v, in.Body)
		if err != nil {
			return http.StatusBadRequest, err
		}
		in.Body = body
		verifies = append(verifies, check)
	}
	if len(verifies) > 0 {
		in.Verify = func(s gateway.Sums) error {
			for _, v := range verifies {
				if err := v(s); err != nil {
					return err
				}
			}
			return nil
		}
	}
	o, err := h.gw.Put(ctx, in)
	if errors.Is(err, gateway.ErrNoBucket) {
		return http.StatusConflict, fmt.Errorf("bucket %q does not exist; make it first: MKCOL %s/%s (a new folder at the root), or shoebox bucket create %s %s",
			res.bucket, strings.TrimSuffix(h.base(r), "/"), res.bucket, user, res.bucket)
	}
	if err != nil {
		return statusFor(err), err
	}
	w.Header().Set("ETag", o.ETag())
	w.Header().Set("OC-ETag", o.ETag())
	if st, err := h.gw.Stat(ctx, user, res.bucket, res.key); err == nil {
		// The Nextcloud clients record the file id of what they uploaded.
		id := catalog.FileIDOf(user, st)
		w.Header().Set("OC-FileId", fmt.Sprintf("%08d%s", id, h.cfg.InstanceID))
	}
	if mtimeSet {
		w.Header().Set("X-OC-MTime", "accepted")
	}
	if cur == nil {
		w.WriteHeader(http.StatusCreated)
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
	return 0, nil
}

// expectedLength is the length of the body, when the client said:
// Content-Length, or X-Expected-Entity-Length (macOS Finder's chunked PUTs).
func expectedLength(r *http.Request) int64 {
	if r.ContentLength > 0 {
		return r.ContentLength
	}
	n, _ := strconv.ParseInt(r.Header.Get("X-Expected-Entity-Length"), 10, 64)
	return max(n, 0)
}

// ocMtime reads the ownCloud X-OC-Mtime header (Unix seconds, maybe fractional).
func ocMtime(r *http.Request) (time.Time, bool) {
	v := r.Header.Get("X-OC-Mtime")
	if v == "" {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
}

// ocChecksum parses an OC-Checksum header ("MD5:hex", "SHA1:hex",
// "SHA256:hex", "ADLER32:hex") and returns a check to run on the staged
// bytes, wrapping body with an extra hasher when the gateway does not
// compute that sum itself.
func ocChecksum(v string, body io.Reader) (func(gateway.Sums) error, io.Reader, error) {
	algo, want, ok := strings.Cut(strings.TrimSpace(v), ":")
	if !ok {
		return nil, nil, fmt.Errorf("OC-Checksum %q: want ALGO:hex", v)
	}
	want = strings.ToLower(strings.TrimSpace(want))
	mismatch := func(got string) error {
		return fmt.Errorf("OC-Checksum %s: got %s, want %s: %w", algo, got, want, errChecksum)
	}
	switch strings.ToUpper(algo) {
	case "MD5":
		return func(s gateway.Sums) error {
			if got := hex.EncodeToString(s.MD5); got != want {
				return mismatch(got)
			}
			return nil
		}, body, nil
	case "SHA256":
		return func(s gateway.Sums) error {
			if got := hex.EncodeToString(s.SHA256); got != want {
				return mismatch(got)
			}
			return nil
		}, body, nil
	case "SHA1", "ADLER32":
		var hh hash.Hash = sha1.New()
		if strings.ToUpper(algo) == "ADLER32" {
			hh = adler32.New()
		}
		return func(gateway.Sums) error {
			if got := hex.EncodeToString(hh.Sum(nil)); got != want {
				return mismatch(got)
			}
			return nil
		}, io.TeeReader(body, hh), nil
	default:
		return nil, nil, fmt.Errorf("OC-Checksum algorithm %q is not supported (MD5, SHA1, SHA256, ADLER32)", algo)
	}
}

// ---- DELETE ----

func (h *Handler) delete(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	if res.isRoot() {
		return http.StatusMethodNotAllowed, errors.New("the root cannot be deleted")
	}
	if d := r.Header.Get("Depth"); d != "" && !strings.EqualFold(d, "infinity") {
		return http.StatusBadRequest, errors.New("DELETE takes Depth: infinity only")
	}
	ctx := r.Context()
	o, err := h.stat(ctx, user, res)
	if err != nil {
		return statusFor(err), err
	}
	tokens, err := h.conditions(r, user, res, &o)
	if err != nil {
		return statusFor(err), err
	}
	if err := httpConditions(r, &o); err != nil {
		return statusFor(err), err
	}
	if err := h.locks.CheckWrite(user, res.path, true, true, tokens); err != nil {
		return http.StatusLocked, err
	}
	if res.key == "" {
		err = h.gw.RemoveBucket(ctx, user, res.bucket, true)
	} else {
		err = h.gw.Remove(ctx, user, res.bucket, o.Key)
	}
	if err != nil {
		return statusFor(err), err
	}
	h.locks.Moved(user, res.path)
	w.WriteHeader(http.StatusNoContent)
	return 0, nil
}

// ---- MKCOL ----

func (h *Handler) mkcol(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
		return http.StatusUnsupportedMediaType, errors.New("MKCOL with a body is not supported")
	}
	if res.isRoot() {
		return http.StatusMethodNotAllowed, errors.New("the root exists")
	}
	ctx := r.Context()
	tokens, err := h.conditions(r, user, res, nil)
	if err != nil {
		return statusFor(err), err
	}
	if err := h.locks.CheckWrite(user, res.path, false, true, tokens); err != nil {
		return http.StatusLocked, err
	}
	if res.key == "" {
		// A refused name answers 403 with the rule (gateway.BucketNameError).
		err = h.gw.CreateBucket(ctx, user, res.bucket)
		if errors.Is(err, gateway.ErrBadPath) || errors.Is(err, gateway.ErrReserved) {
			return http.StatusForbidden, err
		}
	} else {
		err = h.gw.Mkdir(ctx, user, res.bucket, res.key, false, true)
	}
	if err != nil {
		return statusFor(err), err
	}
	w.WriteHeader(http.StatusCreated)
	return 0, nil
}

// ---- COPY / MOVE ----

// stripExternal removes the external prefix a reverse proxy adds.
func (h *Handler) stripExternal(r *http.Request, p string) string {
	ext := strings.TrimSuffix(h.base(r), h.prefix(r))
	if ext != "" {
		if rest, ok := strings.CutPrefix(p, ext); ok && strings.HasPrefix(rest, h.prefix(r)) {
			return rest
		}
	}
	return p
}

func (h *Handler) destination(r *http.Request) (resource, int, error) {
	d := r.Header.Get("Destination")
	if d == "" {
		return resource{}, http.StatusBadRequest, errors.New("missing Destination header")
	}
	u, err := url.Parse(d)
	if err != nil {
		return resource{}, http.StatusBadRequest, fmt.Errorf("bad Destination: %w", err)
	}
	if u.Host != "" && !h.isThisHost(r, u.Host) {
		// RFC 4918 9.8.5/9.9.4: a destination on another server is 502.
		return resource{}, http.StatusBadGateway, fmt.Errorf("destination %s is on another server than %s", d, r.Host)
	}
	dst, ok, err := h.parsePath(r, h.stripExternal(r, u.Path))
	if !ok {
		return resource{}, http.StatusBadGateway, fmt.Errorf("destination %s is not on this server", d)
	}
	if err != nil {
		return resource{}, http.StatusBadRequest, err
	}
	return dst, 0, nil
}

// isThisHost reports whether host, from a Destination, names this server:
// the Host the request came to, or the one a proxy says it came to
// (X-Forwarded-Host). Behind a proxy that passes neither the client's
// Host nor X-Forwarded-Host (it sends X-Forwarded-For or -Prefix, or an
// external prefix is configured), this server's outside name is unknown
// and the path alone decides.
func (h *Handler) isThisHost(r *http.Request, host string) bool {
	if sameHost(host, r.Host) {
		return true
	}
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
		first, _, _ := strings.Cut(fh, ",")
		return sameHost(host, strings.TrimSpace(first))
	}
	return h.cfg.ExternalPrefix != "" || r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Forwarded-Prefix") != ""
}

// sameHost compares two Host values, case-insensitively, with the default
// ports of http and https taken as absent.
func sameHost(a, b string) bool {
	if b == "" {
		return false
	}
	norm := func(h string) string {
		h = strings.ToLower(h)
		for _, p := range []string{":80", ":443"} {
			h = strings.TrimSuffix(h, p)
		}
		return h
	}
	return norm(a) == norm(b)
}

func (h *Handler) copyMove(w http.ResponseWriter, r *http.Request, user string, src resource, move bool) (int, error) {
	ctx := r.Context()
	dst, status, err := h.destination(r)
	if err != nil {
		return status, err
	}
	overwrite := true
	switch r.Header.Get("Overwrite") {
	case "", "T", "t":
	case "F", "f":
		overwrite = false
	default:
		return http.StatusBadRequest, errors.New("the Overwrite header must be T or F")
	}
	deep := true
	switch d := r.Header.Get("Depth"); {
	case d == "" || strings.EqualFold(d, "infinity"):
	case d == "0" && !move:
		deep = false
	default:
		return http.StatusBadRequest, fmt.Errorf("bad Depth %q for %s", d, r.Method)
	}
	if src.isRoot() || dst.isRoot() {
		return http.StatusForbidden, errors.New("the root cannot be copied or moved, nor replaced")
	}
	if src.path == dst.path {
		return http.StatusForbidden, errors.New("source and destination are the same")
	}
	if strings.HasPrefix(dst.path, src.path+"/") || strings.HasPrefix(src.path, dst.path+"/") {
		return http.StatusForbidden, errors.New("source and destination lie one within the other")
	}
	so, err := h.stat(ctx, user, src)
	if err != nil {
		return statusFor(err), err
	}
	if src.virtual || dst.virtual {
		return h.vcopyMove(w, r, user, src, dst, so, move)
	}
	var dcur *catalog.Object
	if o, err := h.stat(ctx, user, dst); err == nil {
		dcur = &o
	}
	if dcur != nil && !overwrite {
		return http.StatusPreconditionFailed, fmt.Errorf("%s exists and Overwrite is F", dst.path)
	}
	tokens, err := h.conditions(r, user, src, &so)
	if err != nil {
		return statusFor(err), err
	}
	if err := httpConditions(r, &so); err != nil {
		return statusFor(err), err
	}
	if move {
		if err := h.locks.CheckWrite(user, src.path, true, true, tokens); err != nil {
			return http.StatusLocked, err
		}
	}
	if err := h.locks.CheckWrite(user, dst.path, true, true, tokens); err != nil {
		return http.StatusLocked, err
	}
	srcDir := isDirObj(src, so)
	switch {
	case src.key == "" && dst.key == "" && move:
		if dcur != nil {
			if err := h.gw.RemoveBucket(ctx, user, dst.bucket, true); err != nil {
				return statusFor(err), err
			}
		}
		err = h.gw.RenameBucket(ctx, user, src.bucket, dst.bucket)
	case src.key == "" || dst.key == "":
		return http.StatusForbidden, errors.New("buckets can be renamed, but not copied or turned into folders (or back)")
	case srcDir && !deep:
		err = h.shallowCopy(ctx, user, so, dst, dcur)
	default:
		sk, dk := so.Key, dst.key
		if srcDir {
			dk += "/"
		}
		op := gateway.OpCopy
		if move {
			op = gateway.OpMove
		}
		// Overwrite: F is decided again by the gateway, atomically with
		// the transfer: something may have appeared at dst since the
		// look above.
		err = h.gw.Transfer(ctx, gateway.Transfer{Op: op, User: user, Bucket: src.bucket, Key: sk, DstBucket: dst.bucket, DstKey: dk, NoReplace: !overwrite})
	}
	if errors.Is(err, gateway.ErrExists) && !overwrite {
		return http.StatusPreconditionFailed, err
	}
	if err != nil {
		return statusFor(err), err
	}
	if move {
		h.locks.Moved(user, src.path)
	}
	if t, ok := ocMtime(r); ok && dst.key != "" {
		if err := h.gw.SetModTime(ctx, user, dst.bucket, dst.key, t); err == nil {
			w.Header().Set("X-OC-MTime", "accepted")
		}
	}
	if dcur != nil {
		w.WriteHeader(http.StatusNoContent)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
	return 0, nil
}

// shallowCopy is COPY with Depth: 0 of a folder: a new empty folder with the
// source's dead properties.
func (h *Handler) shallowCopy(ctx context.Context, user string, so catalog.Object, dst resource, dcur *catalog.Object) error {
	if dcur != nil {
		if err := h.gw.Remove(ctx, user, dst.bucket, dcur.Key); err != nil {
			return err
		}
	}
	if err := h.gw.Mkdir(ctx, user, dst.bucket, dst.key, false, true); err != nil {
		return err
	}
	props, err := h.gw.Props(ctx, user, so.Bucket, so.Key)
	if err != nil || len(props) == 0 {
		return err
	}
	ops := make([]catalog.PropOp, len(props))
	for i, p := range props {
		ops[i] = catalog.PropOp{Prop: p}
	}
	return h.gw.PatchProps(ctx, user, dst.bucket, dst.key+"/", ops)
}

// ---- PROPPATCH ----

// nopLocks lets x/net/webdav parse PROPPATCH after this handler has already
// checked locks and conditions.
type nopLocks struct{}

func (nopLocks) Confirm(time.Time, string, string, ...webdav.Condition) (func(), error) {
	return func() {}, nil
}
func (nopLocks) Create(time.Time, webdav.LockDetails) (string, error) { return "nop", nil }
func (nopLocks) Refresh(time.Time, string, time.Duration) (webdav.LockDetails, error) {
	return webdav.LockDetails{}, webdav.ErrNoSuchLock
}
func (nopLocks) Unlock(time.Time, string) error { return nil }

// maxProppatchBody bounds a PROPPATCH body; a longer one is answered 413.
const maxProppatchBody = 1 << 20

// errBodyTooLarge: a request body is over its limit (413).
var errBodyTooLarge = errors.New("request body too large")

func (h *Handler) proppatch(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	if res.isRoot() {
		return http.StatusForbidden, errors.New("the root has no properties to change")
	}
	o, err := h.stat(r.Context(), user, res)
	if err != nil {
		return statusFor(err), err
	}
	tokens, err := h.conditions(r, user, res, &o)
	if err != nil {
		return statusFor(err), err
	}
	if err := h.locks.CheckWrite(user, res.path, false, false, tokens); err != nil {
		return http.StatusLocked, err
	}
	if r.ContentLength > maxProppatchBody {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("PROPPATCH body of %d bytes: %w", r.ContentLength, errBodyTooLarge)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxProppatchBody+1))
	if err != nil {
		return http.StatusBadRequest, fmt.Errorf("PROPPATCH body: %w", err)
	}
	if len(body) > maxProppatchBody {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("PROPPATCH body over %d bytes: %w", maxProppatchBody, errBodyTooLarge)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	xh := &webdav.Handler{Prefix: h.prefix(r), FileSystem: NewFS(h.gw, user), LockSystem: nopLocks{}}
	xh.ServeHTTP(w, r)
	return 0, nil
}
