// Package exif reads the few EXIF/TIFF fields a photo library needs (date,
// offset, camera, lens, exposure, GPS, orientation, pixel size, embedded previews,
// an Apple MakerNote's Live Photo content identifier)
// from a TIFF structure: an EXIF block (JPEG APP1, PNG eXIf, WebP EXIF,
// HEIF Exif item) or a whole TIFF-based file (TIFF, DNG, NEF, ARW, CR2,
// ORF, RW2).
//
// It is written for hostile input: it reads lazily through an io.ReaderAt,
// bounds every count and offset, visits each IFD once (no loops), reads
// only the tags it knows, and keeps every field it could read when another
// one is broken. See the README's design notes for why this is not
// github.com/rwcarlsen/goexif.
package exif

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Tags read (TIFF 6.0, EXIF 2.32, DNG 1.6, TIFF/EP).
const (
	tagNewSubfileType  = 0x00FE
	tagImageWidth      = 0x0100
	tagImageLength     = 0x0101
	tagCompression     = 0x0103
	tagMake            = 0x010F
	tagModel           = 0x0110
	tagStripOffsets    = 0x0111
	tagOrientation     = 0x0112
	tagStripByteCounts = 0x0117
	tagDateTime        = 0x0132
	tagSubIFDs         = 0x014A
	tagJPEGOffset      = 0x0201
	tagJPEGLength      = 0x0202
	tagExifIFD         = 0x8769
	tagXMP             = 0x02BC
	tagGPSIFD          = 0x8825

	tagDateTimeOriginal  = 0x9003
	tagDateTimeDigitized = 0x9004
	tagOffsetTime        = 0x9010
	tagOffsetOriginal    = 0x9011
	tagOffsetDigitized   = 0x9012
	tagSubSecOriginal    = 0x9291
	tagSubSecDigitized   = 0x9292
	tagPixelX            = 0xA002
	tagPixelY            = 0xA003
	tagExposureTime      = 0x829A
	tagFNumber           = 0x829D
	tagISO               = 0x8827 // PhotographicSensitivity, ISOSpeedRatings before EXIF 2.3
	tagFocalLength       = 0x920A
	tagLensMake          = 0xA433
	tagLensModel         = 0xA434
	tagMakerNote         = 0x927C

	gpsLatRef = 1
	gpsLat    = 2
	gpsLonRef = 3
	gpsLon    = 4
	gpsAltRef = 5
	gpsAlt    = 6
)

// Limits that bound the work done on one file.
const (
	maxIFDs    = 32   // IFDs visited per file
	maxEntries = 1024 // entries read per IFD
	maxString  = 1024 // bytes of an ASCII value
	// MaxXMP is the largest XMP packet (tag 700) kept.
	MaxXMP = 2 << 20
)

// Preview is an embedded JPEG image: a thumbnail (IFD1) or a raw file's
// preview. Offset and Length locate it in the file the TIFF came from.
type Preview struct {
	Offset, Length int64
	Width, Height  int // from the IFD when stated, else 0
}

// Data is what was read. Zero values mean absent.
type Data struct {
	Make, Model, Lens string
	// DateTime is DateTimeOriginal, else DateTimeDigitized, as written:
	// "2006:01:02 15:04:05"; SubSec and Offset ("+02:00") go with it.
	DateTime, SubSec, Offset string
	// Modified is IFD0's DateTime, the file's last change (often an
	// editor's), with OffsetTime: a weaker date than DateTime.
	Modified, ModifiedOffset string
	Orientation              int // 1..8
	// The exposure: ExposureTime in seconds, FNumber (f/8: 8), ISO,
	// FocalLength in mm (as on the lens, not 35 mm equivalent).
	ExposureTime, FNumber, FocalLength float64
	ISO                                int
	// Width and Height are the main image's size as stored (before
	// orientation): PixelX/YDimension, else the first full-resolution IFD.
	Width, Height int
	HasGPS        bool
	Lat, Lon      float64
	Alt           *float64
	// XMP is IFD0's XMP packet (tag 700, TIFF and DNG), nil when absent
	// or larger than MaxXMP.
	XMP []byte
	// ContentID is an Apple MakerNote's ContentIdentifier (tag 0x0011):
	// the UUID an iPhone writes in both halves of a Live Photo (the MOV
	// holds the same in com.apple.quicktime.content.identifier); "" when
	// absent.
	ContentID string
	// Previews are the embedded JPEGs, in file order.
	Previews []Preview
	// Errs are the problems met, each of which cost only its own field.
	Errs []error
}

