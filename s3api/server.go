package s3api

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/rclone/gofakes3"

	"shoebox/gateway"
	"shoebox/gateway/auth"
)

// Config configures the S3 front end.
type Config struct {
	// UploadDir holds multipart parts while uploads are in progress. It is
	// emptied at start: in-progress uploads do not survive a restart
	// (clients start them again).
	UploadDir string
	// Domain enables virtual-host style requests (bucket.Domain/key)
	// beside path-style ones.
	Domain string
	// Authenticate wraps the S3 handler; it must put the caller in the
	// request context with auth.WithUser or answer the request itself.
	Authenticate func(http.Handler) http.Handler
	Logger       *slog.Logger
}

// New returns the S3 handler over the gateway.
func New(gw *gateway.Gateway, cfg Config) (http.Handler, error) {
	if cfg.Authenticate == nil {
		return nil, fmt.Errorf("s3api: no authentication configured")
	}
	if err := os.RemoveAll(cfg.UploadDir); err != nil {
		return nil, fmt.Errorf("s3api: clear %s: %w", cfg.UploadDir, err)
	}
	if err := os.MkdirAll(cfg.UploadDir, 0o750); err != nil {
		return nil, fmt.Errorf("s3api: %w", err)
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	lg = lg.With("component", "s3")
	be := &backend{gw: gw, uploadDir: cfg.UploadDir}
	faker := gofakes3.New(be,
		gofakes3.WithLogger(logger{lg}),
		gofakes3.WithUploadOwner(auth.User),
		gofakes3.WithIntegrityCheck(true),
		gofakes3.WithoutVersioning(),
	)
	var h http.Handler = withState(faker.Server())
	h = cfg.Authenticate(h)
	if cfg.Domain != "" {
		h = virtualHost(strings.ToLower(cfg.Domain), h)
	}
	return h, nil
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

// virtualHost turns bucket.domain/key into /bucket/key.
func virtualHost(domain string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if bucket, ok := strings.CutSuffix(host, "."+domain); ok && bucket != "" {
			r2 := *r
			u := *r.URL
			u.Path = "/" + bucket + r.URL.Path
			if r.URL.RawPath != "" {
				u.RawPath = "/" + bucket + r.URL.RawPath
			}
			r2.URL = &u
			next.ServeHTTP(w, &r2)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// reqState carries what the backend knows better than gofakes3 back to
// the response: the ETag of multipart objects (gofakes3 would print the
// MD5) and the status of error codes gofakes3 does not know.
type reqState struct {
	etag   string
	status int
}

type stateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

func withState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &reqState{}
		sw := &stateWriter{ResponseWriter: w, st: st}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
		if !sw.written { // e.g. HEAD: the headers still pass through WriteHeader
			sw.WriteHeader(http.StatusOK)
		}
	})
}

type stateWriter struct {
	http.ResponseWriter
	st      *reqState
	written bool
}

func (s *stateWriter) WriteHeader(code int) {
	if !s.written {
		s.written = true
		if s.st.etag != "" && s.Header().Get("ETag") != "" && code < 300 {
			s.Header().Set("ETag", s.st.etag)
		}
		if s.st.status != 0 && code == http.StatusInternalServerError {
			code = s.st.status
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
