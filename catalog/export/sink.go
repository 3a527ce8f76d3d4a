package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DirSink writes an export tree under Dir: the sidecar of bucket/key at
// <Dir>/<user>/<bucket>/<key>.xmp (mirroring the library, so a tool
// pointed at a copy of the originals finds each sidecar beside its file)
// and the document at <Dir>/<user>.json. Files are replaced whole
// (written aside, then renamed).
type DirSink struct{ Dir string }

var _ Sink = DirSink{}

// Sidecar implements Sink.
func (d DirSink) Sidecar(ctx context.Context, user, bucket, key string, xmp []byte) error {
	rel := filepath.Join(user, bucket, filepath.FromSlash(key)+".xmp")
	if !filepath.IsLocal(rel) {
		return fmt.Errorf("sidecar path %q leaves the export directory", rel)
	}
	return writeFile(filepath.Join(d.Dir, rel), xmp)
}

// Document implements Sink.
func (d DirSink) Document(ctx context.Context, user string, doc []byte) error {
	if !filepath.IsLocal(user) {
		return fmt.Errorf("document path %q leaves the export directory", user)
	}
	return writeFile(filepath.Join(d.Dir, user+".json"), doc)
}

// writeFile writes b to name through a temporary file in its folder.
func writeFile(name string, b []byte) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".export-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
