package s3api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
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
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rclone/gofakes3/signature"

	"shoebox/gateway/auth"
)

// These tests sign requests with the AWS SDK's signer (and, for aws-chunked
// bodies, with a chunk encoder written here from the AWS documentation) and
// send them through Authenticate to a handler that reads the body the way
// gofakes3 does: at most Content-Length bytes, never asking for EOF.

const (
	sigKeyID  = "SBTESTKEYID000000001"
	sigSecret = "testsecretTESTSECRET0123456789abcdefghij"
	sigRegion = "us-east-1"
)

// sigSeen is what the next handler saw of one request.
type sigSeen struct {
	user    string
	body    []byte
	err     error
	header  http.Header
	clen    int64
	noBody  bool
	reached bool
}

type sigEnv struct {
	url     string
	srv     *httptest.Server
	seen    chan sigSeen
	lookups chan string
}

// sigLookup knows one key, owned by alice; "SBBROKEN..." fails as a
// broken catalog would.
func sigLookup(lookups chan string) SecretLookup {
	return func(ctx context.Context, id string) (string, string, error) {
		select {
		case lookups <- id:
		default:
		}
		switch id {
		case sigKeyID:
			return "alice", sigSecret, nil
		case "SBBROKEN000000000000":
			return "", "", errors.New("disk on fire")
		}
		return "", "", fmt.Errorf("access key %s: %w", id, ErrUnknownAccessKey)
	}
}

func newSigEnv(t *testing.T, tls bool, opts ...AuthOption) *sigEnv {
	t.Helper()
	e := &sigEnv{seen: make(chan sigSeen, 1), lookups: make(chan string, 16)}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sigSeen{user: auth.User(r.Context()), header: r.Header.Clone(), clen: r.ContentLength, noBody: r.Body == http.NoBody, reached: true}
		if r.ContentLength >= 0 {
			s.body, s.err = io.ReadAll(io.LimitReader(r.Body, r.ContentLength))
		} else {
			s.body, s.err = io.ReadAll(r.Body)
		}
		e.seen <- s
		if s.err != nil {
			// As a careless backend might: a 200 regardless.
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "stored anyway")
			return
		}
		w.Header().Set("ETag", `"x"`)
		io.WriteString(w, "ok")
	})
	opts = append(opts, AuthLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	h := Authenticate(sigLookup(e.lookups), next, opts...)
	if tls {
		e.srv = httptest.NewTLSServer(h)
	} else {
		e.srv = httptest.NewServer(h)
	}
	t.Cleanup(e.srv.Close)
	e.url = e.srv.URL
	return e
}

// next returns what the next handler saw, or reached=false if it was not
// called. Call it once the response is in: the handler puts what it saw in
// the channel before it answers, so no wait is needed (nor a timeout that
// a slow machine could outrun).
func (e *sigEnv) next() sigSeen {
	select {
	case s := <-e.seen:
		return s
	default:
		return sigSeen{}
	}
}

type s3Err struct {
	Code, Message, Resource string
	RequestID               string `xml:"RequestId"`
}

// sigDo sends req and returns the status, the S3 error (if the body is one)
// and the body.
func (e *sigEnv) do(t *testing.T, req *http.Request) (int, s3Err, string) {
	t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var x s3Err
	if resp.StatusCode >= 300 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
			t.Errorf("error response Content-Type %q; want application/xml", ct)
		}
		if err := xml.Unmarshal(b, &x); err != nil {
			t.Errorf("error body is not S3 XML: %v: %q", err, b)
		}
		if x.RequestID == "" || resp.Header.Get("x-amz-request-id") != x.RequestID {
			t.Errorf("error RequestId %q, header %q; want equal and set", x.RequestID, resp.Header.Get("x-amz-request-id"))
		}
	}
	return resp.StatusCode, x, string(b)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func s3Signer() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// signReq signs req with the header form; payloadHash goes in
// X-Amz-Content-Sha256 unless it is "" (then the header is left out and
// the empty payload's hash is signed).
func signReq(t *testing.T, req *http.Request, keyID, secret, payloadHash string, at time.Time) {
	t.Helper()
	signed := payloadHash
	if payloadHash == "" {
		signed = emptySHA256
	} else {
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	err := s3Signer().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, req, signed, "s3", sigRegion, at)
	if err != nil {
		t.Fatal(err)
	}
}

func newReq(t *testing.T, method, u string, body []byte) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestAuthHeaderSigned(t *testing.T) {
	e := newSigEnv(t, false)
	now := time.Now()

	// A GET, with a key that needs path encoding (as SDKs encode it) and a query.
	req := newReq(t, "GET", e.url+"/photos/my%20trip/%C3%A9t%C3%A9%2B1%2A~%28x%29.jpg?list-type=2&prefix=a%20b%2Bc&delimiter=%2F", nil)
	signReq(t, req, sigKeyID, sigSecret, emptySHA256, now)
	if st, x, body := e.do(t, req); st != 200 {
		t.Fatalf("good GET: status %d %s %s; want 200", st, x.Code, body)
	}
	if s := e.next(); !s.reached || s.user != "alice" {
		t.Errorf("good GET: next saw user %q (reached %v); want alice", s.user, s.reached)
	}

	// A PUT whose payload hash is signed.
	data := []byte("the bytes of a photo")
	req = newReq(t, "PUT", e.url+"/photos/a.jpg", data)
	req.Header.Set("X-Amz-Meta-Camera", "x100")
	signReq(t, req, sigKeyID, sigSecret, sha256Hex(data), now)
	if st, x, body := e.do(t, req); st != 200 {
		t.Fatalf("good PUT: status %d %s %s; want 200", st, x.Code, body)
	}
	s := e.next()
	if s.user != "alice" || !bytes.Equal(s.body, data) || s.err != nil {
		t.Errorf("good PUT: next saw user %q body %q err %v; want alice, %q, nil", s.user, s.body, s.err, data)
	}

	// UNSIGNED-PAYLOAD is passed as it is.
	req = newReq(t, "PUT", e.url+"/photos/b.jpg", data)
	signReq(t, req, sigKeyID, sigSecret, "UNSIGNED-PAYLOAD", now)
	if st, x, _ := e.do(t, req); st != 200 {
		t.Fatalf("UNSIGNED-PAYLOAD PUT: status %d %s; want 200", st, x.Code)
	}
	if s := e.next(); !bytes.Equal(s.body, data) {
		t.Errorf("UNSIGNED-PAYLOAD PUT: next read %q; want %q", s.body, data)
	}
}

