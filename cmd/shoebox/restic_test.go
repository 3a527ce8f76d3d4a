package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestRestic backs a photo tree up with restic, which talks S3 through
// minio-go: init, backup, check --read-data, restore, and the restored
// tree is byte for byte the original.
func TestRestic(t *testing.T) {
	restic := needTool(t, "restic")
	src, err := filepath.Abs("../../../shared/testdata/media")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src); err != nil {
		t.Skipf("no photo tree: %v", err)
	}
	s := startServer(t)
	id, secret := s3Keys(t, s)
	home := t.TempDir()
	env := append(withoutEnv("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "RESTIC_REPOSITORY", "RESTIC_PASSWORD_FILE"),
		"AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=us-east-1",
		"RESTIC_PASSWORD=shoebox-restic-test", "RESTIC_REPOSITORY=s3:"+s.s3url()+"/resticbucket/repo",
		"HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	runTool(t, env, restic, "init")
	runTool(t, env, restic, "backup", src)
	runTool(t, env, restic, "check", "--read-data")
	dst := t.TempDir()
	runTool(t, env, restic, "restore", "latest", "--target", dst)
	n := 0
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(dst, p))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s after restore: %v (equal %v)", p, err, bytes.Equal(got, want))
		}
		n++
		return nil
	})
	if n == 0 {
		t.Fatal("the photo tree has no files")
	}
}
