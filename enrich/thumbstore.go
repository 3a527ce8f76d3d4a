package enrich

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DerivedStore keeps derived files (thumbnails) by name ("ab/<sha>-small.jpg").
// Everything in it can be made again (`shoebox reindex`), so writes need to
// be atomic but not durable. Get's error satisfies errors.Is(err,
// fs.ErrNotExist) for a missing name.
type DerivedStore interface {
	Put(ctx context.Context, name string, data []byte) error
	Get(ctx context.Context, name string) ([]byte, time.Time, error)
	// Reset removes everything.
	Reset(ctx context.Context) error
}

// ThumbStore keeps thumbnails, keyed by the SHA-256 of the original (so
// copies share them and a move does not touch them), in a DerivedStore:
// local disk by default (DirStore), or the upstream S3 bucket.
type ThumbStore struct {
	st DerivedStore
}

// NewThumbStore returns a thumbnail store in st.
func NewThumbStore(st DerivedStore) *ThumbStore { return &ThumbStore{st: st} }

// Thumbnail size names.
var thumbSizes = map[string]bool{"small": true, "preview": true}

func thumbName(sha, size string) (string, error) {
	if len(sha) != 64 || !thumbSizes[size] {
		return "", fmt.Errorf("thumbnail %q of %q: no such thumbnail", size, sha)
	}
	for _, c := range sha {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("thumbnail of %q: not a SHA-256", sha)
		}
	}
	return sha[:2] + "/" + sha + "-" + size + ".jpg", nil
}

// Put stores a thumbnail.
func (s *ThumbStore) Put(ctx context.Context, sha, size string, jpeg []byte) error {
	name, err := thumbName(sha, size)
	if err != nil {
		return err
	}
	return s.st.Put(ctx, name, jpeg)
}

// Get returns a thumbnail and when it was made; the error satisfies
// errors.Is(err, fs.ErrNotExist) when there is none.
func (s *ThumbStore) Get(ctx context.Context, sha, size string) ([]byte, time.Time, error) {
	name, err := thumbName(sha, size)
	if err != nil {
		return nil, time.Time{}, &fs.PathError{Op: "open", Path: size, Err: fs.ErrNotExist}
	}
	return s.st.Get(ctx, name)
}

// Reset removes every thumbnail.
func (s *ThumbStore) Reset(ctx context.Context) error { return s.st.Reset(ctx) }

// DirStore is a DerivedStore in a local directory: temp file and rename,
// no fsync.
type DirStore struct{ dir string }

var _ DerivedStore = (*DirStore)(nil)

// NewDirStore returns a store in dir, creating it.
func NewDirStore(dir string) (*DirStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("derived store: %w", err)
	}
	return &DirStore{dir: dir}, nil
}

func (s *DirStore) path(name string) (string, error) {
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("derived file %q: not a local name", name)
	}
	return filepath.Join(s.dir, filepath.FromSlash(name)), nil
}

// Put implements DerivedStore.
func (s *DirStore) Put(ctx context.Context, name string, data []byte) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Get implements DerivedStore.
func (s *DirStore) Get(ctx context.Context, name string) ([]byte, time.Time, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, time.Time{}, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(f); err != nil {
		return nil, time.Time{}, err
	}
	return b.Bytes(), st.ModTime(), nil
}

// Reset implements DerivedStore.
func (s *DirStore) Reset(ctx context.Context) error {
	ents, err := os.ReadDir(s.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
