package isobmff

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// maxAlloc is what one read may allocate, hostile input or not: the
// largest single read (1 MiB) with room for bookkeeping.
const maxAlloc = 3 << 20

type input struct {
	name string
	b    []byte
}

func random(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// nested is n boxes of type typ, each inside the one before.
func nested(typ string, n int, inner []byte) []byte {
	b := make([]byte, 8*n+len(inner))
	for i := range n {
		off := 8 * i
		size := uint32(len(b) - off)
		copy(b[off:], be32(size))
		copy(b[off+4:], typ)
	}
	copy(b[8*n:], inner)
	return b
}

func manyBoxes(typ string, n int) []byte {
	return bytes.Repeat(bx(typ), n)
}

func goodMovie() []byte {
	return qtMovie(mvhd(false, 3680331630, 600, 600), trak(video(trakSpec{w: 1920, h: 1080, matrix: mat90})),
		appleMeta("com.apple.quicktime.location.ISO6709", "+37.8199-122.4783+010.000/", "com.apple.quicktime.make", "Apple"),
		bx("udta", qtStr("\xa9xyz", "+48.8584+002.2945/"), loci(1, 2, 3)))
}

func goodMovieFaststart() []byte {
	m := goodMovie()
	i := bytes.Index(m, []byte("mdat")) - 4
	j := bytes.Index(m, []byte("moov")) - 4
	return cat(m[:i], m[j:], m[i:j])
}

func hostileVideos() []input {
	ftyp := bx("ftyp", str("isom"), be32(0))
	okMvhd := mvhd(false, 3680331630, 600, 600)
	return []input{
		{"empty", nil},
		{"7 bytes", []byte("\x00\x00\x00\x08moo")},
		{"random 100", random(1, 100)},
		{"random 4096", random(2, 4096)},
		{"random after ftyp", cat(ftyp, random(3, 1000))},
		{"largesize 2^63", cat(ftyp, be32(1), str("moov"), be64(1<<63), okMvhd)},
		{"largesize 2^64-1", cat(ftyp, be32(1), str("mdat"), be64(math.MaxUint64), zeros(64))},
		{"largesize smaller than its header", cat(ftyp, be32(1), str("moov"), be64(12), okMvhd)},
		{"largesize header cut", cat(ftyp, be32(1), str("moov"), be32(0))},
		{"size 2^32-1 in a small file", cat(be32(math.MaxUint32), str("ftyp"), zeros(100))},
		{"size 4", cat(ftyp, be32(4), str("moov"), okMvhd)},
		{"size 0 box that is not a moov", cat(ftyp, be32(0), str("mdat"), zeros(100))},
		{"no moov", cat(ftyp, bx("free"), bx("mdat", zeros(10)))},
		{"moov without mvhd", cat(ftyp, bx("moov", trak(video(trakSpec{w: 1, h: 1}))))},
		{"truncated mvhd", cat(ftyp, bx("moov", bx("mvhd", full(0, 0), be32(1, 2))))},
		{"mvhd version 9", cat(ftyp, bx("moov", bx("mvhd", full(9, 0), zeros(96))))},
		{"truncated tkhd", cat(ftyp, bx("moov", okMvhd, bx("trak", bx("tkhd", full(0, 0), zeros(40)))))},
		{"tkhd version 2", cat(ftyp, bx("moov", okMvhd, bx("trak", bx("tkhd", full(2, 0), zeros(92)))))},
		{"truncated mdhd", cat(ftyp, bx("moov", okMvhd, bx("trak", bx("mdia", bx("mdhd", full(1, 0), zeros(10))))))},
		{"short hdlr", cat(ftyp, bx("moov", okMvhd, bx("trak", bx("mdia", bx("hdlr", full(0, 0), zeros(2))))))},
		{"child overruns its parent", cat(ftyp, bx("moov", okMvhd, be32(1000), str("trak"), zeros(20)))},
		{"stsd entry overruns", cat(ftyp, bx("moov", okMvhd, bx("trak", bx("mdia", bx("minf", bx("stbl",
			bx("stsd", full(0, 0), be32(1), be32(0x7FFFFFFF), str("avc1"), zeros(30))))))))},
		{"keys count 2^32-1", cat(ftyp, bx("moov", okMvhd, bx("meta", bx("hdlr", full(0, 0), be32(0), str("mdta"), zeros(13)),
			bx("keys", full(0, 0), be32(math.MaxUint32), be32(12), str("mdtaabcd")))))},
		{"keys entry size 4", cat(ftyp, bx("moov", okMvhd, bx("meta", bx("hdlr", full(0, 0), be32(0), str("mdta"), zeros(13)),
			bx("keys", full(0, 0), be32(2), be32(4), str("mdta"))))),
		},
		{"ilst data overruns", cat(ftyp, bx("moov", okMvhd, bx("udta", bx("meta", full(0, 0),
			bx("ilst", bx("\xa9xyz", be32(0xFFFF), str("data"), zeros(8)))))))},
		{"stray bytes in moov", cat(ftyp, bx("moov", okMvhd, str("junk!")))},
		{"100000 nested moov boxes", nested("moov", 100000, nil)},
		{"nested udta and meta", cat(ftyp, bx("moov", okMvhd, nested("udta", 40, nil)))},
		{"100000 boxes in moov", cat(ftyp, bx("moov", okMvhd, manyBoxes("free", 100000)))},
		{"100000 top-level boxes", cat(manyBoxes("free", 100000), bx("moov", okMvhd))},
	}
}

// wantVideoOK lists the hostile inputs that are well-formed enough to read.
var wantVideoOK = map[string]bool{
	"nested udta and meta": true, // only 2 levels are ever looked into
	// Broken user data costs its own fields only.
	"keys count 2^32-1":  true,
	"keys entry size 4":  true,
	"ilst data overruns": true,
}

// miniHEIF is a HEIF file with a 640x480 primary item 1 and its Exif item
// 2, with the given iloc box and more meta children.
func miniHEIF(iloc []byte, more ...[]byte) []byte {
	meta := bx("meta", cat(full(0, 0),
		bx("hdlr", full(0, 0), be32(0), str("pict"), zeros(13)),
		bx("pitm", full(0, 0), be16(1)),
		bx("iinf", full(0, 0), be16(2), bx("infe", full(2, 0), be16(1), be16(0), str("hvc1\x00")), bx("infe", full(2, 0), be16(2), be16(0), str("Exif\x00"))),
		bx("iref", full(0, 0), bx("cdsc", be16(2, 1, 1))),
		bx("iprp", bx("ipco", bx("ispe", full(0, 0), be32(640, 480))), bx("ipma", full(0, 0), be32(1), be16(1), []byte{1, 0x81})),
		iloc, cat(more...)))
	return cat(bx("ftyp", str("heic"), be32(0)), meta, bx("mdat", zeros(64)))
}

// ilocV1 is an iloc box, version 1, 8-byte offsets and lengths.
func ilocV1(items ...[]byte) []byte {
	return bx("iloc", full(1, 0), []byte{0x88, 0x00}, be16(uint16(len(items))), cat(items...))
}

func ilocItem(id, method uint16, extents ...uint64) []byte {
	b := cat(be16(id, method, 0, uint16(len(extents)/2)))
	for _, e := range extents {
		b = append(b, be64(e)...)
	}
	return b
}

// heifWith is a HEIF file whose meta box has a picture handler, primary
// item 1 and the given children.
func heifWith(children ...[]byte) []byte {
	return cat(bx("ftyp", str("heic"), be32(0)), bx("meta", cat(full(0, 0),
		bx("hdlr", full(0, 0), be32(0), str("pict"), zeros(13)),
		bx("pitm", full(0, 0), be16(1)), cat(children...))))
}

func hostileHEIFs() []input {
	ftyp := bx("ftyp", str("heic"), be32(0))
	primary := ilocItem(1, 0, 0, 10)
	exifInfe := bx("iinf", full(0, 0), be16(1), bx("infe", full(2, 0), be16(2), be16(0), str("Exif\x00")))
	return []input{
		{"empty", nil},
		{"random 1000", random(4, 1000)},
		{"random after ftyp", cat(ftyp, random(5, 1000))},
		{"no meta", cat(ftyp, bx("mdat", zeros(100)))},
		{"meta of size 2^63", cat(ftyp, be32(1), str("meta"), be64(1<<63), zeros(100))},
		{"meta for video", cat(ftyp, bx("meta", full(0, 0), bx("hdlr", full(0, 0), be32(0), str("vide"), zeros(13)), bx("pitm", full(0, 0), be16(1))))},
		{"meta without hdlr", cat(ftyp, bx("meta", full(0, 0), bx("pitm", full(0, 0), be16(1))))},
		{"no pitm", cat(ftyp, bx("meta", full(0, 0), bx("hdlr", full(0, 0), be32(0), str("pict"), zeros(13))))},
		{"pitm version 3", cat(ftyp, bx("meta", full(0, 0), bx("hdlr", full(0, 0), be32(0), str("pict"), zeros(13)), bx("pitm", full(3, 0), be32(1))))},
		{"Exif past the end of the file", miniHEIF(ilocV1(primary, ilocItem(2, 0, 1<<40, 10)))},
		{"Exif of length 2^63", miniHEIF(ilocV1(primary, ilocItem(2, 0, 100, 1<<63)))},
		{"Exif ending past the end", miniHEIF(ilocV1(primary, ilocItem(2, 0, 100, 1000)))},
		{"primary past the end of the file", miniHEIF(ilocV1(ilocItem(1, 0, 100, 1<<20)))},
		{"base offset overflows", miniHEIF(bx("iloc", full(1, 0), []byte{0x88, 0x80}, be16(1), be16(2, 0, 0), be64(math.MaxUint64), be16(1), be64(10, 4)))},
		{"65535 empty extents", miniHEIF(bx("iloc", full(1, 0), []byte{0x00, 0x00}, be16(1), be16(2, 0, 0, 0xFFFF)))},
		{"2^32-1 items", miniHEIF(bx("iloc", full(2, 0), []byte{0x44, 0x00}, be32(math.MaxUint32), be32(1), be16(0, 0, 1), be32(0, 4)))},
		{"iloc field size 3", miniHEIF(bx("iloc", full(1, 0), []byte{0x33, 0x00}, be16(0)))},
		{"iloc version 5", miniHEIF(bx("iloc", full(5, 0), zeros(20)))},
		{"truncated iloc", miniHEIF(bx("iloc", full(1, 0), []byte{0x88, 0x00}, be16(2), be16(1, 0, 0, 1), be64(0)))},
		{"idat item without idat", miniHEIF(ilocV1(primary, ilocItem(2, 1, 0, 10)))},
		{"idat extent past idat", miniHEIF(ilocV1(primary, ilocItem(2, 1, 4, 10)), bx("idat", zeros(8)))},
		{"ipma of 2^32-1 entries", heifWith(bx("iprp", bx("ipma", full(0, 0), be32(math.MaxUint32), be16(1), []byte{2, 1})))},
		{"truncated ispe", heifWith(bx("iprp", bx("ipco", bx("ispe", full(0, 0), be16(1))), bx("ipma", full(0, 0), be32(1), be16(1), []byte{1, 1})))},
		{"cdsc with 60000 references and no room", heifWith(exifInfe, bx("iref", full(0, 0), bx("cdsc", be16(2, 60000, 5))))},
		{"truncated iref", heifWith(exifInfe, bx("iref", full(0, 0), bx("cdsc", []byte{0})))},
		{"truncated infe", heifWith(bx("iinf", full(0, 0), be16(1), bx("infe", full(2, 0), be16(1))))},
		{"grid data past the end", heifWith(bx("iinf", full(0, 0), be16(1), bx("infe", full(2, 0), be16(1), be16(0), str("grid\x00"))),
			ilocV1(ilocItem(1, 1, 0, 8)), bx("idat", zeros(4)))},
		{"100000 nested meta boxes", nested("meta", 100000, nil)},
		{"100000 boxes in iinf", heifWith(bx("iinf", full(0, 0), be16(1), manyBoxes("free", 100000)))},
	}
}

func TestHostileVideo(t *testing.T) {
	for _, in := range hostileVideos() {
		t.Run(in.name, func(t *testing.T) {
			var v *Video
			var err error
			start := time.Now()
			n := allocated(func() { v, err = readVideo(in.b) })
			t.Logf("%d bytes: %v", len(in.b), err)
			if wantVideoOK[in.name] {
				if err != nil {
					t.Errorf("ReadVideo: %v; want no error", err)
				}
			} else if err == nil {
				t.Errorf("ReadVideo = %+v; want an error", v)
			} else if !errors.Is(err, ErrFormat) {
				t.Errorf("ReadVideo error %v does not wrap ErrFormat", err)
			}
			if n > maxAlloc {
				t.Errorf("ReadVideo allocated %d bytes; want at most %d", n, maxAlloc)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("ReadVideo took %v", d)
			}
			readHEIF(in.b) // must not panic either
		})
	}
}

func TestHostileHEIF(t *testing.T) {
	for _, in := range hostileHEIFs() {
		t.Run(in.name, func(t *testing.T) {
			var img *Image
			var err error
			n := allocated(func() { img, err = readHEIF(in.b) })
			t.Logf("%d bytes: %v", len(in.b), err)
			if err == nil {
				t.Errorf("ReadHEIF = %+v; want an error", img)
			} else if !errors.Is(err, ErrFormat) {
				t.Errorf("ReadHEIF error %v does not wrap ErrFormat", err)
			}
			if n > maxAlloc {
				t.Errorf("ReadHEIF allocated %d bytes; want at most %d", n, maxAlloc)
			}
			readVideo(in.b)
		})
	}
}

// sparse is a huge file of zeros with a few stretches of data.
type sparse struct {
	size  int64
	parts map[int64][]byte
}

func (s *sparse) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= s.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), s.size-off))
	clear(p[:n])
	for at, b := range s.parts {
		lo, hi := max(off, at), min(off+int64(n), at+int64(len(b)))
		if lo < hi {
			copy(p[lo-off:hi-off], b[lo-at:hi-at])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestHugeFiles(t *testing.T) {
	const size = 1 << 40 // 1 TiB
	t.Run("video with moov after a 1 TiB mdat", func(t *testing.T) {
		ftyp := bx("ftyp", str("isom"), be32(0))
		moov := bx("moov", mvhd(false, 3680331630, 1000, 7200000), trak(video(trakSpec{w: 3840, h: 2160})))
		mdatSize := size - int64(len(ftyp)) - int64(len(moov))
		f := &sparse{size: size, parts: map[int64][]byte{
			0:                           cat(ftyp, be32(1), str("mdat"), be64(uint64(mdatSize))),
			size - int64(len(moov)):     moov,
			int64(len(ftyp)) + 1<<30:    random(6, 1000), // media data is never looked at
			int64(len(ftyp)) + 1<<39:    random(7, 1000),
			size - int64(len(moov)) - 7: random(8, 7),
		}}
		var v *Video
		var err error
		n := allocated(func() { v, err = ReadVideo(f, size) })
		if err != nil {
			t.Fatalf("ReadVideo: %v", err)
		}
		if v.Width != 3840 || v.Height != 2160 || v.Duration != 2*time.Hour {
			t.Errorf("ReadVideo = %dx%d, %v; want 3840x2160, 2h0m0s", v.Width, v.Height, v.Duration)
		}
		if n > 64<<10 {
			t.Errorf("ReadVideo allocated %d bytes; want at most 64 KiB", n)
		}
	})
	t.Run("HEIF with a 64 MiB Exif item", func(t *testing.T) {
		b := miniHEIF(ilocV1(ilocItem(1, 0, 0, 10), ilocItem(2, 0, 1<<39, 64<<20)))
		f := &sparse{size: size, parts: map[int64][]byte{0: b}}
		var img *Image
		var err error
		n := allocated(func() { img, err = ReadHEIF(f, size) })
		if err != nil {
			t.Fatalf("ReadHEIF: %v", err)
		}
		if img.Width != 640 || img.Height != 480 || img.Exif != nil {
			t.Errorf("ReadHEIF = %dx%d, %d bytes of Exif; want 640x480 and no Exif (too large)", img.Width, img.Height, len(img.Exif))
		}
		if n > 64<<10 {
			t.Errorf("ReadHEIF allocated %d bytes; want at most 64 KiB", n)
		}
	})
	t.Run("size larger than the reader", func(t *testing.T) {
		b := testdata(t, "clip.mp4")
		_, err := ReadVideo(bytes.NewReader(b[:5000]), int64(len(b)))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ReadVideo with a size past the data: error %v; want io.ErrUnexpectedEOF", err)
		}
	})
}

// truncations are the lengths to cut a file of n bytes at: all of them for
// a small file, else all in the first 4 KiB and the last 64 bytes and a
// sample between.
func truncations(n int) []int {
	var out []int
	for i := 0; i < n; i++ {
		if n <= 20000 || i < 4096 || i >= n-64 || i%61 == 0 {
			out = append(out, i)
		}
	}
	return out
}

// TestTruncated cuts files short at many lengths: the reader must fail or
// give what it gives for the whole file (a video cut after its moov reads).
func TestTruncated(t *testing.T) {
	videos := []input{
		{"clip.mp4", testdata(t, "clip.mp4")},
		{"built mov", goodMovie()},
		{"built mov, faststart", goodMovieFaststart()},
	}
	for _, in := range videos {
		t.Run(in.name, func(t *testing.T) {
			want, err := readVideo(in.b)
			if err != nil {
				t.Fatalf("ReadVideo(whole file): %v", err)
			}
			ok := 0
			for _, n := range truncations(len(in.b)) {
				got, err := readVideo(in.b[:n])
				if err == nil {
					ok++
					if !reflect.DeepEqual(got, want) {
						t.Errorf("ReadVideo(first %d of %d bytes) = %+v; want an error or %+v", n, len(in.b), got, want)
					}
				}
				readHEIF(in.b[:n])
			}
			t.Logf("%d of %d truncations read", ok, len(truncations(len(in.b))))
		})
	}
	heifs := []struct {
		input
		exact bool // false: an extent runs to the end of the file, so cuts there go unnoticed
	}{
		{input{"iphone_golden_gate.heic", testdata(t, "iphone_golden_gate.heic")}, true},
		{input{"built heif, Exif in idat", buildHEIF(heifSpec{ilocVersion: 1, offSize: 4, lenSize: 4, exifIdat: true, exifSplit: true, w: 64, h: 48})}, true},
		{input{"built heif, lengths to the end", buildHEIF(heifSpec{ilocVersion: 1, baseSize: 8, exifToEnd: true, w: 64, h: 48})}, false},
	}
	for _, in := range heifs {
		t.Run(in.name, func(t *testing.T) {
			want, err := readHEIF(in.b)
			if err != nil {
				t.Fatalf("ReadHEIF(whole file): %v", err)
			}
			for _, n := range truncations(len(in.b)) {
				got, err := readHEIF(in.b[:n])
				if err == nil && in.exact && !reflect.DeepEqual(got, want) {
					t.Errorf("ReadHEIF(first %d of %d bytes) = %+v; want an error or %+v", n, len(in.b), got, want)
				}
				readVideo(in.b[:n])
			}
		})
	}
}

func checkVideoInvariants(t *testing.T, v *Video) {
	switch v.Rotation {
	case 0, 90, 180, 270:
	default:
		t.Errorf("Rotation = %d", v.Rotation)
	}
	if v.Width < 0 || v.Height < 0 || v.Duration < 0 {
		t.Errorf("size %dx%d, duration %v", v.Width, v.Height, v.Duration)
	}
	if (v.Lat == nil) != (v.Lon == nil) || v.Lat != nil && (math.Abs(*v.Lat) > 90 || math.Abs(*v.Lon) > 180) {
		t.Errorf("location %v, %v", fmtPtr(v.Lat), fmtPtr(v.Lon))
	}
}

func FuzzReadVideo(f *testing.F) {
	f.Add(testdata(f, "clip.mp4"))
	f.Add(goodMovie())
	f.Add(goodMovieFaststart())
	for _, in := range hostileVideos() {
		if len(in.b) < 64<<10 {
			f.Add(in.b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := readVideo(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		checkVideoInvariants(t, v)
	})
}

func FuzzReadHEIF(f *testing.F) {
	gg := testdata(f, "iphone_golden_gate.heic")
	f.Add(gg[:1024])
	for _, s := range []heifSpec{
		{ilocVersion: 0, offSize: 4, lenSize: 4},
		{ilocVersion: 1, offSize: 8, lenSize: 8, baseSize: 4, idxSize: 4, exifSplit: true, irot: 1, imir: true},
		{ilocVersion: 1, offSize: 4, lenSize: 4, exifIdat: true, exifSplit: true, grid: true},
		{ilocVersion: 2, offSize: 4, lenSize: 8, baseSize: 8, idxSize: 8, bigIDs: true, ipma16: true},
	} {
		s.w, s.h = 64, 48
		f.Add(buildHEIF(s))
	}
	for _, in := range hostileHEIFs() {
		if len(in.b) < 64<<10 {
			f.Add(in.b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := readHEIF(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		switch img.Rotation {
		case 0, 90, 180, 270:
		default:
			t.Errorf("Rotation = %d", img.Rotation)
		}
		if img.Width < 0 || img.Height < 0 || len(img.Exif) > MaxExif {
			t.Errorf("size %dx%d, %d bytes of Exif", img.Width, img.Height, len(img.Exif))
		}
		if img.Exif != nil && !bytes.HasPrefix(img.Exif, []byte("II*\x00")) && !bytes.HasPrefix(img.Exif, []byte("MM\x00*")) {
			t.Errorf("Exif starts % x", img.Exif[:min(4, len(img.Exif))])
		}
	})
}
