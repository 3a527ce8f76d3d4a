package s3api

// Authentication of S3 requests: AWS Signature Version 4 in the
// Authorization header or in a presigned URL's query, checked by
// github.com/rclone/gofakes3/signature, and then the request body, which
// that package does not look at: a signed payload hash, and the aws-chunked
// streaming encodings, whose chunk signatures and trailing checksums are
// verified here while the body is read.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rclone/gofakes3/signature"

	"shoebox/catalog"
	"shoebox/gateway/auth"
)

// SecretLookup returns the owner and clear secret of an access key. For an
// unknown key it returns an error wrapping ErrUnknownAccessKey or
// catalog.ErrNotFound (the request is answered 403 InvalidAccessKeyId); any
// other error is answered 500 InternalError and logged.
type SecretLookup func(ctx context.Context, accessKeyID string) (user, secret string, err error)

// ErrUnknownAccessKey is returned (or wrapped) by a SecretLookup for an
// access key ID that does not exist or no longer works.
var ErrUnknownAccessKey = errors.New("unknown access key")

// BodyError is what the body of an authenticated request returns from Read
// when the bytes received are not the bytes that were signed or
// checksummed. The backend must then store nothing; whatever it answers,
// Authenticate replaces the response with this S3 error.
type BodyError struct {
	Code    string // S3 error code
	Message string
	Status  int // HTTP status
}

func (e *BodyError) Error() string { return e.Code + ": " + e.Message }

// Errors of request bodies; test with errors.Is.
var (
	// ErrContentSHA256Mismatch: the body's SHA-256 is not the
	// X-Amz-Content-Sha256 the request was signed with.
	ErrContentSHA256Mismatch = &BodyError{"XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", http.StatusBadRequest}
	// ErrChunkSignature: a chunk or trailer signature of a
	// STREAMING-AWS4-HMAC-SHA256-PAYLOAD body is wrong or missing.
	ErrChunkSignature = &BodyError{"SignatureDoesNotMatch", "The chunk signature we calculated does not match the signature you provided.", http.StatusForbidden}
	// ErrTrailerChecksum: the x-amz-checksum-* trailer of an aws-chunked
	// body does not match the data.
	ErrTrailerChecksum = &BodyError{"BadDigest", "The checksum you specified in the trailer did not match the calculated checksum.", http.StatusBadRequest}
	// ErrMalformedTrailer: a trailer announced in X-Amz-Trailer is missing,
	// or one that was not announced was sent.
	ErrMalformedTrailer = &BodyError{"MalformedTrailerError", "The request contained trailing data that was not well-formed or did not conform to our published schema.", http.StatusBadRequest}
	// ErrIncompleteBody: the aws-chunked framing is broken, or the decoded
	// data is not X-Amz-Decoded-Content-Length bytes long.
	ErrIncompleteBody = &BodyError{"IncompleteBody", "The request body is not well-formed aws-chunked data of the declared decoded length.", http.StatusBadRequest}
)

// AuthOption configures Authenticate.
type AuthOption func(*authenticator)

// AllowAnonymous lets a request that carries no credentials at all reach
// the next handler when owner returns ok for it and its Target (public-read
// buckets): the request then acts as that user, so owner must only say yes
// to reads. Requests with credentials are always verified, and refused
// when wrong.
func AllowAnonymous(owner func(r *http.Request, t Target) (user string, ok bool)) AuthOption {
	return func(a *authenticator) { a.anonymous = owner }
}

// AuthLogger sets where lookup failures and refused requests are logged
// (default slog.Default()).
func AuthLogger(l *slog.Logger) AuthOption {
	return func(a *authenticator) { a.log = l }
}

type authenticator struct {
	lookup    SecretLookup
	next      http.Handler
	anonymous func(*http.Request, Target) (string, bool)
	// shared, if set, may have an authenticated user's request act as
	// another user (the owner of what it reads); see PublicAccess.
	shared func(r *http.Request, t Target, user string) (string, bool)
	// postOwner, if set, names the user an anonymous browser POST into
	// bucket acts as (see PublicAccess and postobject.go).
	postOwner func(r *http.Request, bucket string) (string, bool)
	// hasBucket, if set, reports whether user has bucket.
	hasBucket func(ctx context.Context, user, bucket string) bool
	// domain is the virtual-host domain (VirtualHostDomain).
	domain string
	log    *slog.Logger
	// limit slows down failed logins (LoginLimiter); nil: no limit.
	limit *auth.Limiter
}

