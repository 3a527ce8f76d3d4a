package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"hash"
	"hash/crc32"
	"io"

	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/rclone/gofakes3"

	"shoebox/gateway"
	"shoebox/gateway/auth"
)

// compat fixes, around gofakes3, what S3 clients and conformance suites
// see differently on S3:
//   - x-amz-copy-source is URL-decoded as a path ('+' is a plus; gofakes3
//     would read it as a space);
//   - a Range header S3 would ignore (another unit, several ranges, a
//     first byte after the last) is dropped, so the whole object is sent;
//   - HEAD answers a Range as GET does (206 and Content-Range, or 416);
//   - creating a bucket the user already has is 409
//     BucketAlreadyOwnedByYou in every region, and changes nothing (AWS
//     outside us-east-1's legacy 200; ../shared/tools/s3conf checks it);
//   - bucket names S3 takes but gofakes3 refuses (labels of one or two
//     characters, as in "a.b.c") can be created;
//   - the LocationConstraint a bucket was created with is kept (as a
//     property of the bucket) and answered by GetBucketLocation;
//   - listings always carry MaxKeys and (v2) KeyCount, even when 0;
//   - the owner of buckets and objects is the calling user, in listings
//     and ACLs alike (gofakes3 names one fixed owner);
//   - canned ACLs (x-amz-acl, or a policy of group grants) are kept and
//     read back, and make buckets public or private (acl.go);
//   - a PutObject with If-Match on a key that does not exist is 404
//     NoSuchKey, as AWS answers conditional writes (and nothing is read);
//   - a PutObject may carry several x-amz-checksum-* headers, and
//     x-amz-checksum-algorithm beside them (checksum.go); a CopyObject
//     with x-amz-checksum-algorithm gets that checksum computed anew;
//   - a PutObject whose x-amz-checksum-* value cannot be a checksum of
//     its algorithm (not base64, or the wrong size) is 400 BadDigest, as S3
//     answers a checksum that does not match (gofakes3: InvalidRequest);
//   - GetObjectAttributes answers a multipart object's ETag ("…-N"),
//     where gofakes3 puts the MD5 of its content, and the type of its
//     checksum (gofakes3 always says FULL_OBJECT);
//   - x-amz-expected-bucket-owner naming someone else than the bucket's
//     owner (the user the request acts as) is 403 AccessDenied;
//   - a GET or HEAD that finds no object says x-amz-delete-marker: false
//     (stateWriter), as S3 does;
//   - a DeleteObject with If-Match deletes only the object with that ETag
//     (412 PreconditionFailed otherwise, 404 NoSuchKey if there is none);
//   - a CopyObjectResult carries the copy's checksums and their type
//     (gofakes3: the ETag and time only);
//   - GetObjectAttributes and ListObjectVersions say each object's storage
//     class (gofakes3: STANDARD for all).
func compat(be *backend, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := requestTarget(r)
		bucket, key := t.Bucket, t.Key
		q := r.URL.Query()
		if owner := r.Header.Get("X-Amz-Expected-Bucket-Owner"); owner != "" && bucket != "" && owner != auth.User(r.Context()) {
			writeAuthError(w, r, "AccessDenied", "Access Denied", http.StatusForbidden)
			return
		}
		fixCopySource(r)
		switch r.Method {
		case http.MethodPut:
			if _, acl := q["acl"]; acl {
				if r.Header.Get("X-Amz-Acl") == "" {
					fixACLBody(r)
				}
				if serveACL(be, w, r, next, bucket, key) {
					return
				}
			}
			if canned := r.Header.Get("X-Amz-Acl"); canned != "" && bucket != "" && q.Get("uploadId") == "" {
				if err := checkCannedACL(canned); err != nil {
					writeError(w, r, err)
					return
				}
				if st := stateFrom(r.Context()); st != nil {
					st.acl = canned
				}
			}
			if key != "" && noSubresource(q) {
				if err := checkChecksumHeaders(r.Header); err != nil {
					writeError(w, r, err)
					return
				}
				if alg := strings.ToLower(r.Header.Get("X-Amz-Checksum-Algorithm")); alg != "" && r.Header.Get("X-Amz-Copy-Source") != "" {
					if _, ok := checksumHashes["x-amz-checksum-"+alg]; !ok {
						writeError(w, r, gofakes3.ErrorMessage(gofakes3.ErrInvalidRequest, "Value for x-amz-checksum-algorithm header is invalid."))
						return
					}
					if st := stateFrom(r.Context()); st != nil {
						st.copyChecksum = alg
					}
				} else if r.Header.Get("X-Amz-Copy-Source") == "" {
					sums, err := takePutChecksums(r)
					if err != nil {
						writeError(w, r, err)
						return
					}
					if st := stateFrom(r.Context()); st != nil {
						st.putSums = sums
					}
				}
			}
			if key != "" && r.Header.Get("If-Match") != "" && r.URL.RawQuery == "" && !be.keyExists(r.Context(), bucket, key) {
				writeError(w, r, gofakes3.KeyNotFound(key)) // as AWS answers a conditional write
				return
			}
			if bucket != "" && key == "" && r.URL.RawQuery == "" {
				noteLocation(r)
				if createBucket(be, w, r, bucket) {
					return
				}
			}
			if key != "" && noSubresource(q) && r.Header.Get("X-Amz-Copy-Source") != "" {
				serveRewritten(w, r, next, func(body []byte) []byte { return fixCopyResult(r.Context(), body) })
				return
			}
		case http.MethodDelete:
			if ifMatch := r.Header.Get("If-Match"); key != "" && ifMatch != "" && r.URL.RawQuery == "" {
				if err := be.checkDeleteMatch(r.Context(), bucket, key, ifMatch); err != nil {
					writeError(w, r, err)
					return
				}
			}
		case http.MethodHead:
			if rng := r.Header.Get("Range"); key != "" && rng != "" && !q.Has("partNumber") && validRange(rng) {
				hw := &headRangeWriter{ResponseWriter: w, rng: rng}
				next.ServeHTTP(hw, r)
				if !hw.done { // a HEAD's 200 is implicit
					hw.WriteHeader(http.StatusOK)
				}
				return
			}
		case http.MethodGet:
			if rng := r.Header.Get("Range"); key != "" && rng != "" && !validRange(rng) {
				r.Header.Del("Range")
			}
			if bucket != "" && key == "" && q.Has("location") {
				serveRewritten(w, r, next, func(body []byte) []byte {
					if loc := be.location(r.Context(), bucket); loc != "" {
						return []byte(xml.Header + `<LocationConstraint xmlns="` + s3NS + `">` + xmlText(loc) + `</LocationConstraint>`)
					}
					return body
				})
				return
			}
			if key != "" && q.Has("attributes") {
				serveRewritten(w, r, next, func(body []byte) []byte {
					return be.fixAttributesETag(r.Context(), bucket, key, body)
				})
				return
			}
			_, acl := q["acl"]
			if acl && serveACL(be, w, r, next, bucket, key) {
				return
			}
			if key != "" && !acl {
				break // objects are streamed as they are
			}
			user := auth.User(r.Context())
			serveRewritten(w, r, next, func(body []byte) []byte {
				if user == "" {
					return body
				}
				body = fixOwner(body, user)
				if bucket != "" && key == "" {
					body = fixListCounts(body, q.Get("list-type") == "2")
				}
				if bucket != "" && key == "" && q.Has("versions") {
					body = be.fixVersionClasses(r.Context(), bucket, body, q.Get("encoding-type") == "url")
				}
				return body
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// createBucket creates a bucket whose name S3 takes but gofakes3 refuses
// ("a.b.c"), and refuses one S3 does not take with the gateway's message
// (which states the rule; gofakes3's says nothing), reporting whether it
// answered the request.
func createBucket(be *backend, w http.ResponseWriter, r *http.Request, bucket string) bool {
	if gofakes3.ValidateBucketName(bucket) == nil && gateway.ValidBucketName(bucket) ||
		strings.EqualFold(r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled"), "true") {
		return false
	}
	if err := be.CreateBucket(r.Context(), bucket); err != nil {
		writeError(w, r, err)
		return true
	}
	w.Header().Set("Location", "/"+bucket)
	w.WriteHeader(http.StatusOK)
	return true
}

// serveRewritten serves a small XML answer through rewrite when it
// succeeds (200), and unchanged otherwise.
func serveRewritten(w http.ResponseWriter, r *http.Request, next http.Handler, rewrite func([]byte) []byte) {
	bw := &bufWriter{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(bw, r)
	body := bw.buf.Bytes()
	if bw.status == http.StatusOK {
		body = rewrite(body)
		w.Header().Del("Content-Length")
	}
	w.WriteHeader(bw.status)
	w.Write(body)
}

// bufWriter holds a small XML answer back for rewriting.
type bufWriter struct {
	http.ResponseWriter
	status  int
	written bool
	buf     bytes.Buffer
}

func (b *bufWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 {
		b.ResponseWriter.WriteHeader(code)
		return
	}
	if !b.written {
		b.written = true
		b.status = code
	}
}

func (b *bufWriter) Write(p []byte) (int, error) {
	b.written = true
	return b.buf.Write(p)
}

// fixCopySource rewrites x-amz-copy-source, which S3 decodes as a URL
// path, into the form gofakes3 decodes as a query value.
func fixCopySource(r *http.Request) {
	v := r.Header.Get("X-Amz-Copy-Source")
	if v == "" {
		return
	}
	src, query, hasQuery := strings.Cut(v, "?")
	dec, err := url.PathUnescape(src)
	if err != nil {
		return // gofakes3 answers the bad encoding
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(dec, "/"), "/")
	if !ok {
		return
	}
	nv := bucket + "/" + url.QueryEscape(key)
	if hasQuery {
		nv += "?" + query
	}
	r.Header.Set("X-Amz-Copy-Source", nv)
}

// validRange reports whether S3 would honour the Range header v: a
// single range of bytes, first-last, first- or -suffix, with first not
// after last. Others are ignored by S3 (RFC 9110) and the whole object
// is sent.
func validRange(v string) bool {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return false
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return false
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	num := func(s string) (int64, bool) {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	switch {
	case first == "":
		_, ok := num(last)
		return ok
	case last == "":
		_, ok := num(first)
		return ok
	}
	f, ok1 := num(first)
	l, ok2 := num(last)
	return ok1 && ok2 && f <= l
}

// The owner gofakes3 writes into every listing and ACL.
var (
	fakeOwnerID   = []byte("<ID>fe7272ea58be830e56fe1663b10fafef</ID>")
	fakeOwnerName = []byte("<DisplayName>GoFakeS3</DisplayName>")
)

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ownerXML is the inside of an Owner element naming user.
func ownerXML(user string) string {
	u := xmlText(user)
	return "<ID>" + u + "</ID><DisplayName>" + u + "</DisplayName>"
}

func fixOwner(body []byte, user string) []byte {
	u := xmlText(user)
	body = bytes.ReplaceAll(body, fakeOwnerID, []byte("<ID>"+u+"</ID>"))
	return bytes.ReplaceAll(body, fakeOwnerName, []byte("<DisplayName>"+u+"</DisplayName>"))
}

// fixACLBody lets a client set the ACL it read back: gofakes3 accepts
// only the owner it names itself as grantee, so the user's ID is put
// back into that form. The body's digests are checked first and then
// made anew for the body gofakes3 reads; a body whose digests do not
// match is left for gofakes3 to refuse.
func fixACLBody(r *http.Request) {
	user := auth.User(r.Context())
	if user == "" || r.Body == nil {
		return
	}
	body, err := peekBody(r, 1<<20)
	if err != nil {
		return
	}
	id := []byte("<ID>" + xmlText(user) + "</ID>")
	if !bytes.Contains(body, id) {
		return
	}
	if v, ok := r.Header["Content-Md5"]; ok {
		sum := md5.Sum(body)
		if len(v) == 0 || v[0] != base64.StdEncoding.EncodeToString(sum[:]) {
			return
		}
	}
	var sums []string
	for k, v := range r.Header {
		alg, ok := strings.CutPrefix(k, "X-Amz-Checksum-")
		if !ok || alg == "Mode" || alg == "Type" || alg == "Algorithm" {
			continue
		}
		var h hash.Hash
		switch strings.ToLower(alg) {
		case "crc32":
			h = crc32.NewIEEE()
		case "crc32c":
			h = crc32.New(crc32.MakeTable(crc32.Castagnoli))
		case "sha1":
			h = sha1.New()
		case "sha256":
			h = sha256.New()
		default:
			return
		}
		h.Write(body)
		if len(v) == 0 || v[0] != base64.StdEncoding.EncodeToString(h.Sum(nil)) {
			return
		}
		sums = append(sums, k)
	}
	body = bytes.ReplaceAll(body, id, fakeOwnerID)
	for _, k := range sums {
		delete(r.Header, k)
	}
	if _, ok := r.Header["Content-Md5"]; ok {
		sum := md5.Sum(body)
		r.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// noteLocation keeps the LocationConstraint a CreateBucket names in the
// request state (GetBucketLocation answers it later).
func noteLocation(r *http.Request) {
	st := stateFrom(r.Context())
	if st == nil || r.Body == nil {
		return
	}
	body, err := peekBody(r, 1<<20)
	if err != nil {
		return
	}
	var cfg struct {
		LocationConstraint string
	}
	if len(bytes.TrimSpace(body)) > 0 && xml.Unmarshal(body, &cfg) != nil {
		return
	}
	st.location = strings.TrimSpace(cfg.LocationConstraint)
}

// writeError answers err as S3 does, for the few requests compat
// answers itself; a code gofakes3 does not know gets the status the
// backend recorded (stateWriter).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := gofakes3.ErrInternal, "Internal Error"
	var ge gofakes3.Error
	if errors.As(err, &ge) {
		code = ge.ErrorCode()
		msg = err.Error()
		var er *gofakes3.ErrorResponse
		if errors.As(err, &er) {
			msg = er.Message
		}
	}
	// With a request ID in the body and the x-amz-request-id header, as
	// every S3 error has.
	writeAuthError(w, r, string(code), msg, code.Status())
}

var isTruncatedElem = []byte("<IsTruncated>")

// fixListCounts adds to an object listing the MaxKeys and (v2) KeyCount
// that gofakes3 leaves out when they are 0.
func fixListCounts(body []byte, v2 bool) []byte {
	if !bytes.Contains(body[:min(len(body), 200)], []byte("<ListBucketResult")) {
		return body
	}
	var add string
	if !bytes.Contains(body, []byte("<MaxKeys>")) {
		add += "<MaxKeys>0</MaxKeys>"
	}
	if v2 && !bytes.Contains(body, []byte("<KeyCount>")) {
		add += "<KeyCount>0</KeyCount>"
	}
	if add == "" {
		return body
	}
	return bytes.Replace(body, isTruncatedElem, append([]byte(add), isTruncatedElem...), 1)
}

// headRangeWriter turns the 200 of a HEAD with a Range into the 206 (or
// 416) a GET would answer, from the object's size.
type headRangeWriter struct {
	http.ResponseWriter
	rng  string
	done bool
}

func (h *headRangeWriter) WriteHeader(code int) {
	if code == http.StatusOK && !h.done {
		if size, err := strconv.ParseInt(h.Header().Get("Content-Length"), 10, 64); err == nil {
			start, end, ok := byteRange(h.rng, size)
			if ok {
				h.Header().Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(size, 10))
				h.Header().Set("Content-Length", strconv.FormatInt(end-start+1, 10))
				code = http.StatusPartialContent
			} else {
				h.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
				h.Header().Del("Content-Length")
				code = http.StatusRequestedRangeNotSatisfiable
			}
		}
	}
	h.done = true
	h.ResponseWriter.WriteHeader(code)
}

func (h *headRangeWriter) Write(p []byte) (int, error) {
	if !h.done {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(p)
}

// byteRange resolves a Range header that validRange accepts against an
// object of size bytes: the first and last byte, or !ok when no byte of
// the object is in range.
func byteRange(v string, size int64) (start, end int64, ok bool) {
	spec := strings.TrimPrefix(strings.TrimSpace(v), "bytes=")
	first, last, _ := strings.Cut(strings.TrimSpace(spec), "-")
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	f, ferr := strconv.ParseInt(first, 10, 64)
	l, lerr := strconv.ParseInt(last, 10, 64)
	switch {
	case first == "": // suffix
		if lerr != nil || l <= 0 || size == 0 {
			return 0, 0, false
		}
		return max(size-l, 0), size - 1, true
	case ferr != nil || f >= size:
		return 0, 0, false
	case last == "" || lerr != nil || l >= size:
		return f, size - 1, true
	}
	return f, l, true
}

// peekBody reads up to limit bytes of r's body and puts them back: the
// handler then reads the same bytes, and the same error after them (the
// verifying reader of auth.go fails at the end of a body that does not
// match its signature). A longer body is an error here.
func peekBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	rest := io.Reader(r.Body)
	if err != nil {
		rest = errReader{err}
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), rest), r.Body}
	if err == nil && int64(len(body)) > limit {
		err = errors.New("body too long to look at")
	}
	return body, err
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// checkChecksumHeaders refuses an x-amz-checksum-* header whose value is not
// the base64 of a digest of its algorithm's size.
func checkChecksumHeaders(h http.Header) error {
	for name, newHash := range checksumHashes {
		v := h.Get(name)
		if v == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) != newHash().Size() {
			return gofakes3.ErrorMessagef(gofakes3.ErrBadDigest, "The %s you specified did not match the calculated checksum.", name)
		}
	}
	return nil
}

// fixAttributesETag puts a multipart object's ETag in a GetObjectAttributes
// answer in place of the MD5 of its content, and the object's storage
// class in place of the STANDARD gofakes3 always says.
func (b *backend) fixAttributesETag(ctx context.Context, bucket, key string, body []byte) []byte {
	user := auth.User(ctx)
	if user == "" {
		return body
	}
	o, err := b.gw.Catalog().Stat(ctx, user, bucket, key)
	if err != nil {
		return body
	}
	if class := storageClassOf(o.Meta); class != standardClass {
		body = bytes.Replace(body, []byte("<StorageClass>"+standardClass+"</StorageClass>"), []byte("<StorageClass>"+xmlText(class)+"</StorageClass>"), 1)
	}
	if o.ETagValue == "" || o.MD5 == "" {
		return body
	}
	body = bytes.Replace(body, []byte("<ETag>"+o.MD5+"</ETag>"), []byte("<ETag>"+xmlText(o.ETagValue)+"</ETag>"), 1)
	for name := range checksumHashes {
		if v := o.Meta[textproto.CanonicalMIMEHeaderKey(name)]; strings.Contains(v, "-") {
			body = bytes.Replace(body, []byte("<ChecksumType>FULL_OBJECT</ChecksumType>"), []byte("<ChecksumType>COMPOSITE</ChecksumType>"), 1)
		}
	}
	return body
}

// noSubresource reports whether a request's query names no sub-resource
// (?uploadId, ?acl, ...): it is empty or holds only what SDKs and presigned
// URLs add (x-id, X-Amz-*, SigV2's AWSAccessKeyId, Expires and Signature).
func noSubresource(q url.Values) bool {
	for k := range q {
		switch {
		case k == "x-id", strings.HasPrefix(strings.ToLower(k), "x-amz-"), k == "AWSAccessKeyId", k == "Expires", k == "Signature":
		default:
			return false
		}
	}
	return true
}

// checksumElements are the XML elements of the checksums, by header name,
// in the order S3 writes them.
var checksumElements = []struct{ header, element string }{
	{"x-amz-checksum-crc32", "ChecksumCRC32"}, {"x-amz-checksum-crc32c", "ChecksumCRC32C"},
	{"x-amz-checksum-crc64nvme", "ChecksumCRC64NVME"}, {"x-amz-checksum-sha1", "ChecksumSHA1"},
	{"x-amz-checksum-sha256", "ChecksumSHA256"},
}

// fixCopyResult adds to a CopyObjectResult the checksums of the copy
// (reqState.copySums), with their type, as S3 answers them: gofakes3's
// result has only the ETag and the time.
func fixCopyResult(ctx context.Context, body []byte) []byte {
	st := stateFrom(ctx)
	const end = "</CopyObjectResult>"
	i := bytes.LastIndex(body, []byte(end))
	if st == nil || len(st.copySums) == 0 || i < 0 {
		return body
	}
	var b strings.Builder
	typ := "FULL_OBJECT"
	for _, e := range checksumElements {
		if v := st.copySums[e.header]; v != "" {
			if strings.Contains(v, "-") {
				typ = "COMPOSITE"
			}
			b.WriteString("<" + e.element + ">" + xmlText(v) + "</" + e.element + ">")
		}
	}
	out := append([]byte{}, body[:i]...)
	out = append(out, "<ChecksumType>"+typ+"</ChecksumType>"+b.String()...)
	return append(out, body[i:]...)
}

var (
	versionRe      = regexp.MustCompile(`(?s)<Version>.*?</Version>`)
	versionKeyRe   = regexp.MustCompile(`<Key>([^<]*)</Key>`)
	standardInList = []byte("<StorageClass>" + standardClass + "</StorageClass>")
)

// fixVersionClasses puts each object's storage class in a
// ListObjectVersions answer, where gofakes3 says STANDARD for all (the
// class is in the object's row: one catalog read per version listed).
// urlKeys: the keys are URL-encoded (encoding-type=url).
func (b *backend) fixVersionClasses(ctx context.Context, bucket string, body []byte, urlKeys bool) []byte {
	user := auth.User(ctx)
	if user == "" || !bytes.Contains(body, standardInList) {
		return body
	}
	return versionRe.ReplaceAllFunc(body, func(v []byte) []byte {
		m := versionKeyRe.FindSubmatch(v)
		if m == nil {
			return v
		}
		var key string
		if err := xml.Unmarshal([]byte("<k>"+string(m[1])+"</k>"), &key); err != nil {
			return v
		}
		if urlKeys {
			k, err := url.QueryUnescape(key)
			if err != nil {
				return v
			}
			key = k
		}
		o, err := b.gw.Catalog().Stat(ctx, user, bucket, key)
		if err != nil {
			return v
		}
		if class := storageClassOf(o.Meta); class != standardClass {
			return bytes.Replace(v, standardInList, []byte("<StorageClass>"+xmlText(class)+"</StorageClass>"), 1)
		}
		return v
	})
}
