package xmp

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"strings"
)

// JPEG APP1 segment signatures: the main packet, and the parts of an
// extended packet (XMP part 3, 1.1.3.1).
const (
	JPEGSignature         = "http://ns.adobe.com/xap/1.0/\x00"
	JPEGExtendedSignature = "http://ns.adobe.com/xmp/extension/\x00"
)

// Extended assembles a JPEG's extended XMP from its APP1 parts: each is
// a 32-character GUID, the full length and this part's offset (4 bytes
// each, big-endian), then the data. Only parts of the first GUID seen are
// kept, and only while the full length is at most MaxPacket.
type Extended struct {
	guid  string
	total uint32
	buf   []byte
	have  map[uint32]int // offset -> length
	bad   bool
}

// Add takes one part (the segment's payload after JPEGExtendedSignature).
func (e *Extended) Add(p []byte) {
	if e.bad || len(p) < 40 {
		return
	}
	guid, total, off, data := string(p[:32]), binary.BigEndian.Uint32(p[32:36]), binary.BigEndian.Uint32(p[36:40]), p[40:]
	if e.guid == "" {
		if total == 0 || total > MaxPacket {
			e.bad = true
			return
		}
		e.guid, e.total, e.buf, e.have = guid, total, make([]byte, total), map[uint32]int{}
	}
	if guid != e.guid || total != e.total || uint64(off)+uint64(len(data)) > uint64(total) {
		return
	}
	copy(e.buf[off:], data)
	e.have[off] = len(data)
}

// Full says no further part can be kept: the packet is whole, or was
// refused (over MaxPacket, or malformed).
func (e *Extended) Full() bool { return e.bad || e.Bytes() != nil }

// Bytes returns the whole extended packet, or nil until every byte of it
// has arrived.
func (e *Extended) Bytes() []byte {
	if e.bad || e.guid == "" {
		return nil
	}
	covered := uint32(0)
	for covered < e.total {
		n, ok := e.have[covered]
		if !ok || n == 0 {
			return nil
		}
		covered += uint32(n)
	}
	return e.buf
}

// PNGKeyword is the iTXt keyword of an XMP packet in PNG.
const PNGKeyword = "XML:com.adobe.xmp"

// FromITXt returns the XMP packet of a PNG iTXt chunk's data, if it is
// one: keyword, compression flag and method, language and translated
// keyword, text (zlib-compressed when the flag says so, inflated to at
// most MaxPacket bytes).
func FromITXt(p []byte) ([]byte, bool) {
	kw, rest, ok := bytes.Cut(p, []byte{0})
	if !ok || string(kw) != PNGKeyword || len(rest) < 2 {
		return nil, false
	}
	compressed := rest[0] == 1
	rest = rest[2:]
	for range 2 { // language tag, translated keyword
		_, r, ok := bytes.Cut(rest, []byte{0})
		if !ok {
			return nil, false
		}
		rest = r
	}
	if !compressed {
		return rest, true
	}
	zr, err := zlib.NewReader(bytes.NewReader(rest))
	if err != nil {
		return nil, false
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, MaxPacket+1))
	if err != nil || len(out) > MaxPacket {
		return nil, false
	}
	return out, true
}

// Sidecars returns the names a file's XMP sidecar may have, the most
// specific first: "IMG_1.jpg.xmp" (darktable, digiKam), "IMG_1.xmp"
// (Lightroom, Capture One), each also in capitals.
func Sidecars(key string) []string {
	dot := -1
	for i := len(key) - 1; i >= 0 && key[i] != '/'; i-- {
		if key[i] == '.' {
			dot = i
			break
		}
	}
	out := []string{key + ".xmp", key + ".XMP"}
	if dot > 0 && key[dot-1] != '/' {
		out = append(out, key[:dot]+".xmp", key[:dot]+".XMP")
	}
	return out
}

// IsSidecar says whether a name is an XMP sidecar's.
func IsSidecar(key string) bool {
	n := len(key)
	return n > 4 && strings.EqualFold(key[n-4:], ".xmp")
}

// SidecarOf returns what a sidecar may belong to: file, "IMG_1.jpg" for
// "IMG_1.jpg.xmp" ("" when the rest has no extension), and stem,
// "IMG_1.jpg" or "IMG_1", to which the caller adds the media extensions
// it knows (Lightroom's "IMG_1.xmp" beside "IMG_1.CR2").
func SidecarOf(key string) (file, stem string) {
	if !IsSidecar(key) {
		return "", ""
	}
	stem = key[:len(key)-4]
	for i := len(stem) - 1; i >= 0 && stem[i] != '/'; i-- {
		if stem[i] == '.' {
			if i > 0 && stem[i-1] != '/' {
				return stem, stem
			}
			break
		}
	}
	return "", stem
}
