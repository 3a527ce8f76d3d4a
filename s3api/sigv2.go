package s3api

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/gateway/auth"
)

// Signature Version 2, the older scheme that s3cmd (signature_v2), boto2,
// botocore's "s3" signer and many small tools still use: in the
// Authorization header ("AWS key:signature", any method), and in presigned
// URLs (?AWSAccessKeyId=…&Expires=…&Signature=…, what `aws s3 presign` of
// aws-cli v1 and minio-go's PresignedPutObject with V2 credentials
// produce), accepted as S3 accepts them, for any method but POST.
// The signature is HMAC-SHA1 of a string that covers the method, the
// Content-MD5 and Content-Type headers, the date, the x-amz-* headers and
// the resource (/bucket/key and the signed sub-resources).

// Sub-resources: the query parameters SigV2 signs. The AWS SigV2
// documentation lists acl, lifecycle, location, logging, notification,
// partNumber, policy, requestPayment, torrent, uploadId, uploads,
// versionId, versioning, versions, website, delete, cors, tagging,
// restore and the response-* overrides; clients sign more, and not the
// same: botocore (aws-cli v1, boto3, s3transfer) adds accelerate,
// storageClass, replication, analytics, metrics, inventory, select,
// select-type, object-lock and defaultObjectAcl, and leaves out
// encryption, legal-hold and retention, which minio-go (and MinIO, mc,
// restic) signs, without restore, object-lock and the others botocore
// adds. A signature is accepted when it matches the canonical resource of
// either set (v2Profiles): a client-signed query parameter missing from
// the set checked, or the reverse, would be SignatureDoesNotMatch.
var (
	v2Botocore = v2Set("acl", "cors", "delete", "lifecycle", "location", "logging",
		"notification", "partNumber", "policy", "requestPayment", "tagging",
		"torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website",
		"response-cache-control", "response-content-disposition", "response-content-encoding",
		"response-content-language", "response-content-type", "response-expires",
		"accelerate", "restore", "storageClass", "replication", "analytics",
		"metrics", "inventory", "select", "select-type", "object-lock", "defaultObjectAcl")
	v2MinioGo = v2Set("acl", "cors", "delete", "encryption", "legal-hold", "lifecycle", "location", "logging",
		"notification", "partNumber", "policy", "replication", "requestPayment",
		"response-cache-control", "response-content-disposition", "response-content-encoding",
		"response-content-language", "response-content-type", "response-expires",
		"retention", "select", "select-type", "tagging", "torrent", "uploadId", "uploads",
		"versionId", "versioning", "versions", "website")
	v2Profiles = []map[string]bool{v2Botocore, v2MinioGo}
)

func v2Set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// v2SignatureMatchesAny reports whether sig signs r with one of the dates
// and one of the sub-resource sets (v2Profiles).
func v2SignatureMatchesAny(r *http.Request, secret, resource, sig string, dates ...string) bool {
	tried := map[string]bool{}
	for _, date := range dates {
		for _, subs := range v2Profiles {
			toSign := v2StringToSign(r, date, resource, subs)
			if tried[toSign] {
				continue
			}
			tried[toSign] = true
			if v2SignatureMatches(secret, toSign, sig) {
				return true
			}
		}
	}
	return false
}

func hasV2Query(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("AWSAccessKeyId") && q.Has("Signature") && q.Has("Expires")
}

// v2StringToSign builds the SigV2 string to sign of a request: date is the
// Date line (the Expires parameter of a presigned URL), resource the
// path-style path (/bucket/key, escaped), subs the sub-resources signed.
func v2StringToSign(r *http.Request, date, resource string, subs map[string]bool) string {
	// x-amz-* headers sorted by name (not by "name:value", which puts
	// x-amz-meta-a-b before x-amz-meta-a), as botocore, s3cmd and MinIO
	// sort them.
	amz := map[string][]string{}
	var names []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "x-amz-") {
			continue
		}
		if _, ok := amz[lk]; !ok {
			names = append(names, lk)
		}
		amz[lk] = append(amz[lk], vs...)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" + date + "\n")
	for _, n := range names {
		b.WriteString(n + ":" + strings.Join(amz[n], ",") + "\n")
	}
	b.WriteString(resource)
	// Sub-resources sorted by name too ("select" before "select-type").
	q := r.URL.Query()
	var signed []string
	for k := range q {
		if subs[k] {
			signed = append(signed, k)
		}
	}
	sort.Strings(signed)
	for i, k := range signed {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k)
		if v := q.Get(k); v != "" {
			b.WriteString("=" + v)
		}
	}
	return b.String()
}

