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

// PreviewIsOriginal says whether a photo's preview is its original's
// bytes, no preview being stored: a JPEG shown as stored (orientation 1 or
// none), in YCbCr or gray, whose sides are both at most PreviewSize, for
// which a re-encoded preview would be as large and no better. Enrichment
// records it (catalog.Media.PreviewOriginal); the readers of previews
// ask here.
func PreviewIsOriginal(m catalog.Media) bool {
	return m.Kind == "photo" && m.PreviewOriginal && len(m.SHA256) == 64
}

// previewIsOriginal decides PreviewIsOriginal from the decoded original.
func previewIsOriginal(f Format, img image.Image, orientation int) bool {
	switch img.(type) {
	case *image.YCbCr, *image.Gray:
	default:
		return false // CMYK, which browsers show differently
	}
	b := img.Bounds()
	return f == FormatJPEG && orientation <= 1 && b.Dx() <= PreviewSize && b.Dy() <= PreviewSize
}

// thumbnails decodes the image once, at the smallest resolution that still
// serves the preview (JPEG DCT scaling), and makes the preview, then the
// small thumbnail from the preview, then the perceptual hash from the small
// one. Orientation is applied to the (small) results, not the decode.
// The preview is not stored when the original serves as one
// (PreviewIsOriginal).
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
	m.PreviewOriginal = previewIsOriginal(p.format, img, m.Orientation)
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
	if m.PreviewOriginal {
		prev = nil
	}
	return x.putThumbs(ctx, o.Key, o.SHA256, prev, small)
}

// putThumbs encodes and stores both thumbnails of the file key, or only
// the small one when prev is nil.
func (x Metadata) putThumbs(ctx context.Context, key, sha string, prev, small *image.RGBA) error {
	for _, t := range []struct {
		size string
		img  *image.RGBA
	}{{"preview", prev}, {"small", small}} {
		if t.img == nil {
			continue
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, t.img, &jpeg.Options{Quality: thumbQuality}); err != nil {
			return fmt.Errorf("%s: encoding the %s thumbnail: %w", key, t.size, err)
		}
		if err := x.Thumbs.Put(ctx, sha, t.size, buf.Bytes()); err != nil {
			return fmt.Errorf("%s: storing the %s thumbnail: %w", key, t.size, err)
		}
	}
	return nil
}

// decode returns the image, reduced by DCT scaling when that still covers
// the preview size. The size each decoder will allocate is read from the
// header it will read, and checked against the limits (limits.go), before
// any pixel is decoded.
func (x Metadata) decode(f io.ReaderAt, size int64, p *probed) (image.Image, error) {
	lim := x.limits()
	r := io.NewSectionReader(f, 0, size)
	switch p.format {
	case FormatJPEG:
		return decodeJPEG(io.NewSectionReader(f, 0, size), lim, "JPEG")
	case FormatPNG:
		what := fmt.Sprintf("%d-bit PNG", p.pngDepth)
		if err := lim.check(what, p.width, p.height, pngCost(p.pngDepth, p.pngColor, p.pngTRNS, p.pngInterlaced), 0); err != nil {
			return nil, err
		}
		return png.Decode(r)
	case FormatGIF:
		// The first frame, within the logical screen, one byte a pixel.
		if err := lim.check("GIF", p.width, p.height, 1, 0); err != nil {
			return nil, err
		}
		return gif.Decode(r)
	case FormatWebP:
		// The decoder checks that the frame has the canvas' size.
		cfg, err := webp.DecodeConfig(io.NewSectionReader(f, 0, size))
		if err != nil {
			return nil, err
		}
		what, cost := "lossy WebP", float64(webpLossyCost)
		switch {
		case p.webpLossless:
			what, cost = "lossless WebP", webpLosslessCost
		case p.webpAlpha:
			what, cost = "WebP with alpha", webpAlphaCost
		}
		if err := lim.check(what, cfg.Width, cfg.Height, cost, 0); err != nil {
			return nil, err
		}
		return webp.Decode(r)
	case FormatHEIF:
		if err := checkHEIF(lim, p, size); err != nil {
			return nil, err
		}
		return heic.Decode(r)
	case FormatTIFF:
		return decodeTIFF(f, size, p.exif, lim)
	}
	return nil, fmt.Errorf("no decoder for %s", p.format)
}