// LoginLimiter has limit record wrong credentials (an unknown access key,
// a signature that does not match: not a missing signature, an expired
// URL or a skewed clock) and answer, unchecked, a request whose address or
// key owner limit says must wait: 503 SlowDown with Retry-After.
//
// Why 503 SlowDown and not 429: SlowDown is what S3 itself answers a
// client that must slow down, so every S3 client knows it and backs off
// (the AWS SDKs list it among their throttling errors and retry it with
// exponential backoff and jitter; botocore, minio-go, rclone and s3cmd
// retry 503 SlowDown too), while 429 is not an S3 answer and older SDKs
// and tools take it as a final error. A client retrying with the wrong
// secret only meets SlowDown again, unchecked and not counted, until the
// wait is over.
func LoginLimiter(limit *auth.Limiter) AuthOption {
	return func(a *authenticator) { a.limit = limit }
}

// login describes r's attempt to the limiter.
func login(r *http.Request, user, keyID string) auth.Login {
	return auth.Login{Protocol: "s3", Remote: r.RemoteAddr, User: user, AccessKey: keyID}
}

// slowDown sets Retry-After on w and returns the SlowDown error to answer
// with, for a request the limiter refused.
func slowDown(w http.ResponseWriter, wait time.Duration) *BodyError {
	w.Header().Set("Retry-After", auth.RetryAfter(wait))
	return &BodyError{"SlowDown", "Please reduce your request rate: too many failed logins; retry after " + auth.RetryAfter(wait) + " s.", http.StatusServiceUnavailable}
}

// VirtualHostDomain tells an Authenticate used on its own the domain of
// virtual-host style requests (bucket.domain/key). Under New, which
// resolves every request's Target before authentication (Config.Domain),
// the Target in the request's context is used and this is not needed.
func VirtualHostDomain(domain string) AuthOption {
	return func(a *authenticator) { a.domain = domain }
}

// target returns the request's Target: the one resolved before
// authentication, or (Authenticate on its own) read with the
// VirtualHostDomain.
func (a *authenticator) target(r *http.Request) Target {
	if t, ok := TargetOf(r.Context()); ok {
		return t
	}
	t, _ := resolve(r, a.domain)
	return t
}

