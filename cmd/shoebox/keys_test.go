package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"shoebox/catalog"
	"shoebox/gateway/auth"
	"shoebox/s3api"
)

// keyCLI runs shoebox with stdout and stderr apart.
func keyCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

var keyCreateOut = regexp.MustCompile(`^AWS_ACCESS_KEY_ID=(SB[A-Z0-9]{18})\nAWS_SECRET_ACCESS_KEY=([A-Za-z0-9]{40})\n$`)

func TestKeyCLI(t *testing.T) {
	data := t.TempDir()
	if out, err := runCLI(t, "pw-of-bob\n", "user", "add", "bob", "--password-stdin", "--data", data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}

	create := func() (id, secret string) {
		t.Helper()
		out, errOut, err := keyCLI(t, "key", "create", "bob", "--data", data)
		if err != nil {
			t.Fatalf("key create: %v\n%s", err, errOut)
		}
		m := keyCreateOut.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("key create printed %q on stdout; want exactly the two lines AWS_ACCESS_KEY_ID=SB… and AWS_SECRET_ACCESS_KEY=…", out)
		}
		return m[1], m[2]
	}
	id1, secret1 := create()
	id2, secret2 := create()
	if id1 == id2 || secret1 == secret2 {
		t.Errorf("two keys share a value: %s/%s and %s/%s", id1, secret1, id2, secret2)
	}

	// The output is meant for eval.
	sh := exec.Command("sh", "-c", `eval "$("$0" key create bob --data "$1")" && echo "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"`, binPath, data)
	out, err := sh.Output()
	if err != nil || !regexp.MustCompile(`^SB[A-Z0-9]{18}:[A-Za-z0-9]{40}\n$`).Match(out) {
		t.Errorf(`eval "$(shoebox key create bob)": got %q, %v; want ID:SECRET`, out, err)
	}
	id3 := strings.SplitN(string(out), ":", 2)[0]

	// The server key file.
	st, err := os.Stat(filepath.Join(data, "secret.key"))
	if err != nil {
		t.Fatalf("secret.key: %v", err)
	}
	if st.Mode().Perm() != 0o600 || st.Size() != 32 {
		t.Errorf("secret.key: mode %04o, %d bytes; want 0600, 32", st.Mode().Perm(), st.Size())
	}

	// list shows the IDs and no secret.
	out2, errOut, err := keyCLI(t, "key", "list", "bob", "--data", data)
	if err != nil {
		t.Fatalf("key list: %v\n%s", err, errOut)
	}
	for _, id := range []string{id1, id2, id3} {
		if !strings.Contains(out2, id) {
			t.Errorf("key list does not show %s:\n%s", id, out2)
		}
	}
	if strings.Contains(out2, secret1) || strings.Contains(out2, secret2) {
		t.Errorf("key list shows a secret:\n%s", out2)
	}
	if n := strings.Count(out2, "\n"); n != 3 {
		t.Errorf("key list printed %d lines; want 3:\n%s", n, out2)
	}

	// Unknown users are refused, with nothing on stdout.
	out3, errOut, err := keyCLI(t, "key", "create", "nobody", "--data", data)
	if err == nil || out3 != "" || !strings.Contains(errOut, "no user") {
		t.Errorf("key create for an unknown user: err %v, stdout %q, stderr %q; want a failure saying \"no user\" and no stdout", err, out3, errOut)
	}
	if _, errOut, err := keyCLI(t, "key", "list", "nobody", "--data", data); err == nil || !strings.Contains(errOut, "no user") {
		t.Errorf("key list for an unknown user: err %v, stderr %q; want a failure saying \"no user\"", err, errOut)
	}
	if _, _, err := keyCLI(t, "key", "create", "--data", data); err == nil {
		t.Errorf("key create without a user: got success; want a usage error")
	}

	// The clear secrets are nowhere in the data directory.
	for _, secret := range []string{secret1, secret2} {
		for _, form := range [][]byte{[]byte(secret), []byte(base64.StdEncoding.EncodeToString([]byte(secret)))} {
			filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Errorf("read %s: %v", p, err)
					return nil
				}
				if bytes.Contains(b, form) {
					t.Errorf("%s contains a clear secret (%q)", p, form)
				}
				return nil
			})
		}
	}
	// (and the IDs are there, so the search above looked in the right place)
	found := false
	filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(id1)) {
				found = true
			}
		}
		return nil
	})
	if !found {
		t.Errorf("no file in the data directory holds the key ID %s; the secret search is meaningless", id1)
	}

	// revoke
	out4, errOut, err := keyCLI(t, "key", "revoke", id1, "--data", data)
	if err != nil || !strings.Contains(out4, id1) {
		t.Fatalf("key revoke: %v, stdout %q\n%s", err, out4, errOut)
	}
	out5, _, _ := keyCLI(t, "key", "list", "bob", "--data", data)
	if strings.Contains(out5, id1) || !strings.Contains(out5, id2) {
		t.Errorf("key list after revoking %s:\n%s\nwant %s gone and %s kept", id1, out5, id1, id2)
	}
	if _, errOut, err := keyCLI(t, "key", "revoke", id1, "--data", data); err == nil || !strings.Contains(errOut, "no access key") {
		t.Errorf("revoking %s twice: err %v, stderr %q; want \"no access key\"", id1, err, errOut)
	}

	// The server's lookup, on the same data.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open(filepath.Join(data, "catalog"), catalog.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	sealer, err := auth.OpenSealer(filepath.Join(data, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lookup := secretLookup(cat, sealer)
	if u, s, err := lookup(ctx, id2); u != "bob" || s != secret2 || err != nil {
		t.Errorf("lookup(%s): got %q, %q, %v; want bob, the secret printed, nil", id2, u, s, err)
	}
	if _, _, err := lookup(ctx, id1); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("lookup of a revoked key: got %v; want catalog.ErrNotFound", err)
	}
	other, err := auth.OpenSealer(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := secretLookup(cat, other)(ctx, id2); err == nil || errors.Is(err, catalog.ErrNotFound) || errors.Is(err, s3api.ErrUnknownAccessKey) {
		t.Errorf("lookup with another server key: got %v; want an error that is not \"unknown key\"", err)
	}
	if _, err := cat.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lookup(ctx, id2); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("lookup of a removed user's key: got %v; want catalog.ErrNotFound (the key went with the user)", err)
	}
}

