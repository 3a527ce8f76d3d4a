package s3api

// Fuzz tests of the request parsers this package owns: the aws-chunked
// decoder (signed, unsigned, with trailers), SigV2 canonicalization, the
// POST policy and form, and the CompleteMultipartUpload and DeleteObjects
// bodies. Seeds are what the aws cli, rclone, minio-go, botocore and the
// AWS documentation send. `make fuzz` runs each for a while; plain
// `go test` runs the seeds and testdata/fuzz/.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	mpart "mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rclone/gofakes3"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
	"shoebox/gateway/localfs"
)

// ---- aws-chunked ----

// chunkMode and trailerAlg pick a mode and a checksum trailer from a
// fuzzed number.
func chunkMode(n uint8) string {
	return [...]string{streamingSigned, streamingSignedTrl, streamingUnsignedTr}[n%3]
}

func trailerAlg(n uint8) string {
	return [...]string{"", "crc32", "crc32c", "crc64nvme", "sha1", "sha256"}[n%6]
}

// fuzzSeedSig is the seed signature (the Authorization header's) of the
// fuzzed signed streams.
const fuzzSeedSig = "19b25856e1c150ca834cffc8b59b23adbd0ec0389e58eb22b3b64768098d002b"

// fuzzSigner is the chunk signer of a request signed at `at` with the seed.
func fuzzSigner(tb testing.TB, at time.Time) *chunkSigner {
	r := httptest.NewRequest("PUT", "/b/k", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+sigKeyID+"/"+at.UTC().Format("20060102")+"/"+sigRegion+
		"/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="+fuzzSeedSig)
	r.Header.Set("X-Amz-Date", at.UTC().Format(amzDateFormat))
	sg := newChunkSigner(r, sigSecret)
	if sg == nil {
		tb.Fatal("newChunkSigner: nil")
	}
	return sg
}

// decodeChunked decodes body as Authenticate would, reading the decoded
// body in reads of the sizes given (cycled; 0 is 32 KiB). It returns the
// data read, the verified checksum trailer and the first error.
func decodeChunked(t *testing.T, body []byte, mode string, sg *chunkSigner, decoded int64, trailer string, sizes []byte) ([]byte, string, error) {
	t.Helper()
	r := httptest.NewRequest("PUT", "/b/k", bytes.NewReader(body))
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.FormatInt(decoded, 10))
	if trailer != "" {
		r.Header.Set("X-Amz-Trailer", trailer)
	}
	st := &bodyState{}
	if mode == streamingUnsignedTr {
		sg = nil
	}
	if e := prepareChunked(r, mode, sg, st); e != nil {
		return nil, "", e
	}
	if r.ContentLength != decoded {
		t.Fatalf("decoded Content-Length %d; want %d", r.ContentLength, decoded)
	}
	var out []byte
	if len(sizes) == 0 {
		sizes = []byte{0}
	}
	buf := make([]byte, 32<<10)
	for i, stalls := 0, 0; ; i++ {
		n := int(sizes[i%len(sizes)])
		if n == 0 {
			n = len(buf)
		}
		got, err := r.Body.Read(buf[:n])
		out = append(out, buf[:got]...)
		if len(out) > len(body) {
			t.Fatalf("decoded %d bytes from %d", len(out), len(body))
		}
		if err == io.EOF {
			_, sum := trailerChecksum(context.WithValue(context.Background(), bodyStateKey{}, st))
			return out, sum, nil
		}
		if err != nil {
			if e := asBodyError(err); e == nil {
				t.Fatalf("decode error %v (%T); want a *BodyError", err, err)
			}
			if st.failed() == nil {
				t.Fatalf("decode error %v not recorded in the body state", err)
			}
			return out, "", err
		}
		if got == 0 {
			if stalls++; stalls > 2 {
				t.Fatal("Read makes no progress")
			}
		}
	}
}

