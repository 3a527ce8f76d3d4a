// Package s3storetest starts a real S3 server for tests: versitygw in posix
// mode on loopback, built once (see Start). It is used by s3store's own
// tests and by the end-to-end tests that run Shoebox on an upstream.
package s3storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// versitygw, the real S3 server the tests run against: built once with
//
//	GOBIN=$HOME/.cache/shoebox-bench/bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
//
// (.ci/bench-s3 keeps it there as versitygw-v1.8.0), or named by
// SHOEBOX_VERSITYGW_BIN. When it cannot be had, the tests fail under CI=true
// and are skipped otherwise.
const (
	vgwPkg = "github.com/versity/versitygw/cmd/versitygw"
	vgwVer = "v1.8.0"
)

var (
	vgwOnce sync.Once
	vgwBin  string
	vgwErr  error
)

func findVersitygw() (string, error) {
	vgwOnce.Do(func() {
		if p := os.Getenv("SHOEBOX_VERSITYGW_BIN"); p != "" {
			vgwBin = p
			return
		}
		home, _ := os.UserHomeDir()
		cache := filepath.Join(home, ".cache", "shoebox-bench", "bin")
		for _, name := range []string{"versitygw-" + vgwVer, "versitygw"} {
			if p := filepath.Join(cache, name); isExec(p) {
				vgwBin = p
				return
			}
		}
		if os.Getenv("SHOEBOX_NO_BUILD") != "" {
			vgwErr = errors.New("versitygw not found and SHOEBOX_NO_BUILD set")
			return
		}
		// Build it (minutes on a small machine).
		if err := os.MkdirAll(cache, 0o755); err != nil {
			vgwErr = err
			return
		}
		cmd := exec.Command("go", "install", vgwPkg+"@"+vgwVer)
		cmd.Env = append(os.Environ(), "GOBIN="+cache, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			vgwErr = fmt.Errorf("build versitygw: %v\n%s", err, out)
			return
		}
		vgwBin = filepath.Join(cache, "versitygw")
	})
	return vgwBin, vgwErr
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

// upstream is a running versitygw on loopback.
type Upstream struct {
	bin       string
	Dir, Addr string // data directory, host:port
	AK, SK    string // access key and secret
	Bucket    string // the bucket Start created
	flags     []string
	posix     []string // posix backend options (--sidecar)
	cmd       *exec.Cmd
	Log       *bytes.Buffer // what versitygw printed
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Start starts a fresh versitygw (posix backend, on a directory with user
// xattrs, else with its metadata in a sidecar directory) with its own keys
// and creates the upstream bucket.
func Start(tb testing.TB, flags ...string) *Upstream {
	tb.Helper()
	bin, err := findVersitygw()
	if err != nil {
		Unavailable(tb, "versitygw unavailable: %v", err)
	}
	dir := tb.TempDir()
	var posix []string
	forceSidecar := os.Getenv("SHOEBOX_VGW_SIDECAR") != "" // to test that path
	if forceSidecar || !hasUserXattr(dir) {
		alt, err := os.MkdirTemp("/dev/shm", "s3store-vgw-")
		if err == nil && !forceSidecar && hasUserXattr(alt) {
			tb.Logf("%s has no user xattrs; versitygw data in %s", dir, alt)
			tb.Cleanup(func() { os.RemoveAll(alt) })
			dir = alt
		} else {
			if err == nil {
				os.RemoveAll(alt)
			}
			side := tb.TempDir()
			tb.Logf("no user xattrs here; versitygw keeps its metadata in %s", side)
			posix = []string{"--sidecar", side}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	u := &Upstream{bin: bin, Dir: dir, Addr: addr, AK: "ak" + randHex(8), SK: "sk" + randHex(16), Bucket: "shoebox-up", flags: flags, posix: posix}
	if err := u.Start(); err != nil {
		Unavailable(tb, "start versitygw: %v", err)
	}
	tb.Cleanup(u.Stop)
	c := u.Client(nil)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &u.Bucket}); err != nil {
		tb.Fatalf("create upstream bucket: %v\n%s", err, u.Log)
	}
	return u
}

func (u *Upstream) Endpoint() string { return "http://" + u.Addr }

func (u *Upstream) Start() error {
	u.Log = &bytes.Buffer{}
	args := append([]string{"--port", u.Addr, "--access", u.AK, "--secret", u.SK,
		"--quiet", "--keep-alive", "--health", "/health"}, u.flags...)
	args = append(append(append(args, "posix"), u.posix...), u.Dir)
	cmd := exec.Command(u.bin, args...)
	var env []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "ROOT_") || strings.HasPrefix(e, "VGW_") {
			continue
		}
		env = append(env, e)
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = u.Log, u.Log
	if err := cmd.Start(); err != nil {
		return err
	}
	u.cmd = cmd
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	for range 200 {
		select {
		case <-done:
			u.cmd = nil
			return fmt.Errorf("versitygw exited: %s", u.Log)
		default:
		}
		resp, err := http.Get(u.Endpoint() + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	u.Stop()
	return fmt.Errorf("versitygw not ready on %s: %s", u.Addr, u.Log)
}

func (u *Upstream) Stop() {
	if u.cmd == nil {
		return
	}
	u.cmd.Process.Kill()
	for range 100 { // wait until the port is free
		if c, err := net.Dial("tcp", u.Addr); err != nil {
			break
		} else {
			c.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	u.cmd = nil
}

// client is a plain SDK client for the upstream (direct access).
func (u *Upstream) Client(hc *http.Client) *s3.Client {
	o := s3.Options{
		Region: "us-east-1", UsePathStyle: true, BaseEndpoint: aws.String(u.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider(u.AK, u.SK, ""),
	}
	if hc != nil {
		o.HTTPClient = hc
	}
	return s3.New(o)
}