// ErrNotTIFF means the data does not start with a TIFF header.
var ErrNotTIFF = errors.New("exif: not a TIFF structure")

type reader struct {
	r    io.ReaderAt
	base int64 // offset of the TIFF header in r
	size int64 // bytes available from base
	bo   binary.ByteOrder
	seen map[uint32]bool
	d    *Data
	buf  [12]byte
	// fullW/H: the largest full-resolution IFD; pixW/H: EXIF's
	// PixelX/YDimension, which wins.
	fullW, fullH, pixW, pixH int
}

// Read parses the TIFF structure that starts at base in r and holds size
// bytes. It returns ErrNotTIFF when there is no TIFF header; otherwise it
// returns what it could read, with the problems in Data.Errs.
func Read(r io.ReaderAt, base, size int64) (*Data, error) {
	var hdr [8]byte
	if size < 8 {
		return nil, ErrNotTIFF
	}
	if _, err := r.ReadAt(hdr[:], base); err != nil {
		return nil, fmt.Errorf("exif: reading header: %w", err)
	}
	x := &reader{r: r, base: base, size: size, seen: map[uint32]bool{}, d: &Data{}}
	switch string(hdr[:2]) {
	case "II":
		x.bo = binary.LittleEndian
	case "MM":
		x.bo = binary.BigEndian
	default:
		return nil, ErrNotTIFF
	}
	switch x.bo.Uint16(hdr[2:]) {
	case 42, 0x4F52, 0x5352, 0x55: // TIFF; Olympus ORF (IIRO, IIRS); Panasonic RW2
	default:
		return nil, ErrNotTIFF
	}
	x.ifdChain(x.bo.Uint32(hdr[4:]), true)
	x.d.Width, x.d.Height = x.fullW, x.fullH
	if x.pixW > 0 {
		x.d.Width, x.d.Height = x.pixW, x.pixH
	}
	return x.d, nil
}

// ReadBytes is Read over a byte slice (an EXIF block).
func ReadBytes(b []byte) (*Data, error) {
	return Read(byteReader(b), 0, int64(len(b)))
}

type byteReader []byte

func (b byteReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (x *reader) errf(format string, a ...any) {
	if len(x.d.Errs) < 16 {
		x.d.Errs = append(x.d.Errs, fmt.Errorf("exif: "+format, a...))
	}
}

// entry is one raw IFD entry.
type entry struct {
	tag, typ uint16
	count    uint32
	raw      [4]byte // the value, or its offset
}

var typeSize = [...]int{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4}

func (e entry) size() (int64, bool) {
	if int(e.typ) >= len(typeSize) || typeSize[e.typ] == 0 {
		return 0, false
	}
	return int64(e.count) * int64(typeSize[e.typ]), true
}

// value returns the bytes of an entry's value, at most max of them.
func (x *reader) value(e entry, max int64) ([]byte, error) {
	n, ok := e.size()
	if !ok {
		return nil, fmt.Errorf("tag %#04x has unknown type %d", e.tag, e.typ)
	}
	if n <= 4 {
		return e.raw[:n], nil
	}
	if n > max {
		return nil, fmt.Errorf("tag %#04x is %d bytes, more than %d", e.tag, n, max)
	}
	off := int64(x.bo.Uint32(e.raw[:]))
	if off+n > x.size {
		return nil, fmt.Errorf("tag %#04x points past the end (%d+%d > %d)", e.tag, off, n, x.size)
	}
	b := make([]byte, n)
	if _, err := x.r.ReadAt(b, x.base+off); err != nil {
		return nil, fmt.Errorf("tag %#04x: %w", e.tag, err)
	}
	return b, nil
}

func (x *reader) str(e entry) (string, error) {
	if e.typ != 2 && e.typ != 7 && e.typ != 1 {
		return "", fmt.Errorf("tag %#04x is not text (type %d)", e.tag, e.typ)
	}
	b, err := x.value(e, maxString)
	if err != nil {
		return "", err
	}
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b), "")), nil
}