// FuzzChunkedDecode feeds the decoder arbitrary bodies: it never panics,
// never returns more than it was given or more than the declared length,
// returns the declared length exactly when it succeeds, fails only with
// S3 errors, and decodes the same whatever the size of the reads.
func FuzzChunkedDecode(f *testing.F) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	enc := func(c *chunkEnc, data string, sizes []int, trailers ...string) []byte {
		return c.encode([]byte(data), sizes, trailers...)
	}
	data := "Hello, aws-chunked world! 0123456789"
	// Valid bodies in each mode (what aws cli, minio-go and rclone send),
	// then broken ones.
	f.Add(enc(nil, data, []int{8}, "x-amz-checksum-crc32:"+checksumOf("crc32", []byte(data))), uint8(2), uint8(1), int64(len(data)), []byte{0})
	f.Add(enc(nil, data, []int{64}, "x-amz-checksum-crc64nvme:"+checksumOf("crc64nvme", []byte(data))), uint8(2), uint8(3), int64(len(data)), []byte{1, 7})
	f.Add(enc(nil, "", []int{1}, "x-amz-checksum-sha256:"+checksumOf("sha256", nil)), uint8(2), uint8(5), int64(0), []byte{0})
	f.Add(enc(nil, data, []int{5}), uint8(2), uint8(0), int64(len(data)), []byte{3})
	f.Add(enc(newChunkEnc(sigSecret, at, fuzzSeedSig), data, []int{16}), uint8(0), uint8(0), int64(len(data)), []byte{0})
	f.Add(enc(newChunkEnc(sigSecret, at, fuzzSeedSig), data, []int{16}, "x-amz-checksum-crc32c:"+checksumOf("crc32c", []byte(data))), uint8(1), uint8(2), int64(len(data)), []byte{2})
	f.Add([]byte("A\r\n0123456789\r\n0\r\n\r\n"), uint8(2), uint8(0), int64(10), []byte{0}) // uppercase hex, as the Rust SDK writes
	f.Add([]byte("4\r\nabcd\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"), uint8(2), uint8(1), int64(4), []byte{0})
	f.Add([]byte("ffffffffffffffff\r\n"), uint8(2), uint8(0), int64(1<<62), []byte{0})
	f.Add([]byte("5;chunk-signature=zz\r\nabc"), uint8(0), uint8(0), int64(5), []byte{1})
	f.Add([]byte("0\r\n"), uint8(2), uint8(0), int64(0), []byte{0})
	f.Add([]byte(""), uint8(2), uint8(0), int64(0), []byte{0})
	f.Fuzz(func(t *testing.T, body []byte, mode, alg uint8, decoded int64, sizes []byte) {
		m := chunkMode(mode)
		trailer := ""
		if a := trailerAlg(alg); a != "" {
			trailer = "x-amz-checksum-" + a
		}
		sg := fuzzSigner(t, at)
		out, sum, err := decodeChunked(t, body, m, sg, decoded, trailer, sizes)
		if decoded < 0 {
			if bodyErrCode(err) != "InvalidArgument" {
				t.Fatalf("declared length %d: %v; want InvalidArgument", decoded, err)
			}
			return
		}
		if int64(len(out)) > decoded {
			t.Fatalf("decoded %d bytes; declared %d", len(out), decoded)
		}
		if err == nil && int64(len(out)) != decoded {
			t.Fatalf("decoded %d bytes without error; declared %d", len(out), decoded)
		}
		if err == nil && trailer != "" && sum == "" {
			t.Fatalf("accepted without the announced %s trailer", trailer)
		}
		// The same body read in large reads gives the same answer.
		out2, sum2, err2 := decodeChunked(t, body, m, fuzzSigner(t, at), decoded, trailer, nil)
		if bodyErrCode(err) != bodyErrCode(err2) || (err == nil && (!bytes.Equal(out, out2) || sum != sum2)) {
			t.Fatalf("reads of %v: %q %q %v; large reads: %q %q %v", sizes, out, sum, err, out2, sum2, err2)
		}
	})
}

func bodyErrCode(err error) string {
	if e := asBodyError(err); e != nil {
		return e.Code
	}
	return ""
}

