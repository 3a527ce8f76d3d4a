package s3api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	mpart "mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"shoebox/gateway/auth"
)

// Browser-based uploads (POST Object): an HTML form POSTed to a bucket,
// multipart/form-data, its fields first and the file last. The form carries
// its own authentication: a policy document (base64 JSON: an expiration and
// conditions every field must meet) signed with an access key's secret,
// SigV2 (AWSAccessKeyId, signature: HMAC-SHA1) or SigV4 (x-amz-credential,
// x-amz-date, x-amz-signature); a form without a policy is anonymous, and
// only a bucket whose canned ACL is public-read-write takes it (see
// PublicAccess). Once checked, the form is served as the PutObject it
// amounts to, through the same handlers: its fields become that request's
// headers (Content-Type, x-amz-meta-*, acl, tagging, checksums...) and the
// file its body, held to the policy's content-length-range as it streams.
// The answer follows success_action_redirect (303 to it, with bucket, key
// and etag), or success_action_status: 200, 201 (a PostResponse document)
// or, by default, 204.

const (
	maxPostFields = 1 << 20 // bytes of form fields before the file
	maxPostPolicy = 64 << 10
)

// browserPost reports whether r is a browser-based upload, and its bucket.
func (a *authenticator) browserPost(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost || r.URL.RawQuery != "" || r.Header.Get("Authorization") != "" {
		return "", false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return "", false
	}
	t := a.target(r)
	if t.Bucket == "" || t.Key != "" {
		return "", false
	}
	return t.Bucket, true
}

// postForm is the fields of a browser upload, by lower-case name, and its
// file.
type postForm struct {
	fields   map[string]string
	file     *mpart.Part
	filename string
}

func (f *postForm) get(name string) string { return f.fields[strings.ToLower(name)] }

func (f *postForm) has(name string) bool {
	_, ok := f.fields[strings.ToLower(name)]
	return ok
}

// readPostForm reads the fields up to the file part.
func readPostForm(r *http.Request) (*postForm, *BodyError) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, &BodyError{"MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.", http.StatusBadRequest}
	}
	mr := mpart.NewReader(r.Body, params["boundary"])
	f := &postForm{fields: map[string]string{}}
	left := int64(maxPostFields)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, &BodyError{"InvalidArgument", "POST requires exactly one file upload per request.", http.StatusBadRequest}
		}
		if err != nil {
			return nil, &BodyError{"MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.", http.StatusBadRequest}
		}
		// Browsers send fields as plain parts; some libraries (Python's
		// requests) send every field as a file named after it: a field is
		// a field by its name, whatever its filename.
		name := strings.ToLower(part.FormName())
		if name == "" {
			// A part without a field name (minio-go's functional tests
			// post the file so, and AWS refuses it as malformed).
			return nil, &BodyError{"MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.", http.StatusBadRequest}
		}
		if name == "file" {
			f.file, f.filename = part, path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
			if f.filename == "." || f.filename == "/" {
				f.filename = ""
			}
			return f, nil
		}
		b, err := io.ReadAll(io.LimitReader(part, left+1))
		if err != nil {
			return nil, &BodyError{"MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.", http.StatusBadRequest}
		}
		if left -= int64(len(b)); left < 0 {
			return nil, &BodyError{"MaxPostPreDataLengthExceeded", "Your POST request fields preceding the upload file were too large.", http.StatusBadRequest}
		}
		if _, dup := f.fields[name]; !dup && name != "" {
			f.fields[name] = string(b)
		}
	}
}