// Authenticate verifies AWS Signature V4 (Authorization header or presigned
// query), or V2 (sigv2.go), and passes the request on with auth.WithUser(ctx, user); anything
// else is answered with an S3 XML error:
//
//   - unknown access key: 403 InvalidAccessKeyId
//   - wrong signature (wrong secret, altered request): 403 SignatureDoesNotMatch
//   - expired presigned URL: 403 AccessDenied "Request has expired"
//   - header-signed request older or newer than 15 minutes: 403 RequestTimeTooSkewed
//   - no credentials: 403 AccessDenied, unless AllowAnonymous says otherwise
//     (and CORS preflights, which never carry credentials, pass unauthenticated;
//     any other OPTIONS is 400 BadRequest, as on S3)
//
// The body reaches next verified as it is read (see BodyError): a hex
// X-Amz-Content-Sha256 is checked against the body's SHA-256, and aws-chunked
// bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER],
// STREAMING-UNSIGNED-PAYLOAD-TRAILER) are decoded, with every chunk signature
// and any trailing checksum verified; next then sees a plain body:
// Content-Length and X-Amz-Decoded-Content-Length are the decoded length,
// X-Amz-Content-Sha256 is UNSIGNED-PAYLOAD, and aws-chunked is gone from
// Content-Encoding. Authenticate must wrap the handler before anything
// rewrites the request's path or host, since the signature covers them.
func Authenticate(lookup SecretLookup, next http.Handler, opts ...AuthOption) http.Handler {
	a := &authenticator{lookup: lookup, next: next}
	for _, o := range opts {
		o(a)
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	return a
}

// hasSigV4Credentials reports whether r carries SigV4 credentials in either form.
func hasSigV4Credentials(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	q := r.URL.Query()
	return q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Algorithm")
}

func (a *authenticator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, ok := TargetOf(r.Context()); !ok {
		// Used on its own: resolve here, once.
		t, ok := resolve(r, a.domain)
		if !ok {
			writeAuthError(w, r, "InvalidURI", "Couldn't parse the specified URI.", http.StatusBadRequest)
			return
		}
		r = r.WithContext(withTarget(r.Context(), t))
	}
	if r.Method == http.MethodOptions && (r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "") {
		// Not a CORS preflight, the one OPTIONS S3 answers.
		writeAuthError(w, r, "BadRequest", "Insufficient information. Origin request header needed.", http.StatusBadRequest)
		return
	}
	if r.Header.Get("Authorization") == "" && hasV2Query(r) {
		a.serveV2Query(w, r)
		return
	}
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS ") {
		a.serveV2Header(w, r)
		return
	}
	if bucket, ok := a.browserPost(r); ok {
		a.servePost(w, r, bucket)
		return
	}
	if !hasSigV4Credentials(r) {
		preflight := r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			a.serveVerified(w, r, nil)
			return
		}
		if a.anonymous != nil {
			if owner, ok := a.anonymous(r, a.target(r)); ok && owner != "" {
				a.serveVerified(w, r.WithContext(auth.WithUser(r.Context(), owner)), nil)
				return
			}
		}
		writeAuthError(w, r, "AccessDenied", "Access Denied", http.StatusForbidden)
		return
	}

	if wait := a.limit.Admit(login(r, "", "")); wait > 0 {
		e := slowDown(w, wait)
		writeAuthError(w, r, e.Code, e.Message, e.Status)
		return
	}
	// The verifier calls lookup synchronously, at most once.
	var (
		user, secret, keyID string
		lookupErr           error
		found               bool
		wait                time.Duration // the key's owner must wait
	)
	ctx := r.Context()
	code := signature.V4SignVerifyWithLookup(r, func(accessKey string) (string, bool) {
		keyID = accessKey
		u, s, err := a.lookup(ctx, accessKey)
		if err != nil {
			lookupErr = err
			return "", false
		}
		if wait = a.limit.Admit(login(r, u, accessKey)); wait > 0 {
			return "", false
		}
		user, secret, found = u, s, true
		return s, true
	})
	if lookupErr != nil && !errors.Is(lookupErr, ErrUnknownAccessKey) && !errors.Is(lookupErr, catalog.ErrNotFound) {
		a.log.Error("s3 access key lookup failed", "key", keyID, "err", lookupErr)
		writeAuthError(w, r, "InternalError", "We encountered an internal error. Please try again.", http.StatusInternalServerError)
		return
	}
	if wait > 0 {
		e := slowDown(w, wait)
		writeAuthError(w, r, e.Code, e.Message, e.Status)
		return
	}
	if code != signature.ErrNone {
		e := signature.GetAPIError(code)
		a.log.Debug("s3 request refused", "code", e.Code, "reason", e.Description, "key", keyID, "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		if e.Code == "InvalidAccessKeyId" || e.Code == "SignatureDoesNotMatch" {
			a.limit.Failed(login(r, user, keyID)) // user is "" for an unknown key
		}
		writeAuthError(w, r, e.Code, e.Description, e.HTTPStatusCode)
		return
	}
	// The verifier said yes, so it called lookup, and the secret it checked
	// the signature against is the one that came with user.
	if !found || user == "" {
		writeAuthError(w, r, "AccessDenied", "Access Denied", http.StatusForbidden)
		return
	}
	a.limit.Succeeded(login(r, user, keyID))
	var sg *chunkSigner
	if r.Header.Get("Authorization") != "" {
		sg = newChunkSigner(r, secret)
	}
	a.serveVerified(w, r.WithContext(auth.WithUser(ctx, a.actAs(r, user))), sg)
}

