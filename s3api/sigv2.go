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

// Presigned URLs in the older Signature Version 2 form
// (?AWSAccessKeyId=…&Expires=…&Signature=…) are what `aws s3 presign` of
// aws-cli v1 and many older tools still produce; they are accepted for
// reading (GET and HEAD) only. Everything else must use SigV4.

// v2SubResources are the query parameters SigV2 signs.
var v2SubResources = map[string]bool{
	"acl": true, "cors": true, "delete": true, "lifecycle": true, "location": true, "logging": true,
	"notification": true, "partNumber": true, "policy": true, "requestPayment": true, "tagging": true,
	"torrent": true, "uploadId": true, "uploads": true, "versionId": true, "versioning": true,
	"versions": true, "website": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
	"response-content-language": true, "response-content-type": true, "response-expires": true,
}

func hasV2Query(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("AWSAccessKeyId") && q.Has("Signature") && q.Has("Expires")
}

// v2StringToSign builds the SigV2 string to sign of a query-authenticated request.
func v2StringToSign(r *http.Request, expires string) string {
	var amz []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-") {
			amz = append(amz, lk+":"+strings.Join(vs, ","))
		}
	}
	sort.Strings(amz)
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" + expires + "\n")
	for _, h := range amz {
		b.WriteString(h + "\n")
	}
	b.WriteString(r.URL.EscapedPath())
	var subs []string
	for k, vs := range r.URL.Query() {
		if !v2SubResources[k] {
			continue
		}
		if len(vs) == 0 || vs[0] == "" {
			subs = append(subs, k)
		} else {
			subs = append(subs, k+"="+vs[0])
		}
	}
	sort.Strings(subs)
	if len(subs) > 0 {
		b.WriteString("?" + strings.Join(subs, "&"))
	}
	return b.String()
}

// serveV2Query verifies a SigV2 presigned URL and serves it as its owner.
func (a *authenticator) serveV2Query(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeAuthError(w, r, "AccessDenied", "Signature Version 2 is accepted for presigned GET and HEAD only; use SigV4", http.StatusForbidden)
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
	user, secret, err := a.lookup(r.Context(), q.Get("AWSAccessKeyId"))
	if errors.Is(err, ErrUnknownAccessKey) || errors.Is(err, catalog.ErrNotFound) {
		writeAuthError(w, r, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", http.StatusForbidden)
		return
	}
	if err != nil {
		a.log.Error("s3 access key lookup failed", "err", err)
		writeAuthError(w, r, "InternalError", "We encountered an internal error. Please try again.", http.StatusInternalServerError)
		return
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(v2StringToSign(r, q.Get("Expires"))))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(want), []byte(q.Get("Signature"))) != 1 {
		writeAuthError(w, r, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", http.StatusForbidden)
		return
	}
	a.serveVerified(w, r.WithContext(auth.WithUser(r.Context(), user)), nil)
}