// servePost authenticates and checks a browser upload, then serves it as
// a PutObject of its file.
func (a *authenticator) servePost(w http.ResponseWriter, r *http.Request, bucket string) {
	form, e := readPostForm(r)
	if e != nil {
		writePostError(w, r, e)
		return
	}
	if !form.has("key") {
		writePostError(w, r, &BodyError{"InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", http.StatusBadRequest})
		return
	}
	key := strings.ReplaceAll(form.get("key"), "${filename}", form.filename)
	if key == "" {
		writePostError(w, r, &BodyError{"InvalidArgument", "User key must have a length greater than 0.", http.StatusBadRequest})
		return
	}
	user, e := a.postUser(w, r, form, bucket)
	if e != nil {
		writePostError(w, r, e)
		return
	}
	var pol *postPolicy
	if form.has("policy") {
		if pol, e = parsePostPolicy(form.get("policy")); e != nil {
			writePostError(w, r, e)
			return
		}
		if !time.Now().Before(pol.expires) {
			writePostError(w, r, &BodyError{"AccessDenied", "Invalid according to Policy: Policy expired.", http.StatusForbidden})
			return
		}
		if e := pol.check(form, bucket, key); e != nil {
			writePostError(w, r, e)
			return
		}
	}

	// The PutObject the form amounts to, path-style, its Target the
	// form's bucket and key: the ones postUser authorized.
	r2 := r.Clone(auth.WithUser(withTarget(r.Context(), Target{Bucket: bucket, Key: key}), user))
	r2.Method = http.MethodPut
	r2.URL = &url.URL{Path: "/" + bucket + "/" + key, RawPath: "/" + bucket + "/" + escapeKey(key)}
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header = postHeaders(form)
	if ct := form.get("content-type"); ct != "" {
		r2.Header.Set("Content-Type", ct)
	}
	if tagging := form.get("tagging"); tagging != "" {
		tags, e := taggingQuery(tagging)
		if e != nil {
			writePostError(w, r, e)
			return
		}
		r2.Header.Set("X-Amz-Tagging", tags)
	}
	st := &bodyState{}
	body := &postBody{part: form.file, st: st, min: 0, max: -1}
	if pol != nil && pol.lengthSet {
		body.min, body.max = pol.minLength, pol.maxLength
	}
	r2.Body = io.NopCloser(body)
	r2.ContentLength = -1
	r2.TransferEncoding = []string{"chunked"}
	pw := &postWriter{ResponseWriter: w, r: r, bucket: bucket, key: key,
		status: form.get("success_action_status"), redirect: form.get("success_action_redirect")}
	if pw.redirect == "" {
		pw.redirect = form.get("redirect")
	}
	a.serveBody(pw, r2, nil, st)
	if !pw.wrote {
		pw.WriteHeader(http.StatusOK)
	}
}

// writePostError answers a browser upload refused before it is served.
// Quotes stay quotes in the message, as AWS writes them ("Policy
// Condition failed: [\"eq\", \"$key\", ...]"), where encoding/xml would
// write &#34;: clients such as minio-go look for the condition in it.
func writePostError(w http.ResponseWriter, r *http.Request, e *BodyError) {
	bw := &bufWriter{ResponseWriter: w, status: http.StatusOK}
	writeAuthError(bw, r, e.Code, e.Message, e.Status)
	b := bytes.ReplaceAll(bw.buf.Bytes(), []byte("&#34;"), []byte(`"`))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(bw.status)
	w.Write(b)
}

