package enrich_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"shoebox/catalog"
	"shoebox/gateway"
)

// rawTIFF builds a DNG-like file: IFD0 a small uncompressed thumbnail
// (NewSubfileType 1) with the camera and orientation, an EXIF IFD with the
// date, and two SubIFDs: the 4000×3000 sensor data (a lossless-JPEG
// stream, which cannot be decoded) and a 1600×1200 JPEG preview.
func rawTIFF(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	for y := range 1200 {
		for x := range 1600 {
			img.Set(x, y, color.RGBA{uint8(x / 7), uint8(y / 5), uint8((x + y) / 11), 255})
		}
	}
	var pv bytes.Buffer
	if err := jpeg.Encode(&pv, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	lossless := []byte{0xFF, 0xD8, 0xFF, 0xC3, 0x00, 0x0B, 0x0C, 0x0B, 0xB8, 0x0F, 0xA0, 0x01, 0x00, 0x11, 0x00, 0xFF, 0xD9}
	b := make([]byte, 4096)
	le := binary.LittleEndian
	copy(b, "II*\x00")
	le.PutUint32(b[4:], 8)
	type ent struct {
		tag, typ uint16
		n, v     uint32
	}
	ifd := func(off int, es ...ent) {
		le.PutUint16(b[off:], uint16(len(es)))
		for i, e := range es {
			p := off + 2 + 12*i
			le.PutUint16(b[p:], e.tag)
			le.PutUint16(b[p+2:], e.typ)
			le.PutUint32(b[p+4:], e.n)
			if e.typ == 3 && e.n == 1 {
				le.PutUint16(b[p+8:], uint16(e.v))
			} else {
				le.PutUint32(b[p+8:], e.v)
			}
		}
	}
	copy(b[3000:], "NIKON CORPORATION\x00")
	copy(b[3040:], "NIKON Z 6\x00")
	copy(b[3060:], "2021:09:18 07:45:12\x00")
	le.PutUint32(b[3100:], 1000) // SubIFD offsets
	le.PutUint32(b[3104:], 1300)
	rawOff := uint32(len(b))
	pvOff := rawOff + uint32(len(lossless))
	ifd(8,
		ent{0x00FE, 4, 1, 1}, ent{0x0100, 3, 1, 64}, ent{0x0101, 3, 1, 48}, ent{0x0103, 3, 1, 1},
		ent{0x010F, 2, 18, 3000}, ent{0x0110, 2, 10, 3040}, ent{0x0112, 3, 1, 8},
		ent{0x014A, 4, 2, 3100}, ent{0x8769, 4, 1, 700},
	)
	ifd(700, ent{0x9003, 2, 20, 3060})
	ifd(1000, ent{0x00FE, 4, 1, 0}, ent{0x0100, 4, 1, 4000}, ent{0x0101, 4, 1, 3000}, ent{0x0103, 3, 1, 7},
		ent{0x0106, 3, 1, 32803}, ent{0x0111, 4, 1, rawOff}, ent{0x0117, 4, 1, uint32(len(lossless))})
	ifd(1300, ent{0x00FE, 4, 1, 1}, ent{0x0100, 4, 1, 1600}, ent{0x0101, 4, 1, 1200}, ent{0x0103, 3, 1, 7},
		ent{0x0111, 4, 1, pvOff}, ent{0x0117, 4, 1, uint32(pv.Len())})
	return append(append(b, lossless...), pv.Bytes()...)
}

// TestRawPreview: a raw's metadata comes from its IFDs (the main image's
// size from the full-resolution SubIFD), and its thumbnails from its
// largest decodable embedded JPEG, in the displayed orientation.
func TestRawPreview(t *testing.T) {
	lib, ctx := newLibrary(t)
	if _, err := lib.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "b", Key: "DSC_0001.NEF", Body: bytes.NewReader(rawTIFF(t))}); err != nil {
		t.Fatal(err)
	}
	lib.drain(t, ctx)
	m, err := lib.cat.MediaOf(ctx, "u", "b", "DSC_0001.NEF")
	if j, jerr := lib.cat.JobOf(ctx, "u", "b", "DSC_0001.NEF"); jerr == nil {
		t.Fatalf("job not done: %+v", j)
	}
	if err != nil {
		t.Fatal(err)
	}
	want := catalog.Media{Kind: "photo", TakenLocal: "2021-09-18T07:45:12", DateSource: "exif", Make: "NIKON CORPORATION",
		Model: "NIKON Z 6", Width: 3000, Height: 4000, Orientation: 8}
	got := m
	got.PHash, got.SHA256 = "", ""
	if got.Kind != want.Kind || got.TakenLocal != want.TakenLocal || got.Make != want.Make || got.Model != want.Model ||
		got.Width != want.Width || got.Height != want.Height || got.Orientation != want.Orientation {
		t.Errorf("media = %+v; want %+v", got, want)
	}
	checkThumbs(t, lib, context.Background(), "DSC_0001.NEF", m, nil)
}
