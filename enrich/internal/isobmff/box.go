// Package isobmff reads photo and video metadata from ISO base media files
// (MP4, MOV/QuickTime, 3GP, HEIF/HEIC/AVIF) without decoding any media.
//
// It walks the box tree through an io.ReaderAt and reads only the few small
// boxes it needs; sample data (mdat) is never read. Every size, count and
// offset taken from the file is checked against its container and the file
// size, so a hostile file yields an error wrapping ErrFormat: never a panic,
// an unbounded allocation (no single read is larger than 1 MiB, the Exif
// payload aside, which is at most MaxExif and only once its extents are known
// to lie inside the file) or an endless loop (box nesting is capped at
// maxDepth levels and a file at maxBoxes box headers).
package isobmff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrFormat is wrapped by every error about the file's structure: not an
// ISO base media file, truncated, inconsistent sizes, limits exceeded.
// Errors from the io.ReaderAt are wrapped as they are.
var ErrFormat = errors.New("isobmff: malformed file")

// Limits on what a file can make the reader do.
const (
	maxDepth = 16      // box nesting
	maxBoxes = 1 << 16 // box headers read per file
	maxLeaf  = 1 << 20 // bytes of one box read into memory
	maxText  = 1 << 16 // bytes of one metadata string box read into memory

	// MaxExif is the largest Exif payload ReadHEIF returns; a larger one is
	// left out (Image.Exif is nil).
	MaxExif = 4 << 20
	// MaxXMP is the largest XMP packet ReadHEIF and ReadVideo return; a
	// larger one is left out.
	MaxXMP = 2 << 20
)

func errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// errStop ends a walk early without an error.
var errStop = errors.New("stop")

// file is one file being read.
type file struct {
	r     io.ReaderAt
	size  int64
	boxes int // box headers read so far
}

// box is one box: its four-character type and where its payload lies.
type box struct {
	typ  string
	off  int64 // offset of the header
	data int64 // offset of the payload
	end  int64 // end of the payload (and the box)
}

func (b box) size() int64 { return b.end - b.data }

func (b box) String() string { return fmt.Sprintf("%q box at %d", b.typ, b.off) }

func newFile(r io.ReaderAt, size int64) (*file, error) {
	if r == nil || size < 8 {
		return nil, errf("file of %d bytes is too short", size)
	}
	return &file{r: r, size: size}, nil
}

// readAt fills p from off, which must lie within the file.
func (f *file) readAt(p []byte, off int64) error {
	if off < 0 || off > f.size || int64(len(p)) > f.size-off {
		return errf("read of %d bytes at %d past the end of the file (%d bytes)", len(p), off, f.size)
	}
	n, err := f.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("isobmff: reading %d bytes at %d: %w", len(p), off, err)
}

// payload reads the payload of b after its first skip bytes, refusing more
// than max bytes.
func (f *file) payload(b box, skip, max int64) ([]byte, error) {
	n := b.size() - skip
	if n < 0 {
		return nil, errf("%v is too short (%d bytes)", b, b.size())
	}
	if n > max {
		return nil, errf("%v is too large (%d bytes)", b, b.size())
	}
	p := make([]byte, n)
	if err := f.readAt(p, b.data+skip); err != nil {
		return nil, err
	}
	return p, nil
}

// head reads at most n bytes from the start of b's payload.
func (f *file) head(b box, n int64) ([]byte, error) {
	if b.size() < n {
		n = b.size()
	}
	p := make([]byte, n)
	if err := f.readAt(p, b.data); err != nil {
		return nil, err
	}
	return p, nil
}

