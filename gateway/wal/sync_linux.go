package wal

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync is fdatasync(2): the appended bytes and the file's size, not its
// times.
func datasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
