package enrich_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io/fs"
	"testing"

	"shoebox/enrich"
	"shoebox/gateway"
)

// withOrientation inserts an EXIF APP1 segment with an Orientation tag
// after a JPEG's SOI.
func withOrientation(jpg []byte, o uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("II*\x00")
	binary.Write(&tiff, binary.LittleEndian, uint32(8))
	binary.Write(&tiff, binary.LittleEndian, uint16(1))                       // one entry
	binary.Write(&tiff, binary.LittleEndian, []uint16{0x0112, 3, 1, 0, o, 0}) // SHORT, count 1
	binary.Write(&tiff, binary.LittleEndian, uint32(0))                       // no next IFD
	app1 := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)}
	out := append([]byte{}, jpg[:2]...)
	out = append(append(out, seg...), app1...)
	return append(out, jpg[2:]...)
}

// TestPreviewIsOriginal: a 640×480 JPEG shown as stored gets no stored
// preview (the original is its preview), only the small thumbnail; a PNG
// and a JPEG turned by its orientation of the same size still get one.
func TestPreviewIsOriginal(t *testing.T) {
	lib, ctx := newLibrary(t)
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var jb, pb bytes.Buffer
	if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pb, img); err != nil {
		t.Fatal(err)
	}
	files := []struct {
		key         string
		data        []byte
		w, h        int
		wantPreview bool
	}{
		{"plain.jpg", jb.Bytes(), 640, 480, false},
		{"upright.jpg", withOrientation(jb.Bytes(), 1), 640, 480, false},
		{"plain.png", pb.Bytes(), 640, 480, true},
		{"turned.jpg", withOrientation(jb.Bytes(), 6), 480, 640, true},
	}
	for _, f := range files {
		if _, err := lib.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "b", Key: f.key, Body: bytes.NewReader(f.data)}); err != nil {
			t.Fatal(err)
		}
	}
	lib.drain(t, ctx)
	for _, f := range files {
		o, err := lib.gw.Stat(ctx, "u", "b", f.key)
		if err != nil {
			t.Fatal(err)
		}
		m, err := lib.cat.MediaOf(ctx, "u", "b", f.key)
		if err != nil {
			t.Fatalf("%s: %v", f.key, err)
		}
		if m.Width != f.w || m.Height != f.h {
			t.Errorf("%s is %dx%d; want %dx%d", f.key, m.Width, m.Height, f.w, f.h)
		}
		if _, _, err := lib.thumbs.Get(ctx, o.SHA256, "small"); err != nil {
			t.Errorf("%s: small thumbnail: %v", f.key, err)
		}
		b, _, err := lib.thumbs.Get(ctx, o.SHA256, "preview")
		switch {
		case f.wantPreview && err != nil:
			t.Errorf("%s: preview: %v; want one stored", f.key, err)
		case f.wantPreview:
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
			if err != nil || cfg.Width != f.w || cfg.Height != f.h {
				t.Errorf("%s: preview %dx%d (%v); want %dx%d", f.key, cfg.Width, cfg.Height, err, f.w, f.h)
			}
		case !errors.Is(err, fs.ErrNotExist):
			t.Errorf("%s: a preview is stored (%v); the original is the preview", f.key, err)
		}
		if got := enrich.PreviewIsOriginal(m); got == f.wantPreview {
			t.Errorf("%s: PreviewIsOriginal = %v; want %v", f.key, got, !f.wantPreview)
		}
	}
}
