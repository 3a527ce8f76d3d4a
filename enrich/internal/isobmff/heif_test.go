package isobmff

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestReadHEIFGoldenGate(t *testing.T) {
	img, err := readHEIF(testdata(t, "iphone_golden_gate.heic"))
	if err != nil {
		t.Fatalf("ReadHEIF: %v", err)
	}
	if img.Width != 1024 || img.Height != 768 {
		t.Errorf("size = %dx%d; want 1024x768", img.Width, img.Height)
	}
	if img.Rotation != 0 || img.Mirror {
		t.Errorf("Rotation, Mirror = %d, %v; want 0, false", img.Rotation, img.Mirror)
	}
	if img.Brand != "heic" {
		t.Errorf("Brand = %q; want heic", img.Brand)
	}
	if !bytes.HasPrefix(img.Exif, []byte("MM\x00*")) {
		t.Errorf("Exif starts % x; want a big-endian TIFF header", img.Exif[:min(8, len(img.Exif))])
	}
	if !bytes.Contains(img.Exif, []byte("Apple")) || !bytes.Contains(img.Exif, []byte("iPhone 14")) {
		t.Errorf("Exif (%d bytes) lacks Make Apple, Model iPhone 14", len(img.Exif))
	}
	// The IFD0 offset must land inside the payload.
	if len(img.Exif) < 8 || int(binary.BigEndian.Uint32(img.Exif[4:])) >= len(img.Exif) {
		t.Errorf("Exif's IFD0 offset is outside its %d bytes", len(img.Exif))
	}
}

// tiffWithMake is a minimal big-endian TIFF with IFD0 holding Make.
func tiffWithMake(make string) []byte {
	val := append([]byte(make), 0)
	return cat(str("MM\x00*"), be32(8), be16(1), be16(0x010F, 2), be32(uint32(len(val)), 26), be32(0), val)
}

// jpegWithExif is a small JPEG with an APP1 Exif segment.
func jpegWithExif(t *testing.T, w, h int, tiff []byte) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 4), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, nil); err != nil {
		t.Fatal(err)
	}
	app1 := cat(str("Exif\x00\x00"), tiff)
	seg := cat([]byte{0xFF, 0xE1}, be16(uint16(len(app1)+2)), app1)
	return cat(b.Bytes()[:2], seg, b.Bytes()[2:])
}

func TestReadHEIFEncoded(t *testing.T) {
	needTool(t, "heif-enc")
	dir := t.TempDir()
	pngPath := filepath.Join(dir, "in.png")
	m := image.NewNRGBA(image.Rect(0, 0, 200, 120))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pngPath, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	jpgPath := filepath.Join(dir, "in.jpg")
	if err := os.WriteFile(jpgPath, jpegWithExif(t, 96, 64, tiffWithMake("TestMake")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		out       string
		w, h      int
		brand     string
		exifMake  string // "" for no Exif
		exifCheck bool
	}{
		{"png to heic", []string{"-q", "50", pngPath}, "a.heic", 200, 120, "heic", "", true},
		{"jpeg with Exif and a thumbnail to heic (a grid)", []string{"-q", "50", "-t", "32", jpgPath}, "b.heic", 96, 64, "heic", "TestMake", true},
		{"jpeg with Exif to avif", []string{"-A", "-q", "50", jpgPath}, "c.avif", 96, 64, "avif", "TestMake", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.out)
			run(t, "heif-enc", append(tt.args, "-o", out)...)
			img, err := readHEIF(readFile(t, out))
			if err != nil {
				t.Fatalf("ReadHEIF: %v", err)
			}
			if img.Width != tt.w || img.Height != tt.h {
				t.Errorf("size = %dx%d; want %dx%d", img.Width, img.Height, tt.w, tt.h)
			}
			if img.Brand != tt.brand {
				t.Errorf("Brand = %q; want %q", img.Brand, tt.brand)
			}
			if tt.exifMake == "" {
				if img.Exif != nil {
					t.Errorf("Exif = %d bytes; want none", len(img.Exif))
				}
				return
			}
			if !bytes.HasPrefix(img.Exif, []byte("MM\x00*")) || !bytes.Contains(img.Exif, []byte(tt.exifMake)) {
				t.Errorf("Exif = %q; want a TIFF with Make %s", img.Exif, tt.exifMake)
			}
		})
	}
}