// postUser authenticates a form: by its signed policy, or anonymously
// (no policy) into a bucket that takes anonymous uploads.
func (a *authenticator) postUser(w http.ResponseWriter, r *http.Request, form *postForm, bucket string) (string, *BodyError) {
	ctx := r.Context()
	if !form.has("policy") {
		if a.postOwner != nil {
			if owner, ok := a.postOwner(r, bucket); ok {
				return owner, nil
			}
		}
		return "", &BodyError{"AccessDenied", "Access Denied", http.StatusForbidden}
	}
	policy := form.get("policy")
	var keyID string
	var check func(secret string) bool
	if strings.EqualFold(form.get("x-amz-algorithm"), "AWS4-HMAC-SHA256") {
		for _, f := range []string{"x-amz-credential", "x-amz-date", "x-amz-signature"} {
			if form.get(f) == "" {
				return "", &BodyError{"InvalidArgument", "Bucket POST must contain a field named '" + f + "'.", http.StatusBadRequest}
			}
		}
		cred := strings.Split(form.get("x-amz-credential"), "/")
		if len(cred) != 5 || cred[4] != "aws4_request" {
			return "", &BodyError{"InvalidArgument", "Invalid x-amz-credential: " + form.get("x-amz-credential"), http.StatusBadRequest}
		}
		keyID = cred[0]
		check = func(secret string) bool {
			k := []byte("AWS4" + secret)
			for _, part := range cred[1:5] {
				k = hmacSHA256(k, []byte(part))
			}
			want := hex.EncodeToString(hmacSHA256(k, []byte(policy)))
			return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(form.get("x-amz-signature")))) == 1
		}
	} else {
		if form.get("awsaccesskeyid") == "" || form.get("signature") == "" {
			return "", &BodyError{"InvalidArgument", "Bucket POST must contain the fields 'AWSAccessKeyId' and 'signature' with a policy.", http.StatusBadRequest}
		}
		keyID = form.get("awsaccesskeyid")
		check = func(secret string) bool { return v2SignatureMatches(secret, policy, form.get("signature")) }
	}
	user, secret, e := a.secret(w, r, keyID)
	if e != nil {
		return "", e
	}
	if !check(secret) {
		a.limit.Failed(login(r, user, keyID))
		return "", &BodyError{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", http.StatusForbidden}
	}
	a.limit.Succeeded(login(r, user, keyID))
	if a.postOwner != nil && !a.ownsBucket(ctx, user, bucket) {
		if owner, ok := a.postOwner(r, bucket); ok && owner != nobody {
			return owner, nil // a bucket open to anyone's uploads
		}
	}
	return user, nil
}

// ownsBucket reports whether user has bucket, when PublicAccess told how
// to know; true otherwise.
func (a *authenticator) ownsBucket(ctx context.Context, user, bucket string) bool {
	if a.hasBucket == nil {
		return true
	}
	return a.hasBucket(ctx, user, bucket)
}

// postHeaders turns the form's fields into the PutObject's headers.
func postHeaders(form *postForm) http.Header {
	h := http.Header{}
	for name, v := range form.fields {
		switch {
		case name == "x-amz-checksum-algorithm":
			// minio-go's SetChecksum sends the algorithm beside the
			// checksum itself: it names the value, which is the header
			// PutObject checks. Alone, it asks for that checksum.
			if !form.has("x-amz-checksum-" + strings.ToLower(v)) {
				h.Set("X-Amz-Sdk-Checksum-Algorithm", v)
			}
		case strings.HasPrefix(name, "x-amz-meta-"),
			strings.HasPrefix(name, "x-amz-checksum-"),
			strings.HasPrefix(name, "x-amz-server-side-encryption"),
			name == "x-amz-storage-class", name == "x-amz-website-redirect-location",
			name == "cache-control", name == "content-disposition", name == "content-encoding",
			name == "content-language", name == "expires":
			h.Set(name, v)
		case name == "acl":
			h.Set("X-Amz-Acl", v)
		}
	}
	return h
}

// taggingQuery turns a Tagging document into the x-amz-tagging form
// (a URL query) PutObject takes.
func taggingQuery(doc string) (string, *BodyError) {
	var t struct {
		XMLName xml.Name `xml:"Tagging"`
		Tags    []struct {
			Key   string `xml:"Key"`
			Value string `xml:"Value"`
		} `xml:"TagSet>Tag"`
	}
	if err := xml.Unmarshal([]byte(doc), &t); err != nil {
		return "", &BodyError{"MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.", http.StatusBadRequest}
	}
	q := make([]string, 0, len(t.Tags))
	for _, tag := range t.Tags {
		q = append(q, url.QueryEscape(tag.Key)+"="+url.QueryEscape(tag.Value))
	}
	return strings.Join(q, "&"), nil
}

// postPolicy is a decoded policy document.
type postPolicy struct {
	expires   time.Time
	conds     []postCond
	lengthSet bool
	minLength int64
	maxLength int64
}

// postCond is one condition: op is "eq" or "starts-with", on the field
// (lower case, without '$').
type postCond struct {
	op, field, value string
}