func TestAuthRefusals(t *testing.T) {
	e := newSigEnv(t, false)
	now := time.Now()
	for _, tc := range []struct {
		name         string
		keyID, sec   string
		at           time.Time
		alter        func(*http.Request)
		status       int
		code, msgSub string
	}{
		{name: "wrong secret", keyID: sigKeyID, sec: "not-the-secret-not-the-secret-not-the-sec", at: now, status: 403, code: "SignatureDoesNotMatch"},
		{name: "unknown key", keyID: "SBNOSUCHKEY000000000", sec: sigSecret, at: now, status: 403, code: "InvalidAccessKeyId"},
		{name: "lookup failure", keyID: "SBBROKEN000000000000", sec: sigSecret, at: now, status: 500, code: "InternalError"},
		{name: "altered path", keyID: sigKeyID, sec: sigSecret, at: now, status: 403, code: "SignatureDoesNotMatch",
			alter: func(r *http.Request) { r.URL.Path = "/photos/other.jpg" }},
		{name: "unsigned x-amz header added", keyID: sigKeyID, sec: sigSecret, at: now, status: 403, code: "AccessDenied",
			alter: func(r *http.Request) { r.Header.Set("X-Amz-Copy-Source", "/other/secret.jpg") }},
		{name: "too old", keyID: sigKeyID, sec: sigSecret, at: now.Add(-20 * time.Minute), status: 403, code: "RequestTimeTooSkewed"},
		{name: "from the future", keyID: sigKeyID, sec: sigSecret, at: now.Add(20 * time.Minute), status: 403, code: "RequestTimeTooSkewed"},
	} {
		req := newReq(t, "GET", e.url+"/photos/a.jpg", nil)
		signReq(t, req, tc.keyID, tc.sec, emptySHA256, tc.at)
		if tc.alter != nil {
			tc.alter(req)
		}
		st, x, body := e.do(t, req)
		if st != tc.status || x.Code != tc.code {
			t.Errorf("%s: got %d %s (%s); want %d %s", tc.name, st, x.Code, body, tc.status, tc.code)
		}
		if s := e.next(); s.reached {
			t.Errorf("%s: the next handler was called (user %q); want not", tc.name, s.user)
		}
	}

	// No credentials at all.
	st, x, _ := e.do(t, newReq(t, "GET", e.url+"/photos/a.jpg", nil))
	if st != 403 || x.Code != "AccessDenied" {
		t.Errorf("anonymous GET: got %d %s; want 403 AccessDenied", st, x.Code)
	}
	if x.Resource != "/photos/a.jpg" {
		t.Errorf("anonymous GET: Resource %q; want /photos/a.jpg", x.Resource)
	}
	if s := e.next(); s.reached {
		t.Errorf("anonymous GET reached the next handler")
	}
	// HEAD gets the status without a body.
	req := newReq(t, "HEAD", e.url+"/photos/a.jpg", nil)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("anonymous HEAD: status %d; want 403", resp.StatusCode)
	}
	// A Basic header is not S3 credentials.
	req = newReq(t, "GET", e.url+"/photos/a.jpg", nil)
	req.SetBasicAuth("alice", "pw")
	if st, x, _ := e.do(t, req); st < 400 || st >= 500 {
		t.Errorf("Basic auth: got %d %s; want a 4xx", st, x.Code)
	}
}

func TestAuthAnonymousHook(t *testing.T) {
	e := newSigEnv(t, false, AllowAnonymous(func(r *http.Request, tg Target) (string, bool) {
		return "owner", r.Method == "GET" && tg.Bucket == "public" && tg.Key != ""
	}))
	st, x, _ := e.do(t, newReq(t, "GET", e.url+"/public/a.jpg", nil))
	if st != 200 {
		t.Fatalf("allowed anonymous GET: got %d %s; want 200", st, x.Code)
	}
	if s := e.next(); !s.reached || s.user != "owner" {
		t.Errorf("allowed anonymous GET: next reached %v with user %q; want reached as the bucket's owner", s.reached, s.user)
	}
	if st, x, _ := e.do(t, newReq(t, "PUT", e.url+"/public/a.jpg", []byte("x"))); st != 403 || x.Code != "AccessDenied" {
		t.Errorf("anonymous PUT the hook refuses: got %d %s; want 403 AccessDenied", st, x.Code)
	}
	// Credentials are checked even where anonymous access is allowed.
	req := newReq(t, "GET", e.url+"/public/a.jpg", nil)
	signReq(t, req, sigKeyID, "wrong-secret-wrong-secret-wrong-secret-w", emptySHA256, time.Now())
	if st, x, _ := e.do(t, req); st != 403 || x.Code != "SignatureDoesNotMatch" {
		t.Errorf("badly signed GET of a public path: got %d %s; want 403 SignatureDoesNotMatch", st, x.Code)
	}
	e.next()
	// CORS preflights carry no credentials and pass.
	req = newReq(t, "OPTIONS", e.url+"/private/a.jpg", nil)
	req.Header.Set("Origin", "https://example.com")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	if st, _, _ := e.do(t, req); st != 200 {
		t.Errorf("CORS preflight: got %d; want 200", st)
	}
}

