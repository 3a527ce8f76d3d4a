package enrich

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/disintegration/imaging"
	"github.com/gen2brain/heic"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"shoebox/catalog"
	"shoebox/enrich/internal/exif"
	"shoebox/enrich/internal/jpegdec"
	"shoebox/enrich/internal/resize"
)

// Thumbnail sizes: the longest side, in pixels. An image smaller than a
// size is kept at its own size.
const (
	PreviewSize = 1440
	SmallSize   = 250
	// thumbQuality is the JPEG quality of both sizes.
	thumbQuality = 82
)

const defaultMaxPixels = 120_000_000

// thumbnails decodes the image once, at the smallest resolution that still
// serves the preview (JPEG DCT scaling), and makes the preview, then the
// small thumbnail from the preview, then the perceptual hash from the small
// one. Orientation is applied to the (small) results, not the decode.
func (x Metadata) thumbnails(ctx context.Context, in *Input, p *probed, m *catalog.Media) error {
	o := in.Object
	if o.SHA256 == "" {
		return nil // nothing to key the thumbnails by; reconciliation hashes it
	}
	img, err := x.decode(in.File, o.Size, p)
	if err != nil {
		return permanent{fmt.Errorf("%s: no thumbnails: %w", o.Key, err)}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Opaque RGBA (transparent parts over white), which image/jpeg
	// encodes fastest.
	prev := resize.Fit(img, PreviewSize, PreviewSize)
	img = nil // the full decode can go before the encodes
	if p.format != FormatHEIF {
		prev = orient(prev, m.Orientation)
	}
	small := resize.Fit(prev, SmallSize, SmallSize)
	m.PHash = fmt.Sprintf("%016x", PHash(small))
	switch {
	case x.Faces != nil:
		if err := detectFaces(x.Faces, x.FaceDetector, prev, m); err != nil {
			return fmt.Errorf("%s: %w", o.Key, err)
		}
	case x.WantFaces:
		m.FacesState = catalog.FacesWaiting
	}
	for _, t := range []struct {
		size string
		img  *image.RGBA
	}{{"preview", prev}, {"small", small}} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, t.img, &jpeg.Options{Quality: thumbQuality}); err != nil {
			return fmt.Errorf("%s: encoding the %s thumbnail: %w", o.Key, t.size, err)
		}
		if err := x.Thumbs.Put(ctx, o.SHA256, t.size, buf.Bytes()); err != nil {
			return fmt.Errorf("%s: storing the %s thumbnail: %w", o.Key, t.size, err)
		}
	}
	return nil
}

// decode returns the image, reduced by DCT scaling when that still covers
// the preview size. Sizes are checked before any pixel is decoded.
func (x Metadata) decode(f io.ReaderAt, size int64, p *probed) (image.Image, error) {
	max := x.MaxPixels
	if max <= 0 {
		max = defaultMaxPixels
	}
	if p.width <= 0 || p.height <= 0 {
		return nil, errors.New("the image's size is unknown")
	}
	if int64(p.width)*int64(p.height) > int64(max) {
		return nil, fmt.Errorf("the image is %dx%d (%d MP), larger than the %d MP limit: not decoded",
			p.width, p.height, int64(p.width)*int64(p.height)/1e6, max/1e6)
	}
	r := io.NewSectionReader(f, 0, size)
	switch p.format {
	case FormatJPEG:
		return decodeJPEG(r, p.width, p.height)
	case FormatPNG:
		return png.Decode(r)
	case FormatGIF:
		return gif.Decode(r)
	case FormatWebP:
		return webp.Decode(r)
	case FormatHEIF:
		return heic.Decode(r)
	case FormatTIFF:
		return decodeTIFF(f, size, p.exif)
	}
	return nil, fmt.Errorf("no decoder for %s", p.format)
}

// decodeJPEG decodes at 1/2, 1/4 or 1/8 scale when the result still has
// a long side of PreviewSize.
func decodeJPEG(r io.Reader, w, h int) (image.Image, error) {
	scale, long := 1, max(w, h)
	for scale < 8 && (long+2*scale-1)/(2*scale) >= PreviewSize {
		scale *= 2
	}
	return jpegdec.Decode(r, &jpegdec.Options{Scale: scale})
}

// decodeTIFF decodes a TIFF, or for a raw its largest embedded JPEG
// preview: raw sensor data is not decoded.
func decodeTIFF(f io.ReaderAt, size int64, e *exif.Data) (image.Image, error) {
	var best *exif.Preview
	bestW, bestH := 0, 0
	if e != nil {
		for i := range e.Previews {
			pv := &e.Previews[i]
			cfg, err := jpegdec.DecodeConfig(io.NewSectionReader(f, pv.Offset, pv.Length))
			if err != nil || cfg.Width*cfg.Height <= bestW*bestH {
				continue // lossless JPEG raw data, or not a JPEG
			}
			best, bestW, bestH = pv, cfg.Width, cfg.Height
		}
	}
	if best != nil && max(bestW, bestH) >= 1024 {
		return decodeJPEG(io.NewSectionReader(f, best.Offset, best.Length), bestW, bestH)
	}
	img, err := tiff.Decode(io.NewSectionReader(f, 0, size))
	if err != nil && best != nil {
		return decodeJPEG(io.NewSectionReader(f, best.Offset, best.Length), bestW, bestH)
	}
	return img, err
}

// orient applies an EXIF orientation to an opaque image.
func orient(img *image.RGBA, o int) *image.RGBA {
	var n *image.NRGBA
	switch o {
	case 2:
		n = imaging.FlipH(img)
	case 3:
		n = imaging.Rotate180(img)
	case 4:
		n = imaging.FlipV(img)
	case 5:
		n = imaging.Transpose(img)
	case 6:
		n = imaging.Rotate270(img)
	case 7:
		n = imaging.Transverse(img)
	case 8:
		n = imaging.Rotate90(img)
	default:
		return img
	}
	// Opaque, so the same pixels as RGBA.
	return &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
}
