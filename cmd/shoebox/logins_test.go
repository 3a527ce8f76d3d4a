package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (127.0.0.2, …), so that the server sees another client.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}

// propfind sends PROPFIND /dav/ (Depth 0) with c, with Basic credentials
// unless user is "", and returns the response with its body read.
func (s *server) propfind(c *http.Client, user, pw string) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest("PROPFIND", s.url("/dav/"), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Depth", "0")
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("PROPFIND /dav/: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// metric reads one sample of /metrics, 0 if absent.
func (s *server) metric(t *testing.T, sample string) float64 {
	t.Helper()
	resp, body := s.do("GET", "/metrics", nil)
	want(t, resp, body, 200)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %q", sample, line)
			}
			return f
		}
	}
	return 0
}

// waitMetric waits until a sample of /metrics reaches at least least and
// returns its value then. Counters are updated after the work they count
// (an enrichment job leaves the queue before its try is counted; a request
// is counted after its handler returns), so a test reads them once they
// have got there, never once.
func (s *server) waitMetric(t *testing.T, sample string, least float64) float64 {
	t.Helper()
	var v float64
	waitUntil(t, 2*time.Minute, fmt.Sprintf("metric %s to reach %v", sample, least), func() bool {
		v = s.metric(t, sample)
		return v >= least
	})
	return v
}

// waitLog waits until a line of the server's log matches re.
func (s *server) waitLog(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !re.MatchString(s.logs()) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line matches %s; log:\n%s", re, s.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFailedLogins: wrong passwords over WebDAV are logged at warn,
// counted in /metrics and, beyond a few, answered 429 with Retry-After
// without being checked; failures against one user spread over many
// addresses make those addresses wait too; and through all of it the right
// password from an address that has not failed logs in. S3 with a wrong
// secret is slowed down the same way, with 503 SlowDown.
func TestFailedLogins(t *testing.T) {
	s := startServer(t)

	// The challenge a WebDAV client gets before it sends a password is
	// no failure.
	attacker := clientFrom("127.0.0.3")
	for range 10 {
		if resp := s.propfind(attacker, "", ""); resp.StatusCode != 401 {
			t.Fatalf("PROPFIND without credentials: %d; want 401", resp.StatusCode)
		}
	}
	// Wrong passwords: 401 while they are checked, then 429.
	var wrong int
	var limited *http.Response
	for limited == nil {
		switch resp := s.propfind(attacker, "admin", "wrong"); resp.StatusCode {
		case 401:
			wrong++
			if wrong > 30 {
				t.Fatalf("30 wrong passwords, all answered 401; want a 429")
			}
		case 429:
			limited = resp
		default:
			t.Fatalf("PROPFIND with a wrong password: %d", resp.StatusCode)
		}
	}
	if wrong < 6 {
		t.Errorf("429 after %d wrong passwords; want 5 allowed, then one more failure", wrong)
	}
	if ra, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("429 with Retry-After %q; want a number of seconds", limited.Header.Get("Retry-After"))
	}
	s.waitLog(t, regexp.MustCompile(`(?m)^.*level=WARN msg="login failed" component=auth protocol=webdav user=admin remote=127\.0\.0\.3 .*$`))
	if n := s.waitMetric(t, `shoebox_login_failures_total{protocol="webdav"}`, float64(wrong)); n != float64(wrong) {
		t.Errorf("shoebox_login_failures_total{webdav} = %v; want %d", n, wrong)
	}
	if n := s.waitMetric(t, `shoebox_login_throttled_total{protocol="webdav"}`, 1); n < 1 {
		t.Errorf("shoebox_login_throttled_total{webdav} = %v; want at least 1", n)
	}

	// Ten more addresses try one wrong password each (none is over its
	// own limit): admin has 16 failures or more, 6 beyond the 10 allowed,
	// so an address that failed waits 32 s before trying admin again, even
	// with the right password.
	var last *http.Client
	for i := 10; i < 20; i++ {
		last = clientFrom("127.0.0." + strconv.Itoa(i))
		if resp := s.propfind(last, "admin", "wrong"); resp.StatusCode != 401 {
			t.Fatalf("a first wrong password from 127.0.0.%d: %d; want 401", i, resp.StatusCode)
		}
	}
	if resp := s.propfind(last, "admin", adminPW); resp.StatusCode != 429 {
		t.Errorf("the right password from an address that failed, admin under attack: %d; want 429", resp.StatusCode)
	} else if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 10 {
		t.Errorf("Retry-After %q; want about 32 s", resp.Header.Get("Retry-After"))
	}

	// The real user, from an address with no failures, logs in.
	if resp := s.propfind(clientFrom("127.0.0.2"), "admin", adminPW); resp.StatusCode != 207 {
		t.Errorf("the right password from a clean address: %d; want 207", resp.StatusCode)
	}
	if resp, body := s.do("GET", "/api/v1/status", nil); resp.StatusCode != 200 {
		t.Errorf("the JSON API from a clean address: %d %s; want 200", resp.StatusCode, body)
	}

	// S3: a wrong secret for a real key, from an address of its own.
	id, secret := s3Keys(t, s)
	ctx := context.Background()
	newS3 := func(ip, secret string) *s3.Client {
		return s3.New(s3.Options{BaseEndpoint: aws.String(s.s3url()), Region: "us-east-1", UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
			HTTPClient:  clientFrom(ip), Retryer: aws.NopRetryer{}})
	}
	bad := newS3("127.0.0.30", "wrong"+secret[5:])
	for i := 0; ; i++ {
		_, err := bad.ListBuckets(ctx, &s3.ListBucketsInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("ListBuckets with a wrong secret: %v; want an S3 error", err)
		}
		if ae.ErrorCode() == "SignatureDoesNotMatch" {
			if i > 30 {
				t.Fatalf("30 wrong secrets, all answered SignatureDoesNotMatch; want SlowDown")
			}
			continue
		}
		var re *awshttp.ResponseError
		if ae.ErrorCode() != "SlowDown" || !errors.As(err, &re) || re.HTTPStatusCode() != 503 {
			t.Fatalf("ListBuckets with a wrong secret: %v; want SignatureDoesNotMatch, then 503 SlowDown", err)
		}
		if ra, err := strconv.Atoi(re.Response.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("SlowDown with Retry-After %q; want a number of seconds", re.Response.Header.Get("Retry-After"))
		}
		break
	}
	s.waitLog(t, regexp.MustCompile(`(?m)^.*level=WARN msg="login failed" component=auth protocol=s3 user=admin remote=127\.0\.0\.30 access_key=`+id+` .*$`))
	if n := s.waitMetric(t, `shoebox_login_failures_total{protocol="s3"}`, 1); n < 1 {
		t.Errorf("shoebox_login_failures_total{s3} = %v; want at least 1", n)
	}
	if n := s.waitMetric(t, `shoebox_login_throttled_total{protocol="s3"}`, 1); n < 1 {
		t.Errorf("shoebox_login_throttled_total{s3} = %v; want at least 1", n)
	}
	// The right secret from a clean address works.
	if _, err := newS3("127.0.0.31", secret).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("ListBuckets with the right secret from a clean address: %v", err)
	}
}