// checkHEIF checks the primary image, a grid's output and the largest item
// (a tile, a thumbnail): libheif allocates the first two whole and
// decodes the items one at a time.
func checkHEIF(lim limits, p *probed, size int64) error {
	w, h := p.width, p.height
	if im := p.heif; im != nil {
		if im.GridWidth > 0 {
			if err := lim.check("HEIF grid", im.GridWidth, im.GridHeight, heifCost, heifCopies*size); err != nil {
				return err
			}
		}
		if im.LargestWidth > 0 {
			if err := lim.check("HEIF item", im.LargestWidth, im.LargestHeight, heifCost, heifCopies*size); err != nil {
				return err
			}
		}
	}
	return lim.check("HEIF", w, h, heifCost, heifCopies*size)
}

// decodeJPEG decodes at 1/2, 1/4 or 1/8 scale when the result still has
// a long side of PreviewSize, once the frame header, read by the decoder's
// own parser, is within the limits.
func decodeJPEG(r *io.SectionReader, lim limits, what string) (image.Image, error) {
	cfg, err := jpegdec.DecodeConfig(r)
	if err != nil {
		return nil, err
	}
	if err := checkJPEG(lim, what, cfg); err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return jpegdec.Decode(r, &jpegdec.Options{Scale: jpegScale(cfg.Width, cfg.Height)})
}

// jpegScale is the DCT scaling that still gives a long side of
// PreviewSize.
func jpegScale(w, h int) int {
	scale, long := 1, max(w, h)
	for scale < 8 && (long+2*scale-1)/(2*scale) >= PreviewSize {
		scale *= 2
	}
	return scale
}

func checkJPEG(lim limits, what string, cfg image.Config) error {
	n := bytesPerPixel(cfg.ColorModel) // 1, 3 or 4 components
	return lim.check(what, cfg.Width, cfg.Height, jpegCost(n, jpegScale(cfg.Width, cfg.Height)), 0)
}

// decodeTIFF decodes a TIFF, or for a raw its largest embedded JPEG
// preview: raw sensor data is not decoded. Previews over the limits are
// passed over; when nothing else can be decoded, the error says why.
func decodeTIFF(f io.ReaderAt, size int64, e *exif.Data, lim limits) (image.Image, error) {
	var best *exif.Preview
	var tooLarge error
	bestW, bestH := 0, 0
	if e != nil {
		for i := range e.Previews {
			pv := &e.Previews[i]
			cfg, err := jpegdec.DecodeConfig(io.NewSectionReader(f, pv.Offset, pv.Length))
			if err != nil {
				continue // lossless JPEG raw data, or not a JPEG
			}
			if err := checkJPEG(lim, "embedded JPEG preview", cfg); err != nil {
				tooLarge = err
				continue
			}
			if int64(cfg.Width)*int64(cfg.Height) <= int64(bestW)*int64(bestH) {
				continue
			}
			best, bestW, bestH = pv, cfg.Width, cfg.Height
		}
	}
	preview := func() (image.Image, error) {
		return decodeJPEG(io.NewSectionReader(f, best.Offset, best.Length), lim, "embedded JPEG preview")
	}
	if best != nil && max(bestW, bestH) >= 1024 {
		return preview()
	}
	img, err := decodeTIFFMain(f, size, lim)
	switch {
	case err == nil:
		return img, nil
	case best != nil:
		return preview()
	case tooLarge != nil && !errors.Is(err, ErrTooLarge):
		return nil, fmt.Errorf("%w (and the TIFF image: %v)", tooLarge, err)
	}
	return nil, err
}

// decodeTIFFMain decodes the first image of a TIFF (IFD0) once its size
// is within the limits: the image, and the compressed or raw data of a
// strip, at most the file.
func decodeTIFFMain(f io.ReaderAt, size int64, lim limits) (image.Image, error) {
	cfg, err := tiff.DecodeConfig(io.NewSectionReader(f, 0, size))
	if err != nil {
		return nil, err
	}
	if err := lim.check("TIFF image", cfg.Width, cfg.Height, bytesPerPixel(cfg.ColorModel), size); err != nil {
		return nil, err
	}
	return tiff.Decode(io.NewSectionReader(f, 0, size))
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
