package s3api_test

// Access decisions, over every way of addressing a request and every kind
// of caller: a request is resolved once (bucket and key, virtual-host style
// included), authenticated, authorized on exactly the bucket and key it is
// then served with, and served. Each case checks the answer and the whole
// library after it, so a request served from, or written to, another
// object than the one it was authorized on fails.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/localfs"
	"shoebox/s3api"
)

const accessDomain = "s3.test"

// accessEnv is the real S3 handler (New with Authenticate and
// PublicAccess, virtual-host style on accessDomain) called in process.
// alice owns "priv" (private) and "pub" (public-read); bob owns "bobs".
type accessEnv struct {
	h   http.Handler
	gw  *gateway.Gateway
	cat *catalog.Catalog
}

type principal struct{ name, keyID, secret string }

var (
	owner     = principal{"owner", "AKALICE", "alice-secret"}
	otherUser = principal{"other", "AKBOB", "bob-secret"}
	anonymous = principal{name: "anonymous"}
)

func newAccessEnv(t *testing.T) *accessEnv {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	be, err := localfs.New(dir+"/objects", localfs.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	gw := gateway.New(be, cat, gateway.Options{Logger: quiet})
	for _, u := range []string{"alice", "bob"} {
		if err := cat.PutUser(context.Background(), catalog.User{Name: u, PasswordHash: "h"}, true); err != nil {
			t.Fatal(err)
		}
	}
	keys := map[string][2]string{owner.keyID: {"alice", owner.secret}, otherUser.keyID: {"bob", otherUser.secret}}
	lookup := func(ctx context.Context, id string) (string, string, error) {
		if k, ok := keys[id]; ok {
			return k[0], k[1], nil
		}
		return "", "", s3api.ErrUnknownAccessKey
	}
	h, err := s3api.New(gw, s3api.Config{UploadDir: dir + "/multipart", Logger: quiet, Domain: accessDomain,
		Authenticate: func(next http.Handler) http.Handler {
			return s3api.Authenticate(lookup, next, s3api.AuthLogger(quiet), s3api.PublicAccess(gw), s3api.VirtualHostDomain(accessDomain))
		}})
	if err != nil {
		t.Fatal(err)
	}
	e := &accessEnv{h: h, gw: gw, cat: cat}
	for _, b := range []struct {
		p           principal
		bucket, acl string
	}{
		{owner, "priv", ""}, {owner, "pub", "public-read"}, {otherUser, "bobs", ""},
	} {
		req := e.req(t, false, "PUT", b.bucket, "", "", nil)
		if b.acl != "" {
			req.Header.Set("X-Amz-Acl", b.acl)
		}
		if st, body := e.do(t, b.p, req); st != 200 {
			t.Fatalf("create bucket %s: %d %s", b.bucket, st, body)
		}
	}
	return e
}

// req builds a request for bucket/key, path-style or virtual-host style
// (bucket in the Host); query is appended as is.
func (e *accessEnv) req(t *testing.T, vhost bool, method, bucket, key, query string, body []byte) *http.Request {
	t.Helper()
	host, p := accessDomain, "/"+bucket
	if key != "" {
		p += "/" + key
	}
	if vhost {
		host, p = bucket+"."+accessDomain, "/"+key
	}
	u := (&url.URL{Path: p}).EscapedPath()
	if query != "" {
		u += "?" + query
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, u, r)
	req.Host = host
	if body != nil {
		req.Header.Set("Content-Length", fmt.Sprint(len(body)))
	}
	return req
}

func accessSigner() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

func (p principal) creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: p.keyID, SecretAccessKey: p.secret}
}