// ints returns up to max integer values of a BYTE/SHORT/LONG entry.
func (x *reader) ints(e entry, max int) ([]int64, error) {
	if e.count == 0 || int64(e.count) > int64(max) {
		return nil, fmt.Errorf("tag %#04x has %d values", e.tag, e.count)
	}
	b, err := x.value(e, int64(max)*8)
	if err != nil {
		return nil, err
	}
	out := make([]int64, e.count)
	for i := range out {
		switch e.typ {
		case 1, 7:
			out[i] = int64(b[i])
		case 3:
			out[i] = int64(x.bo.Uint16(b[2*i:]))
		case 4, 13:
			out[i] = int64(x.bo.Uint32(b[4*i:]))
		case 8:
			out[i] = int64(int16(x.bo.Uint16(b[2*i:])))
		case 9:
			out[i] = int64(int32(x.bo.Uint32(b[4*i:])))
		default:
			return nil, fmt.Errorf("tag %#04x is not an integer (type %d)", e.tag, e.typ)
		}
	}
	return out, nil
}

func (x *reader) int1(e entry) (int64, error) {
	v, err := x.ints(e, 1)
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// rats returns the RATIONAL/SRATIONAL values of an entry; a zero
// denominator is an error.
func (x *reader) rats(e entry, max int) ([]float64, error) {
	if e.typ != 5 && e.typ != 10 {
		return nil, fmt.Errorf("tag %#04x is not rational (type %d)", e.tag, e.typ)
	}
	if e.count == 0 || int(e.count) > max {
		return nil, fmt.Errorf("tag %#04x has %d values", e.tag, e.count)
	}
	b, err := x.value(e, int64(max)*8)
	if err != nil {
		return nil, err
	}
	out := make([]float64, e.count)
	for i := range out {
		n, d := x.bo.Uint32(b[8*i:]), x.bo.Uint32(b[8*i+4:])
		if d == 0 {
			return nil, fmt.Errorf("tag %#04x has a zero denominator", e.tag)
		}
		if e.typ == 10 {
			out[i] = float64(int32(n)) / float64(int32(d))
		} else {
			out[i] = float64(n) / float64(d)
		}
	}
	return out, nil
}

// positive reads a one-value rational that must be above zero (0 when
// it is not).
func (x *reader) positive(e entry) (float64, error) {
	r, err := x.rats(e, 1)
	if err != nil || r[0] <= 0 {
		return 0, err
	}
	return r[0], nil
}

// entries reads an IFD's entries and the offset of the next IFD.
func (x *reader) entries(off uint32) ([]entry, uint32, error) {
	if x.seen[off] || len(x.seen) >= maxIFDs {
		return nil, 0, fmt.Errorf("IFD at %d: seen before or too many IFDs", off)
	}
	x.seen[off] = true
	if int64(off)+2 > x.size || off < 8 {
		return nil, 0, fmt.Errorf("IFD offset %d out of range", off)
	}
	if _, err := x.r.ReadAt(x.buf[:2], x.base+int64(off)); err != nil {
		return nil, 0, err
	}
	n := int(x.bo.Uint16(x.buf[:2]))
	if n == 0 || n > maxEntries {
		return nil, 0, fmt.Errorf("IFD at %d has %d entries", off, n)
	}
	end := int64(off) + 2 + int64(n)*12
	if end > x.size {
		// A truncated IFD: keep the entries that are there.
		n = int((x.size - int64(off) - 2) / 12)
		end = int64(off) + 2 + int64(n)*12
	}
	b := make([]byte, n*12+4)
	m, err := x.r.ReadAt(b, x.base+int64(off)+2)
	if m < n*12 {
		return nil, 0, fmt.Errorf("IFD at %d: %w", off, err)
	}
	es := make([]entry, n)
	bad := 0
	for i := range es {
		p := b[12*i:]
		es[i] = entry{tag: x.bo.Uint16(p), typ: x.bo.Uint16(p[2:]), count: x.bo.Uint32(p[4:])}
		copy(es[i].raw[:], p[8:12])
		if _, ok := es[i].size(); !ok {
			bad++
		}
	}
	if bad > 0 {
		// Entries of no TIFF type are not read; a pointer into other data
		// (a corrupt IFD offset) shows as many of them.
		x.errf("IFD at %d: %d of %d entries have no TIFF type", off, bad, n)
	}
	var next uint32
	if m >= n*12+4 && end+4 <= x.size {
		next = x.bo.Uint32(b[n*12:])
	}
	return es, next, nil
}

// ifdChain reads IFD0 and the IFDs chained after it (IFD1: the thumbnail).
func (x *reader) ifdChain(off uint32, main bool) {
	for i := 0; off != 0 && i < maxIFDs; i++ {
		es, next, err := x.entries(off)
		if err != nil {
			x.errf("%v", err)
			return
		}
		x.imageIFD(es, main && i == 0)
		off = next
	}
}

// imageIFD reads an image IFD (IFD0, IFD1, a SubIFD).
func (x *reader) imageIFD(es []entry, primary bool) {
	var (
		w, h, subfile, compression int64
		jpegOff, jpegLen           int64 = -1, -1
		strips, counts             []int64
	)
	for _, e := range es {
		var err error
		switch e.tag {
		case tagMake, tagModel, tagDateTime:
			if !primary {
				continue
			}
			var s string
			s, err = x.str(e)
			switch {
			case err != nil:
			case e.tag == tagMake && x.d.Make == "":
				x.d.Make = s
			case e.tag == tagModel && x.d.Model == "":
				x.d.Model = s
			case e.tag == tagDateTime && validDate(s):
				x.d.Modified = s
			}
		case tagXMP:
			if !primary || x.d.XMP != nil || (e.typ != 1 && e.typ != 7 && e.typ != 2) {
				continue
			}
			x.d.XMP, err = x.value(e, MaxXMP)
		case tagOrientation:
			if !primary {
				continue
			}
			var v int64
			if v, err = x.int1(e); err == nil && v >= 1 && v <= 8 {
				x.d.Orientation = int(v)
			}
		case tagImageWidth:
			w, err = x.int1(e)
		case tagImageLength:
			h, err = x.int1(e)
		case tagNewSubfileType:
			subfile, err = x.int1(e)
		case tagCompression:
			compression, err = x.int1(e)
		case tagJPEGOffset:
			jpegOff, err = x.int1(e)
		case tagJPEGLength:
			jpegLen, err = x.int1(e)
		case tagStripOffsets:
			strips, err = x.ints(e, 4)
		case tagStripByteCounts:
			counts, err = x.ints(e, 4)
		case tagSubIFDs:
			var offs []int64
			if offs, err = x.ints(e, 8); err == nil {
				for _, o := range offs {
					if sub, _, err := x.entries(uint32(o)); err == nil {
						x.imageIFD(sub, false)
					} else {
						x.errf("%v", err)
					}
				}
			}
		case tagExifIFD, tagGPSIFD:
			if !primary {
				continue
			}
			var o int64
			if o, err = x.int1(e); err == nil {
				var sub []entry
				if sub, _, err = x.entries(uint32(o)); err == nil {
					if e.tag == tagExifIFD {
						x.exifIFD(sub)
					} else {
						x.gpsIFD(sub)
					}
				}
			}
		}
		if err != nil {
			x.errf("%v", err)
		}
	}
	// The main image is the largest full-resolution one: IFD0 in a TIFF
	// or CR2, a SubIFD in a DNG or NEF (whose IFD0 is a thumbnail).
	if subfile&1 == 0 && w > 0 && h > 0 && w*h > int64(x.fullW)*int64(x.fullH) {
		x.fullW, x.fullH = int(w), int(h)
	}
	switch {
	case jpegOff > 0 && jpegLen > 0:
		x.preview(jpegOff, jpegLen, 0, 0)
	case (compression == 6 || compression == 7) && len(strips) == 1 && len(counts) == 1:
		// One JPEG strip: a preview (DNG, NEF) or, in a CR2's IFD0, the
		// full-size JPEG. Lossless JPEG raw data is refused later by its
		// SOF marker.
		x.preview(strips[0], counts[0], int(w), int(h))
	}
}

func (x *reader) preview(off, n int64, w, h int) {
	if off <= 0 || n <= 0 || off+n > x.size || len(x.d.Previews) >= 8 {
		x.errf("embedded JPEG at %d+%d is out of range", off, n)
		return
	}
	x.d.Previews = append(x.d.Previews, Preview{Offset: x.base + off, Length: n, Width: w, Height: h})
}

func (x *reader) exifIFD(es []entry) {
	var dto, dtd, offO, offD, off, ssO, ssD string
	var px, py int64
	for _, e := range es {
		var err error
		switch e.tag {
		case tagDateTimeOriginal:
			dto, err = x.str(e)
		case tagDateTimeDigitized:
			dtd, err = x.str(e)
		case tagOffsetOriginal:
			offO, err = x.str(e)
		case tagOffsetDigitized:
			offD, err = x.str(e)
		case tagOffsetTime:
			off, err = x.str(e)
		case tagSubSecOriginal:
			ssO, err = x.str(e)
		case tagSubSecDigitized:
			ssD, err = x.str(e)
		case tagPixelX:
			px, err = x.int1(e)
		case tagPixelY:
			py, err = x.int1(e)
		case tagLensModel:
			x.d.Lens, err = x.str(e)
		case tagMakerNote:
			var b []byte
			if b, err = x.value(e, maxMakerNote); err == nil {
				x.d.ContentID = AppleContentID(b)
			}
		case tagExposureTime:
			x.d.ExposureTime, err = x.positive(e)
		case tagFNumber:
			x.d.FNumber, err = x.positive(e)
		case tagFocalLength:
			x.d.FocalLength, err = x.positive(e)
		case tagISO: // may list several: the first is the one used
			var v []int64
			if v, err = x.ints(e, 4); err == nil && v[0] > 0 {
				x.d.ISO = int(v[0])
			}
		}
		if err != nil {
			x.errf("%v", err)
		}
	}
	switch {
	case validDate(dto):
		x.d.DateTime, x.d.SubSec, x.d.Offset = dto, ssO, pick(offO, off)
	case validDate(dtd):
		x.d.DateTime, x.d.SubSec, x.d.Offset = dtd, ssD, pick(offD, off)
	}
	x.d.ModifiedOffset = off
	if px > 0 && py > 0 {
		x.pixW, x.pixH = int(px), int(py)
	}
}

func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// validDate reports whether s holds a date (not blank, not all zeros).
func validDate(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= '1' && r <= '9' }) && len(s) >= 10
}