func presign(t *testing.T, method, u string, expires time.Duration, at time.Time) string {
	t.Helper()
	req := newReq(t, method, u, nil)
	q := req.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	req.URL.RawQuery = q.Encode()
	signed, _, err := s3Signer().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: sigKeyID, SecretAccessKey: sigSecret}, req, "UNSIGNED-PAYLOAD", "s3", sigRegion, at)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestAuthPresigned(t *testing.T) {
	e := newSigEnv(t, false)
	u := presign(t, "GET", e.url+"/photos/a b.jpg", time.Hour, time.Now())
	if !strings.Contains(u, "X-Amz-Signature=") {
		t.Fatalf("presigned URL %s has no signature", u)
	}
	if st, x, body := e.do(t, newReq(t, "GET", u, nil)); st != 200 {
		t.Fatalf("presigned GET: got %d %s %s; want 200", st, x.Code, body)
	}
	if s := e.next(); s.user != "alice" {
		t.Errorf("presigned GET: next saw user %q; want alice", s.user)
	}

	// Signed two hours ago, valid for one.
	u = presign(t, "GET", e.url+"/photos/a.jpg", time.Hour, time.Now().Add(-2*time.Hour))
	st, x, _ := e.do(t, newReq(t, "GET", u, nil))
	if st != 403 || x.Code != "AccessDenied" || x.Message != "Request has expired" {
		t.Errorf("expired presigned GET: got %d %s %q; want 403 AccessDenied \"Request has expired\"", st, x.Code, x.Message)
	}
	if s := e.next(); s.reached {
		t.Errorf("expired presigned GET reached the next handler")
	}

	// Another method than the one signed.
	u = presign(t, "GET", e.url+"/photos/a.jpg", time.Hour, time.Now())
	if st, x, _ := e.do(t, newReq(t, "DELETE", u, nil)); st != 403 || x.Code != "SignatureDoesNotMatch" {
		t.Errorf("presigned GET URL used for DELETE: got %d %s; want 403 SignatureDoesNotMatch", st, x.Code)
	}
	// A presigned PUT carries an unsigned body: accepted as sent.
	u = presign(t, "PUT", e.url+"/photos/up.jpg", time.Hour, time.Now())
	if st, x, _ := e.do(t, newReq(t, "PUT", u, []byte("uploaded"))); st != 200 {
		t.Errorf("presigned PUT: got %d %s; want 200", st, x.Code)
	}
	if s := e.next(); string(s.body) != "uploaded" || s.user != "alice" {
		t.Errorf("presigned PUT: next saw %q as %q; want \"uploaded\" as alice", s.body, s.user)
	}
}

func TestAuthSignedPayloadMismatch(t *testing.T) {
	e := newSigEnv(t, false)
	now := time.Now()

	// Same length, other bytes: the backend sees ErrContentSHA256Mismatch
	// although it reads only Content-Length bytes, and the client gets the
	// S3 error although the backend answered 200.
	req := newReq(t, "PUT", e.url+"/photos/a.jpg", []byte("jello"))
	signReq(t, req, sigKeyID, sigSecret, sha256Hex([]byte("hello")), now)
	st, x, body := e.do(t, req)
	if st != 400 || x.Code != "XAmzContentSHA256Mismatch" {
		t.Errorf("altered body: got %d %s %s; want 400 XAmzContentSHA256Mismatch", st, x.Code, body)
	}
	if s := e.next(); !errors.Is(s.err, ErrContentSHA256Mismatch) {
		t.Errorf("altered body: the backend's read error is %v; want ErrContentSHA256Mismatch", s.err)
	}

	// A signed hash of a non-empty body, sent with an empty one: refused
	// before the backend (which would never read an empty body).
	req = newReq(t, "PUT", e.url+"/photos/a.jpg", nil)
	signReq(t, req, sigKeyID, sigSecret, sha256Hex([]byte("hello")), now)
	if st, x, _ := e.do(t, req); st != 400 || x.Code != "XAmzContentSHA256Mismatch" {
		t.Errorf("emptied body: got %d %s; want 400 XAmzContentSHA256Mismatch", st, x.Code)
	}
	if s := e.next(); s.reached {
		t.Errorf("emptied body reached the next handler")
	}

	// Signed without X-Amz-Content-Sha256 (the empty payload), with a body
	// added: the body must be empty.
	req = newReq(t, "PUT", e.url+"/photos/a.jpg", []byte("smuggled"))
	signReq(t, req, sigKeyID, sigSecret, "", now)
	if st, x, _ := e.do(t, req); st != 400 || x.Code != "XAmzContentSHA256Mismatch" {
		t.Errorf("body added to a request signed without a payload hash: got %d %s; want 400 XAmzContentSHA256Mismatch", st, x.Code)
	}
	e.next()

	// Chunked transfer encoding (no Content-Length): checked at EOF.
	data := []byte("streamed without a length")
	req = newReq(t, "PUT", e.url+"/photos/a.jpg", nil)
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.ContentLength = -1
	signReq(t, req, sigKeyID, sigSecret, sha256Hex(data), now)
	if st, x, _ := e.do(t, req); st != 200 {
		t.Errorf("chunked transfer, right hash: got %d %s; want 200", st, x.Code)
	}
	if s := e.next(); !bytes.Equal(s.body, data) {
		t.Errorf("chunked transfer: next read %q; want %q", s.body, data)
	}
	req = newReq(t, "PUT", e.url+"/photos/a.jpg", nil)
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.ContentLength = -1
	signReq(t, req, sigKeyID, sigSecret, sha256Hex([]byte("something else")), now)
	if st, x, _ := e.do(t, req); st != 400 || x.Code != "XAmzContentSHA256Mismatch" {
		t.Errorf("chunked transfer, wrong hash: got %d %s; want 400 XAmzContentSHA256Mismatch", st, x.Code)
	}
	e.next()

	// Garbage in X-Amz-Content-Sha256.
	req = newReq(t, "PUT", e.url+"/photos/a.jpg", []byte("x"))
	signReq(t, req, sigKeyID, sigSecret, "NOT-A-HASH", now)
	if st, x, _ := e.do(t, req); st != 400 || x.Code != "InvalidArgument" {
		t.Errorf("invalid x-amz-content-sha256: got %d %s; want 400 InvalidArgument", st, x.Code)
	}
}

// ---- aws-chunked ----

// chunkEnc writes aws-chunked bodies, signed as the AWS documentation
// describes (independently of the code under test).
type chunkEnc struct {
	key       []byte
	ts, scope string
	prev      string
}