// actAs is the user an authenticated user's request acts as, decided on
// its Target: the user, or the owner of what it reads (PublicAccess).
func (a *authenticator) actAs(r *http.Request, user string) string {
	if a.shared != nil {
		if owner, ok := a.shared(r, a.target(r), user); ok && owner != "" {
			return owner
		}
	}
	return user
}

// serveVerified prepares the body of an authenticated (or allowed
// anonymous) request and hands it to next. sg is nil for presigned and
// anonymous requests, which sign no payload.
func (a *authenticator) serveVerified(w http.ResponseWriter, r *http.Request, sg *chunkSigner) {
	a.serveBody(w, r, sg, &bodyState{})
}

// serveBody is serveVerified with the bodyState the request's body may
// fail through.
func (a *authenticator) serveBody(w http.ResponseWriter, r *http.Request, sg *chunkSigner, st *bodyState) {
	r = r.WithContext(context.WithValue(r.Context(), bodyStateKey{}, st))
	if e := prepareSignedBody(r, sg, st); e != nil {
		writeAuthError(w, r, e.Code, e.Message, e.Status)
		return
	}
	if r.Body == nil || r.Body == http.NoBody {
		a.next.ServeHTTP(w, r)
		return
	}
	gw := &guardWriter{ResponseWriter: w, r: r, st: st}
	a.next.ServeHTTP(gw, r)
}

const (
	emptySHA256         = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	unsignedPayload     = "UNSIGNED-PAYLOAD"
	streamingSigned     = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrl  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTr = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	amzDateFormat       = "20060102T150405Z"
)

var errInvalidContentSHA = &BodyError{"InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER, or a valid sha256 value.", http.StatusBadRequest}

// prepareSignedBody replaces r.Body by a verifying reader as the request's
// X-Amz-Content-Sha256 asks, or refuses the request.
func prepareSignedBody(r *http.Request, sg *chunkSigner, st *bodyState) *BodyError {
	h, present := r.Header.Get("X-Amz-Content-Sha256"), len(r.Header.Values("X-Amz-Content-Sha256")) > 0
	switch {
	case h == unsignedPayload:
		return nil
	case h == streamingSigned || h == streamingSignedTrl || h == streamingUnsignedTr:
		return prepareChunked(r, h, sg, st)
	case strings.HasPrefix(h, "STREAMING-"):
		return &BodyError{"NotImplemented", "The x-amz-content-sha256 value " + h + " is not supported.", http.StatusNotImplemented}
	case !present:
		if sg == nil {
			return nil // presigned or anonymous: the payload is not signed
		}
		// The verifier took a missing header to mean the empty payload.
		h = emptySHA256
	}
	want, err := hex.DecodeString(h)
	if err != nil || len(want) != sha256.Size {
		return errInvalidContentSHA
	}
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		if !strings.EqualFold(h, emptySHA256) {
			return ErrContentSHA256Mismatch
		}
		return nil
	}
	r.Body = &sha256Body{rc: r.Body, want: want, h: sha256.New(), length: r.ContentLength, st: st}
	return nil
}

// bodyState records the first verification failure of a request body, for
// guardWriter, and the checksum trailer once verified.
type bodyState struct {
	mu  sync.Mutex
	err *BodyError
	// sumName and sumValue are the verified checksum trailer
	// (x-amz-checksum-<algorithm>) of an aws-chunked body.
	sumName, sumValue string
}

type bodyStateKey struct{}