func (x *reader) gpsIFD(es []entry) {
	var latRef, lonRef string
	var lat, lon, alt []float64
	altRef := int64(0)
	for _, e := range es {
		var err error
		switch e.tag {
		case gpsLatRef:
			latRef, err = x.str(e)
		case gpsLonRef:
			lonRef, err = x.str(e)
		case gpsLat:
			lat, err = x.rats(e, 3)
		case gpsLon:
			lon, err = x.rats(e, 3)
		case gpsAlt:
			alt, err = x.rats(e, 1)
		case gpsAltRef:
			altRef, err = x.int1(e)
		}
		if err != nil {
			x.errf("GPS: %v", err)
		}
	}
	la, okA := dms(lat)
	lo, okO := dms(lon)
	if !okA || !okO || la > 90 || lo > 180 || (la == 0 && lo == 0) {
		return
	}
	if strings.HasPrefix(strings.ToUpper(latRef), "S") {
		la = -la
	}
	if strings.HasPrefix(strings.ToUpper(lonRef), "W") {
		lo = -lo
	}
	x.d.HasGPS, x.d.Lat, x.d.Lon = true, la, lo
	if len(alt) == 1 && !math.IsNaN(alt[0]) {
		a := alt[0]
		if altRef == 1 {
			a = -a
		}
		x.d.Alt = &a
	}
}