// do signs req as p (SigV4 in the header; nothing for anonymous) and
// serves it.
func (e *accessEnv) do(t *testing.T, p principal, req *http.Request) (int, string) {
	t.Helper()
	if p.keyID != "" {
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		if err := accessSigner().SignHTTP(context.Background(), p.creds(), req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return e.serve(req)
}

func (e *accessEnv) serve(req *http.Request) (int, string) {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if et := rec.Header().Get("ETag"); req.Method == http.MethodHead && rec.Code == 200 {
		return rec.Code, et
	}
	return rec.Code, rec.Body.String()
}

// presigned turns req into a presigned URL of p's and serves it.
func (e *accessEnv) presigned(t *testing.T, p principal, req *http.Request) (int, string) {
	t.Helper()
	q := req.URL.Query()
	q.Set("X-Amz-Expires", "300")
	req.URL.RawQuery = q.Encode()
	signed, _, err := accessSigner().PresignHTTP(context.Background(), p.creds(), req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	r2 := httptest.NewRequest(req.Method, u.RequestURI(), nil)
	r2.Host = req.Host
	return e.serve(r2)
}

// post sends a browser upload of body as key into bucket: signed by p
// (SigV2 policy), or without a policy for anonymous.
func (e *accessEnv) post(t *testing.T, vhost bool, p principal, bucket, key string, body []byte) (int, string) {
	t.Helper()
	fields := [][2]string{{"key", key}}
	if p.keyID != "" {
		pol := policy(time.Hour, map[string]string{"bucket": bucket}, []any{"eq", "$key", key})
		fields = append(fields, [2]string{"AWSAccessKeyId", p.keyID}, [2]string{"policy", pol}, [2]string{"signature", signV2Policy(p.secret, pol)})
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	w, _ := mw.CreateFormFile("file", "upload.txt")
	w.Write(body)
	mw.Close()
	req := e.req(t, vhost, "POST", bucket, "", "", b.Bytes())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return e.serve(req)
}

// content is what the fixture object bucket/key holds.
func content(bucket, key string) string { return bucket + ":" + key }

func md5Of(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

// obj is one fixture object of alice's. The private ones have keys that
// start with "pub/", so that a virtual-host request for them (Host
// priv.s3.test, path /pub/secret.txt) reads, path-style, like a request for
// the public bucket; the public one's does not, so that its virtual-host
// path (/secret.txt) reads, path-style, like a request for no bucket.
type obj struct{ bucket, key string }

var (
	privateBucket = obj{"priv", "pub/secret.txt"}
	publicBucket  = obj{"pub", "secret.txt"}
	privateObject = obj{"pub", "pub/private.txt"} // made private with PutObjectAcl
)

// seed empties every bucket and stores the fixtures again.
func (e *accessEnv) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for path := range e.snapshot(t) {
		user, rest, _ := strings.Cut(path, "/")
		bucket, key, _ := strings.Cut(rest, "/")
		if err := e.gw.Remove(ctx, user, bucket, key); err != nil {
			t.Fatalf("remove %s: %v", path, err)
		}
	}
	for _, o := range []obj{privateBucket, publicBucket, privateObject} {
		if st, body := e.do(t, owner, e.req(t, false, "PUT", o.bucket, o.key, "", []byte(content(o.bucket, o.key)))); st != 200 {
			t.Fatalf("seed %s/%s: %d %s", o.bucket, o.key, st, body)
		}
	}
	req := e.req(t, false, "PUT", privateObject.bucket, privateObject.key, "acl", nil)
	req.Header.Set("X-Amz-Acl", "private")
	if st, body := e.do(t, owner, req); st != 200 {
		t.Fatalf("PutObjectAcl private: %d %s", st, body)
	}
}

// snapshot maps "user/bucket/key" of every file in the library to the MD5
// of its content.
func (e *accessEnv) snapshot(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	all, err := e.cat.AllBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, ub := range all {
		err := e.gw.Walk(ctx, ub.User, ub.Bucket, "", "", func(o catalog.Object) error {
			if !o.IsDir() {
				out[ub.User+"/"+ub.Bucket+"/"+o.Key] = o.MD5
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func fixtures() map[string]string {
	out := map[string]string{}
	for _, o := range []obj{privateBucket, publicBucket, privateObject} {
		out["alice/"+o.bucket+"/"+o.key] = md5Of(content(o.bucket, o.key))
	}
	return out
}

func diffLibrary(got, want map[string]string) string {
	var d []string
	for k, v := range want {
		if got[k] != v {
			d = append(d, fmt.Sprintf("%s: got %q; want %q", k, got[k], v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%s: got %q; want no such file", k, v))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}

type accessOp string

const (
	opGet       accessOp = "GET"
	opHead      accessOp = "HEAD"
	opPut       accessOp = "PUT"
	opDelete    accessOp = "DELETE"
	opList      accessOp = "list"
	opCopy      accessOp = "copy-source"
	opPartCopy  accessOp = "upload-part-copy-source"
	opPresigned accessOp = "presigned-GET"
	opPost      accessOp = "POST-form"
)

// allowed is who may do what: the owner everything; anyone else reads
// (GET, HEAD, list, presigned GET) the public bucket and what is public in
// it, and nothing more. A copy acts in one user's namespace, so no one
// copies out of another user's bucket, public or not.
func allowed(p principal, o obj, op accessOp) bool {
	if p == owner {
		return true
	}
	switch op {
	case opList:
		return o.bucket == "pub"
	case opGet, opHead, opPresigned:
		return o == publicBucket
	}
	return false
}

func TestAccessMatrix(t *testing.T) {
	e := newAccessEnv(t)
	objects := []struct {
		name string
		o    obj
	}{{"private-bucket", privateBucket}, {"public-bucket", publicBucket}, {"private-object-in-public-bucket", privateObject}}
	ops := []accessOp{opGet, opHead, opPut, opDelete, opList, opCopy, opPartCopy, opPresigned, opPost}
	for _, vhost := range []bool{false, true} {
		style := "path-style"
		if vhost {
			style = "virtual-host"
		}
		for _, p := range []principal{owner, otherUser, anonymous} {
			for _, ob := range objects {
				for _, op := range ops {
					if op == opPresigned && p == anonymous {
						continue // a presigned URL is some user's
					}
					o := ob.o
					name := style + "/" + p.name + "/" + ob.name + "/" + string(op)
					t.Run(name, func(t *testing.T) {
						e.seed(t)
						ok := allowed(p, o, op)
						want := fixtures()
						st, body, wantStatus, check := e.run(t, vhost, p, o, op, ok, want)
						if st != wantStatus {
							t.Fatalf("got %d %s; want %d", st, body, wantStatus)
						}
						if check != "" && !strings.Contains(body, check) {
							t.Errorf("got %d %q; want it to contain %q", st, body, check)
						}
						if d := diffLibrary(e.snapshot(t), want); d != "" {
							t.Errorf("library after the request:\n%s", d)
						}
					})
				}
			}
		}
	}
}

// run makes op on o as p, and returns the answer, the status it should
// have and a string its body (or ETag, for HEAD) must contain; it updates
// want to the library the request should leave.
func (e *accessEnv) run(t *testing.T, vhost bool, p principal, o obj, op accessOp, ok bool, want map[string]string) (int, string, int, string) {
	t.Helper()
	const denied = http.StatusForbidden
	status := func(s int) int {
		if ok {
			return s
		}
		return denied
	}
	var check string
	switch op {
	case opGet, opPresigned:
		req := e.req(t, vhost, "GET", o.bucket, o.key, "", nil)
		if ok {
			check = content(o.bucket, o.key)
		}
		var st int
		var body string
		if op == opPresigned {
			st, body = e.presigned(t, p, req)
		} else {
			st, body = e.do(t, p, req)
		}
		if ok && body != check {
			t.Errorf("body %q; want exactly %q", body, check)
		}
		return st, body, status(200), check
	case opHead:
		if ok {
			check = md5Of(content(o.bucket, o.key))
		}
		st, etag := e.do(t, p, e.req(t, vhost, "HEAD", o.bucket, o.key, "", nil))
		return st, etag, status(200), check
	case opPut:
		data := "new " + p.name
		if ok {
			want["alice/"+o.bucket+"/"+o.key] = md5Of(data)
		}
		st, body := e.do(t, p, e.req(t, vhost, "PUT", o.bucket, o.key, "", []byte(data)))
		return st, body, status(200), ""
	case opDelete:
		if ok {
			delete(want, "alice/"+o.bucket+"/"+o.key)
		}
		st, body := e.do(t, p, e.req(t, vhost, "DELETE", o.bucket, o.key, "", nil))
		return st, body, status(204), ""
	case opList:
		if ok {
			check = "<Name>" + o.bucket + "</Name>"
		}
		st, body := e.do(t, p, e.req(t, vhost, "GET", o.bucket, "", "list-type=2&prefix="+url.QueryEscape(o.key), nil))
		if ok && !strings.Contains(body, "<Key>"+o.key+"</Key>") {
			t.Errorf("listing %q; want it to list %s", body, o.key)
		}
		return st, body, status(200), check
	case opCopy:
		dst, dstUser := o.bucket, "alice"
		if p == otherUser {
			dst, dstUser = "bobs", "bob"
		}
		if ok {
			want[dstUser+"/"+dst+"/pub/copy.txt"] = md5Of(content(o.bucket, o.key))
		}
		req := e.req(t, vhost, "PUT", dst, "pub/copy.txt", "", nil)
		req.Header.Set("X-Amz-Copy-Source", "/"+o.bucket+"/"+o.key)
		st, body := e.do(t, p, req)
		return st, body, status(200), ""
	case opPartCopy:
		// The upload is made by its bucket's owner: the owner's or bob's
		// into their own bucket, alice's for an anonymous caller (who
		// would have learnt its ID).
		dst, maker := o.bucket, owner
		if p == otherUser {
			dst, maker = "bobs", otherUser
		}
		st, body := e.do(t, maker, e.req(t, false, "POST", dst, "pub/part.txt", "uploads", nil))
		var up struct{ UploadId string }
		if st != 200 || xml.Unmarshal([]byte(body), &up) != nil || up.UploadId == "" {
			t.Fatalf("CreateMultipartUpload in %s: %d %s", dst, st, body)
		}
		defer e.do(t, maker, e.req(t, false, "DELETE", dst, "pub/part.txt", "uploadId="+up.UploadId, nil))
		if ok {
			check = md5Of(content(o.bucket, o.key))
		}
		req := e.req(t, vhost, "PUT", dst, "pub/part.txt", "partNumber=1&uploadId="+up.UploadId, nil)
		req.Header.Set("X-Amz-Copy-Source", "/"+o.bucket+"/"+o.key)
		st, body = e.do(t, p, req)
		return st, body, status(200), check
	case opPost:
		data := "posted by " + p.name
		if ok {
			want["alice/"+o.bucket+"/"+o.key] = md5Of(data)
		}
		st, body := e.post(t, vhost, p, o.bucket, o.key, []byte(data))
		return st, body, status(204), ""
	}
	t.Fatalf("unknown op %s", op)
	return 0, "", 0, ""
}

// signV2 signs a GET or HEAD (no body, no x-amz-* headers) with SigV2, in
// the Authorization header or, with presign, as a presigned URL. SigV2
// signs the path-style resource whatever the addressing.
func signV2(req *http.Request, p principal, bucket, key string, presign bool) {
	resource := (&url.URL{Path: "/" + bucket + "/" + key}).EscapedPath()
	date := time.Now().UTC().Format(http.TimeFormat)
	if presign {
		date = fmt.Sprint(time.Now().Add(5 * time.Minute).Unix())
	}
	mac := hmac.New(sha1.New, []byte(p.secret))
	io.WriteString(mac, req.Method+"\n\n\n"+date+"\n"+resource)
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if presign {
		req.URL.RawQuery = url.Values{"AWSAccessKeyId": {p.keyID}, "Expires": {date}, "Signature": {sig}}.Encode()
		req.RequestURI = req.URL.RequestURI()
		return
	}
	req.Header.Set("Date", date)
	req.Header.Set("Authorization", "AWS "+p.keyID+":"+sig)
}

// TestAccessMatrixSigV2: requests signed with SigV2 (header and presigned)
// are authorized on the same Target as SigV4 ones.
func TestAccessMatrixSigV2(t *testing.T) {
	e := newAccessEnv(t)
	e.seed(t)
	for _, vhost := range []bool{false, true} {
		for _, presign := range []bool{false, true} {
			for _, p := range []principal{owner, otherUser} {
				for _, o := range []obj{privateBucket, publicBucket, privateObject} {
					name := fmt.Sprintf("vhost=%v/presigned=%v/%s/%s/%s", vhost, presign, p.name, o.bucket, o.key)
					req := e.req(t, vhost, "GET", o.bucket, o.key, "", nil)
					signV2(req, p, o.bucket, o.key, presign)
					st, body := e.serve(req)
					wantStatus, wantBody := http.StatusForbidden, ""
					if allowed(p, o, opGet) {
						wantStatus, wantBody = http.StatusOK, content(o.bucket, o.key)
					}
					if st != wantStatus || (wantBody != "" && body != wantBody) {
						t.Errorf("%s: got %d %q; want %d %q", name, st, body, wantStatus, wantBody)
					}
				}
			}
		}
	}
}
