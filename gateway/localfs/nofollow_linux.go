package localfs

import (
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// openat2 resolution (see nofollow.go): no link at any component, nothing
// outside the folder the path starts from, no /proc magic links.
const resolveFlags = unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS

// at2 is the Linux beneath: paths are resolved from the root's folder
// (root) by openat2; those in .tmp from .tmp's (tmp).
type at2 struct {
	rootF, tmpF *os.File
	root, tmp   int
}

// newBeneath returns nil where openat2 is missing (Linux before 5.6,
// ENOSYS) or refused (seccomp filters answer EPERM): FS then falls back to
// checkLinks.
func newBeneath(root *os.Root) beneath {
	rf, err := root.Open(".")
	if err != nil {
		return nil
	}
	tf, err := root.Open(tmpDir)
	if err != nil {
		rf.Close()
		return nil
	}
	b := &at2{rootF: rf, tmpF: tf, root: int(rf.Fd()), tmp: int(tf.Fd())}
	fd, err := b.openat(b.root, tmpDir, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		b.close()
		return nil
	}
	unix.Close(fd)
	return b
}

func (b *at2) close() {
	b.rootF.Close()
	b.tmpF.Close()
}

// openat opens rel below the folder dirfd by openat2, retrying when a
// concurrent rename made the kernel give up (EAGAIN).
func (b *at2) openat(dirfd int, rel string, flags int) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolveFlags}
	for range 16 {
		fd, err := unix.Openat2(dirfd, rel, &how)
		if err != unix.EAGAIN && err != unix.EINTR {
			return fd, err
		}
	}
	return -1, unix.EAGAIN
}

// pathErr names rel in err; ELOOP (a link met, refused) becomes ErrSymlink.
func pathErr(op, rel string, err error) error {
	if err == unix.ELOOP {
		return symlinkErr(op, rel)
	}
	return &fs.PathError{Op: op, Path: rel, Err: err}
}

// parent opens the folder holding rel (a link on the way is refused) and
// returns it with rel's last component; release the folder with done.
func (b *at2) parent(op, rel string) (dirfd int, base string, err error) {
	dir, base := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	switch dir {
	case "":
		return b.root, base, nil
	case tmpDir:
		return b.tmp, base, nil
	}
	fd, err := b.openat(b.root, dir, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return -1, "", pathErr(op, dir, err)
	}
	return fd, base, nil
}

func (b *at2) done(dirfd int) {
	if dirfd != b.root && dirfd != b.tmp {
		unix.Close(dirfd)
	}
}

func (b *at2) open(rel string) (*os.File, error) {
	fd, err := b.openat(b.root, rel, unix.O_RDONLY)
	if err != nil {
		return nil, pathErr("open", rel, err)
	}
	return os.NewFile(uintptr(fd), rel), nil
}

func (b *at2) stat(rel string, last bool) (fs.FileInfo, error) {
	flags := unix.O_PATH
	if !last { // O_PATH|O_NOFOLLOW opens a link itself, even under RESOLVE_NO_SYMLINKS
		flags |= unix.O_NOFOLLOW
	}
	fd, err := b.openat(b.root, rel, flags)
	if err != nil {
		return nil, pathErr("stat", rel, err)
	}
	fh := os.NewFile(uintptr(fd), rel)
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (b *at2) mkdirAll(rel string) (*os.File, error) {
	const dirFlags = unix.O_PATH | unix.O_DIRECTORY
	fd, err := b.openat(b.root, rel, dirFlags)
	if err == nil {
		return os.NewFile(uintptr(fd), rel), nil
	}
	if err != unix.ENOENT {
		return nil, pathErr("mkdir", rel, err)
	}
	cur := b.root
	end := 0
	for end < len(rel) {
		start := end
		if i := strings.IndexByte(rel[start:], '/'); i >= 0 {
			end = start + i
		} else {
			end = len(rel)
		}
		c := rel[start:end]
		end++ // past the slash
		next, err := b.openat(cur, c, dirFlags)
		if err == unix.ENOENT {
			if err = unix.Mkdirat(cur, c, 0o750); err == nil || err == unix.EEXIST {
				next, err = b.openat(cur, c, dirFlags)
			}
		}
		if cur != b.root {
			unix.Close(cur)
		}
		if err != nil {
			return nil, pathErr("mkdir", rel[:min(end-1, len(rel))], err)
		}
		cur = next
	}
	return os.NewFile(uintptr(cur), rel), nil
}

func (b *at2) rename(from, to string) error {
	return b.twoPaths("rename", from, to, func(fd1 int, b1 string, fd2 int, b2 string) error {
		return unix.Renameat(fd1, b1, fd2, b2)
	})
}

func (b *at2) link(from, to string) error {
	return b.twoPaths("link", from, to, func(fd1 int, b1 string, fd2 int, b2 string) error {
		return unix.Linkat(fd1, b1, fd2, b2, 0) // 0: a link at from is not followed
	})
}

func (b *at2) twoPaths(op, from, to string, call func(int, string, int, string) error) error {
	fd1, b1, err := b.parent(op, from)
	if err != nil {
		return err
	}
	defer b.done(fd1)
	fd2, b2, err := b.parent(op, to)
	if err != nil {
		return err
	}
	defer b.done(fd2)
	if err := call(fd1, b1, fd2, b2); err != nil {
		return &os.LinkError{Op: op, Old: from, New: to, Err: err}
	}
	return nil
}

func (b *at2) remove(rel string) error {
	fd, base, err := b.parent("remove", rel)
	if err != nil {
		return err
	}
	defer b.done(fd)
	err = unix.Unlinkat(fd, base, 0)
	if err == unix.EISDIR {
		err = unix.Unlinkat(fd, base, unix.AT_REMOVEDIR)
	}
	if err != nil {
		return pathErr("remove", rel, err)
	}
	return nil
}

func (b *at2) chtimes(rel string, t time.Time) error {
	fd, base, err := b.parent("chtimes", rel)
	if err != nil {
		return err
	}
	defer b.done(fd)
	var st unix.Stat_t
	if err := unix.Fstatat(fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return pathErr("chtimes", rel, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return symlinkErr("chtimes", rel)
	}
	// NOFOLLOW: a link planted since the Fstatat gets the times, not its target.
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	if err := unix.UtimesNanoAt(fd, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return pathErr("chtimes", rel, err)
	}
	return nil
}
