package enrich

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"shoebox/catalog"
	"shoebox/enrich/internal/isobmff"
)

// maxHostileAlloc is what refusing a hostile file may allocate in all:
// reading its headers, never its pixels.
const maxHostileAlloc = 16 << 20

type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }

// smallJPEG is a real 16x16 JPEG whose frame header then claims w x h.
func smallJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	j := b.Bytes()
	i := bytes.Index(j, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 in the encoded JPEG")
	}
	binary.BigEndian.PutUint16(j[i+5:], uint16(h))
	binary.BigEndian.PutUint16(j[i+7:], uint16(w))
	return j
}

// png16 is a real 1x1 16-bit RGBA PNG whose IHDR then claims w x h (its
// CRC fixed, so image/png would believe it).
func png16(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA64(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.RGBA64{1, 2, 3, 4})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := b.Bytes()
	if string(p[12:16]) != "IHDR" || p[24] != 16 {
		t.Fatalf("encoded PNG: IHDR %q, depth %d; want a 16-bit IHDR", p[12:16], p[24])
	}
	binary.BigEndian.PutUint32(p[16:], uint32(w))
	binary.BigEndian.PutUint32(p[20:], uint32(h))
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	return p
}

// bigGIF is a real 1x1 GIF whose screen and frame claim w x h.
func bigGIF(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	img := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.Black, color.White})
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	g := b.Bytes()
	binary.LittleEndian.PutUint16(g[6:], uint16(w))
	binary.LittleEndian.PutUint16(g[8:], uint16(h))
	i := bytes.IndexByte(g[13+6:], 0x2C) + 13 + 6 // image descriptor, after the palette
	binary.LittleEndian.PutUint16(g[i+5:], uint16(w))
	binary.LittleEndian.PutUint16(g[i+7:], uint16(h))
	return g
}