// isCaseFlip reports whether a and b are one ASCII letter in two cases.
func isCaseFlip(a, b byte) bool {
	return a^b == 0x20 && ((a|0x20) >= 'a' && (a|0x20) <= 'z')
}

// FuzzChunkedRoundTrip encodes data as the SDKs do, in every mode, and
// checks it decodes to the same bytes and trailer; then flips one byte:
// a signed stream (or one with a checksum trailer) so altered is refused,
// unless the flip only changed the case of a letter the format does not
// tell apart (hex digits, trailer names) and the data is unchanged.
func FuzzChunkedRoundTrip(f *testing.F) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Add([]byte("Hello, aws-chunked world!"), uint16(8), uint8(0), uint8(0), uint32(0), uint8(1))
	f.Add([]byte("Hello, aws-chunked world!"), uint16(8), uint8(1), uint8(1), uint32(90), uint8(0x20))
	f.Add([]byte("Hello, aws-chunked world!"), uint16(64), uint8(2), uint8(3), uint32(3), uint8(0x80))
	f.Add(bytes.Repeat([]byte{0, 1, 2, 0xff}, 300), uint16(1000), uint8(1), uint8(4), uint32(1205), uint8(4))
	f.Add([]byte{}, uint16(1), uint8(2), uint8(5), uint32(7), uint8(0xff))
	f.Add([]byte{}, uint16(1), uint8(0), uint8(0), uint32(1), uint8(0x20))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, mode, alg uint8, flip uint32, xor uint8) {
		m := chunkMode(mode)
		a := trailerAlg(alg)
		if a == "" && m == streamingSignedTrl {
			a = "crc32" // the SDKs send a trailer with this mode
		}
		size := max(1, int(chunk)%8192)
		var enc *chunkEnc
		if m != streamingUnsignedTr {
			enc = newChunkEnc(sigSecret, at, fuzzSeedSig)
		}
		var trailers []string
		trailer, wantSum := "", ""
		if a != "" && m != streamingSigned {
			trailer, wantSum = "x-amz-checksum-"+a, checksumOf(a, data)
			trailers = []string{trailer + ":" + wantSum}
		}
		body := enc.encode(data, []int{size}, trailers...)
		out, sum, err := decodeChunked(t, body, m, fuzzSigner(t, at), int64(len(data)), trailer, []byte{byte(size), 0})
		if err != nil || !bytes.Equal(out, data) || sum != wantSum {
			t.Fatalf("%s %q: decoded %q %q %v; want %q %q", m, body, out, sum, err, data, wantSum)
		}
		if xor == 0 || len(body) == 0 {
			return
		}
		pos := int(flip % uint32(len(body)))
		altered := bytes.Clone(body)
		altered[pos] ^= xor
		out, _, err = decodeChunked(t, altered, m, fuzzSigner(t, at), int64(len(data)), trailer, []byte{0})
		if err != nil {
			return
		}
		protected := m != streamingUnsignedTr || trailer != ""
		if protected && (!bytes.Equal(out, data) || !isCaseFlip(body[pos], altered[pos])) {
			t.Fatalf("%s: byte %d flipped (%q to %q) in %q: accepted, decoded %q", m, pos, body[pos], altered[pos], body, out)
		}
	})
}

// ---- SigV2 ----

// refV2StringToSign is SigV2's string to sign as botocore's HmacV1Auth and
// MinIO build it, written apart from v2StringToSign: x-amz-* headers by
// name, values joined with ","; signed sub-resources sorted by name, the
// first value of each, "name" alone when the value is empty.
func refV2StringToSign(r *http.Request, date, resource string) string {
	first := func(name string) string {
		if v := r.Header.Values(name); len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	custom := map[string][]string{}
	var names []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "x-amz-") {
			continue
		}
		if _, ok := custom[lk]; !ok {
			names = append(names, lk)
		}
		for _, v := range vs {
			custom[lk] = append(custom[lk], strings.TrimSpace(v))
		}
	}
	sort.Strings(names)
	s := strings.ToUpper(r.Method) + "\n" + first("Content-Md5") + "\n" + first("Content-Type") + "\n" + date + "\n"
	for _, n := range names {
		s += n + ":" + strings.Join(custom[n], ",") + "\n"
	}
	s += resource
	q := r.URL.Query()
	var keys []string
	for k := range q {
		if v2Botocore[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			s += "?"
		} else {
			s += "&"
		}
		s += k
		if v := q.Get(k); v != "" {
			s += "=" + v
		}
	}
	return s
}

