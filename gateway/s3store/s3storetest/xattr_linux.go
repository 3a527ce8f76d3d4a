package s3storetest

import (
	"os"
	"path/filepath"
	"syscall"
)

// hasUserXattr reports whether files in dir can carry user.* extended
// attributes (versitygw's posix backend needs them).
func hasUserXattr(dir string) bool {
	p := filepath.Join(dir, ".xattr-probe")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		return false
	}
	defer os.Remove(p)
	if err := syscall.Setxattr(p, "user.shoebox-probe", []byte("1"), 0); err != nil {
		return false
	}
	buf := make([]byte, 8)
	n, err := syscall.Getxattr(p, "user.shoebox-probe", buf)
	return err == nil && string(buf[:n]) == "1"
}