// heifSpec describes a hand-built HEIF file: a primary item (hvc1, or a
// grid with its data in idat), a thumbnail with its own Exif item, and the
// primary's Exif item, laid out as the fields say.
type heifSpec struct {
	ilocVersion                         uint8
	offSize, lenSize, baseSize, idxSize int
	exifIdat, exifSplit, exifToEnd      bool
	bigIDs, ipma16, noExifRef, grid     bool
	gridIspe                            bool // with a grid, also an ispe
	irot                                uint8
	imir                                bool
	rawExif                             bool // no "Exif\0\0" between the offset and the TIFF header
	w, h                                uint32
	gridW, gridH                        uint16 // the grid's output size, when not w x h
	thumbW, thumbH                      uint32 // the thumbnail's ispe, when not 32 x 20
	wantRotation                        int
}

var builtTIFF = cat(str("MM\x00*"), be32(8), str("IFD0 Make=Apple Model=iPhone"))

func buildHEIF(s heifSpec) []byte {
	P, E, T, E4 := uint32(1), uint32(2), uint32(3), uint32(4)
	if s.bigIDs {
		P, E, T, E4 = 70001, 70002, 70003, 70004
	}
	prefix := "Exif\x00\x00"
	if s.rawExif {
		prefix = ""
	}
	exif := cat(be32(uint32(len(prefix))), str(prefix), builtTIFF)

	type ext struct{ pos, n int }
	type item struct {
		id     uint32
		idat   bool
		extent []ext
	}
	var mdat, idat []byte
	place := func(inIdat bool, p []byte) ext {
		if inIdat {
			idat = append(idat, p...)
			return ext{len(idat) - len(p), len(p)}
		}
		mdat = append(mdat, p...)
		return ext{len(mdat) - len(p), len(p)}
	}
	var items []item
	if s.gridW == 0 {
		s.gridW, s.gridH = uint16(s.w), uint16(s.h)
	}
	if s.thumbW == 0 {
		s.thumbW, s.thumbH = 32, 20
	}
	if s.grid {
		items = append(items, item{P, true, []ext{place(true, cat([]byte{0, 0, 0, 1}, be16(s.gridW, s.gridH)))}})
	} else {
		items = append(items, item{P, false, []ext{place(false, str("PRIMARY-HEVC-DATA"))}})
	}
	items = append(items, item{T, false, []ext{place(false, str("THUMB-HEVC"))}})
	items = append(items, item{E4, false, []ext{place(false, cat(be32(0), str("MM\x00*THUMB")))}})
	if s.exifSplit { // stored second half first
		h := len(exif) / 2
		second := place(s.exifIdat, exif[h:])
		first := place(s.exifIdat, exif[:h])
		items = append(items, item{E, s.exifIdat, []ext{first, second}})
	} else {
		items = append(items, item{E, s.exifIdat, []ext{place(s.exifIdat, exif)}})
	}

	id := func(v uint8, x uint32) []byte { // 16-bit IDs in version 0 boxes
		if v == 0 {
			return be16(uint16(x))
		}
		return be32(x)
	}
	idv := uint8(0)
	if s.bigIDs {
		idv = 1
	}
	infe := func(x uint32, typ string) []byte {
		if s.bigIDs {
			return bx("infe", full(3, 0), be32(x), be16(0), str(typ), str("\x00"))
		}
		return bx("infe", full(2, 0), be16(uint16(x)), be16(0), str(typ), str("\x00"))
	}
	primaryType := "hvc1"
	if s.grid {
		primaryType = "grid"
	}
	iinfCount := be16(4)
	if s.bigIDs {
		iinfCount = be32(4)
	}
	iinf := bx("iinf", full(idv, 0), iinfCount, infe(E4, "Exif"), infe(P, primaryType), infe(E, "Exif"), infe(T, "hvc1"))
	ref := func(typ string, from uint32, to ...uint32) []byte {
		b := cat(id(idv, from), be16(uint16(len(to))))
		for _, x := range to {
			b = append(b, id(idv, x)...)
		}
		return bx(typ, b)
	}
	irefs := [][]byte{full(idv, 0), ref("thmb", T, P), ref("cdsc", E4, T)}
	if !s.noExifRef {
		irefs = append(irefs, ref("cdsc", E, T, P))
	}
	iref := bx("iref", irefs...)

	// Properties: 1 hvcC, 2 ispe (primary), 3 ispe (thumbnail), 4 irot, 5 imir.
	ipco := bx("ipco", bx("hvcC", zeros(23)), bx("ispe", full(0, 0), be32(s.w, s.h)), bx("ispe", full(0, 0), be32(s.thumbW, s.thumbH)),
		bx("irot", []byte{s.irot}), bx("imir", []byte{1}))
	assoc := func(essential bool, idx int) []byte {
		e := 0
		if essential {
			e = 1
		}
		if s.ipma16 {
			return be16(uint16(e<<15 | idx))
		}
		return []byte{byte(e<<7 | idx)}
	}
	var pa [][]byte
	if !s.grid {
		pa = append(pa, assoc(true, 1))
	}
	if !s.grid || s.gridIspe {
		pa = append(pa, assoc(false, 2))
	}
	if s.irot != 0 {
		pa = append(pa, assoc(true, 4))
	}
	if s.imir {
		pa = append(pa, assoc(true, 5))
	}
	flags := uint32(0)
	if s.ipma16 {
		flags = 1
	}
	ipma := bx("ipma", full(idv, flags), be32(2),
		id(idv, T), []byte{2}, assoc(true, 1), assoc(false, 3),
		id(idv, P), []byte{byte(len(pa))}, cat(pa...))

	v := s.ilocVersion
	meta := func(mdatStart int) []byte {
		var entries []byte
		for _, it := range items {
			entries = append(entries, id(v/2, it.id)...) // 32-bit IDs in version 2
			if v >= 1 {
				method := uint16(0)
				if it.idat {
					method = 1
				}
				entries = append(entries, be16(method)...)
			}
			entries = append(entries, be16(0)...) // data reference index
			abs := func(e ext) uint64 {
				if it.idat {
					return uint64(e.pos)
				}
				return uint64(mdatStart + e.pos)
			}
			base := uint64(0)
			if s.baseSize > 0 {
				base = abs(it.extent[0])
				for _, e := range it.extent {
					base = min(base, abs(e))
				}
			}
			entries = append(entries, beN(s.baseSize, base)...)
			entries = append(entries, be16(uint16(len(it.extent)))...)
			for _, e := range it.extent {
				if v >= 1 {
					entries = append(entries, beN(s.idxSize, 0)...)
				}
				if s.offSize == 0 && abs(e) != base {
					panic("extent needs an offset field")
				}
				entries = append(entries, beN(s.offSize, abs(e)-base)...)
				if s.lenSize == 0 && !s.exifToEnd {
					panic("extent needs a length field")
				}
				entries = append(entries, beN(s.lenSize, uint64(e.n))...)
			}
		}
		count := be16(uint16(len(items)))
		if v == 2 {
			count = be32(uint32(len(items)))
		}
		sizes := []byte{byte(s.offSize<<4 | s.lenSize), byte(s.baseSize<<4 | s.idxSize)}
		iloc := bx("iloc", full(v, 0), sizes, count, entries)
		pitm := bx("pitm", full(idv, 0), id(idv, P))
		parts := [][]byte{full(0, 0), bx("hdlr", full(0, 0), be32(0), str("pict"), zeros(12), str("\x00")), pitm, iloc, iinf, iref,
			bx("iprp", ipco, ipma)}
		if idat != nil {
			parts = append(parts, bx("idat", idat))
		}
		return bx("meta", parts...)
	}
	ftyp := bx("ftyp", str("heic"), be32(0), str("mif1heic"))
	start := len(ftyp) + len(meta(0)) + 8
	return cat(ftyp, meta(start), bx("mdat", mdat))
}