func policyError(msg string) *BodyError {
	return &BodyError{"InvalidPolicyDocument", "Invalid Policy: " + msg, http.StatusBadRequest}
}

// parsePostPolicy decodes a base64 policy document. Its top-level names
// ("expiration", "conditions") are case-sensitive; operators and field
// names are not.
func parsePostPolicy(b64 string) (*postPolicy, *BodyError) {
	if len(b64) > maxPostPolicy {
		return nil, policyError("too large.")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, policyError("not base64.")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, policyError("not a JSON object.")
	}
	p := &postPolicy{}
	var exp string
	if err := json.Unmarshal(doc["expiration"], &exp); err != nil {
		return nil, policyError("Policy missing expiration.")
	}
	if p.expires, err = time.Parse(time.RFC3339Nano, exp); err != nil || !strings.Contains(exp, "T") {
		return nil, policyError("Invalid 'expiration' value: '" + exp + "'")
	}
	var conds []json.RawMessage
	if c, ok := doc["conditions"]; !ok || json.Unmarshal(c, &conds) != nil {
		return nil, policyError("Policy missing conditions.")
	}
	for _, c := range conds {
		var obj map[string]any
		var arr []any
		switch {
		case decodeNumbers(c, &obj) == nil:
			if len(obj) != 1 {
				return nil, policyError("a condition object must have one field.")
			}
			for k, v := range obj {
				s, ok := v.(string)
				if !ok {
					return nil, policyError("the value of condition " + k + " is not a string.")
				}
				p.conds = append(p.conds, postCond{"eq", strings.ToLower(strings.TrimPrefix(k, "$")), s})
			}
		case decodeNumbers(c, &arr) == nil:
			if len(arr) != 3 {
				return nil, policyError("a condition array must have three elements.")
			}
			op, _ := arr[0].(string)
			switch op = strings.ToLower(op); op {
			case "eq", "starts-with":
				field, ok1 := arr[1].(string)
				value, ok2 := arr[2].(string)
				if !ok1 || !ok2 || !strings.HasPrefix(field, "$") {
					return nil, policyError("invalid " + op + " condition.")
				}
				p.conds = append(p.conds, postCond{op, strings.ToLower(field[1:]), value})
			case "content-length-range":
				lo, err1 := policyInt(arr[1])
				hi, err2 := policyInt(arr[2])
				if err1 != nil || err2 != nil || lo < 0 || hi < lo {
					return nil, policyError("invalid content-length-range.")
				}
				p.lengthSet, p.minLength, p.maxLength = true, lo, hi
			default:
				return nil, policyError("unknown condition operator " + strconv.Quote(op) + ".")
			}
		default:
			return nil, policyError("a condition is neither an object nor an array.")
		}
	}
	return p, nil
}

