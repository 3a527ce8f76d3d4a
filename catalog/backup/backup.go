package backup

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// Format is the version of the format this package writes and reads.
const Format = 1

const magic = "SHOEBOX-BACKUP 1\n"

// maxSecret and maxLine bound what a reader accepts before the catalog.
const (
	maxSecret = 1 << 16
	maxLine   = 1 << 16
	frameSize = 256 << 10
)

// ErrCorrupt means the stream is not a whole backup in this format.
var ErrCorrupt = errors.New("not a whole shoebox backup")

// Manifest is the backup's first line.
type Manifest struct {
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	// Since is the catalog version the backup starts at: 0 for a full
	// backup, the Trailer.Next of the previous one for an increment.
	Since uint64 `json:"since"`
	// Secret says whether secret.key follows.
	Secret bool `json:"secret_key_included"`
	// Upstream names the upstream S3 bucket the originals were in
	// ("endpoint/bucket/prefix"), empty for local disk: informative.
	Upstream string `json:"upstream,omitempty"`
}

// Trailer is the backup's last line.
type Trailer struct {
	// Next is the version an incremental backup taken after this one
	// passes as since (`shoebox backup --since`).
	Next          uint64 `json:"next"`
	CatalogBytes  int64  `json:"catalog_bytes"`
	CatalogSHA256 string `json:"catalog_sha256"`
}

// Snapshotter writes the catalog's backup stream: *catalog.Catalog.
type Snapshotter interface {
	Backup(ctx context.Context, w io.Writer, since uint64) (uint64, error)
}

// Write writes a backup of cat (from version m.Since) to w, with secret
// when m.Secret. m.Format and, when zero, m.Created are filled in.
func Write(ctx context.Context, w io.Writer, cat Snapshotter, m Manifest, secret []byte) (Trailer, error) {
	m.Format = Format
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	if m.Secret && len(secret) == 0 {
		return Trailer{}, errors.New("backup: the manifest says secret.key is included, and it is empty")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	mj, _ := json.Marshal(m)
	if _, err := bw.WriteString(magic + string(mj) + "\n"); err != nil {
		return Trailer{}, fmt.Errorf("write backup manifest: %w", err)
	}
	if m.Secret {
		if err := binary.Write(bw, binary.BigEndian, uint32(len(secret))); err != nil {
			return Trailer{}, fmt.Errorf("write backup secret.key: %w", err)
		}
		if _, err := bw.Write(secret); err != nil {
			return Trailer{}, fmt.Errorf("write backup secret.key: %w", err)
		}
	}
	fw := &frameWriter{w: bw, h: sha256.New(), buf: make([]byte, 0, frameSize)}
	next, err := cat.Backup(ctx, fw, m.Since)
	if err != nil {
		return Trailer{}, err
	}
	if err := fw.close(); err != nil {
		return Trailer{}, fmt.Errorf("write backup catalog: %w", err)
	}
	tr := Trailer{Next: next, CatalogBytes: fw.n, CatalogSHA256: hex.EncodeToString(fw.h.Sum(nil))}
	tj, _ := json.Marshal(tr)
	if _, err := bw.WriteString(string(tj) + "\n"); err != nil {
		return Trailer{}, fmt.Errorf("write backup trailer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return Trailer{}, fmt.Errorf("write backup: %w", err)
	}
	return tr, nil
}

// frameWriter cuts what is written into frames.
type frameWriter struct {
	w   *bufio.Writer
	h   hash.Hash
	n   int64
	buf []byte
}

func (f *frameWriter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(f.buf)-len(f.buf))
		f.buf = append(f.buf, p[:k]...)
		p = p[k:]
		if len(f.buf) == cap(f.buf) {
			if err := f.flush(); err != nil {
				return 0, err
			}
		}
	}
	return total, nil
}

func (f *frameWriter) flush() error {
	if len(f.buf) == 0 {
		return nil
	}
	if err := binary.Write(f.w, binary.BigEndian, uint32(len(f.buf))); err != nil {
		return err
	}
	if _, err := f.w.Write(f.buf); err != nil {
		return err
	}
	f.h.Write(f.buf)
	f.n += int64(len(f.buf))
	f.buf = f.buf[:0]
	return nil
}