// trailerChecksum returns the checksum trailer of the request's aws-chunked
// body as a header (X-Amz-Checksum-Crc32 and so on) and its value, once the
// body was read to its end and the trailer verified; "" before, or if
// there is none.
func trailerChecksum(ctx context.Context) (header, value string) {
	st, _ := ctx.Value(bodyStateKey{}).(*bodyState)
	if st == nil {
		return "", ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sumValue == "" || st.err != nil {
		return "", ""
	}
	return textproto.CanonicalMIMEHeaderKey(st.sumName), st.sumValue
}

// trailerDeclared reports whether the request's aws-chunked body carries a
// checksum trailer.
func trailerDeclared(ctx context.Context) bool {
	st, _ := ctx.Value(bodyStateKey{}).(*bodyState)
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sumName != ""
}

func (s *bodyState) fail(e *BodyError) error {
	s.mu.Lock()
	if s.err == nil {
		s.err = e
	}
	s.mu.Unlock()
	return e
}

func (s *bodyState) failed() *BodyError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// sha256Body passes the body through and fails once all of it (EOF, or
// Content-Length bytes, since a reader above may stop there without asking
// for EOF) does not hash to want.
type sha256Body struct {
	rc      io.ReadCloser
	want    []byte
	h       hash.Hash
	n       int64
	length  int64 // -1: unknown
	checked bool
	err     error
	st      *bodyState
}

func (b *sha256Body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	b.h.Write(p[:n])
	b.n += int64(n)
	if !b.checked && (err == io.EOF || (b.length >= 0 && b.n >= b.length)) {
		b.checked = true
		if !bytes.Equal(b.h.Sum(nil), b.want) {
			b.err = b.st.fail(ErrContentSHA256Mismatch)
			return n, b.err
		}
	}
	return n, err
}

func (b *sha256Body) Close() error { return b.rc.Close() }

// ---- aws-chunked ----

// chunkSigner holds what chunk signatures are computed from: the signing
// key, the request time and scope, and the previous signature (first the
// seed, the Authorization header's).
type chunkSigner struct {
	key   []byte
	ts    string
	scope string
	prev  string
}

// newChunkSigner reads the Authorization header of a request the verifier
// accepted; nil if it cannot be parsed (it then could not have passed).
func newChunkSigner(r *http.Request, secret string) *chunkSigner {
	v := strings.TrimPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256")
	var cred, sig string
	for _, f := range strings.Split(strings.ReplaceAll(v, " ", ""), ",") {
		k, val, _ := strings.Cut(f, "=")
		switch k {
		case "Credential":
			cred = val
		case "Signature":
			sig = val
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 5 || sig == "" {
		return nil
	}
	scope := parts[len(parts)-4:]
	var t time.Time
	var err error
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		t, err = time.Parse(amzDateFormat, d)
	} else {
		d = r.Header.Get("Date")
		if t, err = time.Parse(amzDateFormat, d); err != nil {
			t, err = http.ParseTime(d)
		}
	}
	if err != nil {
		return nil
	}
	k := hmacSHA256([]byte("AWS4"+secret), []byte(scope[0]))
	k = hmacSHA256(k, []byte(scope[1]))
	k = hmacSHA256(k, []byte(scope[2]))
	k = hmacSHA256(k, []byte(scope[3]))
	return &chunkSigner{key: k, ts: t.UTC().Format(amzDateFormat), scope: strings.Join(scope, "/"), prev: strings.ToLower(sig)}
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// next computes the signature of the next element of the chain (a chunk
// with algo AWS4-HMAC-SHA256-PAYLOAD, or the trailer with
// AWS4-HMAC-SHA256-TRAILER), compares it with got and advances the chain.
func (s *chunkSigner) next(algo string, got string, lines ...string) bool {
	sts := algo + "\n" + s.ts + "\n" + s.scope + "\n" + s.prev + "\n" + strings.Join(lines, "\n")
	want := hex.EncodeToString(hmacSHA256(s.key, []byte(sts)))
	s.prev = want
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(got))) == 1
}

// crc64NVME is the CRC-64/NVME table S3's crc64nvme checksum uses
// (polynomial 0xad93d23594c93659, bit-reversed as hash/crc64 wants it).
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

var checksumHashes = map[string]func() hash.Hash{
	"x-amz-checksum-crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"x-amz-checksum-crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"x-amz-checksum-crc64nvme": func() hash.Hash { return crc64.New(crc64NVME) },
	"x-amz-checksum-sha1":      sha1.New,
	"x-amz-checksum-sha256":    sha256.New,
}

// prepareChunked sets up the decoding of an aws-chunked body and rewrites
// the headers to describe the decoded body.
func prepareChunked(r *http.Request, mode string, sg *chunkSigner, st *bodyState) *BodyError {
	signed := mode != streamingUnsignedTr
	if signed && sg == nil {
		return &BodyError{"InvalidRequest", "Signed aws-chunked uploads need Authorization header credentials.", http.StatusBadRequest}
	}
	dl := r.Header.Get("X-Amz-Decoded-Content-Length")
	decoded, err := strconv.ParseInt(dl, 10, 64)
	if dl == "" {
		return &BodyError{"MissingContentLength", "You must provide the X-Amz-Decoded-Content-Length HTTP header.", http.StatusLengthRequired}
	}
	if err != nil || decoded < 0 {
		return &BodyError{"InvalidArgument", "X-Amz-Decoded-Content-Length must be a non-negative integer.", http.StatusBadRequest}
	}
	c := &chunkedBody{src: r.Body, signed: signed, sg: sg, decoded: decoded, st: st,
		trailer: mode != streamingSigned, chunkHash: sha256.New(), declared: map[string]bool{}}
	if r.Body == nil {
		c.src = http.NoBody
	}
	c.br = bufio.NewReaderSize(c.src, 16<<10)
	for _, v := range r.Header.Values("X-Amz-Trailer") {
		for _, name := range strings.Split(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			newHash, ok := checksumHashes[name]
			if !ok || c.sum != nil {
				return &BodyError{"InvalidRequest", "The value specified in the x-amz-trailer header is not supported.", http.StatusBadRequest}
			}
			c.trailer = true
			c.declared[name] = true
			c.sumName, c.sum = name, newHash()
			st.mu.Lock()
			st.sumName = name
			st.mu.Unlock()
		}
	}

	r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.FormatInt(decoded, 10))
	r.Header.Set("Content-Length", strconv.FormatInt(decoded, 10))
	r.Header.Del("X-Amz-Trailer")
	r.ContentLength = decoded
	r.TransferEncoding = nil
	if ce := removeHeaderToken(r.Header.Values("Content-Encoding"), "aws-chunked"); ce == "" {
		r.Header.Del("Content-Encoding")
	} else {
		r.Header.Set("Content-Encoding", ce)
	}

	if decoded == 0 {
		// A reader above may never read an empty body: check its framing,
		// signatures and trailer now.
		var b [1]byte
		if _, err := c.Read(b[:]); err != io.EOF {
			if e := asBodyError(err); e != nil {
				return e
			}
			return ErrIncompleteBody
		}
		c.src.Close()
		r.Body = http.NoBody
		return nil
	}
	r.Body = c
	return nil
}

