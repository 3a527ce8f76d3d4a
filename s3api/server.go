package s3api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rclone/gofakes3"

	"shoebox/gateway"
	"shoebox/gateway/auth"
)

// Config configures the S3 front end.
type Config struct {
	// UploadDir holds multipart uploads in progress, their parts and
	// records (see multipart.go); they survive restarts.
	UploadDir string
	// UploadExpiry removes multipart uploads no part of which was written
	// for that long (clients that gave up without aborting); 0: never.
	UploadExpiry time.Duration
	// Domain enables virtual-host style requests (bucket.Domain/key)
	// beside path-style ones.
	Domain string
	// Authenticate wraps the S3 handler (stages 2 and 3 of the pipeline,
	// pipeline.go): it sees the request as sent, with its Target resolved
	// (TargetOf), and must pass it on, Target unchanged, with the user it
	// acts as in its context (auth.WithUser), decided on that Target, or
	// answer it itself.
	Authenticate func(http.Handler) http.Handler
	Logger       *slog.Logger
}

// New returns the S3 handler over the gateway.
func New(gw *gateway.Gateway, cfg Config) (http.Handler, error) {
	if cfg.Authenticate == nil {
		return nil, fmt.Errorf("s3api: no authentication configured")
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	lg = lg.With("component", "s3")
	be := &backend{gw: gw}
	faker := gofakes3.New(be,
		gofakes3.WithLogger(logger{lg}),
		gofakes3.WithUploadOwner(auth.User),
		gofakes3.WithIntegrityCheck(true),
		gofakes3.WithoutVersioning(),
		// Authenticate checks the request's time, in every signature
		// scheme; gofakes3's own check reads X-Amz-Date as SigV4 writes
		// it, and refused SigV2's.
		gofakes3.WithTimeSkewLimit(0),
	)
	mp, err := newMultipart(be, cfg.UploadDir, cfg.UploadExpiry, lg, compat(be, faker.Server()))
	if err != nil {
		return nil, err
	}
	// The pipeline (pipeline.go): resolve, authenticate and authorize,
	// serve.
	var h http.Handler = withState(gw, mp)
	h = serveTarget(h)
	h = cfg.Authenticate(h)
	h = resolveTarget(cfg.Domain, h)
	return continueEmpty(h), nil
}

// continueEmpty answers "Expect: 100-continue" on a request without a body
// with an explicit 100 Continue before the final status. Go's server sends
// 100 only when a handler reads a body, so such a request would get its
// final answer straight away; botocore (aws cli v1 and v2) mishandles that
// answer and desynchronizes the connection, so its next request on it
// hangs until a read timeout (seen with plain gofakes3 too).
func continueEmpty(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
			w.WriteHeader(http.StatusContinue)
		}
		next.ServeHTTP(w, r)
	})
}

type logger struct{ l *slog.Logger }

func (l logger) Print(level gofakes3.LogLevel, v ...any) {
	msg := fmt.Sprint(v...)
	switch level {
	case gofakes3.LogErr:
		l.l.Error(msg)
	case gofakes3.LogWarn:
		l.l.Warn(msg)
	default:
		l.l.Debug(msg)
	}
}

// reqState carries what the backend knows better than gofakes3 back to
// the response: the ETag of multipart objects (gofakes3 would print the
// MD5) and the status of error codes gofakes3 does not know.
type reqState struct {
	etag   string
	status int
	// size is the size of the object a Range was asked of, for the
	// Content-Range of a 416 answer ("bytes */size"); -1 when unknown.
	size int64
	// location is the LocationConstraint a bucket is created with.
	location string
	// acl is the canned ACL (x-amz-acl) a bucket or object is created
	// with.
	acl string
	// checksumHeader and checksumValue are the checksum an object was
	// stored with from the trailer of its aws-chunked body, answered as
	// a header as S3 does for a checksum given as one.
	checksumHeader, checksumValue string
	// storageClass is the x-amz-storage-class a request that creates an
	// object asks for, checked (storageclass.go); "" for none.
	storageClass string
	// putSums are the checksums a PutObject gave as headers or named
	// (checksum.go), answered as headers once verified.
	putSums *putSums
	// copyChecksum is the checksum algorithm (lower case) a CopyObject
	// asks the copy to get (x-amz-checksum-algorithm).
	copyChecksum string
	// copySums are the checksums the copy of a CopyObject has (header
	// name → value), answered in its CopyObjectResult (compat.go).
	copySums map[string]string
	// noSuchKey: a GET or HEAD found no object; S3 then says that no
	// delete marker stands in its place (x-amz-delete-marker: false).
	noSuchKey bool
}

type stateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

func withState(gw *gateway.Gateway, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		translateConditions(gw, r)
		class, e := checkStorageClass(r)
		if e != nil {
			writeAuthError(w, r, e.Code, e.Message, e.Status)
			return
		}
		st := &reqState{size: -1, storageClass: class}
		sw := &stateWriter{ResponseWriter: w, st: st}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
		if !sw.written { // e.g. HEAD: the headers still pass through WriteHeader
			sw.WriteHeader(http.StatusOK)
		}
	})
}

// translateConditions rewrites If-Match and If-None-Match values naming an
// object's multipart ETag ("…-N") into the MD5 that gofakes3 compares
// conditions against, so a client that read the ETag (aws cli downloads
// in ranges with If-Match) is held to the same object. The conditions on
// the source of a copy (x-amz-copy-source-if-match, -if-none-match) are
// translated the same way.
func translateConditions(gw *gateway.Gateway, r *http.Request) {
	user := auth.User(r.Context())
	if user == "" {
		return
	}
	translate := func(bucket, key string, headers ...string) {
		found := false
		for _, h := range headers {
			found = found || strings.Contains(r.Header.Get(h), "-")
		}
		if !found || bucket == "" || key == "" {
			return
		}
		o, err := gw.Catalog().Stat(r.Context(), user, bucket, key)
		if err != nil || o.ETagValue == "" || o.MD5 == "" {
			return
		}
		etag, md := o.ETag(), `"`+o.MD5+`"`
		for _, h := range headers {
			if v := r.Header.Get(h); v != "" {
				v = strings.ReplaceAll(v, etag, md)
				v = strings.ReplaceAll(v, strings.Trim(etag, `"`), md) // unquoted
				r.Header.Set(h, v)
			}
		}
	}
	t := requestTarget(r)
	translate(t.Bucket, t.Key, "If-Match", "If-None-Match")
	if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
		src, _, _ = strings.Cut(src, "?")
		if dec, err := url.PathUnescape(src); err == nil {
			sb, sk, _ := strings.Cut(strings.TrimPrefix(dec, "/"), "/")
			translate(sb, sk, "X-Amz-Copy-Source-If-Match", "X-Amz-Copy-Source-If-None-Match")
		}
	}
}

type stateWriter struct {
	http.ResponseWriter
	st      *reqState
	written bool
}

func (s *stateWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 { // informational: the final status is still to come
		s.ResponseWriter.WriteHeader(code)
		return
	}
	if !s.written {
		s.written = true
		if s.st.etag != "" && s.Header().Get("ETag") != "" && (code < 300 || code == http.StatusNotModified) {
			s.Header().Set("ETag", s.st.etag)
		}
		if s.st.checksumHeader != "" && code < 300 && s.Header().Get(s.st.checksumHeader) == "" {
			s.Header().Set(s.st.checksumHeader, s.st.checksumValue)
		}
		if code < 300 {
			for h, v := range s.st.putSums.values() {
				if s.Header().Get(h) == "" {
					s.Header().Set(h, v)
				}
			}
			setChecksumType(s.Header())
		}
		if s.st.status != 0 && code == http.StatusInternalServerError {
			code = s.st.status
		}
		if code == http.StatusNotFound && s.st.noSuchKey {
			s.Header().Set("X-Amz-Delete-Marker", "false")
		}
		if code == http.StatusRequestedRangeNotSatisfiable && s.st.size >= 0 {
			s.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", s.st.size))
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *stateWriter) Write(b []byte) (int, error) {
	if !s.written {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

func (s *stateWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *stateWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// setChecksumType says, beside an object's checksum header, how it was
// made: COMPOSITE for a multipart object's checksum of its parts' ("…-N"),
// FULL_OBJECT for a checksum of the whole content.
func setChecksumType(h http.Header) {
	if h.Get("X-Amz-Checksum-Type") != "" {
		return
	}
	for name := range checksumHashes {
		if v := h.Get(name); v != "" {
			if strings.Contains(v, "-") {
				h.Set("X-Amz-Checksum-Type", "COMPOSITE")
			} else {
				h.Set("X-Amz-Checksum-Type", "FULL_OBJECT")
			}
			return
		}
	}
}
