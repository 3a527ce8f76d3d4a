package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// s3Keys creates an access key for admin with the CLI, which the running
// server runs for it (admin socket), and returns the two values.
func s3Keys(t *testing.T, s *server) (id, secret string) {
	t.Helper()
	out, err := runCLI(t, "", "key", "create", "admin", "--data", s.data)
	if err != nil {
		t.Fatalf("key create: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^AWS_ACCESS_KEY_ID=(\S+)\nAWS_SECRET_ACCESS_KEY=(\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("key create printed %q", out)
	}
	return m[1], m[2]
}

// withoutEnv is the environment without the named variables.
func withoutEnv(names ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

func awsEnv(s *server, id, secret string, home string) []string {
	return append(withoutEnv("AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_ENDPOINT_URL"),
		"AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME="+home,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

func runTool(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestAWSCLI drives the aws cli: mb, cp (small and multipart), sync up and
// down, ls, rm, presign + curl; and checks that S3 writes show in WebDAV.
func TestAWSCLI(t *testing.T) {
	needTool(t, "aws")
	curl := needTool(t, "curl")
	s := startServer(t)
	id, secret := s3Keys(t, s)
	home := t.TempDir()
	env := awsEnv(s, id, secret, home)
	aws := func(args ...string) string {
		start := time.Now()
		defer func() { t.Logf("aws %s: %v", strings.Join(args[:2], " "), time.Since(start).Round(time.Millisecond)) }()
		return runTool(t, env, "aws", append([]string{"--endpoint-url", s.s3url()}, args...)...)
	}
	aws("s3", "mb", "s3://awsbucket")
	src := t.TempDir()
	makeTree(t, src)
	big := make([]byte, 20<<20) // above the cli's 8 MiB multipart threshold
	rand.Read(big)
	os.WriteFile(filepath.Join(src, "big-multipart.bin"), big, 0o644)
	aws("s3", "cp", filepath.Join(src, "a.txt"), "s3://awsbucket/single/a.txt")
	aws("s3", "cp", filepath.Join(src, "big-multipart.bin"), "s3://awsbucket/single/big-multipart.bin")
	aws("s3", "sync", src, "s3://awsbucket/tree")
	back := t.TempDir()
	aws("s3", "sync", "s3://awsbucket/tree", back)
	for _, rel := range []string{"big-multipart.bin", "with space/photo 1.jpg", "ünïcödé/日本語.heic", "plus+sign/x+y.txt"} {
		a, _ := os.ReadFile(filepath.Join(src, rel))
		b, err := os.ReadFile(filepath.Join(back, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s after sync up and down: %v (equal %v)", rel, err, bytes.Equal(a, b))
		}
	}
	if out := aws("s3", "sync", src, "s3://awsbucket/tree"); strings.Contains(out, "upload:") {
		t.Errorf("second sync uploaded again:\n%s", out)
	}
	ls := aws("s3", "ls", "--recursive", "s3://awsbucket/")
	if !strings.Contains(ls, "single/big-multipart.bin") || !strings.Contains(ls, "tree/ünïcödé/日本語.heic") {
		t.Errorf("ls:\n%s", ls)
	}
	// What S3 wrote, WebDAV serves.
	if got := s.get("/dav/awsbucket/single/big-multipart.bin"); got != string(big) {
		t.Errorf("multipart object through WebDAV differs (%d bytes)", len(got))
	}
	// And the reverse.
	s.put("/dav/awsbucket/from-dav.txt", "written by WebDAV")
	if out := aws("s3", "cp", "s3://awsbucket/from-dav.txt", "-"); out != "written by WebDAV" {
		t.Errorf("WebDAV file through S3 = %q", out)
	}
	// A 1,024-byte key whose last name is longer than file systems keep,
	// both ways.
	want, _ := os.ReadFile(filepath.Join(src, "a.txt"))
	long := "long/" + strings.Repeat("é", 509) + "x"
	if len(long) != 1024 {
		t.Fatalf("key of %d bytes", len(long))
	}
	aws("s3", "cp", filepath.Join(src, "a.txt"), "s3://awsbucket/"+long)
	if got := s.get("/dav/awsbucket/" + escapePath(long)); got != string(want) {
		t.Errorf("1,024-byte key through WebDAV = %q", got)
	}
	if names := s.names(t, "/dav/awsbucket/long/"); len(names) != 1 || "long/"+names[0] != long {
		t.Errorf("PROPFIND of long/ = %q; want the %d-byte name", names, len(long)-5)
	}
	davLong := "long/" + strings.Repeat("d", 600)
	s.put("/dav/awsbucket/"+escapePath(davLong), "long via WebDAV")
	if out := aws("s3", "cp", "s3://awsbucket/"+davLong, "-"); out != "long via WebDAV" {
		t.Errorf("a 600-byte WebDAV name through S3 = %q", out)
	}
	url := strings.TrimSpace(aws("s3", "presign", "s3://awsbucket/single/a.txt", "--expires-in", "300"))
	got, err := exec.Command(curl, "-sf", url).Output()
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("presigned GET with curl: %v, %q", err, got)
	}
	if out, err := exec.Command(curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", strings.Replace(url, "Signature=", "Signature=0", 1)).Output(); err != nil || string(out) != "403" {
		t.Errorf("tampered presigned URL: %s, %v; want 403", out, err)
	}
	aws("s3", "rm", "--recursive", "s3://awsbucket/tree")
	if ls := aws("s3", "ls", "--recursive", "s3://awsbucket/"); strings.Contains(ls, "tree/") {
		t.Errorf("after rm --recursive:\n%s", ls)
	}
}

// TestS3cmd drives s3cmd, signing with SigV4 and with SigV2 (its
// signature_v2 setting, which older setups still use).
func TestS3cmd(t *testing.T) {
	needTool(t, "s3cmd")
	s := startServer(t)
	id, secret := s3Keys(t, s)
	for _, v2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("signature_v2=%v", v2), func(t *testing.T) {
			dir := t.TempDir()
			host := s.s3addr
			cfg := filepath.Join(dir, "s3cfg")
			sigv2 := map[bool]string{false: "False", true: "True"}[v2]
			os.WriteFile(cfg, []byte("[default]\naccess_key = "+id+"\nsecret_key = "+secret+"\nhost_base = "+host+"\nhost_bucket = "+host+
				"\nuse_https = False\nsignature_v2 = "+sigv2+"\nbucket_location = us-east-1\n"), 0o600)
			s3c := func(args ...string) string {
				return runTool(t, os.Environ(), "s3cmd", append([]string{"-c", cfg}, args...)...)
			}
			bucket := "s3://s3cmd-v2-" + strings.ToLower(sigv2)
			s3c("mb", bucket)
			f := filepath.Join(dir, "photo.jpg")
			os.WriteFile(f, []byte("s3cmd bytes"), 0o644)
			s3c("put", "--add-header=x-amz-meta-place:Lisbon", f, bucket+"/dir/a photo+1.jpg")
			if ls := s3c("ls", bucket+"/dir/"); !strings.Contains(ls, bucket+"/dir/a photo+1.jpg") {
				t.Errorf("s3cmd ls:\n%s", ls)
			}
			if info := s3c("info", bucket+"/dir/a photo+1.jpg"); !strings.Contains(info, "Lisbon") {
				t.Errorf("s3cmd info lost the metadata:\n%s", info)
			}
			s3c("get", bucket+"/dir/a photo+1.jpg", filepath.Join(dir, "back.jpg"))
			if b, _ := os.ReadFile(filepath.Join(dir, "back.jpg")); string(b) != "s3cmd bytes" {
				t.Errorf("s3cmd get = %q", b)
			}
			s3c("del", bucket+"/dir/a photo+1.jpg")
			s3c("rb", bucket)
		})
	}
	// A wrong secret is refused in both schemes.
	for _, v2 := range []string{"False", "True"} {
		cfg := filepath.Join(t.TempDir(), "bad")
		os.WriteFile(cfg, []byte("[default]\naccess_key = "+id+"\nsecret_key = wrong"+secret+"\nhost_base = "+s.s3addr+"\nhost_bucket = "+s.s3addr+
			"\nuse_https = False\nsignature_v2 = "+v2+"\nbucket_location = us-east-1\n"), 0o600)
		out, err := exec.Command("s3cmd", "-c", cfg, "ls").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "SignatureDoesNotMatch") {
			t.Errorf("s3cmd ls with a wrong secret (signature_v2=%s): %v\n%s; want SignatureDoesNotMatch", v2, err, out)
		}
	}
}

// TestBrowserUpload posts HTML-form uploads with curl -F: anonymously into
// a bucket made public-read-write, and signed with a SigV2 policy into a
// private one; both land in the library, as WebDAV shows.
func TestBrowserUpload(t *testing.T) {
	needTool(t, "aws")
	curl := needTool(t, "curl")
	s := startServer(t)
	id, secret := s3Keys(t, s)
	env := awsEnv(s, id, secret, t.TempDir())
	runTool(t, env, "aws", "--endpoint-url", s.s3url(), "s3api", "create-bucket", "--bucket", "dropbox", "--acl", "public-read-write")
	runTool(t, env, "aws", "--endpoint-url", s.s3url(), "s3", "mb", "s3://private")
	photo := filepath.Join(t.TempDir(), "beach 1.jpg")
	os.WriteFile(photo, []byte("form bytes"), 0o644)
	out := runTool(t, nil, curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-F", "key=uploads/${filename}", "-F", "Content-Type=image/jpeg",
		"-F", "file=@"+photo, s.s3url()+"/dropbox")
	if out != "204" {
		t.Errorf("anonymous form upload: HTTP %s; want 204", out)
	}
	if got := s.get("/dav/dropbox/uploads/beach%201.jpg"); got != "form bytes" {
		t.Errorf("form upload through WebDAV: %q", got)
	}
	if out := runTool(t, nil, curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-F", "key=x", "-F", "file=@"+photo, s.s3url()+"/private"); out != "403" {
		t.Errorf("anonymous form upload into a private bucket: HTTP %s; want 403", out)
	}
	doc := `{"expiration": "` + time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z") + `", "conditions": [{"bucket": "private"}, ["starts-with", "$key", "in/"], ["content-length-range", 1, 1048576], {"success_action_status": "201"}]}`
	pol := base64.StdEncoding.EncodeToString([]byte(doc))
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(pol))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	out = runTool(t, nil, curl, "-sS", "-w", "\n%{http_code}", "-F", "key=in/photo.jpg", "-F", "AWSAccessKeyId="+id, "-F", "policy="+pol,
		"-F", "signature="+sig, "-F", "success_action_status=201", "-F", "file=@"+photo, s.s3url()+"/private")
	if !strings.HasSuffix(out, "\n201") || !strings.Contains(out, "<Key>in/photo.jpg</Key>") {
		t.Errorf("signed form upload: %s; want 201 and a PostResponse", out)
	}
	if got := s.get("/dav/private/in/photo.jpg"); got != "form bytes" {
		t.Errorf("signed form upload through WebDAV: %q", got)
	}
}

// TestRcloneS3 syncs a tree with rclone's s3 backend and checks it both ways.
func TestRcloneS3(t *testing.T) {
	needTool(t, "rclone")
	s := startServer(t)
	id, secret := s3Keys(t, s)
	env := append(withoutEnv("AWS_CA_BUNDLE"),
		"RCLONE_CONFIG=/dev/null",
		"RCLONE_CONFIG_SBS3_TYPE=s3", "RCLONE_CONFIG_SBS3_PROVIDER=Other",
		"RCLONE_CONFIG_SBS3_ENDPOINT="+s.s3url(), "RCLONE_CONFIG_SBS3_ACCESS_KEY_ID="+id,
		"RCLONE_CONFIG_SBS3_SECRET_ACCESS_KEY="+secret, "RCLONE_CONFIG_SBS3_FORCE_PATH_STYLE=true",
	)
	src, back := t.TempDir(), t.TempDir()
	makeTree(t, src)
	rclone(t, env, "mkdir", "sbs3:rclonebucket")
	rclone(t, env, "sync", src, "sbs3:rclonebucket/tree")
	rclone(t, env, "check", src, "sbs3:rclonebucket/tree")
	rclone(t, env, "sync", "sbs3:rclonebucket/tree", back)
	rclone(t, env, "check", src, back)
	if out := rclone(t, env, "sync", "-v", src, "sbs3:rclonebucket/tree"); strings.Contains(out, "Copied") {
		t.Errorf("second sync copied again:\n%s", out)
	}
}

// TestPublicBucket: anonymous S3 requests are refused unless the bucket was
// made public-read, and then only reads pass.
func TestPublicBucket(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/pub")
	s.mkcol("/dav/priv")
	s.put("/dav/pub/photo.jpg", "public bytes")
	s.put("/dav/priv/photo.jpg", "private bytes")
	get := func(method, p string) int {
		req, _ := http.NewRequest(method, s.s3url()+p, strings.NewReader(""))
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get("GET", "/pub/photo.jpg"); st != 403 {
		t.Errorf("anonymous GET before public: %d; want 403", st)
	}
	s.stop()
	if out, err := runCLI(t, "", "bucket", "public", "admin", "pub", "--data", s.data); err != nil {
		t.Fatalf("bucket public: %v\n%s", err, out)
	}
	out, _ := runCLI(t, "", "bucket", "list", "admin", "--data", s.data)
	if !strings.Contains(out, "pub\tpublic-read") || !strings.Contains(out, "priv\tprivate") {
		t.Errorf("bucket list:\n%s", out)
	}
	s.start()
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/pub/photo.jpg", 200}, {"HEAD", "/pub/photo.jpg", 200}, {"GET", "/pub", 200},
		{"PUT", "/pub/new.jpg", 403}, {"DELETE", "/pub/photo.jpg", 403},
		{"GET", "/priv/photo.jpg", 403}, {"GET", "/", 403},
	} {
		if st := get(tc.method, tc.path); st != tc.want {
			t.Errorf("anonymous %s %s: %d; want %d", tc.method, tc.path, st, tc.want)
		}
	}
}
