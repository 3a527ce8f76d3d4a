package localfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of f at off to
// disk, without waiting (sync_file_range SYNC_FILE_RANGE_WRITE): the final
// fsync of a large upload then finds most of it written already. It is a
// hint; errors are ignored (fsync reports them).
func startWriteback(f *os.File, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
