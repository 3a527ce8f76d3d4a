package localfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"time"

	"golang.org/x/sys/unix"
)

// Unnamed staging (Linux). An upload is written to an unnamed file
// (O_TMPFILE in .tmp) and linked into its folder at Commit, through
// /proc/self/fd. A new name is then one directory change instead of two (a
// name in .tmp, then a rename): 4 KiB PUTs at 16 clients ran at about
// 1,480/s with named staging and 1,680–2,160/s unnamed, alternated on the
// same machine. (Creating the inode itself stays the costliest step on a
// journal-less ext4 after many deletes, which makes the allocator skip
// every recently freed inode; both kinds of staging pay it.) A file that
// must replace another is linked into .tmp under a
// random name and renamed over it. Where O_TMPFILE or /proc is missing,
// New falls back to named staging files.

// probeUnnamed turns unnamed staging on when this file system and /proc
// allow it.
func (f *FS) probeUnnamed() {
	d, err := f.root.Open(tmpDir)
	if err != nil {
		return
	}
	f.tmp = d
	fh, err := f.openUnnamed()
	if err == nil {
		probe := path.Base(tmpName("probe-"))
		if err = linkat(fh, d, probe); err == nil {
			f.root.Remove(path.Join(tmpDir, probe))
		}
		fh.Close()
	}
	if err != nil {
		d.Close()
		f.tmp = nil
		return
	}
	f.unnamed = true
}

func (f *FS) openUnnamed() (*os.File, error) {
	fd, err := unix.Openat(int(f.tmp.Fd()), ".", unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o640)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: tmpDir, Err: err}
	}
	return os.NewFile(uintptr(fd), tmpDir+"/(unnamed)"), nil
}

// linkat gives the unnamed file fh the name base in the folder dir.
func linkat(fh, dir *os.File, base string) error {
	return unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", fh.Fd()), int(dir.Fd()), base, unix.AT_SYMLINK_FOLLOW)
}

// commitUnnamed sets the file's times and links it into place, replacing
// what is there.
func (p *pending) commitUnnamed(mod time.Time) error {
	if !mod.IsZero() {
		ts := []unix.Timespec{unix.NsecToTimespec(mod.UnixNano()), unix.NsecToTimespec(mod.UnixNano())}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", p.fh.Fd()), ts, 0); err != nil {
			return err
		}
	}
	dst, err := p.fs.diskName(p.dst)
	if err != nil {
		return err
	}
	p.dir = path.Dir(dst)
	dir, err := p.fs.makeDir(p.dir)
	if err != nil {
		return err
	}
	defer dir.Close()
	err = linkat(p.fh, dir, path.Base(dst))
	if !errors.Is(err, unix.EEXIST) {
		return err
	}
	tmp := tmpName("ln-")
	if err := linkat(p.fh, p.fs.tmp, path.Base(tmp)); err != nil {
		return err
	}
	if err := p.fs.rename(tmp, dst); err != nil {
		p.fs.root.Remove(tmp)
		return err
	}
	return nil
}

// makeDir makes the folder rel (and its missing parents) and opens it,
// following no link (see nofollow.go).
func (f *FS) makeDir(rel string) (*os.File, error) {
	if f.bn != nil {
		return f.bn.mkdirAll(rel)
	}
	if err := f.mkdirAll(rel); err != nil {
		return nil, err
	}
	return f.root.Open(rel)
}