// FuzzSigV2StringToSign reads a request off the wire and checks the SigV2
// string to sign against the reference above.
func FuzzSigV2StringToSign(f *testing.F) {
	for _, s := range []string{
		// botocore's "s3" signer, s3cmd (signature_v2), aws cli v1 presign, boto2.
		"PUT /bkt/a%20key.txt HTTP/1.1\r\nHost: s3.test\r\nContent-Type: text/plain\r\nContent-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==\r\nDate: Tue, 27 Mar 2007 21:15:45 +0000\r\nX-Amz-Meta-Color: blue\r\nx-amz-acl: public-read\r\nContent-Length: 0\r\n\r\n",
		"GET /photos/puppy.jpg?versionId=3/L4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY&response-content-type=image/jpeg&list-type=2 HTTP/1.1\r\nHost: johnsmith.s3.amazonaws.com\r\nDate: Tue, 27 Mar 2007 19:36:42 +0000\r\n\r\n",
		"POST /bkt/obj?uploads HTTP/1.1\r\nHost: s3.test\r\nDate: Tue, 27 Mar 2007 19:36:42 +0000\r\nX-Amz-Meta-A: 1\r\nX-Amz-Meta-A-B: 2\r\nX-Amz-Meta-A: 3\r\n\r\n",
		"POST /bkt/obj?select&select-type=2 HTTP/1.1\r\nHost: s3.test\r\nX-Amz-Date: Tue, 27 Mar 2007 19:36:42 +0000\r\n\r\n",
		"PUT /bkt?acl= HTTP/1.1\r\nHost: s3.test\r\nx-amz-grant-read: id=\"a\", id=\"b\"\r\n\r\n",
		"DELETE /bkt/k?uploadId=abc&uploadId=def&partNumber=3 HTTP/1.1\r\nHost: s3.test\r\n\r\n",
		"GET /?versions&versioning HTTP/1.1\r\nHost: bkt.s3.test\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		res := r.URL.EscapedPath()
		got := v2StringToSign(r, r.Header.Get("Date"), res, v2Botocore)
		if again := v2StringToSign(r, r.Header.Get("Date"), res, v2Botocore); again != got {
			t.Fatalf("not deterministic: %q, then %q", got, again)
		}
		if want := refV2StringToSign(r, r.Header.Get("Date"), res); got != want {
			t.Fatalf("request %q: string to sign\n%q; want\n%q", raw, got, want)
		}
	})
}

// ---- POST policy and form ----

// printPolicy writes p back as a policy document (JSON, not yet base64).
func printPolicy(p *postPolicy) []byte {
	conds := []any{}
	for _, c := range p.conds {
		conds = append(conds, []string{c.op, "$" + c.field, c.value})
	}
	if p.lengthSet {
		conds = append(conds, []any{"content-length-range", p.minLength, p.maxLength})
	}
	b, _ := json.Marshal(map[string]any{"expiration": p.expires.Format(time.RFC3339Nano), "conditions": conds})
	return b
}