// losslessWebP is a VP8L WebP header claiming w x h, with no pixels.
func losslessWebP(w, h int) []byte {
	v := uint32(w-1) | uint32(h-1)<<14
	chunk := append([]byte{0x2F}, binary.LittleEndian.AppendUint32(nil, v)...)
	chunk = append(chunk, make([]byte, 27)...)
	body := append([]byte("WEBPVP8L"), binary.LittleEndian.AppendUint32(nil, uint32(len(chunk)))...)
	body = append(body, chunk...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

type tiffEntry struct {
	tag, typ uint16
	n, v     uint32
}

// tiffFile lays out a little-endian TIFF: IFD0 at 8, then a SubIFD when
// sub is not nil, then data. A value of ^0 is the data's offset.
func tiffFile(ifd0, sub []tiffEntry, data []byte) []byte {
	le := binary.LittleEndian
	ifdLen := func(es []tiffEntry) int { return 2 + 12*len(es) + 4 }
	if sub != nil {
		ifd0 = append(ifd0, tiffEntry{0x014A, 4, 1, 0})
		ifd0[len(ifd0)-1].v = uint32(8 + ifdLen(ifd0))
	}
	dataOff := uint32(8 + ifdLen(ifd0))
	if sub != nil {
		dataOff += uint32(ifdLen(sub))
	}
	b := le.AppendUint32([]byte("II*\x00"), 8)
	put := func(es []tiffEntry) {
		b = le.AppendUint16(b, uint16(len(es)))
		for _, e := range es {
			b = le.AppendUint16(b, e.tag)
			b = le.AppendUint16(b, e.typ)
			b = le.AppendUint32(b, e.n)
			v := e.v
			if v == ^uint32(0) {
				v = dataOff
			}
			if e.typ == 3 && e.n == 1 {
				b = le.AppendUint32(b, v&0xFFFF)
			} else {
				b = le.AppendUint32(b, v)
			}
		}
		b = le.AppendUint32(b, 0)
	}
	put(ifd0)
	if sub != nil {
		put(sub)
	}
	return append(b, data...)
}

// TestHostileSizes: images whose headers claim more pixels, or more memory
// to decode, than the limits are refused from those headers, with an error
// that says so, and nothing near their size is allocated.
func TestHostileSizes(t *testing.T) {
	hugeJPEG := smallJPEG(t, 65500, 65500)
	tests := []struct {
		name, key string
		b         []byte
		want      string // in the error
	}{
		{"JPEG 65500x65500", "a.jpg", hugeJPEG, "JPEG of 65500×65500 (4290 MP) over the limit of 120 MP"},
		{"16-bit PNG over the pixel limit", "a.png", png16(t, 11000, 11000), "16-bit PNG of 11000×11000 (121 MP) over the limit of 120 MP"},
		{"16-bit PNG over the byte budget", "b.png", png16(t, 12000, 10000), "16-bit PNG of 12000×10000 (120 MP) needs about 915 MiB to decode, over the budget of 512 MiB"},
		{"PNG 2^31-1 square", "c.png", png16(t, 1<<31-1, 1<<31-1), "over the limit of 120 MP"},
		{"GIF 65535x65535", "a.gif", bigGIF(t, 65535, 65535), "GIF of 65535×65535 (4294 MP) over the limit of 120 MP"},
		{"lossless WebP over the byte budget", "a.webp", losslessWebP(10000, 10000), "lossless WebP of 10000×10000 (100 MP) needs about 762 MiB"},
		{"lossless WebP 16384x16384", "b.webp", losslessWebP(16384, 16384), "lossless WebP of 16384×16384 (268 MP) over the limit of 120 MP"},
		{
			// A raw: IFD0 the sensor data (without data), a SubIFD
			// preview whose IFD and JPEG frame claim 65500x65500.
			"TIFF preview 65500x65500", "a.nef",
			tiffFile([]tiffEntry{{0x0100, 3, 1, 64}, {0x0101, 3, 1, 48}, {0x0103, 3, 1, 1}},
				[]tiffEntry{{0x00FE, 4, 1, 1}, {0x0100, 4, 1, 65500}, {0x0101, 4, 1, 65500}, {0x0103, 3, 1, 7},
					{0x0111, 4, 1, ^uint32(0)}, {0x0117, 4, 1, uint32(len(hugeJPEG))}},
				hugeJPEG),
			"embedded JPEG preview of 65500×65500 (4290 MP) over the limit of 120 MP",
		},
		{
			// An EXIF thumbnail (IFD1's JPEGInterchangeFormat) of
			// 65500x65500 in a TIFF whose own image cannot be decoded.
			"TIFF thumbnail 65500x65500", "b.tif",
			func() []byte {
				b := tiffFile([]tiffEntry{{0x0100, 3, 1, 64}, {0x0101, 3, 1, 48}, {0x0103, 3, 1, 1}}, nil, nil)
				// IFD1 after IFD0: a thumbnail.
				ifd1 := uint32(len(b))
				binary.LittleEndian.PutUint32(b[8+2+12*3:], ifd1)
				le := binary.LittleEndian
				b = le.AppendUint16(b, 2)
				b = append(le.AppendUint32(le.AppendUint16(le.AppendUint16(b, 0x0201), 4), 1), 0, 0, 0, 0)
				b = append(le.AppendUint32(le.AppendUint16(le.AppendUint16(b, 0x0202), 4), 1), 0, 0, 0, 0)
				b = le.AppendUint32(b, 0)
				le.PutUint32(b[ifd1+2+8:], uint32(len(b)))
				le.PutUint32(b[ifd1+2+12+8:], uint32(len(hugeJPEG)))
				return append(b, hugeJPEG...)
			}(),
			"embedded JPEG preview of 65500×65500 (4290 MP) over the limit of 120 MP",
		},
		{
			// A 16-bit RGB TIFF of 100 MP: within the pixel limit, 800 MB
			// to decode.
			"16-bit TIFF over the byte budget", "c.tif",
			tiffFile([]tiffEntry{{0x0100, 4, 1, 10000}, {0x0101, 4, 1, 10000}, {0x0102, 3, 3, ^uint32(0)}, {0x0103, 3, 1, 1},
				{0x0106, 3, 1, 2}, {0x0111, 4, 1, ^uint32(0)}, {0x0115, 3, 1, 3}, {0x0116, 4, 1, 10000}, {0x0117, 4, 1, 6}},
				nil, []byte{16, 0, 16, 0, 16, 0}),
			"TIFF image of 10000×10000 (100 MP) needs about 762 MiB to decode, over the budget of 512 MiB",
		},
	}
	ctx := context.Background()
	x := Metadata{Thumbs: NewThumbStore(mustDirStore(t))}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &Input{User: "u", Bucket: "b",
				Object: catalog.Object{Key: tt.key, Size: int64(len(tt.b)), SHA256: "0123456789abcdef"},
				File:   memFile{bytes.NewReader(tt.b)}}
			var m catalog.Media
			var err error
			n := allocated(func() { err = x.Extract(ctx, in, &m) })
			t.Logf("%d-byte file: allocated %d KiB: %v", len(tt.b), n>>10, err)
			switch {
			case err == nil:
				t.Fatalf("Extract(%s): no error; want %q", tt.key, tt.want)
			case !errors.Is(err, ErrTooLarge):
				t.Errorf("Extract(%s) error %q does not wrap ErrTooLarge", tt.key, err)
			case !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.key+": "):
				t.Errorf("Extract(%s) error %q; want it to name the file and say %q", tt.key, err, tt.want)
			}
			if _, ok := err.(permanent); !ok {
				t.Errorf("Extract(%s) error %q is retried; want a permanent failure", tt.key, err)
			}
			if n > maxHostileAlloc {
				t.Errorf("Extract(%s) allocated %d bytes; want at most %d", tt.key, n, maxHostileAlloc)
			}
		})
	}
}

