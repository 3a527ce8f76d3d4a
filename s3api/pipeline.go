package s3api

// The request pipeline. Every S3 request goes through these stages, in
// this order, and through no other path (New builds it):
//
//  1. resolve (resolveTarget): the request's Target, the bucket and key it
//     addresses, is read once from its Host (virtual-host style,
//     bucket.domain/key) or its path (path-style, /bucket/key), and put in
//     its context. A path no bucket and key can be read from is refused.
//  2. authenticate (Config.Authenticate, normally Authenticate): the
//     signature is checked on the request as sent; the result is a user or
//     an anonymous caller.
//  3. authorize (Authenticate with PublicAccess): the user the request
//     acts as is decided on the Target: the caller, for their own
//     buckets; a bucket's owner, for a read the owner allowed anyone; or
//     no one (403).
//  4. serve (serveTarget): the request is rewritten path-style from the
//     Target, checked to read back as that same Target, and served as the
//     user decided above. Everything after it (compat, multipart, gofakes3
//     and the backend) serves that bucket and key and no other.
//
// So whatever decided access saw the bucket and key that are served.

import (
	"context"
	"net"
	"net/http"
	"strings"
)

// Target is what an S3 request addresses, resolved once from its Host and
// path.
type Target struct {
	// Bucket is "" for the service (ListBuckets).
	Bucket string
	// Key is "" for the bucket itself; it is never "" with Bucket "".
	Key string
	// VirtualHost: the bucket came from the Host (bucket.domain), and the
	// whole path is the key.
	VirtualHost bool
}

type targetKey struct{}

func withTarget(ctx context.Context, t Target) context.Context {
	return context.WithValue(ctx, targetKey{}, t)
}

// TargetOf returns the Target the pipeline resolved for the request whose
// context ctx is, and whether there is one.
func TargetOf(ctx context.Context) (Target, bool) {
	t, ok := ctx.Value(targetKey{}).(Target)
	return t, ok
}

// requestTarget returns the request's resolved Target; a request that did
// not come through resolveTarget (a handler used on its own, in tests) is
// read path-style.
func requestTarget(r *http.Request) Target {
	if t, ok := TargetOf(r.Context()); ok {
		return t
	}
	t, _ := resolve(r, "")
	return t
}

// resolve reads the Target of r: virtual-host style when its Host is a
// name under domain, path-style otherwise. ok is false for a path that
// names a key but no bucket ("//key").
func resolve(r *http.Request, domain string) (t Target, ok bool) {
	if b := hostBucket(r, domain); b != "" {
		return Target{Bucket: b, Key: strings.TrimPrefix(r.URL.Path, "/"), VirtualHost: true}, true
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return Target{Bucket: bucket, Key: key}, bucket != "" || key == ""
}

// hostBucket is the bucket named by a virtual-host style request's Host
// (bucket.domain), or "".
func hostBucket(r *http.Request, domain string) string {
	if domain == "" {
		return ""
	}
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	bucket, _ := strings.CutSuffix(host, "."+strings.ToLower(domain))
	if bucket == host {
		return ""
	}
	return bucket
}

// resolveTarget is the first stage: it puts the request's Target in its
// context, or answers 400 InvalidURI.
func resolveTarget(domain string, next http.Handler) http.Handler {
	domain = strings.ToLower(domain)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, ok := resolve(r, domain)
		if !ok {
			writeAuthError(w, r, "InvalidURI", "Couldn't parse the specified URI.", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r.WithContext(withTarget(r.Context(), t)))
	})
}

// serveTarget is the last stage before the handlers: it rewrites a
// virtual-host request path-style from its Target, and refuses (400
// InvalidURI) a request whose path does not read back as its Target, as
// this package and gofakes3 (which trims every leading '/') read paths.
func serveTarget(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, ok := TargetOf(r.Context())
		if !ok {
			writeAuthError(w, r, "InternalError", "We encountered an internal error. Please try again.", http.StatusInternalServerError)
			return
		}
		if t.VirtualHost {
			r2 := *r
			u := *r.URL
			u.Path = "/" + t.Bucket + r.URL.Path
			if r.URL.RawPath != "" {
				u.RawPath = "/" + t.Bucket + r.URL.RawPath
			}
			r2.URL = &u
			r = &r2
		}
		if !servesTarget(r.URL.Path, t) {
			writeAuthError(w, r, "InvalidURI", "Couldn't parse the specified URI.", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// servesTarget reports whether path addresses t however it is read.
func servesTarget(path string, t Target) bool {
	for _, p := range []string{strings.TrimPrefix(path, "/"), strings.TrimLeft(path, "/")} {
		bucket, key, _ := strings.Cut(p, "/")
		if bucket != t.Bucket || key != t.Key {
			return false
		}
	}
	return true
}