// TestUserRmRevokesKeys: "user rm" removes the user's access keys, and
// "user add" of the same name does not bring them back: the old key is
// gone from "key list" and unknown to the server's lookup.
func TestUserRmRevokesKeys(t *testing.T) {
	data := t.TempDir()
	run := func(stdin string, args ...string) string {
		t.Helper()
		out, err := runCLI(t, stdin, append(args, "--data", data)...)
		if err != nil {
			t.Fatalf("shoebox %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	run("pw-1\n", "user", "add", "dora", "--password-stdin")
	m := keyCreateOut.FindStringSubmatch(run("", "key", "create", "dora"))
	if m == nil {
		t.Fatal("key create printed no key")
	}
	id := m[1]
	if out := run("", "user", "rm", "dora"); !strings.Contains(out, "1 access key") {
		t.Errorf("user rm: got %q; want it to say that 1 access key went with the user", out)
	}
	run("pw-2\n", "user", "add", "dora", "--password-stdin")
	if out := run("", "key", "list", "dora"); strings.Contains(out, id) {
		t.Errorf("key list after user rm and add: got %q; want no %s", out, id)
	}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open(filepath.Join(data, "catalog"), catalog.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	sealer, err := auth.OpenSealer(filepath.Join(data, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if u, _, err := secretLookup(cat, sealer)(context.Background(), id); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("lookup of the removed user's key after the user was added again: got %q, %v; want catalog.ErrNotFound", u, err)
	}
}

func TestKeyCLIRefusesOpenKeyFile(t *testing.T) {
	data := t.TempDir()
	if out, err := runCLI(t, "pw\n", "user", "add", "carol", "--password-stdin", "--data", data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(data, "secret.key"), make([]byte, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(data, "secret.key"), 0o644)
	out, errOut, err := keyCLI(t, "key", "create", "carol", "--data", data)
	if err == nil || out != "" || !strings.Contains(errOut, "chmod 600") {
		t.Errorf("key create with a world-readable secret.key: err %v, stdout %q, stderr %q; want a failure saying chmod 600", err, out, errOut)
	}
	if out, _, _ := keyCLI(t, "key", "list", "carol", "--data", data); out != "" {
		t.Errorf("a refused key create left a key: %q", out)
	}
}

// TestAdminWhileRunning: user, key and bucket commands work while the
// server holds the data directory (it runs them, over its admin socket),
// and take effect at once: a new user can log in, a new key signs, a
// revoked key and an old password stop working without a restart.
func TestAdminWhileRunning(t *testing.T) {
	s := startServer(t)
	if st, err := os.Stat(filepath.Join(s.data, "admin.sock")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v; want mode 0600", err)
	}
	if out, err := runCLI(t, "pw-of-dave\n", "user", "add", "dave", "--password-stdin", "--data", s.data); err != nil {
		t.Fatalf("user add while running: %v\n%s", err, out)
	}
	resp, body := s.doAs("dave", "pw-of-dave", "PROPFIND", "/dav/", nil, "Depth", "0")
	want(t, resp, body, 207)

	out, errOut, err := keyCLI(t, "key", "create", "dave", "--data", s.data)
	m := keyCreateOut.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("key create while running: %v, stdout %q, stderr %s", err, out, errOut)
	}
	cli := s3.New(s3.Options{BaseEndpoint: aws.String(s.s3url()), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(m[1], m[2], "")})
	ctx := context.Background()
	if _, err := cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("daves")}); err != nil {
		t.Fatalf("the new key does not sign: %v", err)
	}
	if out, err := runCLI(t, "", "bucket", "list", "dave", "--data", s.data); err != nil || !strings.Contains(out, "daves\tprivate") {
		t.Errorf("bucket list while running: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "", "key", "revoke", m[1], "--data", s.data); err != nil {
		t.Fatalf("key revoke while running: %v\n%s", err, out)
	}
	_, err = cli.ListBuckets(ctx, &s3.ListBucketsInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidAccessKeyId" {
		t.Errorf("a revoked key: %v; want InvalidAccessKeyId at once", err)
	}
	if out, err := runCLI(t, "new-pw\n", "user", "passwd", "dave", "--password-stdin", "--data", s.data); err != nil {
		t.Fatalf("user passwd while running: %v\n%s", err, out)
	}
	resp, body = s.doAs("dave", "pw-of-dave", "PROPFIND", "/dav/", nil, "Depth", "0")
	want(t, resp, body, 401)
	resp, body = s.doAs("dave", "new-pw", "PROPFIND", "/dav/", nil, "Depth", "0")
	want(t, resp, body, 207)
	// Errors come back as errors; commands that need the server stopped say so.
	if out, err := runCLI(t, "", "key", "create", "nobody", "--data", s.data); err == nil || !strings.Contains(out, "no user") {
		t.Errorf("key create for an unknown user while running: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "", "reindex", "--data", s.data); err == nil || !strings.Contains(out, "running") {
		t.Errorf("reindex while running: %v\n%s; want a refusal naming the running server", err, out)
	}
}