func TestReadHEIFBuilt(t *testing.T) {
	tests := []struct {
		name string
		spec heifSpec
	}{
		{"iloc v0, 32-bit offsets", heifSpec{ilocVersion: 0, offSize: 4, lenSize: 4}},
		{"iloc v1, 64-bit offsets, base offset, index, Exif in two extents", heifSpec{ilocVersion: 1, offSize: 8, lenSize: 8, baseSize: 4, idxSize: 4, exifSplit: true}},
		{"iloc v1, Exif in idat in two extents", heifSpec{ilocVersion: 1, offSize: 4, lenSize: 4, exifIdat: true, exifSplit: true}},
		{"iloc v2, 32-bit item IDs, 16-bit property indexes, rotated, mirrored", heifSpec{ilocVersion: 2, offSize: 4, lenSize: 8, baseSize: 8, idxSize: 8,
			bigIDs: true, ipma16: true, irot: 1, imir: true, wantRotation: 90}},
		{"base offset only, lengths 0 (to the end of the file)", heifSpec{ilocVersion: 1, baseSize: 8, exifToEnd: true}},
		{"Exif without a cdsc reference", heifSpec{ilocVersion: 0, offSize: 4, lenSize: 4, noExifRef: true, irot: 3, wantRotation: 270}},
		{"Exif without the Exif\\0\\0 prefix", heifSpec{ilocVersion: 0, offSize: 4, lenSize: 4, rawExif: true, irot: 2, wantRotation: 180}},
		{"grid with ispe", heifSpec{ilocVersion: 1, offSize: 4, lenSize: 4, grid: true, gridIspe: true}},
		{"grid without ispe: size from the grid", heifSpec{ilocVersion: 1, offSize: 4, lenSize: 4, grid: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.spec
			s.w, s.h = 4032, 3024
			img, err := readHEIF(buildHEIF(s))
			if err != nil {
				t.Fatalf("ReadHEIF: %v", err)
			}
			if img.Width != 4032 || img.Height != 3024 {
				t.Errorf("size = %dx%d; want 4032x3024", img.Width, img.Height)
			}
			if img.Rotation != s.wantRotation || img.Mirror != s.imir {
				t.Errorf("Rotation, Mirror = %d, %v; want %d, %v", img.Rotation, img.Mirror, s.wantRotation, s.imir)
			}
			if !bytes.Equal(img.Exif, builtTIFF) {
				t.Errorf("Exif = %q; want %q", img.Exif, builtTIFF)
			}
			if img.Brand != "heic" {
				t.Errorf("Brand = %q; want heic", img.Brand)
			}
		})
	}
}