// serveV2Query verifies a SigV2 presigned URL and serves it as the key's
// user, authorized as any signed request is (actAs).
func (a *authenticator) serveV2Query(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		// A POST's body says what it does (DeleteObjects, Complete...), and
		// a presigned URL signs no body.
		writeAuthError(w, r, "AccessDenied", "Signature Version 2 presigned URLs are accepted for GET, HEAD, PUT and DELETE; use SigV4", http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if err != nil {
		writeAuthError(w, r, "AccessDenied", "Expires is not a Unix time", http.StatusForbidden)
		return
	}
	if time.Now().Unix() > exp {
		writeAuthError(w, r, "AccessDenied", "Request has expired", http.StatusForbidden)
		return
	}
	keyID := q.Get("AWSAccessKeyId")
	user, secret, e := a.secret(w, r, keyID)
	if e != nil {
		writeAuthError(w, r, e.Code, e.Message, e.Status)
		return
	}
	if !v2SignatureMatchesAny(r, secret, a.v2Resource(r), q.Get("Signature"), q.Get("Expires")) {
		a.limit.Failed(login(r, user, keyID))
		writeAuthError(w, r, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", http.StatusForbidden)
		return
	}
	a.limit.Succeeded(login(r, user, keyID))
	a.serveVerified(w, r.WithContext(auth.WithUser(r.Context(), a.actAs(r, user))), nil)
}

// secret looks up an access key for a request signed with it: an unknown
// key is 403 InvalidAccessKeyId (a failed login), a failed lookup 500
// InternalError (logged), an address or owner the limiter says must wait
// 503 SlowDown (with Retry-After set on w). The caller checks the signature
// and tells the limiter how that went.
func (a *authenticator) secret(w http.ResponseWriter, r *http.Request, keyID string) (user, secret string, e *BodyError) {
	if wait := a.limit.Admit(login(r, "", keyID)); wait > 0 {
		return "", "", slowDown(w, wait)
	}
	user, secret, err := a.lookup(r.Context(), keyID)
	if errors.Is(err, ErrUnknownAccessKey) || errors.Is(err, catalog.ErrNotFound) {
		a.limit.Failed(login(r, "", keyID))
		return "", "", &BodyError{"InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", http.StatusForbidden}
	}
	if err != nil {
		a.log.Error("s3 access key lookup failed", "key", keyID, "err", err)
		return "", "", &BodyError{"InternalError", "We encountered an internal error. Please try again.", http.StatusInternalServerError}
	}
	if wait := a.limit.Admit(login(r, user, keyID)); wait > 0 {
		return "", "", slowDown(w, wait)
	}
	return user, secret, nil
}

// v2SignatureMatches reports whether sig is the base64 HMAC-SHA1 of
// toSign under secret.
func v2SignatureMatches(secret, toSign, sig string) bool {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(toSign))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return subtle.ConstantTimeCompare([]byte(want), []byte(sig)) == 1
}

// v2Resource is the path SigV2 signs: path-style, so a virtual-host
// request's bucket (from its Host) comes first.
func (a *authenticator) v2Resource(r *http.Request) string {
	if t := a.target(r); t.VirtualHost {
		return "/" + t.Bucket + r.URL.EscapedPath()
	}
	return r.URL.EscapedPath()
}

// maxSkew is how far a signed request's date may be from the server's clock.
const maxSkew = 15 * time.Minute

// serveV2Header verifies a request signed with SigV2 in its Authorization
// header ("AWS key:signature") and serves it as the key's user, authorized
// as any signed request is (actAs). The date is
// checked first (X-Amz-Date when the header is present, even empty, else
// Date): a missing, unreadable or pre-1970 date is 403 AccessDenied, one more
// than 15 minutes off 403 RequestTimeTooSkewed. The Date line signed is the
// Date header's (what botocore and s3cmd sign), or empty when X-Amz-Date is
// sent (what AWS documents); either is accepted.
func (a *authenticator) serveV2Header(w http.ResponseWriter, r *http.Request) {
	cred := strings.TrimPrefix(r.Header.Get("Authorization"), "AWS ")
	keyID, sig, ok := strings.Cut(cred, ":")
	if !ok || keyID == "" || sig == "" {
		writeAuthError(w, r, "InvalidArgument", "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature", http.StatusBadRequest)
		return
	}
	dateHeader := "Date"
	if len(r.Header.Values("X-Amz-Date")) > 0 {
		dateHeader = "X-Amz-Date"
	}
	t, err := parseHTTPDate(r.Header.Get(dateHeader))
	if err != nil || t.Year() < 1970 {
		writeAuthError(w, r, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", http.StatusForbidden)
		return
	}
	if d := time.Since(t); d > maxSkew || d < -maxSkew {
		writeAuthError(w, r, "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large.", http.StatusForbidden)
		return
	}
	user, secret, e := a.secret(w, r, keyID)
	if e != nil {
		writeAuthError(w, r, e.Code, e.Message, e.Status)
		return
	}
	dates := []string{r.Header.Get("Date")}
	if dateHeader == "X-Amz-Date" {
		dates = append(dates, "")
	}
	if !v2SignatureMatchesAny(r, secret, a.v2Resource(r), sig, dates...) {
		a.limit.Failed(login(r, user, keyID))
		writeAuthError(w, r, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", http.StatusForbidden)
		return
	}
	a.limit.Succeeded(login(r, user, keyID))
	a.serveVerified(w, r.WithContext(auth.WithUser(r.Context(), a.actAs(r, user))), nil)
}

// parseHTTPDate reads a Date header in the forms HTTP allows, and RFC 1123
// with a numeric zone (what Python's email.utils.formatdate writes).
func parseHTTPDate(v string) (time.Time, error) {
	if t, err := http.ParseTime(v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC1123Z, v)
}
