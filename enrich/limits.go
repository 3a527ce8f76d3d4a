package enrich

import (
	"errors"
	"fmt"
	"image/color"
)

// Decode limits: what one worker may spend on one image.
const (
	defaultMaxPixels = 120_000_000
	// defaultMaxDecodeBytes lets a 120 MP 8-bit RGBA image through (480
	// MB), not a 16-bit one (960 MB).
	defaultMaxDecodeBytes = 512 << 20
)

// ErrTooLarge is wrapped by the errors of images refused from their
// headers for their size: more pixels than Metadata.MaxPixels, or more
// memory to decode than Metadata.MaxDecodeBytes.
var ErrTooLarge = errors.New("image too large")

// limits bound one decode. check is called with the size a decoder is
// about to allocate, before it runs.
type limits struct {
	maxPixels, maxBytes int64
}

func (x Metadata) limits() limits {
	l := limits{int64(x.MaxPixels), x.MaxDecodeBytes}
	if l.maxPixels <= 0 {
		l.maxPixels = defaultMaxPixels
	}
	if l.maxBytes <= 0 {
		l.maxBytes = defaultMaxDecodeBytes
	}
	return l
}

// check refuses an image of w x h pixels whose decode needs about bpp
// bytes a pixel plus extra bytes; what names the image ("16-bit PNG") in
// the error.
func (l limits) check(what string, w, h int, bpp float64, extra int64) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%s: the image's size is unknown (%d×%d)", what, w, h)
	}
	px := int64(w) * int64(h)
	if px > l.maxPixels {
		return fmt.Errorf("%w: %s of %d×%d (%s MP) over the limit of %s MP: not decoded",
			ErrTooLarge, what, w, h, mp(px), mp(l.maxPixels))
	}
	if need := int64(float64(px)*bpp) + extra; need > l.maxBytes {
		return fmt.Errorf("%w: %s of %d×%d (%s MP) needs about %d MiB to decode, over the budget of %d MiB: not decoded",
			ErrTooLarge, what, w, h, mp(px), need>>20, l.maxBytes>>20)
	}
	return nil
}

// mp formats a pixel count in megapixels, rounded down but never to 0.
func mp(px int64) string {
	if px < 1_000_000 {
		return fmt.Sprintf("%.1f", float64(px)/1e6)
	}
	return fmt.Sprint(px / 1_000_000)
}

// bytesPerPixel is what a decoded image of the color model holds per
// pixel (YCbCr counted as 4:4:4, the worst case).
func bytesPerPixel(cm color.Model) float64 {
	if _, ok := cm.(color.Palette); ok {
		return 1
	}
	switch cm {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	return 4 // RGBA, NRGBA, CMYK, NYCbCrA
}

// jpegCost is the bytes per (full-size) pixel of a JPEG decoded by
// jpegdec at 1/scale with n components: the image at the reduced size,
// and, in case it is progressive, the coefficients kept between scans
// (image/jpeg's 256 bytes a block at scale 1; 40, 16 or 10 at 2, 4, 8).
func jpegCost(n float64, scale int) float64 {
	perBlock := map[int]float64{1: 256, 2: 40, 4: 16, 8: 10}[scale]
	return n/float64(scale*scale) + n*perBlock/64
}

// pngCost is the bytes per pixel of image/png's result for an IHDR's bit
// depth and color type (tRNS turns gray and RGB into NRGBA). Interlaced
// images hold their largest pass (half the rows) beside the result.
func pngCost(depth, colorType int, trns, interlaced bool) float64 {
	var c float64
	switch {
	case colorType == 3:
		c = 1
	case colorType == 0 && depth == 16 && !trns:
		c = 2
	case colorType == 0 && !trns:
		c = 1
	case depth == 16:
		c = 8
	default:
		c = 4
	}
	if interlaced {
		c *= 1.5
	}
	return c
}

// WebP costs: lossy YCbCr 4:2:0; lossless pixels as uint32 then NRGBA;
// lossy with an alpha plane that may itself be coded losslessly.
const (
	webpLossyCost    = 1.5
	webpLosslessCost = 8
	webpAlphaCost    = 1.5 + 1 + 8
)

// heifCost is the bytes per pixel of a HEIF decode: libheif's planes
// (up to 4:4:4, 16 bits for 10-bit images) and the output copy, inside
// the WebAssembly memory; the file itself is copied twice more (heifCopies).
const (
	heifCost   = 6
	heifCopies = 2
)
