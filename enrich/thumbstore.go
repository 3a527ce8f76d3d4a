package enrich

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ThumbStore keeps thumbnails on local disk, keyed by the SHA-256 of the
// original (so copies share them and a move does not touch them):
// DIR/ab/<sha256>-small.jpg and -preview.jpg. It is derived data: Reset
// empties it and `shoebox reindex` refills it. Writes are atomic (temp file
// and rename) but not fsynced: a crash can only lose thumbnails, which the
// next reindex makes again.
type ThumbStore struct {
	dir string
}

// Thumbnail size names.
var thumbSizes = map[string]bool{"small": true, "preview": true}

// NewThumbStore returns a store in dir, creating it.
func NewThumbStore(dir string) (*ThumbStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("thumbnail store: %w", err)
	}
	return &ThumbStore{dir: dir}, nil
}

func (s *ThumbStore) path(sha, size string) (string, error) {
	if len(sha) != 64 || !thumbSizes[size] {
		return "", fmt.Errorf("thumbnail %q of %q: no such thumbnail", size, sha)
	}
	for _, c := range sha {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("thumbnail of %q: not a SHA-256", sha)
		}
	}
	return filepath.Join(s.dir, sha[:2], sha+"-"+size+".jpg"), nil
}

// Put stores a thumbnail.
func (s *ThumbStore) Put(sha, size string, jpeg []byte) error {
	p, err := s.path(sha, size)
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
	_, err = f.Write(jpeg)
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

// Open returns a thumbnail; the error satisfies errors.Is(err,
// fs.ErrNotExist) when there is none.
func (s *ThumbStore) Open(sha, size string) (*os.File, error) {
	p, err := s.path(sha, size)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: size, Err: os.ErrNotExist}
	}
	return os.Open(p)
}

// Reset removes every thumbnail.
func (s *ThumbStore) Reset() error {
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