func asBodyError(err error) *BodyError {
	var e *BodyError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// removeHeaderToken returns the comma-separated values without token.
func removeHeaderToken(values []string, token string) string {
	var keep []string
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, token) {
				keep = append(keep, t)
			}
		}
	}
	return strings.Join(keep, ", ")
}

// maxChunkLine bounds a chunk header or trailer line.
const maxChunkLine = 4 << 10

// chunkedBody decodes aws-chunked data:
//
//	<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//	then "\r\n", or trailer lines "name:value\r\n" (for the signed trailer
//	variant ending with "x-amz-trailer-signature:<sig>\r\n") and "\r\n".
//
// Each chunk's signature is checked when its last byte is read, and the
// final chunk, trailer and decoded length are checked in the same Read that
// returns the last data byte, since a reader above may stop at the decoded
// length without asking for EOF.
type chunkedBody struct {
	src       io.ReadCloser
	br        *bufio.Reader
	signed    bool
	sg        *chunkSigner
	trailer   bool            // trailers may follow the final chunk
	declared  map[string]bool // trailers announced in X-Amz-Trailer
	sumName   string
	sum       hash.Hash // of the decoded data, for the announced checksum trailer
	chunkHash hash.Hash
	chunkSig  string
	decoded   int64 // declared decoded length
	total     int64 // decoded bytes so far
	left      int64 // bytes left in the current chunk
	started   bool
	done      bool
	err       error
	st        *bodyState
}

func (c *chunkedBody) Close() error { return c.src.Close() }

func (c *chunkedBody) fail(err error) error {
	if e := asBodyError(err); e != nil {
		c.st.fail(e)
	}
	c.err = err
	return err
}

