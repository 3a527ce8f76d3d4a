package exif

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
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
	tb := newTIFF(1024)
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
	// 1/250 s, f/8, 35 mm
	for i, v := range []uint32{1, 250, 8, 1, 35, 1} {
		tb.u32(800+4*i, v)
	}
	next := tb.ifd(8,
		ent{tagMake, 2, 6, 300},
		ent{tagOrientation, 3, 1, 6},
		ent{tagExifIFD, 4, 1, 100},
		ent{tagGPSIFD, 4, 1, 700},
	)
	tb.u32(next, 8) // IFD0's next is IFD0: a loop
	tb.u32(tb.ifd(100,
		ent{tagDateTimeOriginal, 2, 20, 320},
		ent{tagOffsetOriginal, 2, 7, 340},
		ent{tagSubSecOriginal, 2, 3, 0x00333231}, // "123"
		ent{tagPixelX, 4, 1, 1024},
		ent{tagPixelY, 4, 1, 768},
		ent{tagLensModel, 2, 0xFFFFFFFF, 0}, // hostile count
		ent{tagExposureTime, 5, 1, 800},
		ent{tagFNumber, 5, 1, 808},
		ent{tagFocalLength, 5, 1, 816},
		ent{tagISO, 3, 1, 100},
	), 100) // loops to itself
	tb.ifd(700,
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
	if d.ExposureTime != 1.0/250 || d.FNumber != 8 || d.FocalLength != 35 || d.ISO != 100 {
		t.Errorf("exposure = %v s f/%v %v mm ISO %d; want 1/250 s f/8 35 mm ISO 100", d.ExposureTime, d.FNumber, d.FocalLength, d.ISO)
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

// TestCorruptSamples: the hostile samples of the shared test data read
// without a panic, within bounds, keeping what their good tags hold and
// reporting the corrupt parts. The expected values are exiftool 12.57's
// reading of each sample's EXIF block (the APP1 segment written out as a
// TIFF file and read with `exiftool -m -a -G1 -s -U`: on the JPEGs
// themselves exiftool stops at "JPEG format error", as they are cut at
// 64 KiB). The two HTC samples are one photo's EXIF with the ISO tag's
// count made hostile (0xFEFEFEFE, 0xFFFFFFFF); both have two IFD0
// DateTime tags (the first garbage, the second 2012:07:20 18:53:43), no
// DateTimeOriginal, GPS 38°52'59.75" N 104°52'17.16" W, 3264x1952, and an
// Exif IFD pointer into the GPS data (exiftool: "Error reading value for
// ExifIFD entry 0"). The loop sample (IFD0's next IFD, at 72, lies in
// IFD0's own entries and names itself as next;
// exiftool: "Bad format (20) for IFD1 entry 0") has no make, model or
// DateTimeOriginal, IFD0 DateTime 2007:05:10 19:04:16, Orientation 1 and
// PixelX/YDimension 699x702.
func TestCorruptSamples(t *testing.T) {
	const dir = "../../../../shared/testdata/exif-corrupt"
	htc := Data{Make: "HTC", Model: "ADR6400L", Modified: "2012:07:20 18:53:43", Width: 3264, Height: 1952,
		HasGPS: true, Lat: 38 + 52.0/60 + 59.75/3600, Lon: -(104 + 52.0/60 + 17.16/3600)}
	for _, c := range []struct {
		file string
		want Data
		errs []string // each is in some error of Data.Errs
	}{
		{"huge_tag_exif.jpg", htc, []string{"IFD at 394: 102 of 104 entries have no TIFF type"}},
		{"max_uint32_exif.jpg", htc, []string{"IFD at 394: 102 of 104 entries have no TIFF type"}},
		{"infinite_loop_exif.jpg", Data{Modified: "2007:05:10 19:04:16", Orientation: 1, Width: 699, Height: 702},
			[]string{"IFD at 72: 1 of 2 entries have no TIFF type", "IFD at 72: seen before"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			i := bytes.Index(b, []byte("Exif\x00\x00"))
			if i < 0 {
				t.Fatal("no EXIF block")
			}
			d, err := ReadBytes(b[i+6:])
			if err != nil {
				t.Fatalf("ReadBytes: %v", err)
			}
			got := *d
			got.Errs, got.Previews, got.Alt = nil, nil, nil
			w := c.want
			if abs(got.Lat-w.Lat) < 1e-6 && abs(got.Lon-w.Lon) < 1e-6 {
				got.Lat, got.Lon = w.Lat, w.Lon
			}
			if got.Make != w.Make || got.Model != w.Model || got.DateTime != w.DateTime || got.Modified != w.Modified ||
				got.Orientation != w.Orientation || got.Width != w.Width || got.Height != w.Height ||
				got.HasGPS != w.HasGPS || got.Lat != w.Lat || got.Lon != w.Lon {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			for _, e := range c.errs {
				found := false
				for _, err := range d.Errs {
					found = found || strings.Contains(err.Error(), e)
				}
				if !found {
					t.Errorf("errors %q; want one with %q", d.Errs, e)
				}
			}
			t.Logf("errors: %q", d.Errs)
			if len(d.Errs) > 16 || len(d.Previews) > 8 {
				t.Errorf("unbounded: %d errors, %d previews", len(d.Errs), len(d.Previews))
			}
		})
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