func (f *frameWriter) close() error {
	if err := f.flush(); err != nil {
		return err
	}
	return binary.Write(f.w, binary.BigEndian, uint32(0))
}

// Reader reads a backup: Open reads the manifest and the secret, Catalog
// gives the catalog's stream, and Finish checks the trailer.
type Reader struct {
	Manifest Manifest
	// Secret is secret.key's content when Manifest.Secret.
	Secret []byte

	r      *bufio.Reader
	h      hash.Hash
	n      int64
	left   uint32 // bytes left in the current frame
	done   bool   // the end frame was read
	finish *Trailer
}

// Open reads a backup's manifest and secret from r.
func Open(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != magic {
		if err == nil && len(head) > 15 && string(head[:15]) == magic[:15] {
			return nil, fmt.Errorf("backup format %q: this binary reads format %d", head[15:len(head)-1], Format)
		}
		return nil, fmt.Errorf("read backup header: %w", ErrCorrupt)
	}
	line, err := readLine(br)
	if err != nil {
		return nil, fmt.Errorf("read backup manifest: %w", err)
	}
	rd := &Reader{r: br, h: sha256.New()}
	if err := json.Unmarshal(line, &rd.Manifest); err != nil {
		return nil, fmt.Errorf("read backup manifest: %w: %w", ErrCorrupt, err)
	}
	if rd.Manifest.Format != Format {
		return nil, fmt.Errorf("backup format %d: this binary reads format %d", rd.Manifest.Format, Format)
	}
	if rd.Manifest.Secret {
		var n uint32
		if err := binary.Read(br, binary.BigEndian, &n); err != nil || n == 0 || n > maxSecret {
			return nil, fmt.Errorf("read backup secret.key: %w", ErrCorrupt)
		}
		rd.Secret = make([]byte, n)
		if _, err := io.ReadFull(br, rd.Secret); err != nil {
			return nil, fmt.Errorf("read backup secret.key: %w: %w", ErrCorrupt, err)
		}
	}
	return rd, nil
}

func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		b, err := br.ReadSlice('\n')
		line = append(line, b...)
		if err == nil {
			return line[:len(line)-1], nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) || len(line) > maxLine {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
}

// Catalog returns the catalog's backup stream (for catalog.Restore). It
// ends with io.EOF at the end frame, and with an error wrapping
// ErrCorrupt if the backup stops before.
func (rd *Reader) Catalog() io.Reader { return (*catalogReader)(rd) }

type catalogReader Reader

func (c *catalogReader) Read(p []byte) (int, error) {
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		if err := binary.Read(c.r, binary.BigEndian, &c.left); err != nil {
			return 0, fmt.Errorf("read backup catalog: %w: %w", ErrCorrupt, err)
		}
		if c.left == 0 {
			c.done = true
		}
	}
	n, err := c.r.Read(p[:min(len(p), int(c.left))])
	c.left -= uint32(n)
	c.n += int64(n)
	c.h.Write(p[:n])
	if err != nil && n == 0 {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, fmt.Errorf("read backup catalog: %w: %w", ErrCorrupt, err)
	}
	return n, nil
}

// Finish reads what is left of the catalog and the trailer, and checks
// the catalog's length and checksum.
func (rd *Reader) Finish() (Trailer, error) {
	if rd.finish != nil {
		return *rd.finish, nil
	}
	if _, err := io.Copy(io.Discard, rd.Catalog()); err != nil {
		return Trailer{}, err
	}
	line, err := readLine(rd.r)
	if err != nil {
		return Trailer{}, fmt.Errorf("read backup trailer: %w", err)
	}
	var tr Trailer
	if err := json.Unmarshal(line, &tr); err != nil {
		return Trailer{}, fmt.Errorf("read backup trailer: %w: %w", ErrCorrupt, err)
	}
	if sum := hex.EncodeToString(rd.h.Sum(nil)); tr.CatalogBytes != rd.n || tr.CatalogSHA256 != sum {
		return Trailer{}, fmt.Errorf("backup catalog: %d bytes with SHA-256 %s; the trailer says %d bytes, %s: %w", rd.n, sum, tr.CatalogBytes, tr.CatalogSHA256, ErrCorrupt)
	}
	rd.finish = &tr
	return tr, nil
}
