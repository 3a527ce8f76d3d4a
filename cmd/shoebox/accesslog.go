package main

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// accessLog wraps h, when on, with an access log: one info record per
// request, "access" on listener, with method, path, user (the Basic auth
// name, or the S3 access key id; "" for sessions and anonymous requests),
// status, bytes written, duration and remote address, in the log's format.
// It reuses the metrics' recorder (metrics.go), which keeps sendfile.
func accessLog(on bool, lg *slog.Logger, listener string, h http.Handler) http.Handler {
	if !on {
		return h
	}
	lg = lg.With("component", "access", "listener", listener)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			lg.LogAttrs(r.Context(), slog.LevelInfo, "access",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("user", requestUser(r)),
				slog.Int("status", status), slog.Int64("bytes", rec.n),
				slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
		}()
		h.ServeHTTP(rec, r)
	})
}

// requestUser is who the request says it is: the Basic auth user name,
// or the access key id of an S3 signature (header or presigned URL).
func requestUser(r *http.Request) string {
	if u, _, ok := r.BasicAuth(); ok {
		return u
	}
	cred := r.URL.Query().Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "AWS4-") {
		if _, c, ok := strings.Cut(a, "Credential="); ok {
			cred = c
		}
	} else if id, ok := strings.CutPrefix(a, "AWS "); ok { // SigV2
		cred = id
	}
	id, _, _ := strings.Cut(cred, "/")
	id, _, _ = strings.Cut(id, ":")
	return id
}
