package s3api_test

// Browser-based uploads (POST Object), sent the way browsers and Python's
// requests send forms, through the real authentication. Written from S3's
// documentation of POST policies and form fields.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type formField struct{ name, value string }

// postForm POSTs fields (in order) and then the file to url. asFiles sends
// every field as a file part named after it, as Python's requests does.
func postForm(t *testing.T, url string, fields []formField, filename string, file []byte, asFiles bool) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		var w io.Writer
		var err error
		if asFiles {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.name, f.name))
			w, err = mw.CreatePart(h)
		} else {
			w, err = mw.CreateFormField(f.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f.value)
	}
	w, _ := mw.CreateFormFile("file", filename)
	w.Write(file)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, url, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// policy encodes a policy document expiring in d with conds.
func policy(d time.Duration, conds ...any) string {
	doc, _ := json.Marshal(map[string]any{"expiration": time.Now().Add(d).UTC().Format("2006-01-02T15:04:05Z"), "conditions": conds})
	return base64.StdEncoding.EncodeToString(doc)
}

func signV2Policy(secret, pol string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(pol))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestPostObject(t *testing.T) {
	e := newAuthEnv(t)
	for _, b := range []string{"private-bkt", "other-bkt"} {
		if _, err := e.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("open-bkt"), ACL: "public-read-write"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("read-bkt"), ACL: "public-read"}); err != nil {
		t.Fatal(err)
	}
	get := func(bucket, key string) (string, *s3.GetObjectOutput) {
		t.Helper()
		out, err := e.alice.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Errorf("GetObject %s/%s: %v", bucket, key, err)
			return "", nil
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		return string(b), out
	}
	stdConds := func(bucket string) []any {
		return []any{map[string]string{"bucket": bucket}, []any{"starts-with", "$key", "foo"}, map[string]string{"acl": "private"},
			[]any{"starts-with", "$Content-Type", "text/plain"}, []any{"content-length-range", 0, 1024}}
	}
	signed := func(pol, key string, extra ...formField) []formField {
		f := []formField{{"key", key}, {"AWSAccessKeyId", "AKALICE"}, {"acl", "private"}, {"signature", signV2Policy("alice-secret", pol)}, {"policy", pol}, {"Content-Type", "text/plain"}}
		return append(f, extra...)
	}

	// Anonymous, into a public-read-write bucket, fields as files.
	resp, body := postForm(t, e.url+"/open-bkt", []formField{{"key", "foo.txt"}, {"acl", "public-read"}, {"Content-Type", "text/plain"}}, "x", []byte("bar"), true)
	if resp.StatusCode != 204 || body != "" {
		t.Errorf("anonymous POST to a public-read-write bucket: %d %q; want 204", resp.StatusCode, body)
	}
	if got, out := get("open-bkt", "foo.txt"); got != "bar" || out == nil || aws.ToString(out.ContentType) != "text/plain" {
		t.Errorf("anonymously posted object: %q", got)
	}
	// Anonymous into a bucket that is only public-read, or private: refused.
	for _, b := range []string{"read-bkt", "private-bkt"} {
		if resp, body := postForm(t, e.url+"/"+b, []formField{{"key", "foo.txt"}}, "x", []byte("bar"), false); resp.StatusCode != 403 {
			t.Errorf("anonymous POST to %s: %d %s; want 403", b, resp.StatusCode, body)
		}
	}
	if resp, _ := postForm(t, e.url+"/no-such-bkt", []formField{{"key", "foo.txt"}}, "x", []byte("bar"), false); resp.StatusCode != 404 {
		t.Errorf("anonymous POST to a missing bucket: %d; want 404", resp.StatusCode)
	}
	// success_action_status 201: a PostResponse document.
	resp, body = postForm(t, e.url+"/open-bkt", []formField{{"key", "foo.txt"}, {"success_action_status", "201"}}, "x", []byte("bar"), false)
	var pr struct {
		XMLName xml.Name `xml:"PostResponse"`
		Bucket  string
		Key     string
		ETag    string
	}
	if resp.StatusCode != 201 || xml.Unmarshal([]byte(body), &pr) != nil || pr.Key != "foo.txt" || pr.Bucket != "open-bkt" || pr.ETag != `"37b51d194a7513e45b56f6524f2d51f2"` {
		t.Errorf("success_action_status 201: %d %s", resp.StatusCode, body)
	}
	if resp, body := postForm(t, e.url+"/open-bkt", []formField{{"key", "foo.txt"}, {"success_action_status", "404"}}, "x", []byte("bar"), false); resp.StatusCode != 204 || body != "" {
		t.Errorf("success_action_status 404: %d %q; want 204", resp.StatusCode, body)
	}

	// Signed with SigV2, the standard form.
	pol := policy(time.Hour, stdConds("private-bkt")...)
	for _, asFiles := range []bool{false, true} {
		if resp, body := postForm(t, e.url+"/private-bkt", signed(pol, "foo.txt"), "x", []byte("bar"), asFiles); resp.StatusCode != 204 {
			t.Errorf("signed POST (fields as files: %v): %d %s; want 204", asFiles, resp.StatusCode, body)
		}
	}
	if got, _ := get("private-bkt", "foo.txt"); got != "bar" {
		t.Errorf("signed POST stored %q", got)
	}
	// ${filename}, metadata, a tagging document, ignored fields, large files.
	polMeta := policy(time.Hour, append(stdConds("private-bkt"), []any{"starts-with", "$x-amz-meta-foo", "bar"}, []any{"starts-with", "$tagging", ""})...)
	tagging := "<Tagging><TagSet><Tag><Key>0</Key><Value>zero</Value></Tag></TagSet></Tagging>"
	if resp, body := postForm(t, e.url+"/private-bkt", signed(polMeta, "${filename}", formField{"x-amz-meta-foo", "barclamp"}, formField{"tagging", tagging}, formField{"x-ignore-me", "1"}), "foo name.txt", []byte("meta"), false); resp.StatusCode != 204 {
		t.Errorf("POST with ${filename} and metadata: %d %s; want 204", resp.StatusCode, body)
	}
	if got, out := get("private-bkt", "foo name.txt"); got != "meta" || out == nil || out.Metadata["foo"] != "barclamp" || aws.ToInt32(out.TagCount) != 1 {
		t.Errorf("POST with ${filename}: %q %+v", got, out)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	polBig := policy(time.Hour, map[string]string{"bucket": "private-bkt"}, []any{"starts-with", "$key", "foo"}, map[string]string{"acl": "private"},
		[]any{"starts-with", "$Content-Type", "text/plain"}, []any{"content-length-range", 4 << 20, 12 << 20})
	if resp, body := postForm(t, e.url+"/private-bkt", signed(polBig, "foo-big"), "x", big, false); resp.StatusCode != 204 {
		t.Errorf("4 MiB POST: %d %s; want 204", resp.StatusCode, body)
	}
	if got, _ := get("private-bkt", "foo-big"); got != string(big) {
		t.Errorf("4 MiB POST stored %d bytes", len(got))
	}
	// A checksum field is verified (and needs no condition).
	sum := sha256.Sum256([]byte("summed"))
	polSum := policy(time.Hour, stdConds("private-bkt")...)
	if resp, body := postForm(t, e.url+"/private-bkt", signed(polSum, "foo-sum", formField{"x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(sum[:])}), "x", []byte("summed"), false); resp.StatusCode != 204 {
		t.Errorf("POST with a right checksum: %d %s; want 204", resp.StatusCode, body)
	}
	if resp, body := postForm(t, e.url+"/private-bkt", signed(polSum, "fooX-sum", formField{"x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(sum[:])}), "x", []byte("not summed"), false); resp.StatusCode != 400 {
		t.Errorf("POST with a wrong checksum: %d %s; want 400", resp.StatusCode, body)
	}
	// A redirect after success, with bucket, key and ETag in that order.
	redirect := e.url + "/open-bkt"
	polRedir := policy(time.Hour, append(stdConds("private-bkt"), []any{"eq", "$success_action_redirect", redirect})...)
	resp, body = postForm(t, e.url+"/private-bkt", signed(polRedir, "foo.txt", formField{"success_action_redirect", redirect}), "x", []byte("bar"), false)
	if want := redirect + "?bucket=private-bkt&key=foo.txt&etag=%2237b51d194a7513e45b56f6524f2d51f2%22"; resp.StatusCode != 303 || resp.Header.Get("Location") != want {
		t.Errorf("success_action_redirect: %d Location %q; want 303 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	// SigV4 form.
	date := time.Now().UTC()
	cred := "AKALICE/" + date.Format("20060102") + "/us-east-1/s3/aws4_request"
	pol4 := policy(time.Hour, map[string]string{"bucket": "private-bkt"}, []any{"starts-with", "$key", "v4/"}, map[string]string{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
		map[string]string{"x-amz-credential": cred}, map[string]string{"x-amz-date": date.Format("20060102T150405Z")})
	k := []byte("AWS4alice-secret")
	for _, p := range []string{date.Format("20060102"), "us-east-1", "s3", "aws4_request", pol4} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(p))
		k = m.Sum(nil)
	}
	v4 := []formField{{"key", "v4/file"}, {"x-amz-algorithm", "AWS4-HMAC-SHA256"}, {"x-amz-credential", cred}, {"x-amz-date", date.Format("20060102T150405Z")}, {"policy", pol4}, {"x-amz-signature", hex.EncodeToString(k)}}
	if resp, body := postForm(t, e.url+"/private-bkt", v4, "x", []byte("v4 body"), false); resp.StatusCode != 204 {
		t.Errorf("SigV4 POST: %d %s; want 204", resp.StatusCode, body)
	}
	if got, _ := get("private-bkt", "v4/file"); got != "v4 body" {
		t.Errorf("SigV4 POST stored %q", got)
	}

	// Refusals: nothing is stored.
	rawPolicy := func(doc string) string { return base64.StdEncoding.EncodeToString([]byte(doc)) }
	exp := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	okConds := `[{"bucket": "private-bkt"}, ["starts-with", "$key", "foo"], {"acl": "private"}, ["starts-with", "$Content-Type", "text/plain"]]`
	for _, c := range []struct {
		name   string
		fields []formField
		file   []byte
		status int
		code   string
	}{
		{"bad access key", func() []formField { f := signed(pol, "fooX"); f[1].value = "AKNOBODY"; return f }(), nil, 403, "InvalidAccessKeyId"},
		{"bad signature", func() []formField { f := signed(pol, "fooX"); f[3].value = signV2Policy("wrong", pol); return f }(), nil, 403, "SignatureDoesNotMatch"},
		{"no signature", []formField{{"key", "fooX"}, {"AWSAccessKeyId", "AKALICE"}, {"policy", pol}}, nil, 400, "InvalidArgument"},
		{"no key", []formField{{"AWSAccessKeyId", "AKALICE"}, {"signature", signV2Policy("alice-secret", pol)}, {"policy", pol}}, nil, 400, "InvalidArgument"},
		{"expired", signed(policy(-time.Hour, stdConds("private-bkt")...), "fooX"), nil, 403, "AccessDenied"},
		{"no bucket condition", signed(policy(time.Hour, stdConds("private-bkt")[1:]...), "fooX"), nil, 403, "AccessDenied"},
		{"condition on a missing field", signed(policy(time.Hour, append(stdConds("private-bkt"), []any{"starts-with", "$x-amz-meta-foo", "bar"})...), "fooX"), nil, 403, "AccessDenied"},
		{"field no condition names", signed(pol, "fooX", formField{"x-amz-meta-extra", "1"}), nil, 403, "AccessDenied"},
		{"eq fails", signed(policy(time.Hour, append(stdConds("private-bkt"), []any{"eq", "$x-amz-meta-foo", ""})...), "fooX", formField{"x-amz-meta-foo", "barclamp"}), nil, 403, "AccessDenied"},
		{"policy for another bucket", signed(policy(time.Hour, stdConds("other-bkt")...), "fooX", formField{"bucket", "other-bkt"}), nil, 403, "AccessDenied"},
		{"too large", signed(policy(time.Hour, append(stdConds("private-bkt")[:4], []any{"content-length-range", 0, 2})...), "fooX"), nil, 400, "EntityTooLarge"},
		{"too small", signed(policy(time.Hour, append(stdConds("private-bkt")[:4], []any{"content-length-range", 512, 1000})...), "fooX"), nil, 400, "EntityTooSmall"},
		{"EXPIRATION", signed(rawPolicy(`{"EXPIRATION": "`+exp+`", "conditions": `+okConds+`}`), "fooX"), nil, 400, "InvalidPolicyDocument"},
		{"CONDITIONS", signed(rawPolicy(`{"expiration": "`+exp+`", "CONDITIONS": `+okConds+`}`), "fooX"), nil, 400, "InvalidPolicyDocument"},
		{"expiration not ISO 8601", signed(rawPolicy(`{"expiration": "2030-01-01 12:00:00.123456+00:00", "conditions": `+okConds+`}`), "fooX"), nil, 400, "InvalidPolicyDocument"},
		{"empty condition", signed(rawPolicy(`{"expiration": "`+exp+`", "conditions": [{}]}`), "fooX"), nil, 400, "InvalidPolicyDocument"},
		{"two-element range", signed(rawPolicy(`{"expiration": "`+exp+`", "conditions": [["content-length-range", 0]]}`), "fooX"), nil, 400, "InvalidPolicyDocument"},
		{"negative range", signed(rawPolicy(`{"expiration": "`+exp+`", "conditions": [["content-length-range", -1, 0]]}`), "fooX"), nil, 400, ""},
	} {
		file := c.file
		if file == nil {
			file = []byte("bar")
		}
		resp, body := postForm(t, e.url+"/private-bkt", c.fields, "x", file, true)
		if resp.StatusCode != c.status || !strings.Contains(body, "<Code>"+c.code) {
			t.Errorf("%s: %d %s; want %d %s", c.name, resp.StatusCode, body, c.status, c.code)
		}
	}
	out, err := e.alice.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("private-bkt")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out.Contents {
		if strings.HasPrefix(aws.ToString(o.Key), "fooX") {
			t.Errorf("a refused POST stored %s", aws.ToString(o.Key))
		}
	}
}
