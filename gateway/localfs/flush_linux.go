package localfs

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"shoebox/gateway"
)

var _ gateway.Flusher = (*FS)(nil)

// CreateUnsynced implements gateway.Flusher: Create without the fsync.
func (f *FS) CreateUnsynced(ctx context.Context, p gateway.Path, r io.Reader) (gateway.Pending, error) {
	return f.create(ctx, p, r, false)
}

// Flush implements gateway.Flusher with one syncfs(2) of the file system
// holding the root: every file and folder entry written before the call,
// in any folder, is durable when it returns.
func (f *FS) Flush(ctx context.Context) error {
	if f.noSync {
		return nil
	}
	d, err := f.root.Open(".")
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("flush: syncfs: %w", err)
	}
	return nil
}
