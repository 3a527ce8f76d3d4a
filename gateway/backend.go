package gateway

import (
	"context"
	"io"
	"time"
)

// Path names a file or folder in a backend. Key "" is the bucket itself; a
// folder's key ends in '/'. Paths reaching a backend have been checked by
// CheckKey and CheckName.
type Path struct {
	User, Bucket, Key string
}

// IsDir reports whether p names a folder (or a bucket).
func (p Path) IsDir() bool { return p.Key == "" || p.Key[len(p.Key)-1] == '/' }

func (p Path) String() string { return p.User + "/" + p.Bucket + "/" + p.Key }

// Entry is what a backend knows of a file or folder.
type Entry struct {
	Path    Path
	Size    int64
	ModTime time.Time
	// Symlink marks an entry Walk found but will never follow nor serve
	// (localfs: a symbolic link in the store): not a file or folder, it
	// is reported so that Reconcile can name it. Size and ModTime are
	// zero.
	Symlink bool
}

// Backend stores the bytes of originals. It knows nothing of the catalog;
// the Gateway is the only caller. Every implementation must pass
// storetest.Run. Missing paths give errors that satisfy
// errors.Is(err, fs.ErrNotExist). Any key CheckKey accepts must be kept,
// names between slashes of up to MaxKeyLen bytes included.
type Backend interface {
	// Create reads r to its end into a staging area for the file p. Nothing
	// is visible under p until Commit; Abort (or a failed Create) leaves no
	// trace. The caller must call exactly one of Commit or Abort.
	Create(ctx context.Context, p Path, r io.Reader) (Pending, error)

	// Open opens the file p for reading.
	Open(ctx context.Context, p Path) (File, error)

	// Stat describes the file or folder p.
	Stat(ctx context.Context, p Path) (Entry, error)

	// Mkdir creates the folder p (Key "" creates the bucket), with any
	// missing parents. An existing folder is not an error.
	Mkdir(ctx context.Context, p Path) error

	// Remove removes the file p, or the folder p with everything below it.
	Remove(ctx context.Context, p Path) error

	// Rename moves the file or folder src to dst, replacing whatever dst
	// was, creating dst's missing parents. A folder moves as one operation,
	// whatever it holds.
	Rename(ctx context.Context, src, dst Path) error

	// Copy copies the file or folder src to dst, replacing whatever dst was,
	// creating missing parents. The copy is independent of the original.
	Copy(ctx context.Context, src, dst Path) error

	// SetModTime sets the modification time of the file or folder p.
	SetModTime(ctx context.Context, p Path, t time.Time) error

	// Walk calls fn for every bucket, folder and file of every user, parents
	// before children. When fn returns fs.SkipDir for a bucket or folder,
	// what lies below it is skipped; any other error stops the walk and is
	// returned. Entries the backend will never serve may be reported with
	// Entry.Symlink set.
	Walk(ctx context.Context, fn func(Entry) error) error
}

// Pending is a staged file; see Backend.Create.
type Pending interface {
	// Size is the number of bytes staged.
	Size() int64
	// Commit makes the bytes visible under the path, atomically replacing
	// any file there and creating missing parents; modTime, when not zero,
	// becomes the file's modification time.
	Commit(ctx context.Context, modTime time.Time) error
	// Sync returns nil once a successful Commit is on stable storage: a
	// crash of the machine after that cannot undo it. The gateway runs it
	// beside its catalog write, so backends may batch syncs of concurrent
	// commits.
	Sync(ctx context.Context) error
	// Abort discards the staged bytes.
	Abort() error
}

// File is an open file: random access for Range requests.
type File interface {
	io.ReadSeekCloser
	io.ReaderAt
}