// each calls fn for every box in [start, end), the payload of a box whose
// children are at nesting depth depth (0 for the file's top level). A box
// of size 0 extends to end. It stops early, without an error, when fn
// returns errStop.
func (f *file) each(start, end int64, depth int, fn func(box) error) error {
	if depth > maxDepth {
		return errf("boxes nested more than %d deep", maxDepth)
	}
	if start < 0 || end > f.size || start > end {
		return errf("box range [%d, %d) outside the file (%d bytes)", start, end, f.size)
	}
	var hdr [16]byte
	for pos := start; pos < end; {
		if end-pos < 8 {
			// Old QuickTime ends some lists with a 32-bit zero.
			var z [8]byte
			if err := f.readAt(z[:end-pos], pos); err != nil {
				return err
			}
			if binary.BigEndian.Uint64(z[:]) == 0 {
				return nil
			}
			return errf("%d stray bytes at %d", end-pos, pos)
		}
		if f.boxes++; f.boxes > maxBoxes {
			return errf("more than %d boxes", maxBoxes)
		}
		if err := f.readAt(hdr[:8], pos); err != nil {
			return err
		}
		typ := string(hdr[4:8])
		size, hl := int64(binary.BigEndian.Uint32(hdr[:4])), int64(8)
		switch size {
		case 0: // to the end of the container
			size = end - pos
		case 1: // 64-bit largesize follows the type
			if end-pos < 16 {
				return errf("%q box at %d: truncated header", typ, pos)
			}
			if err := f.readAt(hdr[8:16], pos+8); err != nil {
				return err
			}
			large := binary.BigEndian.Uint64(hdr[8:16])
			if large > uint64(end-pos) {
				return errf("%q box at %d: size %d overruns its container (%d bytes left)", typ, pos, large, end-pos)
			}
			size, hl = int64(large), 16
		}
		if size < hl {
			return errf("%q box at %d: size %d is smaller than its header", typ, pos, size)
		}
		if size > end-pos {
			return errf("%q box at %d: size %d overruns its container (%d bytes left)", typ, pos, size, end-pos)
		}
		if err := fn(box{typ: typ, off: pos, data: pos + hl, end: pos + size}); err != nil {
			if err == errStop {
				return nil
			}
			return err
		}
		pos += size
	}
	return nil
}

// children walks the boxes inside b, whose own payload starts skip bytes in
// (4 for a full box's version and flags).
func (f *file) children(b box, skip int64, depth int, fn func(box) error) error {
	if b.size() < skip {
		return errf("%v is too short (%d bytes)", b, b.size())
	}
	return f.each(b.data+skip, b.end, depth, fn)
}

// metaSkip says where the children of a meta box start: ISO meta boxes are
// full boxes (4 bytes of version and flags, zero), QuickTime's are not (the
// payload starts with the size of the first child, never zero).
func (f *file) metaSkip(b box) (int64, error) {
	if b.size() < 4 {
		return 0, nil // empty or broken; children will say which
	}
	var p [4]byte
	if err := f.readAt(p[:], b.data); err != nil {
		return 0, err
	}
	if binary.BigEndian.Uint32(p[:]) == 0 {
		return 4, nil
	}
	return 0, nil
}

// cursor reads big-endian fields from a byte slice. Reading past the end
// sets bad and yields zeros; callers check bad once they are done.
type cursor struct {
	b   []byte
	bad bool
}

func (c *cursor) left() int { return len(c.b) }

func (c *cursor) take(n int) []byte {
	if c.bad || n < 0 || n > len(c.b) {
		c.bad = true
		return nil
	}
	p := c.b[:n:n]
	c.b = c.b[n:]
	return p
}

func (c *cursor) skip(n int) { c.take(n) }

func (c *cursor) u8() uint8 {
	if p := c.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if p := c.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if p := c.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if p := c.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// uint reads an n-byte unsigned field, n being 0, 2, 4 or 8.
func (c *cursor) uint(n int) uint64 {
	switch n {
	case 0:
		return 0
	case 2:
		return uint64(c.u16())
	case 4:
		return uint64(c.u32())
	case 8:
		return c.u64()
	}
	c.bad = true
	return 0
}

// fullBox reads a full box's version and flags.
func (c *cursor) fullBox() (version uint8, flags uint32) {
	v := c.u32()
	return uint8(v >> 24), v & 0xFFFFFF
}

// text turns metadata bytes into a string: trailing NULs and spaces
// dropped, invalid UTF-8 replaced.
func text(p []byte) string {
	for len(p) > 0 && (p[len(p)-1] == 0 || p[len(p)-1] == ' ') {
		p = p[:len(p)-1]
	}
	if utf8.Valid(p) {
		return string(p)
	}
	return strings.ToValidUTF8(string(p), "\uFFFD")
}

// utf16Text decodes big-endian UTF-16 (a leading byte-order mark dropped).
func utf16Text(p []byte) string {
	u := make([]uint16, 0, len(p)/2)
	for i := 0; i+1 < len(p); i += 2 {
		u = append(u, binary.BigEndian.Uint16(p[i:]))
	}
	if len(u) > 0 && u[0] == 0xFEFF {
		u = u[1:]
	}
	for len(u) > 0 && (u[len(u)-1] == 0 || u[len(u)-1] == ' ') {
		u = u[:len(u)-1]
	}
	return string(utf16.Decode(u))
}
