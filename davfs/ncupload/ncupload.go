package ncupload

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
)

// The paths the Nextcloud clients use, below the server's root.
const (
	FilesPrefix    = "/remote.php/dav/files/"
	UploadsPrefix  = "/remote.php/dav/uploads/"
	TrashbinPrefix = "/remote.php/dav/trashbin/"
	VersionsPrefix = "/remote.php/dav/versions/"
)

// DefaultExpiry is how long a transfer with no new chunk is kept.
const DefaultExpiry = 24 * time.Hour

// Options configure a Server.
type Options struct {
	// Dir holds the transfers in progress (see the package doc); made if
	// missing.
	Dir string
	// Expiry: transfers with no new chunk for this long are removed by
	// Sweep (0: DefaultExpiry; negative: never).
	Expiry time.Duration
	// ExternalPrefix is the path a reverse proxy puts before the server's
	// paths ("" when none), for Destination headers and hrefs.
	ExternalPrefix string
	// FileID names a file to the clients (OC-FileId, the versions
	// endpoint); nil: DefaultFileID.
	FileID func(ctx context.Context, user, bucket, key string) (string, error)
	Logger *slog.Logger
}

// DefaultFileID is the file id of bucket/key when none is stored: a
// decimal number below 2^53 (clients parse file ids as numbers), the first
// bytes of SHA-256(user NUL bucket NUL key). It is stable across restarts
// but not across a MOVE; the catalog's own ids replace it once they exist.
func DefaultFileID(_ context.Context, user, bucket, key string) (string, error) {
	h := sha256.Sum256([]byte(user + "\x00" + bucket + "\x00" + key))
	return strconv.FormatUint(binary.BigEndian.Uint64(h[:8])>>11, 10), nil
}

// Server serves chunked uploads, the trash bin and versions.
type Server struct {
	gw     *gateway.Gateway
	dir    string
	expiry time.Duration
	prefix string
	fileID func(ctx context.Context, user, bucket, key string) (string, error)
	log    *slog.Logger
	// locks serialise the writers of one transfer's files (a chunk
	// against the MOVE that assembles, or the DELETE that aborts).
	locks [64]sync.Mutex
}

// New returns a Server; transfers left by an earlier run are kept (see
// Sweep).
func New(ctx context.Context, gw *gateway.Gateway, opt Options) (*Server, error) {
	lg := opt.Logger
	if lg == nil {
		lg = slog.Default()
	}
	s := &Server{gw: gw, dir: opt.Dir, expiry: opt.Expiry, prefix: strings.TrimSuffix(opt.ExternalPrefix, "/"),
		fileID: opt.FileID, log: lg.With("component", "ncupload")}
	if s.expiry == 0 {
		s.expiry = DefaultExpiry
	}
	if s.fileID == nil {
		s.fileID = DefaultFileID
	}
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return nil, fmt.Errorf("ncupload: transfer directory: %w", err)
	}
	kept, err := s.sweep(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("ncupload: transfer directory: %w", err)
	}
	if kept > 0 {
		s.log.Info("chunked uploads in progress resumed", "transfers", kept)
	}
	return s, nil
}

// Uploads is the handler of /remote.php/dav/uploads/.
func (s *Server) Uploads() http.Handler { return s.serve(UploadsPrefix, s.uploads) }

// Trashbin is the handler of /remote.php/dav/trashbin/.
func (s *Server) Trashbin() http.Handler { return s.serve(TrashbinPrefix, s.trashbin) }

// Versions is the handler of /remote.php/dav/versions/.
func (s *Server) Versions() http.Handler { return s.serve(VersionsPrefix, s.versions) }

// httpError is an error with the status to answer.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, format string, a ...any) error {
	return &httpError{status, fmt.Sprintf(format, a...)}
}

// request is what the handlers see of a request: the user and the path
// segments below USER.
type request struct {
	*http.Request
	user string
	segs []string
}