// decodeNumbers decodes JSON keeping numbers as json.Number.
func decodeNumbers(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

func policyInt(v any) (int64, error) {
	switch n := v.(type) {
	case json.Number:
		return n.Int64()
	case string:
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, fmt.Errorf("not an integer: %v", v)
}

// postExempt are the fields no condition needs to name.
func postExempt(name string) bool {
	switch name {
	case "policy", "file", "awsaccesskeyid", "signature", "x-amz-signature":
		return true
	}
	return strings.HasPrefix(name, "x-ignore-") || strings.HasPrefix(name, "x-amz-checksum-")
}

// check holds the form to the policy's conditions: each must be met (a
// field the form lacks counts as empty), and every field of the form, the
// bucket (the one posted to, whatever a field says) and the key included,
// must be named by one.
func (p *postPolicy) check(form *postForm, bucket, key string) *BodyError {
	inputs := map[string]string{}
	for name, v := range form.fields {
		inputs[name] = v
	}
	inputs["bucket"], inputs["key"] = bucket, key
	covered := map[string]bool{}
	for _, c := range p.conds {
		v := inputs[c.field]
		covered[c.field] = true
		ok := v == c.value
		if c.op == "starts-with" {
			ok = strings.HasPrefix(v, c.value)
		}
		if !ok {
			return &BodyError{"AccessDenied", fmt.Sprintf("Invalid according to Policy: Policy Condition failed: [%q, \"$%s\", %q]", c.op, c.field, c.value), http.StatusForbidden}
		}
	}
	for name, v := range inputs {
		if covered[name] || postExempt(name) || (v == "" && name != "bucket" && name != "key") {
			continue
		}
		return &BodyError{"AccessDenied", "Invalid according to Policy: Extra input fields: " + name, http.StatusForbidden}
	}
	return nil
}

// postBody is the form's file, held to the policy's content-length-range.
type postBody struct {
	part     *mpart.Part
	st       *bodyState
	n        int64
	min, max int64 // max < 0: no limit
}

func (b *postBody) Read(p []byte) (int, error) {
	n, err := b.part.Read(p)
	b.n += int64(n)
	if b.max >= 0 && b.n > b.max {
		return n, b.st.fail(&BodyError{"EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", http.StatusBadRequest})
	}
	if errors.Is(err, io.EOF) && b.n < b.min {
		return n, b.st.fail(&BodyError{"EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", http.StatusBadRequest})
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, b.st.fail(&BodyError{"IncompleteBody", "The body of your POST request ended before its closing boundary.", http.StatusBadRequest})
	}
	return n, err
}

// postWriter turns the PutObject's answer into the browser upload's.
type postWriter struct {
	http.ResponseWriter
	r                *http.Request
	bucket, key      string
	status, redirect string
	wrote, done      bool
}

func (p *postWriter) WriteHeader(code int) {
	if code < 200 {
		p.ResponseWriter.WriteHeader(code)
		return
	}
	if p.wrote {
		return
	}
	p.wrote = true
	if code != http.StatusOK {
		p.ResponseWriter.WriteHeader(code)
		return
	}
	p.done = true
	h := p.Header()
	h.Del("Content-Length")
	etag := h.Get("ETag")
	if p.redirect != "" {
		if u, err := url.Parse(p.redirect); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			sep := "?"
			if u.RawQuery != "" {
				sep = "&"
			}
			h.Set("Location", p.redirect+sep+"bucket="+url.QueryEscape(p.bucket)+"&key="+url.QueryEscape(p.key)+"&etag="+url.QueryEscape(etag))
			p.ResponseWriter.WriteHeader(http.StatusSeeOther)
			return
		}
	}
	scheme := "http"
	if p.r.TLS != nil {
		scheme = "https"
	}
	loc := scheme + "://" + p.r.Host + "/" + p.bucket + "/" + escapeKey(p.key)
	h.Set("Location", loc)
	switch p.status {
	case "200":
		p.ResponseWriter.WriteHeader(http.StatusOK)
	case "201":
		var b bytes.Buffer
		b.WriteString(xml.Header)
		b.WriteString("<PostResponse><Location>")
		xml.EscapeText(&b, []byte(loc))
		b.WriteString("</Location><Bucket>")
		xml.EscapeText(&b, []byte(p.bucket))
		b.WriteString("</Bucket><Key>")
		xml.EscapeText(&b, []byte(p.key))
		b.WriteString("</Key><ETag>")
		xml.EscapeText(&b, []byte(etag))
		b.WriteString("</ETag></PostResponse>")
		h.Set("Content-Type", "application/xml")
		h.Set("Content-Length", strconv.Itoa(b.Len()))
		p.ResponseWriter.WriteHeader(http.StatusCreated)
		p.ResponseWriter.Write(b.Bytes())
	default:
		p.ResponseWriter.WriteHeader(http.StatusNoContent)
	}
}

func (p *postWriter) Write(b []byte) (int, error) {
	if !p.wrote {
		p.WriteHeader(http.StatusOK)
	}
	if p.done {
		return len(b), nil // PutObject's own (empty) body
	}
	return p.ResponseWriter.Write(b)
}

func (p *postWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// escapeKey escapes a key for a URL path, keeping its slashes.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
