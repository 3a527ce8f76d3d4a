package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"shoebox/gateway/s3store/s3storetest"
)

// TestUpstream runs Shoebox with its originals in a real S3 server
// (versitygw on loopback): rclone syncs through WebDAV and S3 come back
// identical, a folder MOVE and a restart keep everything, and while the
// upstream is down an upload fails with a clear error and leaves nothing
// cataloged; once it is back, uploads work again.
func TestUpstream(t *testing.T) {
	needTool(t, "rclone")
	up := s3storetest.Start(t)
	s := newServer(t, "--upstream-endpoint", up.Endpoint(), "--upstream-bucket", up.Bucket, "--upstream-prefix", "sb/",
		"--upstream-access-key", up.AK, "--upstream-derived")
	s.env = []string{"SHOEBOX_UPSTREAM_SECRET_KEY=" + up.SK}
	s.start()
	t.Cleanup(s.stop)

	src, back := t.TempDir(), t.TempDir()
	makeTree(t, src)
	env := rcloneEnv(s, "owncloud")
	s.mkcol("/dav/upb")
	rclone(t, env, "sync", src, "sb:upb/tree")
	rclone(t, env, "check", src, "sb:upb/tree")
	id, secret := s3Keys(t, s)
	s3env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_CA_BUNDLE=") }),
		"RCLONE_CONFIG=/dev/null", "RCLONE_CONFIG_SBS3_TYPE=s3", "RCLONE_CONFIG_SBS3_PROVIDER=Other",
		"RCLONE_CONFIG_SBS3_ENDPOINT="+s.s3url(), "RCLONE_CONFIG_SBS3_ACCESS_KEY_ID="+id,
		"RCLONE_CONFIG_SBS3_SECRET_ACCESS_KEY="+secret, "RCLONE_CONFIG_SBS3_FORCE_PATH_STYLE=true")
	rclone(t, s3env, "sync", src, "sbs3:upb/s3tree")
	rclone(t, s3env, "check", src, "sbs3:upb/s3tree")
	runLitmus(t, s)
	// Thumbnails live upstream too (--upstream-derived). The photo is
	// larger than a preview, so both sizes are stored (a smaller upright
	// JPEG is its own preview).
	s.put("/dav/upb/photo.jpg", string(photoJPEG(t, 2000, 1500, 3)))
	s.waitDone(t, "upb/photo.jpg")
	resp, body := s.do("GET", "/api/v1/objects/upb/photo.jpg/thumbnail?size=small", nil)
	want(t, resp, body, 200)
	var derived int
	pg, err := up.Client(nil).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &up.Bucket, Prefix: aws.String("sb/derived/")})
	if err == nil {
		derived = len(pg.Contents)
	}
	if derived != 2 {
		t.Errorf("%d derived files upstream (%v); want the two thumbnails", derived, err)
	}

	// A folder MOVE, then a restart: the bytes follow.
	resp, body = s.do("MOVE", "/dav/upb/tree/", nil, "Destination", s.url("/dav/upb/moved/"))
	want(t, resp, body, 201)
	s.restart()
	env = rcloneEnv(s, "owncloud") // a new port
	rclone(t, env, "sync", "sb:upb/moved", back)
	rclone(t, env, "check", src, back)

	// The upstream goes down: the upload fails, nothing is cataloged.
	up.Stop()
	resp, body = s.do("PUT", "/dav/upb/down.txt", strings.NewReader("while the upstream is down"))
	if resp.StatusCode < 500 {
		t.Errorf("PUT with the upstream down: %d %s; want a 5xx", resp.StatusCode, body)
	}
	resp, body = s.do("PROPFIND", "/dav/upb/down.txt", nil, "Depth", "0")
	want(t, resp, body, 404)
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 2*time.Minute, "an upload once the upstream is back", func() bool {
		resp, body = s.do("PUT", "/dav/upb/back.txt", strings.NewReader("upstream is back"))
		return resp.StatusCode == 201
	})
	if got := s.get("/dav/upb/back.txt"); got != "upstream is back" {
		t.Errorf("GET back.txt = %q", got)
	}
	out, err := runCLI(t, "", "fsck", "--data", s.data)
	if err == nil {
		t.Errorf("fsck while the server runs succeeded:\n%s", out)
	}
	s.stop()
	out, err = runCLI(t, "", append([]string{"fsck", "--data", s.data}, append(s.args, "--upstream-secret-key", up.SK)...)...)
	if err != nil || !strings.Contains(out, "upstream:") {
		t.Errorf("fsck: %v\n%s", err, out)
	}
	t.Logf("fsck: %s", strings.TrimSpace(out))
}