// dms turns degrees, minutes, seconds into degrees.
func dms(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	d := v[0]
	if len(v) > 1 {
		d += v[1] / 60
	}
	if len(v) > 2 {
		d += v[2] / 3600
	}
	return d, !math.IsNaN(d) && !math.IsInf(d, 0) && d >= 0
}

// maxMakerNote is the largest MakerNote read (an iPhone's is about 1 KB).
const maxMakerNote = 64 << 10

// AppleContentID returns the ContentIdentifier (tag 0x0011) of an Apple
// MakerNote, "" when b is not one or has none. The MakerNote is "Apple
// iOS\0", a 16-bit version, "MM", then a big-endian IFD whose offsets
// count from the MakerNote's start.
func AppleContentID(b []byte) string {
	const hdr = "Apple iOS\x00"
	if len(b) < 16 || string(b[:len(hdr)]) != hdr || string(b[12:14]) != "MM" {
		return ""
	}
	bo := binary.BigEndian
	n := int(bo.Uint16(b[14:]))
	for i := 0; i < n && i < maxEntries; i++ {
		at := 16 + 12*i
		if at+12 > len(b) {
			return ""
		}
		tag, typ, count := bo.Uint16(b[at:]), bo.Uint16(b[at+2:]), bo.Uint32(b[at+4:])
		if tag != 0x0011 {
			continue
		}
		if typ != 2 || count == 0 || count > maxString {
			return ""
		}
		v := b[at+8 : at+12]
		if count > 4 {
			off := bo.Uint32(b[at+8:])
			if uint64(off)+uint64(count) > uint64(len(b)) {
				return ""
			}
			v = b[off : off+count]
		} else {
			v = v[:count]
		}
		if i := bytes.IndexByte(v, 0); i >= 0 {
			v = v[:i]
		}
		return strings.TrimSpace(string(v))
	}
	return ""
}
