package s3api

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"shoebox/gateway/auth"
)

// TestAuthLoginLimiter: an unknown key and a wrong signature (SigV4 and
// SigV2) are failed logins; no credentials and a skewed clock are not.
// Beyond the failures allowed, a request, even a good one, gets 503
// SlowDown with Retry-After, unchecked; once the wait is over a good one
// passes and forgives the failures against its key's owner.
func TestAuthLoginLimiter(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var failed, throttled int
	lim := auth.NewLimiter(auth.LimiterOptions{AddrFailures: 3, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observe: func(p string, th bool) {
			if p != "s3" {
				t.Errorf("observed protocol %q; want s3", p)
			}
			if th {
				throttled++
			} else {
				failed++
			}
		}})
	e := newSigEnv(t, false, LoginLimiter(lim))
	v4 := func(keyID, secret string, at time.Time) func(*http.Request) {
		return func(r *http.Request) { signReq(t, r, keyID, secret, emptySHA256, at) }
	}
	v2 := func(keyID, secret string) func(*http.Request) {
		return func(r *http.Request) { signV2(r, keyID, secret, "/photos/a.jpg") }
	}
	good := v4(sigKeyID, sigSecret, time.Now())
	for i, tc := range []struct {
		name             string
		sign             func(*http.Request)
		status           int
		code, retryAfter string
		failed           int
	}{
		{"no credentials", func(*http.Request) {}, 403, "AccessDenied", "", 0},
		{"skewed clock", v4(sigKeyID, sigSecret, time.Now().Add(-time.Hour)), 403, "RequestTimeTooSkewed", "", 0},
		{"good", good, 200, "", "", 0},
		{"wrong secret", v4(sigKeyID, "wrong-wrong-wrong-wrong-wrong-wrong-wrong", time.Now()), 403, "SignatureDoesNotMatch", "", 1},
		{"unknown key", v4("SBNOSUCHKEY000000000", sigSecret, time.Now()), 403, "InvalidAccessKeyId", "", 2},
		{"SigV2 wrong secret", v2(sigKeyID, "wrong"), 403, "SignatureDoesNotMatch", "", 3},
		{"SigV2 unknown key", v2("SBNOSUCHKEY000000000", sigSecret), 403, "InvalidAccessKeyId", "", 4},
		{"good, but the address must wait", good, 503, "SlowDown", "1", 4},
		{"SigV2 good, but the address must wait", v2(sigKeyID, sigSecret), 503, "SlowDown", "1", 4},
		{"no credentials: not a login", func(*http.Request) {}, 403, "AccessDenied", "", 4},
	} {
		req := newReq(t, "GET", e.url+"/photos/a.jpg", nil)
		tc.sign(req)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.code != "" && !strings.Contains(string(b), "<Code>"+tc.code+"</Code>")) ||
			resp.Header.Get("Retry-After") != tc.retryAfter || failed != tc.failed {
			t.Errorf("%d %s: %d Retry-After %q, %d failures: %s; want %d %s Retry-After %q, %d failures",
				i, tc.name, resp.StatusCode, resp.Header.Get("Retry-After"), failed, b, tc.status, tc.code, tc.retryAfter, tc.failed)
		}
		if s := e.next(); s.reached != (tc.status == 200) {
			t.Errorf("%s: next handler reached: %v", tc.name, s.reached)
		}
	}
	if throttled != 2 {
		t.Errorf("%d refusals observed; want 2", throttled)
	}

	// The wait over, a good request passes and forgives the two failures
	// against alice's key: one more is then allowed before the next wait.
	now = now.Add(time.Second)
	for _, tc := range []struct {
		sign   func(*http.Request)
		status int
	}{{good, 200}, {v2(sigKeyID, "wrong"), 403}, {good, 200}} {
		req := newReq(t, "GET", e.url+"/photos/a.jpg", nil)
		tc.sign(req)
		st, x, body := e.do(t, req)
		e.next()
		if st != tc.status {
			t.Errorf("after the wait: %d %s %s; want %d", st, x.Code, body, tc.status)
		}
	}
}
