//go:build !linux

package localfs

import "os"

// newBeneath: openat2 is Linux's; elsewhere FS checks paths with Lstat
// (checkLinks).
func newBeneath(root *os.Root) beneath { return nil }
