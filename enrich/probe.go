package enrich

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image/gif"
	"io"

	"shoebox/enrich/internal/exif"
	"shoebox/enrich/internal/isobmff"
	"shoebox/enrich/internal/xmp"
)

// Format is a file format told from its first bytes, never its name.
type Format string

// Formats known.
const (
	FormatUnknown Format = ""
	FormatJPEG    Format = "jpeg"
	FormatPNG     Format = "png"
	FormatGIF     Format = "gif"
	FormatWebP    Format = "webp"
	FormatHEIF    Format = "heif" // HEIC, HEIF, AVIF stills
	FormatTIFF    Format = "tiff" // TIFF and the TIFF-based raws
	FormatVideo   Format = "video"
)

// Sniff tells a format from the first bytes of a file (16 are enough).
func Sniff(h []byte) Format {
	switch {
	case len(h) >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF:
		return FormatJPEG
	case bytes.HasPrefix(h, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(h, []byte("GIF87a")) || bytes.HasPrefix(h, []byte("GIF89a")):
		return FormatGIF
	case len(h) >= 12 && string(h[:4]) == "RIFF" && string(h[8:12]) == "WEBP":
		return FormatWebP
	case len(h) >= 4 && (string(h[:4]) == "II*\x00" || string(h[:4]) == "MM\x00*" ||
		string(h[:4]) == "IIRO" || string(h[:4]) == "IIRS" || string(h[:4]) == "IIU\x00"):
		return FormatTIFF
	case len(h) >= 12 && string(h[4:8]) == "ftyp":
		switch string(h[8:12]) {
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis", "mif2":
			return FormatHEIF
		}
		return FormatVideo
	case len(h) >= 8 && (string(h[4:8]) == "moov" || string(h[4:8]) == "mdat" || string(h[4:8]) == "wide" || string(h[4:8]) == "free"):
		return FormatVideo // QuickTime without ftyp
	}
	return FormatUnknown
}

// probed is what a file's headers say, before any pixel is decoded.
type probed struct {
	format Format
	// width, height: the pixel size as stored (before orientation).
	width, height int
	// rotation is the container's own rotation (HEIF irot, video matrix),
	// clockwise degrees; it outranks EXIF orientation for display.
	rotation int
	exif     *exif.Data
	video    *isobmff.Video
	heif     *isobmff.Image
	// xmp is the embedded XMP packet (nil: none), xmpExt a JPEG's
	// extended XMP when it was whole.
	xmp, xmpExt []byte
	// What the decoders' costs depend on (limits.go): PNG's IHDR and tRNS,
	// WebP's coding.
	pngDepth, pngColor      int
	pngTRNS, pngInterlaced  bool
	webpLossless, webpAlpha bool
}

// probe reads the headers and metadata of a file of the given size.
// An error means the file is not what its first bytes claim; metadata
// that could not be read is simply absent.
func probe(r io.ReaderAt, size int64) (*probed, error) {
	var head [16]byte
	n, _ := r.ReadAt(head[:], 0)
	p := &probed{format: Sniff(head[:n])}
	var err error
	switch p.format {
	case FormatJPEG:
		err = p.jpeg(r, size)
	case FormatPNG:
		err = p.png(r, size)
	case FormatGIF:
		cfg, gerr := gif.DecodeConfig(io.NewSectionReader(r, 0, size))
		p.width, p.height, err = cfg.Width, cfg.Height, gerr
	case FormatWebP:
		err = p.webp(r, size)
	case FormatTIFF:
		p.exif, err = exif.Read(r, 0, size)
		if p.exif != nil {
			p.width, p.height = p.exif.Width, p.exif.Height
			p.xmp = p.exif.XMP
		}
	case FormatHEIF:
		var im *isobmff.Image
		if im, err = isobmff.ReadHEIF(r, size); err == nil {
			p.heif = im
			p.width, p.height = im.Width, im.Height
			// irot is anticlockwise; rotation here is clockwise.
			p.rotation = (360 - im.Rotation) % 360
			p.xmp = im.XMP
			if len(im.Exif) > 0 {
				p.exif, _ = exif.ReadBytes(im.Exif)
			}
		}
	case FormatVideo:
		if p.video, err = isobmff.ReadVideo(r, size); err == nil {
			p.width, p.height = p.video.Width, p.video.Height
			p.xmp = p.video.XMP
		}
	default:
		return p, errUnknownFormat
	}
	return p, err
}

var errUnknownFormat = errors.New("not a known photo or video format")

// jpeg walks the markers up to the first scan: the frame size and the
// EXIF block.
func (p *probed) jpeg(r io.ReaderAt, size int64) error {
	off := int64(2)
	var b [10]byte
	var ext xmp.Extended
	defer func() { p.xmpExt = ext.Bytes() }()
	for i := 0; i < 512; i++ {
		if _, err := r.ReadAt(b[:4], off); err != nil {
			return fmt.Errorf("JPEG ends before its first scan: %w", err)
		}
		if b[0] != 0xFF {
			return fmt.Errorf("JPEG marker expected at %d", off)
		}
		m := b[1]
		switch {
		case m == 0xFF: // fill byte
			off++
			continue
		case m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01:
			off += 2
			continue
		case m == 0xDA || m == 0xD9:
			if p.width == 0 {
				return errors.New("JPEG has no frame header")
			}
			return nil
		}
		n := int64(binary.BigEndian.Uint16(b[2:4]))
		if n < 2 {
			return fmt.Errorf("JPEG segment at %d has length %d", off, n)
		}
		switch {
		case m == 0xE1:
			if _, err := r.ReadAt(b[:6], off+4); err == nil && string(b[:6]) == "Exif\x00\x00" {
				if p.exif == nil && n > 16 {
					p.exif, _ = exif.Read(r, off+10, min(n-8, size-off-10))
				}
				break
			}
			// The signature first: only XMP segments are read whole
			// (an extended packet only while it can still be kept).
			sig := make([]byte, min(n-2, int64(len(xmp.JPEGExtendedSignature))))
			if _, err := r.ReadAt(sig, off+4); err != nil {
				break
			}
			std := p.xmp == nil && bytes.HasPrefix(sig, []byte(xmp.JPEGSignature))
			extended := !ext.Full() && bytes.Equal(sig, []byte(xmp.JPEGExtendedSignature))
			if !std && !extended {
				break
			}
			seg := make([]byte, n-2)
			if _, err := r.ReadAt(seg, off+4); err != nil {
				break
			}
			if std {
				p.xmp = seg[len(xmp.JPEGSignature):]
			} else {
				ext.Add(seg[len(xmp.JPEGExtendedSignature):])
			}
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			if _, err := r.ReadAt(b[:5], off+4); err != nil {
				return fmt.Errorf("JPEG frame header: %w", err)
			}
			p.height = int(binary.BigEndian.Uint16(b[1:3]))
			p.width = int(binary.BigEndian.Uint16(b[3:5]))
		}
		off += 2 + n
	}
	return errors.New("JPEG has too many segments before its first scan")
}

// png reads IHDR and looks for an eXIf chunk.
func (p *probed) png(r io.ReaderAt, size int64) error {
	off := int64(8)
	var b [16]byte
	for i := 0; i < 4096 && off+8 <= size; i++ {
		if _, err := r.ReadAt(b[:8], off); err != nil {
			return err
		}
		n, typ := int64(binary.BigEndian.Uint32(b[:4])), string(b[4:8])
		if i == 0 {
			if typ != "IHDR" || n < 13 {
				return errors.New("PNG does not start with IHDR")
			}
			if _, err := r.ReadAt(b[:13], off+8); err != nil {
				return err
			}
			p.width, p.height = int(binary.BigEndian.Uint32(b[:4])), int(binary.BigEndian.Uint32(b[4:8]))
			p.pngDepth, p.pngColor, p.pngInterlaced = int(b[8]), int(b[9]), b[12] != 0
		}
		switch typ {
		case "tRNS":
			p.pngTRNS = true
		case "eXIf", "exIf":
			p.exif, _ = exif.Read(r, off+8, min(n, size-off-8))
		case "iTXt":
			if p.xmp == nil && n <= xmp.MaxPacket+64 && off+8+n <= size {
				b := make([]byte, n)
				if _, err := r.ReadAt(b, off+8); err == nil {
					p.xmp, _ = xmp.FromITXt(b)
				}
			}
		case "IEND":
			return nil
		}
		off += 12 + n
	}
	return nil
}

// webp reads the canvas size and the EXIF chunk of a RIFF WebP.
func (p *probed) webp(r io.ReaderAt, size int64) error {
	off := int64(12)
	var b [30]byte
	for i := 0; i < 64 && off+8 <= size; i++ {
		if _, err := r.ReadAt(b[:8], off); err != nil {
			return err
		}
		typ, n := string(b[:4]), int64(binary.LittleEndian.Uint32(b[4:8]))
		body := off + 8
		switch typ {
		case "VP8X":
			if _, err := r.ReadAt(b[:10], body); err == nil {
				p.width = 1 + int(b[4]) | int(b[5])<<8 | int(b[6])<<16
				p.height = 1 + int(b[7]) | int(b[8])<<8 | int(b[9])<<16
			}
		case "VP8 ":
			if _, err := r.ReadAt(b[:10], body); err == nil && p.width == 0 {
				p.width = int(binary.LittleEndian.Uint16(b[6:8]) & 0x3FFF)
				p.height = int(binary.LittleEndian.Uint16(b[8:10]) & 0x3FFF)
			}
		case "ALPH":
			p.webpAlpha = true
		case "VP8L":
			p.webpLossless = true
			if _, err := r.ReadAt(b[:5], body); err == nil && p.width == 0 && b[0] == 0x2F {
				v := binary.LittleEndian.Uint32(b[1:5])
				p.width, p.height = int(v&0x3FFF)+1, int(v>>14&0x3FFF)+1
			}
		case "XMP ":
			if p.xmp == nil && n <= xmp.MaxPacket && body+n <= size {
				b := make([]byte, n)
				if _, err := r.ReadAt(b, body); err == nil {
					p.xmp = b
				}
			}
		case "EXIF":
			// Some writers keep the JPEG "Exif\0\0" prefix.
			start, m := body, n
			if _, err := r.ReadAt(b[:6], body); err == nil && string(b[:6]) == "Exif\x00\x00" {
				start, m = body+6, n-6
			}
			p.exif, _ = exif.Read(r, start, min(m, size-start))
		}
		off = body + n + n&1
	}
	if p.width == 0 {
		return errors.New("WebP has no image header")
	}
	return nil
}