func testHMAC(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func newChunkEnc(secret string, at time.Time, seed string) *chunkEnc {
	date := at.UTC().Format("20060102")
	k := testHMAC([]byte("AWS4"+secret), date)
	k = testHMAC(k, sigRegion)
	k = testHMAC(k, "s3")
	k = testHMAC(k, "aws4_request")
	return &chunkEnc{key: k, ts: at.UTC().Format("20060102T150405Z"), scope: date + "/" + sigRegion + "/s3/aws4_request", prev: seed}
}

func (c *chunkEnc) chunkSig(data []byte) string {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.ts + "\n" + c.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + sha256Hex(data)
	c.prev = hex.EncodeToString(testHMAC(c.key, sts))
	return c.prev
}

func (c *chunkEnc) trailerSig(trailers string) string {
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.ts + "\n" + c.scope + "\n" + c.prev + "\n" + sha256Hex([]byte(trailers))
	c.prev = hex.EncodeToString(testHMAC(c.key, sts))
	return c.prev
}

// encode returns data as aws-chunked in chunks of the sizes given (the
// last repeated), signed when c is not nil, with the trailer lines
// ("name:value") after the final chunk.
func (c *chunkEnc) encode(data []byte, sizes []int, trailers ...string) []byte {
	var b bytes.Buffer
	writeChunk := func(p []byte) {
		fmt.Fprintf(&b, "%x", len(p))
		if c != nil {
			fmt.Fprintf(&b, ";chunk-signature=%s", c.chunkSig(p))
		}
		b.WriteString("\r\n")
		if len(p) > 0 {
			b.Write(p)
			b.WriteString("\r\n")
		}
	}
	for i := 0; len(data) > 0; i++ {
		n := sizes[min(i, len(sizes)-1)]
		n = min(n, len(data))
		writeChunk(data[:n])
		data = data[n:]
	}
	writeChunk(nil)
	if len(trailers) > 0 {
		var canon strings.Builder
		for _, t := range trailers {
			b.WriteString(t + "\r\n")
			canon.WriteString(t + "\n")
		}
		if c != nil {
			b.WriteString("x-amz-trailer-signature:" + c.trailerSig(canon.String()) + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func checksumOf(name string, data []byte) string {
	var h hash.Hash
	switch name {
	case "crc32":
		h = crc32.NewIEEE()
	case "crc32c":
		h = crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "crc64nvme":
		h = crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5))
	case "sha1":
		h = sha1.New()
	case "sha256":
		h = sha256.New()
	}
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// signedStreamReq builds a PUT with a STREAMING-AWS4-HMAC-SHA256-PAYLOAD
// (or -TRAILER) body made by build from the seed signature.
func signedStreamReq(t *testing.T, u, mode string, decodedLen int, trailer string, at time.Time, build func(enc *chunkEnc) []byte) *http.Request {
	t.Helper()
	req := newReq(t, "PUT", u, nil)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(decodedLen))
	if trailer != "" {
		req.Header.Set("X-Amz-Trailer", trailer)
	}
	// The body length must be known and signed before the body exists:
	// build it once with a dummy seed to learn the length.
	req.ContentLength = int64(len(build(newChunkEnc(sigSecret, at, strings.Repeat("0", 64)))))
	signReq(t, req, sigKeyID, sigSecret, mode, at)
	seed := req.Header.Get("Authorization")
	seed = seed[strings.Index(seed, "Signature=")+len("Signature="):]
	body := build(newChunkEnc(sigSecret, at, seed))
	if int64(len(body)) != req.ContentLength {
		t.Fatalf("encoded body length changed: %d, then %d", req.ContentLength, len(body))
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return req
}

func TestAuthStreamingSigned(t *testing.T) {
	e := newSigEnv(t, false)
	now := time.Now()
	data := randomBytes(20000)
	sizes := []int{8192}
	u := e.url + "/photos/big.jpg"

	req := signedStreamReq(t, u, streamingSigned, len(data), "", now, func(enc *chunkEnc) []byte { return enc.encode(data, sizes) })
	if st, x, body := e.do(t, req); st != 200 {
		t.Fatalf("signed stream: got %d %s %s; want 200", st, x.Code, body)
	}
	s := e.next()
	if s.err != nil || !bytes.Equal(s.body, data) || s.user != "alice" {
		t.Fatalf("signed stream: next read %d bytes, err %v, user %q; want the %d bytes sent as alice", len(s.body), s.err, s.user, len(data))
	}
	for k, want := range map[string]string{
		"X-Amz-Content-Sha256":         "UNSIGNED-PAYLOAD",
		"Content-Length":               strconv.Itoa(len(data)),
		"X-Amz-Decoded-Content-Length": strconv.Itoa(len(data)),
		"Content-Encoding":             "",
	} {
		if got := s.header.Get(k); got != want {
			t.Errorf("signed stream: next saw %s %q; want %q", k, got, want)
		}
	}
	if s.clen != int64(len(data)) {
		t.Errorf("signed stream: next saw ContentLength %d; want %d", s.clen, len(data))
	}

	for _, tc := range []struct {
		name   string
		build  func(enc *chunkEnc) []byte
		status int
		code   string
	}{
		{"a data byte altered", func(enc *chunkEnc) []byte {
			b := enc.encode(data, sizes)
			i := bytes.Index(b, data[100:120])
			b[i] ^= 1
			return b
		}, 403, "SignatureDoesNotMatch"},
		{"last data byte altered", func(enc *chunkEnc) []byte {
			b := enc.encode(data, sizes)
			i := bytes.LastIndex(b, data[len(data)-20:])
			b[i+19] ^= 1
			return b
		}, 403, "SignatureDoesNotMatch"},
		{"final chunk signature wrong", func(enc *chunkEnc) []byte {
			b := enc.encode(data, sizes)
			j := bytes.LastIndex(b, []byte("\r\n0;chunk-signature=")) + len("\r\n0;chunk-signature=")
			if b[j] == '0' {
				b[j] = '1'
			} else {
				b[j] = '0'
			}
			return b
		}, 403, "SignatureDoesNotMatch"},
		{"chunks signed in another order", func(enc *chunkEnc) []byte {
			// Same bytes and sizes, but the chain of signatures is that
			// of another request (another seed).
			other := newChunkEnc(sigSecret, now, strings.Repeat("a", 64))
			return other.encode(data, sizes)
		}, 403, "SignatureDoesNotMatch"},
		{"data cut short", func(enc *chunkEnc) []byte {
			// 100 bytes fewer than X-Amz-Decoded-Content-Length, all signed.
			return enc.encode(data[:len(data)-100], sizes)
		}, 400, "IncompleteBody"},
		{"framing broken", func(enc *chunkEnc) []byte {
			b := enc.encode(data, sizes)
			i := bytes.Index(b, []byte("\r\n2000;"))
			b[i] = 'X'
			return b
		}, 400, "IncompleteBody"},
		{"signature missing", func(enc *chunkEnc) []byte {
			return (*chunkEnc)(nil).encode(data, sizes)
		}, 403, "SignatureDoesNotMatch"},
	} {
		req := signedStreamReq(t, u, streamingSigned, len(data), "", now, tc.build)
		st, x, _ := e.do(t, req)
		if st != tc.status || x.Code != tc.code {
			t.Errorf("%s: got %d %s; want %d %s", tc.name, st, x.Code, tc.status, tc.code)
		}
		s := e.next()
		var be *BodyError
		if !s.reached || !errors.As(s.err, &be) || be.Code != tc.code {
			t.Errorf("%s: the backend's read ended with %v (reached %v); want a %s BodyError", tc.name, s.err, s.reached, tc.code)
		}
	}

	// aws-chunked beside another content coding: only aws-chunked goes.
	req = newReq(t, "PUT", u, nil)
	req.Header.Set("Content-Encoding", "aws-chunked,gzip")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.ContentLength = int64(len(newChunkEnc(sigSecret, now, strings.Repeat("0", 64)).encode(data, sizes)))
	signReq(t, req, sigKeyID, sigSecret, streamingSigned, now)
	seed := req.Header.Get("Authorization")
	seed = seed[strings.Index(seed, "Signature=")+len("Signature="):]
	req.Body = io.NopCloser(bytes.NewReader(newChunkEnc(sigSecret, now, seed).encode(data, sizes)))
	if st, x, _ := e.do(t, req); st != 200 {
		t.Fatalf("aws-chunked,gzip: got %d %s; want 200", st, x.Code)
	}
	if s := e.next(); s.header.Get("Content-Encoding") != "gzip" {
		t.Errorf("aws-chunked,gzip: next saw Content-Encoding %q; want gzip", s.header.Get("Content-Encoding"))
	}

	// Without X-Amz-Decoded-Content-Length.
	req = signedStreamReq(t, u, streamingSigned, len(data), "", now, func(enc *chunkEnc) []byte { return enc.encode(data, sizes) })
	req.Header.Del("X-Amz-Decoded-Content-Length")
	signReq(t, req, sigKeyID, sigSecret, streamingSigned, now)
	if st, x, _ := e.do(t, req); st != 411 || x.Code != "MissingContentLength" {
		t.Errorf("no decoded length: got %d %s; want 411 MissingContentLength", st, x.Code)
	}
	e.next()
}

func TestAuthStreamingSignedEmpty(t *testing.T) {
	e := newSigEnv(t, false)
	now := time.Now()
	u := e.url + "/photos/empty"
	req := signedStreamReq(t, u, streamingSigned, 0, "", now, func(enc *chunkEnc) []byte { return enc.encode(nil, []int{1}) })
	if st, x, _ := e.do(t, req); st != 200 {
		t.Fatalf("empty signed stream: got %d %s; want 200", st, x.Code)
	}
	if s := e.next(); !s.noBody || s.clen != 0 || len(s.body) != 0 {
		t.Errorf("empty signed stream: next saw NoBody %v, ContentLength %d, %d bytes; want NoBody, 0, 0", s.noBody, s.clen, len(s.body))
	}
	// The final chunk of an empty body is checked before the backend runs.
	req = signedStreamReq(t, u, streamingSigned, 0, "", now, func(*chunkEnc) []byte {
		return newChunkEnc(sigSecret, now, strings.Repeat("b", 64)).encode(nil, []int{1})
	})
	if st, x, _ := e.do(t, req); st != 403 || x.Code != "SignatureDoesNotMatch" {
		t.Errorf("empty signed stream, wrong final signature: got %d %s; want 403 SignatureDoesNotMatch", st, x.Code)
	}
	if s := e.next(); s.reached {
		t.Errorf("empty signed stream with a wrong signature reached the next handler")
	}
}

func TestAuthStreamingSignedTrailer(t *testing.T) {
	e := newSigEnv(t, false)
	now := time.Now()
	data := randomBytes(10000)
	sizes := []int{4096}
	u := e.url + "/photos/t.jpg"
	good := "x-amz-checksum-crc32c:" + checksumOf("crc32c", data)

	req := signedStreamReq(t, u, streamingSignedTrl, len(data), "x-amz-checksum-crc32c", now, func(enc *chunkEnc) []byte { return enc.encode(data, sizes, good) })
	if st, x, body := e.do(t, req); st != 200 {
		t.Fatalf("signed stream with trailer: got %d %s %s; want 200", st, x.Code, body)
	}
	if s := e.next(); !bytes.Equal(s.body, data) || s.header.Get("X-Amz-Trailer") != "" {
		t.Errorf("signed stream with trailer: next read %d bytes, X-Amz-Trailer %q; want %d, none", len(s.body), s.header.Get("X-Amz-Trailer"), len(data))
	}

	bad := "x-amz-checksum-crc32c:" + checksumOf("crc32c", []byte("other"))
	for _, tc := range []struct {
		name   string
		build  func(enc *chunkEnc) []byte
		status int
		code   string
	}{
		{"wrong checksum, signed", func(enc *chunkEnc) []byte { return enc.encode(data, sizes, bad) }, 400, "BadDigest"},
		{"checksum replaced after signing", func(enc *chunkEnc) []byte {
			b := enc.encode(data, sizes, good)
			return bytes.Replace(b, []byte(good), []byte(bad), 1)
		}, 403, "SignatureDoesNotMatch"},
		{"trailer missing", func(enc *chunkEnc) []byte { return enc.encode(data, sizes, "x-amz-meta-x:1") }, 400, "MalformedTrailerError"},
	} {
		req := signedStreamReq(t, u, streamingSignedTrl, len(data), "x-amz-checksum-crc32c", now, tc.build)
		st, x, _ := e.do(t, req)
		if st != tc.status || x.Code != tc.code {
			t.Errorf("%s: got %d %s; want %d %s", tc.name, st, x.Code, tc.status, tc.code)
		}
		e.next()
	}
}

// unsignedStreamReq is a PUT with a STREAMING-UNSIGNED-PAYLOAD-TRAILER body.
func unsignedStreamReq(t *testing.T, u string, decodedLen int, trailer string, body []byte) *http.Request {
	t.Helper()
	req := newReq(t, "PUT", u, body)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(decodedLen))
	if trailer != "" {
		req.Header.Set("X-Amz-Trailer", trailer)
	}
	signReq(t, req, sigKeyID, sigSecret, streamingUnsignedTr, time.Now())
	return req
}

func TestAuthStreamingUnsignedTrailer(t *testing.T) {
	e := newSigEnv(t, false)
	data := randomBytes(70000)
	u := e.url + "/photos/u.jpg"
	var unsigned *chunkEnc
	for _, alg := range []string{"crc32", "crc32c", "crc64nvme", "sha1", "sha256"} {
		name := "x-amz-checksum-" + alg
		body := unsigned.encode(data, []int{65536}, name+":"+checksumOf(alg, data))
		if st, x, b := e.do(t, unsignedStreamReq(t, u, len(data), name, body)); st != 200 {
			t.Errorf("unsigned trailer %s: got %d %s %s; want 200", alg, st, x.Code, b)
		}
		if s := e.next(); !bytes.Equal(s.body, data) || s.header.Get("X-Amz-Content-Sha256") != "UNSIGNED-PAYLOAD" {
			t.Errorf("unsigned trailer %s: next read %d bytes (err %v), X-Amz-Content-Sha256 %q; want %d, UNSIGNED-PAYLOAD",
				alg, len(s.body), s.err, s.header.Get("X-Amz-Content-Sha256"), len(data))
		}

		wrong := append(bytes.Clone(data[:len(data)-1]), data[len(data)-1]^1)
		body = unsigned.encode(wrong, []int{65536}, name+":"+checksumOf(alg, data))
		if st, x, _ := e.do(t, unsignedStreamReq(t, u, len(data), name, body)); st != 400 || x.Code != "BadDigest" {
			t.Errorf("unsigned trailer %s, data altered: got %d %s; want 400 BadDigest", alg, st, x.Code)
		}
		if s := e.next(); !errors.Is(s.err, ErrTrailerChecksum) {
			t.Errorf("unsigned trailer %s, data altered: backend read error %v; want ErrTrailerChecksum", alg, s.err)
		}
	}

	// No trailer at all.
	body := unsigned.encode(data, []int{1000})
	if st, x, _ := e.do(t, unsignedStreamReq(t, u, len(data), "", body)); st != 200 {
		t.Errorf("unsigned stream without trailer: got %d %s; want 200", st, x.Code)
	}
	if s := e.next(); !bytes.Equal(s.body, data) {
		t.Errorf("unsigned stream without trailer: next read %d bytes; want %d", len(s.body), len(data))
	}
	// An announced trailer that does not come.
	if st, x, _ := e.do(t, unsignedStreamReq(t, u, len(data), "x-amz-checksum-crc32", body)); st != 400 || x.Code != "MalformedTrailerError" {
		t.Errorf("announced trailer missing: got %d %s; want 400 MalformedTrailerError", st, x.Code)
	}
	e.next()
	// An unsupported checksum.
	if st, x, _ := e.do(t, unsignedStreamReq(t, u, len(data), "x-amz-checksum-md17", body)); st != 400 || x.Code != "InvalidRequest" {
		t.Errorf("unsupported trailer: got %d %s; want 400 InvalidRequest", st, x.Code)
	}
	e.next()
}

// TestAuthSDKUploads has the real AWS SDK upload over TLS, where it sends
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer.
func TestAuthSDKUploads(t *testing.T) {
	e := newSigEnv(t, true)
	var sent []string
	cli := s3.New(s3.Options{
		BaseEndpoint: aws.String(e.url), Region: sigRegion, UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(sigKeyID, sigSecret, ""),
		HTTPClient:                 sigRecorder{c: e.srv.Client(), sent: &sent},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
	data := randomBytes(300 << 10)
	// A reader that cannot seek, as a pipe from a phone app would be.
	_, err := cli.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("photos"), Key: aws.String("sdk upload.jpg"),
		Body: io.MultiReader(bytes.NewReader(data)), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		t.Fatalf("SDK PutObject: %v", err)
	}
	s := e.next()
	if !bytes.Equal(s.body, data) || s.user != "alice" {
		t.Errorf("SDK PutObject: next read %d bytes (err %v) as %q; want %d as alice", len(s.body), s.err, s.user, len(data))
	}
	if len(sent) != 1 || sent[0] != streamingUnsignedTr {
		t.Errorf("SDK PutObject sent X-Amz-Content-Sha256 %q; want %s (the test covers the trailer path)", sent, streamingUnsignedTr)
	}

	// Keys with spaces, '+', '*', parentheses and Unicode, as the SDK encodes them.
	for _, key := range []string{"my trip/été+1*(x).jpg", "a b/c%d/~e!f'g.jpg", "日本/写真 1.heic"} {
		out, err := cli.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String(key)})
		if err != nil {
			t.Errorf("SDK GetObject %q: %v", key, err)
			continue
		}
		out.Body.Close()
		if s := e.next(); s.user != "alice" {
			t.Errorf("SDK GetObject %q: next saw user %q; want alice", key, s.user)
		}
	}

	// And with a wrong secret it is refused.
	bad := s3.New(s3.Options{
		BaseEndpoint: aws.String(e.url), Region: sigRegion, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(sigKeyID, "wrong-secret-wrong-secret-wrong-secret-w", ""),
		HTTPClient:  e.srv.Client(), RetryMaxAttempts: 1,
	})
	_, err = bad.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("x"), Body: bytes.NewReader(data)})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("SDK PutObject with a wrong secret: got %v; want SignatureDoesNotMatch", err)
	}
}