// TestReadHEIFDeclaredSizes: the grid's output size and the largest ispe
// of any item are reported beside the primary item's ispe, which does not
// hide them.
func TestReadHEIFDeclaredSizes(t *testing.T) {
	tests := []struct {
		name                 string
		spec                 heifSpec
		gridW, gridH, lw, lh int
	}{
		{"plain", heifSpec{}, 0, 0, 4032, 3024},
		{"grid", heifSpec{grid: true, gridIspe: true}, 4032, 3024, 4032, 3024},
		{"grid larger than its ispe", heifSpec{grid: true, gridIspe: true, gridW: 65500, gridH: 65500}, 65500, 65500, 4032, 3024},
		{"thumbnail larger than the primary", heifSpec{thumbW: 60000, thumbH: 60000}, 0, 0, 60000, 60000},
		{"thumbnail beyond int32", heifSpec{thumbW: 1<<32 - 1, thumbH: 2}, 0, 0, 1<<31 - 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.spec
			s.ilocVersion, s.offSize, s.lenSize = 1, 4, 4
			s.w, s.h = 4032, 3024
			img, err := readHEIF(buildHEIF(s))
			if err != nil {
				t.Fatalf("ReadHEIF: %v", err)
			}
			if img.Width != 4032 || img.Height != 3024 {
				t.Errorf("size = %dx%d; want 4032x3024", img.Width, img.Height)
			}
			if img.GridWidth != tt.gridW || img.GridHeight != tt.gridH {
				t.Errorf("grid = %dx%d; want %dx%d", img.GridWidth, img.GridHeight, tt.gridW, tt.gridH)
			}
			if img.LargestWidth != tt.lw || img.LargestHeight != tt.lh {
				t.Errorf("largest = %dx%d; want %dx%d", img.LargestWidth, img.LargestHeight, tt.lw, tt.lh)
			}
		})
	}
}
