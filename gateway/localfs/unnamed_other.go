//go:build !linux

package localfs

import (
	"errors"
	"os"
	"time"
)

// Unnamed staging is Linux-only (see unnamed_linux.go).
func (f *FS) probeUnnamed() {}

func (f *FS) openUnnamed() (*os.File, error) { return nil, errors.ErrUnsupported }

func (p *pending) commitUnnamed(mod time.Time) error { return errors.ErrUnsupported }