type sigRecorder struct {
	c    *http.Client
	sent *[]string
}

func (r sigRecorder) Do(req *http.Request) (*http.Response, error) {
	*r.sent = append(*r.sent, req.Header.Get("X-Amz-Content-Sha256"))
	return r.c.Do(req)
}

// TestAuthAWSExample runs the example of the AWS documentation
// ("Signature calculations for the Authorization header: transferring
// payload in multiple chunks"), with its published signatures, through
// Authenticate. The example is dated 2013, so the verifier's clock
// (signature.TimeNow, a package variable) is set back for the test.
func TestAuthAWSExample(t *testing.T) {
	old := signature.TimeNow
	signature.TimeNow = func() time.Time { return time.Date(2013, 5, 24, 0, 5, 0, 0, time.UTC) }
	defer func() { signature.TimeNow = old }()

	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	chunk := func(size int, sig string) string {
		s := fmt.Sprintf("%x;chunk-signature=%s\r\n", size, sig) + strings.Repeat("a", size)
		if size > 0 {
			s += "\r\n"
		}
		return s
	}
	payload := chunk(65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648") +
		chunk(1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497") +
		chunk(0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9") + "\r\n"
	if len(payload) != 66824 {
		t.Fatalf("example body is %d bytes; the documentation says 66824", len(payload))
	}

	// The test's own encoder agrees with the documentation.
	enc := newChunkEnc(secret, time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC), "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
	if got := string(enc.encode([]byte(strings.Repeat("a", 66560)), []int{65536})); got != payload {
		t.Fatalf("the test's chunk encoder does not reproduce the documented example")
	}

	run := func(body string) (int, sigSeen) {
		var seen sigSeen
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = sigSeen{user: auth.User(r.Context()), reached: true, header: r.Header}
			seen.body, seen.err = io.ReadAll(io.LimitReader(r.Body, r.ContentLength))
			w.WriteHeader(200)
		})
		lookup := func(ctx context.Context, id string) (string, string, error) {
			if id != "AKIAIOSFODNN7EXAMPLE" {
				return "", "", ErrUnknownAccessKey
			}
			return "example", secret, nil
		}
		req := httptest.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", strings.NewReader(body))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("Content-Length", "66824")
		req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		req.Header.Set("X-Amz-Date", "20130524T000000Z")
		req.Header.Set("X-Amz-Decoded-Content-Length", "66560")
		req.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
		rec := httptest.NewRecorder()
		Authenticate(lookup, next).ServeHTTP(rec, req)
		return rec.Code, seen
	}

	st, seen := run(payload)
	if st != 200 || seen.err != nil || string(seen.body) != strings.Repeat("a", 66560) || seen.user != "example" {
		t.Fatalf("documented example: status %d, next read %d bytes, err %v, user %q; want 200, 66560 a's, nil, example", st, len(seen.body), seen.err, seen.user)
	}
	// One byte of the second chunk changed.
	bad := []byte(payload)
	bad[65536+200] = 'b'
	if st, seen := run(string(bad)); st != 403 || !errors.Is(seen.err, ErrChunkSignature) {
		t.Errorf("documented example with a byte changed: status %d, read error %v; want 403, ErrChunkSignature", st, seen.err)
	}
}

func TestAuthLookupSeesKeyOnce(t *testing.T) {
	e := newSigEnv(t, false)
	req := newReq(t, "GET", e.url+"/photos/", nil)
	signReq(t, req, sigKeyID, sigSecret, emptySHA256, time.Now())
	e.do(t, req)
	e.next()
	if n := len(e.lookups); n != 1 {
		t.Errorf("lookup called %d times for one request; want 1", n)
	}
	if id := <-e.lookups; id != sigKeyID {
		t.Errorf("lookup asked for %q; want %q", id, sigKeyID)
	}
}

// TestSHA256BodyAtLength checks the payload hash when Content-Length bytes
// have been read, for a source that gives EOF only on the next Read (as a
// reader between the HTTP server and Authenticate may) and a reader above
// that stops at Content-Length, as gofakes3 does.
func TestSHA256BodyAtLength(t *testing.T) {
	for _, tc := range []struct {
		sent, signed string
		want         error
	}{
		{"hello", "hello", nil},
		{"jello", "hello", ErrContentSHA256Mismatch},
	} {
		want, _ := hex.DecodeString(sha256Hex([]byte(tc.signed)))
		b := &sha256Body{rc: io.NopCloser(strings.NewReader(tc.sent)), want: want, h: sha256.New(), length: int64(len(tc.sent)), st: &bodyState{}}
		got, err := io.ReadAll(io.LimitReader(b, int64(len(tc.sent))))
		if err != tc.want || string(got) != tc.sent {
			t.Errorf("sent %q signed %q: read %q, %v; want %q, %v", tc.sent, tc.signed, got, err, tc.sent, tc.want)
		}
	}
}

// signV2 signs req with SigV2 in its Authorization header, the way botocore's
// "s3" signer does: the Date line is the Date header's.
func signV2(req *http.Request, keyID, secret, resource string) {
	if req.Header.Get("Date") == "" {
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	toSign := v2StringToSign(req, req.Header.Get("Date"), resource, v2Botocore)
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(toSign))
	req.Header.Set("Authorization", "AWS "+keyID+":"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}

// TestSigV2Header: requests signed with SigV2 in the Authorization header
// (s3cmd, boto2, botocore's "s3" signer) are verified like SigV4 ones, the
// date first.
func TestSigV2Header(t *testing.T) {
	e := newSigEnv(t, false, VirtualHostDomain("s3.test"))
	put := func(mutate func(*http.Request), sign func(*http.Request)) (int, string, sigSeen) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, e.url+"/bkt/a%20key.txt", strings.NewReader("v2 body"))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("X-Amz-Meta-Color", "blue")
		if mutate != nil {
			mutate(req)
		}
		sign(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b), e.next()
	}
	good := func(r *http.Request) { signV2(r, sigKeyID, sigSecret, "/bkt/a%20key.txt") }
	if code, body, seen := put(nil, good); code != 200 || seen.user != "alice" || string(seen.body) != "v2 body" {
		t.Errorf("signed PUT: %d %s, user %q body %q; want 200 as alice", code, body, seen.user, seen.body)
	}
	vhost := func(r *http.Request) {
		r.Host = "bkt.s3.test"
		r.URL.Path, r.URL.RawPath = "/a key.txt", "/a%20key.txt"
		good(r) // signs /bkt/a%20key.txt: SigV2 signs path-style
	}
	if code, body, seen := put(vhost, vhost); code != 200 || seen.user != "alice" {
		t.Errorf("signed virtual-host PUT: %d %s; want 200", code, body)
	}
	for _, c := range []struct {
		name   string
		mutate func(*http.Request)
		sign   func(*http.Request)
		status int
		code   string
	}{
		{"wrong secret", nil, func(r *http.Request) { signV2(r, sigKeyID, "wrong", "/bkt/a%20key.txt") }, 403, "SignatureDoesNotMatch"},
		{"unknown key", nil, func(r *http.Request) { signV2(r, "SBNOSUCHKEY", sigSecret, "/bkt/a%20key.txt") }, 403, "InvalidAccessKeyId"},
		{"other resource", nil, func(r *http.Request) { signV2(r, sigKeyID, sigSecret, "/bkt/other.txt") }, 403, "SignatureDoesNotMatch"},
		{"header changed after signing", nil, func(r *http.Request) { good(r); r.Header.Set("X-Amz-Meta-Color", "red") }, 403, "SignatureDoesNotMatch"},
		{"no colon", nil, func(r *http.Request) { good(r); r.Header.Set("Authorization", "AWS HAHAHA") }, 400, "InvalidArgument"},
		{"bad x-amz-date", func(r *http.Request) { r.Header.Set("X-Amz-Date", "Bad Date") }, good, 403, "AccessDenied"},
		{"empty x-amz-date", func(r *http.Request) { r.Header["X-Amz-Date"] = []string{""} }, good, 403, "AccessDenied"},
		{"x-amz-date in 2010", func(r *http.Request) { r.Header.Set("X-Amz-Date", "Tue, 07 Jul 2010 21:53:04 GMT") }, good, 403, "RequestTimeTooSkewed"},
		{"x-amz-date in 9999", func(r *http.Request) { r.Header.Set("X-Amz-Date", "Tue, 07 Jul 9999 21:53:04 GMT") }, good, 403, "RequestTimeTooSkewed"},
		{"x-amz-date before 1970", func(r *http.Request) { r.Header.Set("X-Amz-Date", "Tue, 07 Jul 1950 21:53:04 GMT") }, good, 403, "AccessDenied"},
		{"old Date", func(r *http.Request) { r.Header.Set("Date", "Tue, 07 Jul 2010 21:53:04 GMT") }, good, 403, "RequestTimeTooSkewed"},
	} {
		code, body, seen := put(c.mutate, c.sign)
		if code != c.status || !strings.Contains(body, "<Code>"+c.code+"</Code>") || seen.reached {
			t.Errorf("%s: got %d %s (handler reached: %v); want %d %s", c.name, code, body, seen.reached, c.status, c.code)
		}
	}
	// A valid X-Amz-Date with the Date line left empty (the AWS
	// documentation's rule) is accepted too.
	amzDate := func(r *http.Request) {
		r.Header.Set("X-Amz-Date", time.Now().UTC().Format(http.TimeFormat))
		toSign := v2StringToSign(r, "", "/bkt/a%20key.txt", v2Botocore)
		mac := hmac.New(sha1.New, []byte(sigSecret))
		mac.Write([]byte(toSign))
		r.Header.Set("Authorization", "AWS "+sigKeyID+":"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	if code, body, _ := put(nil, amzDate); code != 200 {
		t.Errorf("signed with X-Amz-Date and an empty Date line: %d %s; want 200", code, body)
	}
}

// TestAuthStreamingMinioTrailer: minio-go frames a signed trailer as
// "name:value\n", "\r\n", then the trailer signature line and "\r\n"; it is
// accepted, and still held to its signature and checksum.
func TestAuthStreamingMinioTrailer(t *testing.T) {
	e := newSigEnv(t, false)
	now := time.Now()
	data := randomBytes(10000)
	u := e.url + "/photos/m.jpg"
	good := "x-amz-checksum-crc32c:" + checksumOf("crc32c", data)
	bad := "x-amz-checksum-crc32c:" + checksumOf("crc32c", []byte("other"))
	minio := func(trailer string) func(enc *chunkEnc) []byte {
		return func(enc *chunkEnc) []byte {
			return bytes.Replace(enc.encode(data, []int{4096}, trailer), []byte(trailer+"\r\n"), []byte(trailer+"\n\r\n"), 1)
		}
	}
	for _, tc := range []struct {
		name   string
		build  func(enc *chunkEnc) []byte
		status int
		code   string
	}{
		{"minio-go framing", minio(good), 200, ""},
		{"minio-go framing, wrong checksum", minio(bad), 400, "BadDigest"},
		{"minio-go framing, checksum replaced after signing", func(enc *chunkEnc) []byte {
			return bytes.Replace(minio(good)(enc), []byte(good), []byte(bad), 1)
		}, 403, "SignatureDoesNotMatch"},
	} {
		req := signedStreamReq(t, u, streamingSignedTrl, len(data), "x-amz-checksum-crc32c", now, tc.build)
		st, x, body := e.do(t, req)
		if st != tc.status || x.Code != tc.code {
			t.Errorf("%s: got %d %s %s; want %d %s", tc.name, st, x.Code, body, tc.status, tc.code)
		}
		if s := e.next(); tc.status == 200 && !bytes.Equal(s.body, data) {
			t.Errorf("%s: next read %d bytes; want %d", tc.name, len(s.body), len(data))
		}
	}
}
