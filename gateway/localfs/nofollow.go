package localfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"shoebox/gateway"
)

// Symbolic links. The root (objects/) is shared by every user, and an
// os.Root follows links that stay inside it: a link planted behind
// Shoebox's back in bob's bucket, to a file or folder of alice's, would
// serve alice's bytes to bob or let bob write into alice's folders. So no
// operation follows a link at any component of a path (the root itself, a
// choice of the administrator, excepted):
//
//   - On Linux (5.6 and later) every path is resolved by openat2(2) from
//     the root with RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH: reads open the
//     file in one call; writes open the parent folder that way and work
//     relative to it (renameat, linkat, unlinkat, mkdirat, utimensat with
//     AT_SYMLINK_NOFOLLOW), so a link planted at any moment is refused by
//     the kernel (nofollow_linux.go).
//   - Elsewhere, and where openat2 is missing, every component is checked
//     with Lstat before the os.Root operation (checkLinks). A link planted
//     between the check and the operation is still confined to the root by
//     os.Root; the check catches every link that was there before.
//
// A file written over a link replaces the link (a rename never follows its
// last component), and Remove of a link's name removes the link; every
// other use of a link, as a folder on the way or as the object itself, is
// refused with ErrSymlink. Walk never descends into a link nor reports it
// as a file or folder: it reports it with Entry.Symlink, so that Reconcile
// (and fsck) can name it.
//
// Users are confined to <root>/<user>: name refuses a user or bucket that
// is not one plain segment and keys with empty, "." or ".." segments, so a
// path can only go down from <root>/<user>, and with no link followed on
// the way it cannot leave it.

// ErrSymlink is the error (inside an *fs.PathError naming the path) of an
// operation whose path met a symbolic link. It satisfies
// errors.Is(err, fs.ErrNotExist): a link is not part of the store, so to a
// client there is nothing at that path. Reads answer 404, writes through a
// linked folder fail as if the folder were missing, and Reconcile drops
// catalog rows whose file became a link, as it does for deleted files.
var ErrSymlink error = symlinkError{}

type symlinkError struct{}

func (symlinkError) Error() string { return "symbolic link in the store (never followed)" }

func (symlinkError) Is(target error) bool { return target == fs.ErrNotExist }

func symlinkErr(op, rel string) error { return &fs.PathError{Op: op, Path: rel, Err: ErrSymlink} }

// checkPath refuses a path that could resolve outside <root>/<user>: the
// gateway has checked it already (CheckKey, catalog.ValidName); this keeps
// the confinement true of localfs alone.
func checkPath(p gateway.Path) error {
	bad := !plainSegment(p.User) || strings.HasPrefix(p.User, ".") || !plainSegment(p.Bucket)
	if key := strings.TrimSuffix(p.Key, "/"); key != "" && !bad {
		for seg := range strings.SplitSeq(key, "/") {
			bad = bad || seg == "" || seg == "." || seg == ".." || (os.PathSeparator == '\\' && !plainSegment(seg))
		}
	}
	if bad {
		return fmt.Errorf("localfs: %q/%q/%q is not a path below the user's folder: %w", p.User, p.Bucket, p.Key, gateway.ErrBadPath)
	}
	return nil
}

// plainSegment: one name, not "." or "..", without separators.
func plainSegment(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
}

// beneath resolves root-relative paths without following any symbolic
// link, race-free (Linux: openat2). FS.bn is nil where there is none.
type beneath interface {
	// open opens rel for reading.
	open(rel string) (*os.File, error)
	// stat describes rel; with last, rel itself may not be a link (else
	// a link there is described as a link).
	stat(rel string, last bool) (fs.FileInfo, error)
	// mkdirAll makes the folder rel and its missing parents and returns
	// it, opened as a folder to operate in.
	mkdirAll(rel string) (*os.File, error)
	// rename, link and remove do not follow the last component of their
	// paths, as the system calls do not.
	rename(from, to string) error
	link(from, to string) error
	remove(rel string) error
	// chtimes sets the times of rel, which may not be a link.
	chtimes(rel string, t time.Time) error
	close()
}

// inTmp: the staging folder is made by New and written by Shoebox only:
// the fallback does not check paths in it.
func inTmp(rel string) bool { return strings.HasPrefix(rel, tmpDir+"/") }

// checkLinks is the fallback: it returns ErrSymlink when a component of
// rel (the last one too when last) is a link. A missing component ends
// the check: nothing lies beyond it yet.
func (f *FS) checkLinks(op, rel string, last bool) error {
	if inTmp(rel) {
		return nil
	}
	for i := 1; i <= len(rel); i++ {
		if i < len(rel) && rel[i] != '/' || i == len(rel) && !last {
			continue
		}
		st, err := f.root.Lstat(rel[:i])
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			return symlinkErr(op, rel[:i])
		}
	}
	return nil
}

// The operations on root-relative paths that follow no link.

func (f *FS) openRead(rel string) (*os.File, error) {
	if f.bn != nil {
		return f.bn.open(rel)
	}
	if err := f.checkLinks("open", rel, true); err != nil {
		return nil, err
	}
	return f.root.Open(rel)
}

// statNoLinks describes rel, refusing a link anywhere, itself included.
func (f *FS) statNoLinks(rel string) (fs.FileInfo, error) {
	if f.bn != nil {
		return f.bn.stat(rel, true)
	}
	if err := f.checkLinks("stat", rel, true); err != nil {
		return nil, err
	}
	return f.root.Lstat(rel)
}

// lstat describes rel, refusing links on the way to it only.
func (f *FS) lstat(rel string) (fs.FileInfo, error) {
	if f.bn != nil {
		return f.bn.stat(rel, false)
	}
	if err := f.checkLinks("lstat", rel, false); err != nil {
		return nil, err
	}
	return f.root.Lstat(rel)
}

func (f *FS) mkdirAll(rel string) error {
	if f.bn != nil {
		d, err := f.bn.mkdirAll(rel)
		if err == nil {
			d.Close()
		}
		return err
	}
	if err := f.checkLinks("mkdir", rel, true); err != nil {
		return err
	}
	return f.root.MkdirAll(rel, 0o750)
}

func (f *FS) rename(from, to string) error {
	if f.bn != nil {
		return f.bn.rename(from, to)
	}
	if err := f.checkLinks("rename", from, false); err != nil {
		return err
	}
	if err := f.checkLinks("rename", to, false); err != nil {
		return err
	}
	return f.root.Rename(from, to)
}

func (f *FS) link(from, to string) error {
	if f.bn != nil {
		return f.bn.link(from, to)
	}
	if err := f.checkLinks("link", from, true); err != nil {
		return err
	}
	if err := f.checkLinks("link", to, false); err != nil {
		return err
	}
	return f.root.Link(from, to)
}

func (f *FS) remove(rel string) error {
	if f.bn != nil {
		return f.bn.remove(rel)
	}
	if err := f.checkLinks("remove", rel, false); err != nil {
		return err
	}
	return f.root.Remove(rel)
}

// chtimes sets both times of rel (os.Root.Chtimes follows links).
func (f *FS) chtimes(rel string, t time.Time) error {
	if f.bn != nil {
		return f.bn.chtimes(rel, t)
	}
	if err := f.checkLinks("chtimes", rel, true); err != nil {
		return err
	}
	return f.root.Chtimes(rel, t, t)
}