func (c *chunkedBody) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	if !c.started {
		c.started = true
		if err := c.nextChunk(); err != nil {
			return 0, c.fail(err)
		}
		if c.done {
			return 0, io.EOF
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.total += int64(n)
	if c.signed {
		c.chunkHash.Write(p[:n])
	}
	if c.sum != nil {
		c.sum.Write(p[:n])
	}
	if c.left > 0 {
		switch {
		case err == io.EOF:
			return n, c.fail(ErrIncompleteBody)
		case err != nil:
			return n, c.fail(err)
		}
		return n, nil
	}
	if err != nil && err != io.EOF {
		return n, c.fail(err)
	}
	// End of a chunk: check it, then read on to the next chunk's header
	// (and, for the final chunk, to the end).
	if c.signed && !c.sg.next("AWS4-HMAC-SHA256-PAYLOAD", c.chunkSig, emptySHA256, hex.EncodeToString(c.chunkHash.Sum(nil))) {
		return n, c.fail(ErrChunkSignature)
	}
	c.chunkHash.Reset()
	if err := c.expectCRLF(); err != nil {
		return n, c.fail(err)
	}
	if err := c.nextChunk(); err != nil {
		return n, c.fail(err)
	}
	return n, nil
}

func (c *chunkedBody) readLine() (string, error) {
	return c.readLineEnding(false)
}

// readLineEnding reads a line ending with CRLF, or also with a bare LF
// when lf is set: minio-go ends each trailer line with "\n" alone, as the
// trailer signature's canonical form does.
func (c *chunkedBody) readLineEnding(lf bool) (string, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull) || len(line) > maxChunkLine:
		return "", ErrIncompleteBody
	case err == io.EOF:
		if len(line) == 0 {
			return "", io.EOF
		}
		return "", ErrIncompleteBody
	case err != nil:
		return "", err
	}
	// Lines end with CRLF, as every SDK writes them: a bare LF (or a CR
	// changed into a blank the signature's TrimSpace would drop) is not
	// the body that was signed.
	if !bytes.HasSuffix(line, []byte("\r\n")) {
		if !lf {
			return "", ErrIncompleteBody
		}
		return string(line[:len(line)-1]), nil
	}
	return string(line[:len(line)-2]), nil
}

func (c *chunkedBody) expectCRLF() error {
	var b [2]byte
	if _, err := io.ReadFull(c.br, b[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return ErrIncompleteBody
		}
		return err
	}
	if b != [2]byte{'\r', '\n'} {
		return ErrIncompleteBody
	}
	return nil
}

