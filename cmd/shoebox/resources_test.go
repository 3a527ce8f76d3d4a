package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// writeConfig writes a YAML config file and returns the flag naming it.
func writeConfig(t *testing.T, yaml string) []string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "shoebox.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--config", p}
}

// rawUpload starts an upload on a raw connection: it sends the request
// head with Expect: 100-continue and a Content-Length of size, and returns
// once the server's handler has started reading the body (it answered 100
// Continue) and the first bytes have been sent; or, when the server
// answers at once instead, returns that status.
func rawUpload(t *testing.T, addr, target, auth string, size int64, first string) (net.Conn, *bufio.Reader, int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	head := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n", target, addr, size)
	if auth != "" {
		head += "Authorization: " + auth + "\r\n"
	}
	if _, err := c.Write([]byte(head + "\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("PUT %s: reading the first answer: %v", target, err)
	}
	if resp.StatusCode != http.StatusContinue {
		return c, br, resp.StatusCode
	}
	if _, err := c.Write([]byte(first)); err != nil {
		t.Fatal(err)
	}
	return c, br, http.StatusContinue
}

// presign returns the path and query of a presigned S3 PUT of bucket/key.
func presign(t *testing.T, s *server, id, secret, bucket, key string) string {
	t.Helper()
	cl := s3.New(s3.Options{BaseEndpoint: aws.String(s.s3url()), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	req, err := s3.NewPresignClient(cl).PresignPutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// TestBodyIdleTimeout: a body that stops making progress is cut after
// body_idle_timeout (set to 1 s in the config file), on both listeners,
// and nothing of it is stored.
func TestBodyIdleTimeout(t *testing.T) {
	s := startServer(t, writeConfig(t, "body_idle_timeout: 1s\n")...)
	s.mkcol("/dav/bkt")
	id, secret := s3Keys(t, s)
	for _, tc := range []struct {
		name, addr, target, auth, path string
		status                         int
	}{
		{"webdav", s.addr, "/dav/bkt/slow.bin", "Basic " + basic("admin", adminPW), "/dav/bkt/slow.bin", http.StatusRequestTimeout},
		{"s3", s.s3addr, presign(t, s, id, secret, "bkt", "slow-s3.bin"), "", "/dav/bkt/slow-s3.bin", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			c, br, st := rawUpload(t, tc.addr, tc.target, tc.auth, 1000, "0123456789")
			if st != http.StatusContinue {
				t.Fatalf("PUT %s: %d before the body; want 100 Continue", tc.target, st)
			}
			// The client now stalls. The server must answer (408, or S3's
			// RequestTimeout) or close the connection, well before our
			// own 60 s deadline.
			resp, err := http.ReadResponse(br, nil)
			took := time.Since(start)
			switch {
			case err != nil:
				t.Logf("the server closed the stalled upload after %s: %v", took.Round(time.Millisecond), err)
			case resp.StatusCode != tc.status:
				t.Errorf("stalled PUT: status %d; want %d", resp.StatusCode, tc.status)
			default:
				b, _ := io.ReadAll(resp.Body)
				t.Logf("the server answered the stalled upload %d after %s: %.200s", resp.StatusCode, took.Round(time.Millisecond), b)
				if tc.name == "s3" && !strings.Contains(string(b), "<Code>RequestTimeout</Code>") {
					t.Errorf("stalled S3 PUT answered %s; want the RequestTimeout error", b)
				}
			}
			if took > 30*time.Second {
				t.Errorf("the stalled upload was held %s; want about 1 s", took)
			}
			c.Close()
			resp2, body := s.do("GET", tc.path, nil)
			want(t, resp2, body, http.StatusNotFound)
		})
	}
	// A slow body that keeps making progress is not cut.
	c, br, st := rawUpload(t, s.addr, "/dav/bkt/steady.txt", "Basic "+basic("admin", adminPW), 6, "ab")
	if st != http.StatusContinue {
		t.Fatalf("PUT steady.txt: %d; want 100 Continue", st)
	}
	for _, chunk := range []string{"cd", "ef"} {
		time.Sleep(600 * time.Millisecond) // the client's pace, not a wait for the server
		if _, err := c.Write([]byte(chunk)); err != nil {
			t.Fatalf("a steady body was cut: %v", err)
		}
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("steady PUT: %v %v; want 201", resp, err)
	}
	if got := s.get("/dav/bkt/steady.txt"); got != "abcdef" {
		t.Errorf("steady.txt = %q; want abcdef", got)
	}
}

// TestShutdownStalledUpload: SIGTERM with an upload stalled mid-body
// (the default 60 s idle timeout is far off) exits within seconds; the
// stalled file is not stored and an acknowledged one is kept.
func TestShutdownStalledUpload(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/bkt")
	s.put("/dav/bkt/acked.txt", "acknowledged")
	_, _, st := rawUpload(t, s.addr, "/dav/bkt/stalled.bin", "Basic "+basic("admin", adminPW), 1<<20, "0123456789")
	if st != http.StatusContinue {
		t.Fatalf("PUT stalled.bin: %d; want 100 Continue", st)
	}
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { <-s.exited; done <- s.waitErr }()
	select {
	case err := <-done:
		took := time.Since(start)
		t.Logf("exited %v after %s", err, took.Round(time.Millisecond))
		if took > 10*time.Second {
			t.Errorf("shutdown with a stalled upload took %s; want under 10 s", took)
		}
		if err != nil {
			t.Errorf("exit: %v; want a clean exit; log:\n%s", err, s.logs())
		}
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		<-done
		t.Fatalf("no exit 60 s after SIGTERM; log:\n%s", s.logs())
	}
	s.cmd = nil
	s.start()
	if got := s.get("/dav/bkt/acked.txt"); got != "acknowledged" {
		t.Errorf("acked.txt after the restart = %q", got)
	}
	resp, body := s.do("GET", "/dav/bkt/stalled.bin", nil)
	want(t, resp, body, http.StatusNotFound)
	if strings.Contains(s.logs(), "panic") {
		t.Errorf("the log has a panic:\n%s", s.logs())
	}
}