// serve checks the user in the path against the authenticated one and
// maps errors to answers.
func (s *Server) serve(prefix string, h func(http.ResponseWriter, *request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			user := auth.User(r.Context())
			if user == "" {
				return fail(http.StatusUnauthorized, "not logged in")
			}
			rest, ok := strings.CutPrefix(r.URL.Path, prefix)
			if !ok {
				return fail(http.StatusNotFound, "not found")
			}
			segs := strings.Split(strings.Trim(rest, "/"), "/")
			if segs[0] != user {
				return fail(http.StatusForbidden, "%s is not the user logged in", segs[0])
			}
			for _, sg := range segs[1:] {
				if sg == "" || sg == "." || sg == ".." {
					return fail(http.StatusBadRequest, "bad path %s", r.URL.Path)
				}
			}
			return h(w, &request{Request: r, user: user, segs: segs[1:]})
		}()
		if err == nil {
			return
		}
		status := statusFor(err)
		if status >= 500 && status != http.StatusInsufficientStorage {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		}
		http.Error(w, fmt.Sprintf("%d %s: %v", status, http.StatusText(status), err), status)
	})
}

// statusFor maps an error to an HTTP status.
func statusFor(err error) int {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status
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

// destination reads a Destination header naming a path below prefix+user+
// "/" (a URL or an absolute path) and returns the segments after it.
func (s *Server) destination(r *request, prefix string) ([]string, error) {
	d := r.Header.Get("Destination")
	if d == "" {
		return nil, fail(http.StatusBadRequest, "no Destination header")
	}
	u, err := url.Parse(d)
	if err != nil {
		return nil, fail(http.StatusBadRequest, "Destination %q: %v", d, err)
	}
	p, ok := strings.CutPrefix(u.Path, s.prefix+prefix+r.user+"/")
	if !ok {
		return nil, fail(http.StatusBadGateway, "Destination %q is not below %s%s/", d, prefix, r.user)
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for _, sg := range segs {
		if sg == "" || sg == "." || sg == ".." {
			return nil, fail(http.StatusBadRequest, "Destination %q is not a valid path", d)
		}
	}
	return segs, nil
}

// ---- multistatus ----

type prop struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
	Inner   string `xml:",innerxml"`
}

type response struct {
	href  string
	props []prop
}

// text is a property with a text value; ns is "d", "oc" or "nc".
func text(ns, name, value string) prop {
	return prop{XMLName: xml.Name{Local: ns + ":" + name}, Value: value}
}

func collection() prop {
	return prop{XMLName: xml.Name{Local: "d:resourcetype"}, Inner: "<d:collection/>"}
}

func fileType() prop { return prop{XMLName: xml.Name{Local: "d:resourcetype"}} }

// writeMultistatus answers 207 with one response per entry, every
// property found.
func writeMultistatus(w http.ResponseWriter, rs []response) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<d:multistatus xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">`)
	for _, r := range rs {
		b.WriteString("<d:response><d:href>")
		xml.EscapeText(&b, []byte(r.href))
		b.WriteString("</d:href><d:propstat><d:prop>")
		for _, p := range r.props {
			b.WriteString("<" + p.XMLName.Local + ">")
			if p.Inner != "" {
				b.WriteString(p.Inner)
			} else {
				xml.EscapeText(&b, []byte(p.Value))
			}
			b.WriteString("</" + p.XMLName.Local + ">")
		}
		b.WriteString("</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>")
	}
	b.WriteString("</d:multistatus>\n")
	w.Write([]byte(b.String()))
}

// href is the escaped path of segs below prefix.
func (s *Server) href(prefix string, segs ...string) string {
	out := s.prefix + prefix
	for i, sg := range segs {
		if i > 0 {
			out += "/"
		}
		out += (&url.URL{Path: sg}).EscapedPath()
	}
	return out
}

// depth is the Depth header of a PROPFIND: 0 or 1 (infinity is 1 here).
func depth(r *http.Request) int {
	if r.Header.Get("Depth") == "0" {
		return 0
	}
	return 1
}

func httpTime(ns int64) string { return time.Unix(0, ns).UTC().Format(http.TimeFormat) }

// objectProps are the properties of a stored file or folder.
func objectProps(o catalog.Object, name string) []prop {
	ps := []prop{text("d", "displayname", name), text("d", "getlastmodified", httpTime(o.ModNs)), text("d", "getetag", o.ETag()),
		text("oc", "size", strconv.FormatInt(o.Size, 10))}
	if o.IsDir() {
		return append(ps, collection())
	}
	return append(ps, fileType(), text("d", "getcontentlength", strconv.FormatInt(o.Size, 10)), text("d", "getcontenttype", o.ContentType))
}
