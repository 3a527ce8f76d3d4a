package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests build the real shoebox binary, start it on loopback and talk
// HTTP to it, through Go's client and through the WebDAV clients people use.

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shoebox-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "shoebox")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build shoebox:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const adminPW = "test-password"

// needTool returns the path of an external client; missing, it skips the
// test, or fails it under CI=true.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (make test installs it with apt-get)", name)
		}
		t.Skipf("%s is not installed; run `make deps`", name)
	}
	return p
}

type server struct {
	t       testing.TB
	data    string
	addr    string
	s3addr  string
	scheme  string
	args    []string
	env     []string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	waitErr error         // cmd's exit, once exited is closed
	logMu   sync.Mutex
	log     bytes.Buffer
	client  *http.Client
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer starts shoebox on a fresh data directory (or data, if given
// in opts via withData) and waits until it answers.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	s := newServer(t, extra...)
	s.start()
	t.Cleanup(s.stop)
	return s
}

// newServer prepares a server on a fresh data directory without starting it.
func newServer(t testing.TB, extra ...string) *server {
	s := &server{t: t, data: t.TempDir(), scheme: "http", args: extra,
		client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 16}}}
	for _, a := range extra {
		if a == "--tls-cert" {
			s.scheme = "https"
		}
	}
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.addr = freeAddr(s.t)
	s.s3addr = freeAddr(s.t)
	args := append([]string{"serve", "--data", s.data, "--dav-addr", s.addr, "--s3-addr", s.s3addr}, s.args...)
	s.cmd = exec.Command(binPath, args...)
	s.cmd.Env = append(append(os.Environ(), "SHOEBOX_ADMIN_PASSWORD="+adminPW), s.env...)
	s.cmd.Stdout = &lockedWriter{s: s}
	s.cmd.Stderr = &lockedWriter{s: s}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan struct{})
	s.exited = exited
	go func() { s.waitErr = s.cmd.Wait(); close(exited) }()
	// A loaded machine may take a while: the deadline is generous, and a
	// server that exits is reported at once.
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := s.client.Get(s.url("/healthz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-exited:
			s.cmd = nil
			s.t.Fatalf("server exited during start-up; log:\n%s", s.logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.t.Fatalf("server did not start in 3 minutes; log:\n%s", s.logs())
}

type lockedWriter struct{ s *server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.logMu.Lock()
	defer w.s.logMu.Unlock()
	return w.s.log.Write(p)
}

func (s *server) logs() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(2 * time.Minute):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

func (s *server) kill9() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

func (s *server) restart() {
	s.stop()
	s.start()
}

func (s *server) url(p string) string { return s.scheme + "://" + s.addr + p }

// s3url is the S3 endpoint.
func (s *server) s3url() string { return s.scheme + "://" + s.s3addr }

// do sends a request as admin and returns the response with its body read.
func (s *server) do(method, p string, body io.Reader, hdr ...string) (*http.Response, string) {
	s.t.Helper()
	return s.doAs("admin", adminPW, method, p, body, hdr...)
}

func (s *server) doAs(user, pw, method, p string, body io.Reader, hdr ...string) (*http.Response, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url(p), body)
	if err != nil {
		s.t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, p, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// want fails the test unless resp has the status.
func want(t testing.TB, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d; want %d; body: %.300s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
}

func (s *server) mkcol(p string) {
	s.t.Helper()
	resp, body := s.do("MKCOL", p, nil)
	want(s.t, resp, body, http.StatusCreated)
}

func (s *server) put(p, data string, hdr ...string) *http.Response {
	s.t.Helper()
	resp, body := s.do("PUT", p, strings.NewReader(data), hdr...)
	if resp.StatusCode != 201 && resp.StatusCode != 204 {
		s.t.Fatalf("PUT %s: %d %s", p, resp.StatusCode, body)
	}
	return resp
}

func (s *server) get(p string) string {
	s.t.Helper()
	resp, body := s.do("GET", p, nil)
	want(s.t, resp, body, http.StatusOK)
	return body
}

// run runs shoebox as a command against the server's data directory.
func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// waitUntil polls cond until it holds, and fails the test if it does not
// within the time given. Tests wait on state this way, never for a fixed
// time, with deadlines generous enough for a machine whose cores are busy
// with other work.
func waitUntil(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
