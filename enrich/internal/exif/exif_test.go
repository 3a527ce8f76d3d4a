package exif

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// tiff builds a little-endian TIFF: IFDs are lists of entries written at
// the offsets given; values longer than 4 bytes go to the data area.
type tiffBuilder struct {
	b []byte
}

func newTIFF(size int) *tiffBuilder {
	t := &tiffBuilder{b: make([]byte, size)}
	copy(t.b, "II*\x00")
	return t
}

func (t *tiffBuilder) u16(off int, v uint16) { binary.LittleEndian.PutUint16(t.b[off:], v) }
func (t *tiffBuilder) u32(off int, v uint32) { binary.LittleEndian.PutUint32(t.b[off:], v) }

type ent struct {
	tag, typ uint16
	count    uint32
	val      uint32 // inline value or offset
}

// ifd writes an IFD at off and returns the offset of its next-IFD field.
func (t *tiffBuilder) ifd(off int, es ...ent) int {
	t.u16(off, uint16(len(es)))
	for i, e := range es {
		p := off + 2 + 12*i
		t.u16(p, e.tag)
		t.u16(p+2, e.typ)
		t.u32(p+4, e.count)
		t.u32(p+8, e.val)
	}
	return off + 2 + 12*len(es)
}

func TestReadFields(t *testing.T) {
	tb := newTIFF(512)
	tb.u32(4, 8)
	copy(tb.b[300:], "Canon\x00")
	copy(tb.b[320:], "2019:06:12 14:03:22\x00")
	copy(tb.b[340:], "+02:00\x00")
	// GPS 48°51'30.132" N = 48.85837
	for i, v := range []uint32{48, 1, 51, 1, 30132, 1000} {
		tb.u32(400+4*i, v)
	}
	for i, v := range []uint32{2, 1, 17, 1, 40131, 1000} {
		tb.u32(430+4*i, v)
	}
	next := tb.ifd(8,
		ent{tagMake, 2, 6, 300},
		ent{tagOrientation, 3, 1, 6},
		ent{tagExifIFD, 4, 1, 100},
		ent{tagGPSIFD, 4, 1, 200},
	)
	tb.u32(next, 8) // IFD0's next is IFD0: a loop
	tb.u32(tb.ifd(100,
		ent{tagDateTimeOriginal, 2, 20, 320},
		ent{tagOffsetOriginal, 2, 7, 340},
		ent{tagSubSecOriginal, 2, 3, 0x00333231}, // "123"
		ent{tagPixelX, 4, 1, 1024},
		ent{tagPixelY, 4, 1, 768},
		ent{tagLensModel, 2, 0xFFFFFFFF, 0}, // hostile count
	), 100) // loops to itself
	tb.ifd(200,
		ent{gpsLatRef, 2, 2, 'N'},
		ent{gpsLat, 5, 3, 400},
		ent{gpsLonRef, 2, 2, 'E'},
		ent{gpsLon, 5, 3, 430},
	)
	d, err := ReadBytes(tb.b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Make != "Canon" || d.Orientation != 6 || d.DateTime != "2019:06:12 14:03:22" || d.Offset != "+02:00" || d.SubSec != "123" || d.Width != 1024 || d.Height != 768 {
		t.Errorf("got %+v", d)
	}
	if !d.HasGPS || abs(d.Lat-48.85837) > 1e-6 || abs(d.Lon-2.294481) > 1e-6 {
		t.Errorf("GPS = %v %v %v; want 48.85837 2.294481", d.HasGPS, d.Lat, d.Lon)
	}
	if len(d.Errs) == 0 {
		t.Errorf("the hostile lens tag and the loop were not reported")
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func TestNotTIFF(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("II"), []byte("hello, world"), []byte("II+\x00\x08\x00\x00\x00")} {
		if _, err := ReadBytes(b); err != ErrNotTIFF {
			t.Errorf("ReadBytes(%q) = %v; want ErrNotTIFF", b, err)
		}
	}
}

// exifBlocks returns the EXIF blocks of the test JPEGs (fuzz seeds).
func exifBlocks(t testing.TB) [][]byte {
	var out [][]byte
	for _, dir := range []string{"../../../../shared/testdata/media", "../../../../shared/testdata/exif-corrupt"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if i := bytes.Index(b, []byte("Exif\x00\x00")); i >= 0 {
				out = append(out, b[i+6:min(len(b), i+6+65536)])
			}
		}
	}
	return out
}

// TestCorruptSamples: the hostile samples read without a panic, within
// bounds, keeping what their good tags hold.
func TestCorruptSamples(t *testing.T) {
	blocks := exifBlocks(t)
	if len(blocks) < 3 {
		t.Fatalf("found %d EXIF blocks in the shared test data; want the media and the corrupt samples", len(blocks))
	}
	for _, b := range blocks {
		d, err := ReadBytes(b)
		if err != nil {
			t.Errorf("ReadBytes: %v", err)
			continue
		}
		t.Logf("make %q model %q date %q, %d problems", d.Make, d.Model, d.DateTime, len(d.Errs))
	}
}

func FuzzRead(f *testing.F) {
	for _, b := range exifBlocks(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ReadBytes(b)
		if err == nil && (len(d.Previews) > 8 || len(d.Errs) > 16) {
			t.Fatalf("unbounded: %d previews, %d errors", len(d.Previews), len(d.Errs))
		}
	})
}