// nextChunk reads a chunk header; for the final chunk it also reads and
// checks the rest of the body.
func (c *chunkedBody) nextChunk() error {
	line, err := c.readLine()
	if err == io.EOF {
		return ErrIncompleteBody
	}
	if err != nil {
		return err
	}
	sizeHex, ext, _ := strings.Cut(line, ";")
	size, perr := strconv.ParseUint(strings.TrimSpace(sizeHex), 16, 62)
	if perr != nil {
		return ErrIncompleteBody
	}
	sig := ""
	for _, e := range strings.Split(ext, ";") {
		if k, v, ok := strings.Cut(e, "="); ok && strings.TrimSpace(k) == "chunk-signature" {
			sig = strings.TrimSpace(v)
		}
	}
	if c.signed && len(sig) != 64 {
		return ErrChunkSignature
	}
	if int64(size) > c.decoded-c.total {
		return ErrIncompleteBody
	}
	if size > 0 {
		c.left, c.chunkSig = int64(size), sig
		return nil
	}
	// The final, empty chunk.
	if c.signed && !c.sg.next("AWS4-HMAC-SHA256-PAYLOAD", sig, emptySHA256, emptySHA256) {
		return ErrChunkSignature
	}
	if c.total != c.decoded {
		return ErrIncompleteBody
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	c.done = true
	return nil
}

// readTrailers reads what follows the final chunk: an empty line, or
// trailer lines and an empty line. A body that simply ends is accepted when
// no trailer is expected. Trailer lines may end with a bare LF, and a
// signed trailer's signature may follow an empty line after the checksum
// lines: minio-go writes "name:value\n", "\r\n", then
// "x-amz-trailer-signature:…\r\n\r\n" (the AWS SDKs put the signature line
// right after the checksum lines, each ending with CRLF).
func (c *chunkedBody) readTrailers() error {
	got := map[string]string{}
	var canonical []string // "name:value" lines the trailer signature covers
	trailerSig := ""
	for {
		line, err := c.readLineEnding(c.trailer)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if line == "" {
			if c.signed && c.trailer && trailerSig == "" && len(got) > 0 {
				continue // minio-go: the signature line is still to come
			}
			break
		}
		if !c.trailer {
			return ErrIncompleteBody
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return ErrMalformedTrailer
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" {
			trailerSig = value
			continue
		}
		if !c.declared[name] {
			return ErrMalformedTrailer
		}
		if _, dup := got[name]; dup {
			return ErrMalformedTrailer
		}
		got[name] = value
		canonical = append(canonical, name+":"+value)
	}
	if c.signed && c.trailer {
		// The trailer chunk is signed even when it is empty.
		h := sha256.Sum256([]byte(trailerCanonical(canonical)))
		if trailerSig == "" || !c.sg.next("AWS4-HMAC-SHA256-TRAILER", trailerSig, hex.EncodeToString(h[:])) {
			return ErrChunkSignature
		}
	}
	if c.sum != nil {
		v, ok := got[c.sumName]
		if !ok {
			return ErrMalformedTrailer
		}
		if v != base64.StdEncoding.EncodeToString(c.sum.Sum(nil)) {
			return ErrTrailerChecksum
		}
		c.st.mu.Lock()
		c.st.sumValue = v
		c.st.mu.Unlock()
	}
	return nil
}

// trailerCanonical is the canonical form of trailing headers: each "name:value"
// followed by a newline.
func trailerCanonical(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// ---- responses ----

// guardWriter replaces the response with the body's S3 error when the body
// failed verification, whatever the handler made of the read error.
type guardWriter struct {
	http.ResponseWriter
	r        *http.Request
	st       *bodyState
	wrote    bool
	replaced bool
}

func (g *guardWriter) WriteHeader(code int) {
	if code < 200 { // informational: pass on
		g.ResponseWriter.WriteHeader(code)
		return
	}
	if g.wrote {
		return
	}
	g.wrote = true
	if e := g.st.failed(); e != nil {
		g.replaced = true
		hdr := g.Header()
		id, id2 := hdr.Get("x-amz-request-id"), hdr.Get("x-amz-id-2")
		clear(hdr)
		if id != "" {
			hdr.Set("x-amz-request-id", id)
		}
		if id2 != "" {
			hdr.Set("x-amz-id-2", id2)
		}
		writeAuthError(g.ResponseWriter, g.r, e.Code, e.Message, e.Status)
		return
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *guardWriter) Write(b []byte) (int, error) {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	if g.replaced {
		return len(b), nil
	}
	return g.ResponseWriter.Write(b)
}

// Flush lets streaming responses through (http.Flusher).
func (g *guardWriter) Flush() {
	if g.replaced {
		return
	}
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(g.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (g *guardWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

type authErrorResponse struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string
	RequestID string `xml:"RequestId"`
}

// writeAuthError answers r with an S3 XML error (no body for HEAD).
func writeAuthError(w http.ResponseWriter, r *http.Request, code, message string, status int) {
	hdr := w.Header()
	id := hdr.Get("x-amz-request-id")
	if id == "" {
		var b [8]byte
		rand.Read(b[:])
		id = strings.ToUpper(hex.EncodeToString(b[:]))
		hdr.Set("x-amz-request-id", id)
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	body, err := xml.Marshal(authErrorResponse{Code: code, Message: message, Resource: r.URL.Path, RequestID: id})
	if err != nil {
		body = []byte(fmt.Sprintf("<Error><Code>%s</Code></Error>", code))
	}
	body = append([]byte(xml.Header), body...)
	hdr.Set("Content-Type", "application/xml")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