// FuzzPostPolicy parses policy documents: it never panics, refuses with
// InvalidPolicyDocument, and what it accepts prints and parses back the
// same.
func FuzzPostPolicy(f *testing.F) {
	for _, s := range []string{
		// The AWS documentation's examples, boto3's generate_presigned_post,
		// minio-go's PostPolicy, and edge cases.
		`{ "expiration": "2007-12-01T12:00:00.000Z", "conditions": [ {"acl": "public-read" }, {"bucket": "johnsmith" }, ["starts-with", "$key", "user/eric/"] ] }`,
		`{"expiration": "2015-12-30T12:00:00.000Z", "conditions": [{"bucket": "sigv4examplebucket"}, ["starts-with", "$key", "user/user1/"], {"acl": "public-read"}, {"success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"}, ["starts-with", "$Content-Type", "image/"], {"x-amz-meta-uuid": "14365123651274"}, {"x-amz-server-side-encryption": "AES256"}, ["starts-with", "$x-amz-meta-tag", ""], {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"}, {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-date": "20151229T000000Z" }]}`,
		`{"expiration": "2024-05-01T13:00:00Z", "conditions": [{"bucket": "b"}, {"key": "k"}, ["content-length-range", 1, 1048576], {"x-amz-algorithm": "AWS4-HMAC-SHA256"}]}`,
		`{"expiration":"2024-05-01T13:00:00.000Z","conditions":[["eq","$bucket","b"],["starts-with","$key","up/"],["content-length-range","0","10"],["eq","$Content-Type","image/jpeg"]]}`,
		`{"expiration":"2024-05-01T13:00:00Z","conditions":[["content-length-range",10,1]]}`,
		`{"expiration":"2024-05-01","conditions":[]}`,
		`{"expiration":"2024-05-01T13:00:00Z","conditions":[{"a":"1","b":"2"}]}`,
		`{"expiration":"2024-05-01T13:00:00Z","conditions":[["EQ","$$x","y"],{"$Key":"v"}]}`,
		`{"expiration":"2024-05-01T13:00:00Z","conditions":[["content-length-range",1e3,99999999999999999999]]}`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		b64 := base64.StdEncoding.EncodeToString(doc)
		p, e := parsePostPolicy(b64)
		if len(b64) > maxPostPolicy {
			if e == nil {
				t.Fatalf("policy of %d bytes accepted", len(b64))
			}
		}
		if e != nil {
			if e.Code != "InvalidPolicyDocument" || e.Status != http.StatusBadRequest {
				t.Fatalf("policy %q: error %+v; want 400 InvalidPolicyDocument", doc, e)
			}
			return
		}
		if p.lengthSet && (p.minLength < 0 || p.maxLength < p.minLength) {
			t.Fatalf("policy %q: content-length-range %d-%d accepted", doc, p.minLength, p.maxLength)
		}
		printed := printPolicy(p)
		p2, e := parsePostPolicy(base64.StdEncoding.EncodeToString(printed))
		if e != nil {
			t.Fatalf("policy %q printed as %s: %v", doc, printed, e)
		}
		if !p.expires.Equal(p2.expires) {
			t.Fatalf("policy %q printed as %s: expires %v; want %v", doc, printed, p2.expires, p.expires)
		}
		p.expires, p2.expires = time.Time{}, time.Time{}
		if len(p.conds) == 0 {
			p.conds = nil
		}
		if len(p2.conds) == 0 {
			p2.conds = nil
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("policy %q printed as %s: got %+v; want %+v", doc, printed, p2, p)
		}
	})
}