// TestLimitsAllowOrdinaryImages: the sizes of real photos pass.
func TestLimitsAllowOrdinaryImages(t *testing.T) {
	lim := Metadata{}.limits()
	tests := []struct {
		what string
		w, h int
		bpp  float64
	}{
		{"120 MP 8-bit RGBA PNG", 12000, 10000, pngCost(8, 6, false, false)},
		{"60 MP 16-bit RGBA PNG", 8000, 7500, pngCost(16, 6, false, false)},
		{"120 MP 16-bit gray PNG", 12000, 10000, pngCost(16, 0, false, false)},
		{"120 MP progressive JPEG", 12000, 10000, jpegCost(3, jpegScale(12000, 10000))},
		{"8 MP progressive JPEG at full size", 2800, 2800, jpegCost(3, jpegScale(2800, 2800))},
		{"48 MP HEIC", 8064, 6048, heifCost},
		{"50 MP lossless WebP", 8000, 6250, webpLosslessCost},
	}
	for _, tt := range tests {
		if err := lim.check(tt.what, tt.w, tt.h, tt.bpp, 0); err != nil {
			t.Errorf("check(%s): %v; want nil", tt.what, err)
		}
	}
}

// TestCheckHEIF: a HEIF is refused when its grid, or any of its items,
// is over the limits, whatever its primary item's ispe says.
func TestCheckHEIF(t *testing.T) {
	lim := Metadata{}.limits()
	tests := []struct {
		name string
		p    probed
		ok   bool
	}{
		{"12 MP grid of 512x512 tiles", probed{width: 4032, height: 3024, heif: &isobmff.Image{GridWidth: 4032, GridHeight: 3024, LargestWidth: 4032, LargestHeight: 3024}}, true},
		{"small ispe, huge grid", probed{width: 64, height: 64, heif: &isobmff.Image{GridWidth: 65500, GridHeight: 65500, LargestWidth: 64, LargestHeight: 64}}, false},
		{"small ispe, huge tile", probed{width: 64, height: 64, heif: &isobmff.Image{GridWidth: 64, GridHeight: 64, LargestWidth: 65500, LargestHeight: 65500}}, false},
		{"huge ispe", probed{width: 65500, height: 65500, heif: &isobmff.Image{}}, false},
	}
	for _, tt := range tests {
		err := checkHEIF(lim, &tt.p, 1<<20)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrTooLarge)) {
			t.Errorf("%s: checkHEIF = %v; want ok %v", tt.name, err, tt.ok)
		}
	}
}

func mustDirStore(t *testing.T) *DirStore {
	t.Helper()
	s, err := NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// allocated is the bytes fn allocates (the heap's running total), an
// upper bound of its peak.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}