// FuzzPostForm reads browser upload forms: never a panic, refusals are
// 400s, and no more than maxPostFields bytes of fields are kept.
func FuzzPostForm(f *testing.F) {
	form := func(fields ...string) []byte {
		var b bytes.Buffer
		w := mpart.NewWriter(&b)
		w.SetBoundary("XyZzY")
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i] == "file" {
				fw, _ := w.CreateFormFile("file", "photo.jpg")
				io.WriteString(fw, fields[i+1])
				continue
			}
			w.WriteField(fields[i], fields[i+1])
		}
		w.Close()
		return b.Bytes()
	}
	f.Add(form("key", "user/${filename}", "acl", "public-read", "Content-Type", "image/jpeg", "x-amz-meta-uuid", "1",
		"policy", "eyJ9", "x-amz-algorithm", "AWS4-HMAC-SHA256", "x-amz-credential", "AK/20240501/us-east-1/s3/aws4_request",
		"x-amz-date", "20240501T000000Z", "x-amz-signature", "00", "file", "JPEGDATA"))
	f.Add(form("key", "k", "AWSAccessKeyId", "AK", "signature", "c2ln", "policy", "eyJ9", "file", ""))
	f.Add(form("key", "k", "key", "other", "", "nameless"))
	f.Add([]byte("--XyZzY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"..\\\\a\\\\b.jpg\"\r\n\r\nx\r\n--XyZzY--\r\n"))
	f.Add([]byte("--XyZzY\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/b", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary=XyZzY")
		pf, e := readPostForm(r)
		if e != nil {
			if e.Status != http.StatusBadRequest {
				t.Fatalf("form %q: %+v; want a 400", body, e)
			}
			return
		}
		n := 0
		for k, v := range pf.fields {
			n += len(v)
			if k != strings.ToLower(k) || k == "" {
				t.Fatalf("form %q: field name %q", body, k)
			}
		}
		if n > maxPostFields {
			t.Fatalf("form %q: %d bytes of fields kept", body, n)
		}
		if pf.file == nil || strings.ContainsAny(pf.filename, `/\`) {
			t.Fatalf("form %q: file %v, filename %q", body, pf.file, pf.filename)
		}
		io.Copy(io.Discard, io.LimitReader(pf.file, int64(len(body))))
	})
}

// ---- CompleteMultipartUpload and DeleteObjects ----

// FuzzCompleteMultipartBody parses CompleteMultipartUpload bodies: S3
// errors for bad ones, bodies over the limit refused having read no more
// than one byte past it, and what is accepted marshals and parses back the
// same.
func FuzzCompleteMultipartBody(f *testing.F) {
	for _, s := range []string{
		// aws cli / botocore, minio-go, rclone (aws-sdk-go).
		`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"a54357aff0632cce46d942af68356b38"</ETag><PartNumber>1</PartNumber></Part><Part><ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>`,
		`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>&#34;a54357aff0632cce46d942af68356b38&#34;</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part><Part><PartNumber>1</PartNumber><ETag>y</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>0</PartNumber></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>99999999999999999999</PartNumber></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload></CompleteMultipartUpload>`,
		`<Other><Part><PartNumber>1</PartNumber></Part></Other>`,
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>`), true)
	f.Fuzz(func(t *testing.T, body []byte, pad bool) {
		var src io.Reader = bytes.NewReader(body)
		cr := &countingReader{r: src}
		if pad {
			// A valid document, then more than the limit: an endless body
			// must be refused having read only the limit.
			cr.r = io.MultiReader(bytes.NewReader(body), endless{' '})
		}
		in, err := parseCompleteRequest(cr)
		if cr.n > maxCompleteBody+32<<10 {
			t.Fatalf("read %d bytes of a body; the limit is %d", cr.n, maxCompleteBody)
		}
		if pad || len(body) > maxCompleteBody {
			if !isS3Code(err, gofakes3.ErrMaxMessageLengthExceeded) {
				t.Fatalf("body over the limit: %v; want MaxMessageLengthExceeded", err)
			}
			return
		}
		if err != nil {
			var ec gofakes3.ErrorCode
			var em *gofakes3.ErrorResponse
			if !errors.As(err, &em) && !errors.As(err, &ec) {
				t.Fatalf("body %q: error %v (%T); want an S3 error", body, err, err)
			}
			return
		}
		for i, p := range in.Parts {
			if p.PartNumber < 1 || p.PartNumber > 10000 || (i > 0 && p.PartNumber <= in.Parts[i-1].PartNumber) {
				t.Fatalf("body %q: parts %+v accepted", body, in.Parts)
			}
		}
		printed, err := xml.Marshal(in)
		if err != nil {
			t.Fatalf("marshal %+v: %v", in, err)
		}
		in2, err := parseCompleteRequest(bytes.NewReader(printed))
		in.XMLName, in2.XMLName = xml.Name{}, xml.Name{}
		if err != nil || !reflect.DeepEqual(in, in2) {
			t.Fatalf("body %q printed as %s: %+v, %v; want %+v", body, printed, in2, err, in)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// endless is a body that never ends.
type endless struct{ b byte }

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.b
	}
	return len(p), nil
}

func isS3Code(err error, code gofakes3.ErrorCode) bool {
	var em *gofakes3.ErrorResponse
	if errors.As(err, &em) {
		return em.Code == code
	}
	var ec gofakes3.ErrorCode
	return errors.As(err, &ec) && ec == code
}

// FuzzDeleteObjects sends DeleteObjects bodies through the whole S3
// handler: never a 5xx, and no object the body does not name (as an
// independent XML reading of it names them) is deleted.
func FuzzDeleteObjects(f *testing.F) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { cat.Close() })
	dir := f.TempDir()
	be, err := localfs.New(dir+"/objects", localfs.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { be.Close() })
	gw := gateway.New(be, cat, gateway.Options{Logger: quiet})
	h, err := New(gw, Config{UploadDir: dir + "/multipart", Logger: quiet, Authenticate: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), "alice")))
		})
	}})
	if err != nil {
		f.Fatal(err)
	}
	do := func(tb testing.TB, method, target string, body []byte) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(method, target, bytes.NewReader(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		h.ServeHTTP(w, r)
		return w
	}
	if w := do(f, "PUT", "/bkt", nil); w.Code != 200 {
		f.Fatalf("create bucket: %d %s", w.Code, w.Body)
	}
	exists := func(key string) bool {
		_, err := cat.Stat(context.Background(), "alice", "bkt", key)
		return err == nil
	}
	// The objects kept in bucket "bkt".
	sentinels := []string{"keep", "dir/keep", "a/b/c", "empty/", "sp ace+%41", "é"}
	restore := func(tb testing.TB) {
		for _, k := range sentinels {
			if !exists(k) {
				body := []byte("x")
				if strings.HasSuffix(k, "/") {
					body = nil
				}
				if w := do(tb, "PUT", "/bkt/"+escapeKey(k), body); w.Code != 200 {
					tb.Fatalf("put %s: %d %s", k, w.Code, w.Body)
				}
			}
		}
	}
	restore(f)
	obj := func(keys ...string) []byte {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
		for _, k := range keys {
			b.WriteString("<Object><Key>" + xmlText(k) + "</Key></Object>")
		}
		b.WriteString("<Quiet>true</Quiet></Delete>")
		return []byte(b.String())
	}
	// aws cli (s3 rm --recursive), rclone, minio-go (RemoveObjects).
	f.Add(obj("keep"))
	f.Add(obj("dir/", "a/b", "a/b/", "a", "nothing"))
	f.Add(obj("dir/../keep", "./keep", "/keep", "a//b/c", "a/b/c/.."))
	f.Add([]byte(`<Delete><Object><Key>keep</Key><VersionId>null</VersionId></Object><Object><Key>a/b/c</Key><ETag>"x"</ETag></Object></Delete>`))
	f.Add([]byte(`<Delete><Object><Key>sp ace+%41</Key></Object><Object><Key>é</Key></Object><Quiet>false</Quiet></Delete>`))
	f.Add([]byte(`<Delete><Object><Key></Key></Object></Delete>`))
	f.Add([]byte(`<Delete><Quiet>maybe</Quiet></Delete>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var named struct {
			Objects []struct {
				Key string `xml:"Key"`
			} `xml:"Object"`
		}
		xml.Unmarshal(body, &named)
		w := do(t, "POST", "/bkt?delete", body)
		if w.Code >= 500 {
			t.Fatalf("DeleteObjects %q: %d %s", body, w.Code, w.Body)
		}
		if w.Code >= 300 && !strings.Contains(w.Body.String(), "<Code>") {
			t.Fatalf("DeleteObjects %q: %d without an S3 error: %s", body, w.Code, w.Body)
		}
		for _, k := range sentinels {
			if exists(k) {
				continue
			}
			gone := false
			for _, o := range named.Objects {
				gone = gone || o.Key == k || (strings.HasSuffix(k, "/") && o.Key == strings.TrimSuffix(k, "/"))
			}
			if !gone {
				t.Fatalf("DeleteObjects %q (%d %s) deleted %q, which it does not name", body, w.Code, w.Body, k)
			}
		}
		restore(t)
	})
}
