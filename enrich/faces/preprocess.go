package faces

import (
	"image"
	"math"

	"shoebox/enrich/faces/nn"
)

// RGB is an 8-bit RGB image, row-major, 3 bytes per pixel.
type RGB struct {
	W, H int
	Pix  []uint8
}

// ToRGB converts img the way the goldens were made: img.At(x,y).RGBA() >> 8.
func ToRGB(img image.Image) *RGB {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	i := 0
	switch m := img.(type) {
	case *image.YCbCr:
		// COffset truncates x/2 toward zero, so the 4:2:x shortcut needs x >= 0.
		ratio := m.SubsampleRatio
		half := (ratio == image.YCbCrSubsampleRatio420 || ratio == image.YCbCrSubsampleRatio422) && b.Min.X >= 0
		odd := b.Min.X & 1 // with half: chroma index steps at even absolute x
		for y := b.Min.Y; y < b.Max.Y; y++ {
			yrow := m.Y[m.YOffset(b.Min.X, y):][:w]
			dst := out.Pix[i : i+3*w]
			i += 3 * w
			c0 := m.COffset(b.Min.X, y)
			switch {
			case ratio == image.YCbCrSubsampleRatio444:
				cb, cr := m.Cb[c0:][:w], m.Cr[c0:][:w]
				for x, yv := range yrow {
					dst[3*x], dst[3*x+1], dst[3*x+2] = ycbcrTo8(yv, cb[x], cr[x])
				}
			case half:
				for x, yv := range yrow {
					ci := c0 + (x+odd)/2
					dst[3*x], dst[3*x+1], dst[3*x+2] = ycbcrTo8(yv, m.Cb[ci], m.Cr[ci])
				}
			default:
				for x, yv := range yrow {
					ci := m.COffset(b.Min.X+x, y)
					dst[3*x], dst[3*x+1], dst[3*x+2] = ycbcrTo8(yv, m.Cb[ci], m.Cr[ci])
				}
			}
		}
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bb, _ := m.RGBAAt(x, y).RGBA()
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = uint8(r>>8), uint8(g>>8), uint8(bb>>8)
				i += 3
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bb, _ := img.At(x, y).RGBA()
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = uint8(r>>8), uint8(g>>8), uint8(bb>>8)
				i += 3
			}
		}
	}
	return out
}

// ycbcrTo8 is color.YCbCr{y, cb, cr}.RGBA() >> 8 (the 16-bit conversion,
// not color.YCbCrToRGB, which rounds differently).
func ycbcrTo8(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy1 := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy1 + 91881*cr1
	if uint32(r)&0xff000000 == 0 {
		r >>= 8
	} else {
		r = ^(r >> 31) & 0xffff
	}
	g := yy1 - 22554*cb1 - 46802*cr1
	if uint32(g)&0xff000000 == 0 {
		g >>= 8
	} else {
		g = ^(g >> 31) & 0xffff
	}
	bb := yy1 + 116130*cb1
	if uint32(bb)&0xff000000 == 0 {
		bb >>= 8
	} else {
		bb = ^(bb >> 31) & 0xffff
	}
	return uint8(r >> 8), uint8(g >> 8), uint8(bb >> 8)
}

// Rect is an integer pixel rectangle (x, y, width, height).
type Rect struct{ X, Y, W, H int }

// Crop returns the sub-image r (which must lie inside the image).
func (im *RGB) Crop(r Rect) *RGB {
	out := &RGB{W: r.W, H: r.H, Pix: make([]uint8, r.W*r.H*3)}
	for y := 0; y < r.H; y++ {
		copy(out.Pix[y*r.W*3:(y+1)*r.W*3], im.Pix[((r.Y+y)*im.W+r.X)*3:((r.Y+y)*im.W+r.X+r.W)*3])
	}
	return out
}

// toBatchTensor implements SPEC §2: zero pad to a square (appended at the
// bottom/right, or centred with round(diff/2) after), tfjs resizeBilinear
// (no half-pixel centres, float64 arithmetic) to size×size, then
// float32 (p - mean[c]) / div. dst is reshaped to size×size×3.
func toBatchTensor(dst *nn.Tensor, im *RGB, size int, center bool, mean [3]float32, div float32) {
	resizeSquare(dst, im, size, center, func(v float32, k int) float32 { return (v - mean[k]) / div })
}

// resizeSquare is toBatchTensor with a caller-supplied normalisation.
func resizeSquare(dst *nn.Tensor, im *RGB, size int, center bool, norm func(v float32, k int) float32) {
	S := max(im.W, im.H)
	diff := im.W - im.H
	if diff < 0 {
		diff = -diff
	}
	before := 0
	if center {
		before = diff - int(math.Floor(float64(diff)/2+0.5))
	}
	oy, ox := 0, 0
	if im.H < im.W {
		oy = before
	} else if im.W < im.H {
		ox = before
	}
	// p returns the padded-square pixel.
	p := func(y, x, k int) float64 {
		y -= oy
		x -= ox
		if y < 0 || x < 0 || y >= im.H || x >= im.W {
			return 0
		}
		return float64(im.Pix[(y*im.W+x)*3+k])
	}
	dst.Reset(size, size, 3)
	d := dst.Data
	if S == size {
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				for k := 0; k < 3; k++ {
					d[(y*size+x)*3+k] = norm(float32(p(y, x, k)), k)
				}
			}
		}
		return
	}
	ratio := float64(S) / float64(size)
	for r := 0; r < size; r++ {
		fy := ratio * float64(r)
		y0 := math.Floor(fy)
		dy := fy - y0
		y1 := min(S-1, int(math.Ceil(fy)))
		for c := 0; c < size; c++ {
			fx := ratio * float64(c)
			x0 := math.Floor(fx)
			dx := fx - x0
			x1 := min(S-1, int(math.Ceil(fx)))
			for k := 0; k < 3; k++ {
				p00, p01 := p(int(y0), int(x0), k), p(int(y0), x1, k)
				p10, p11 := p(y1, int(x0), k), p(y1, x1, k)
				top := p00 + (p01-p00)*dx
				bot := p10 + (p11-p10)*dx
				v := float32(top + (bot-top)*dy)
				d[(r*size+c)*3+k] = norm(v, k)
			}
		}
	}
}

// reshapedDims is computeReshapedDimensions: round(w*scale), round(h*scale)
// with scale = size/max(w,h) (JS Math.round).
func reshapedDims(w, h, size int) (float64, float64) {
	scale := float64(size) / float64(max(w, h))
	return jsRound(float64(w) * scale), jsRound(float64(h) * scale)
}

func jsRound(v float64) float64 { return math.Floor(v + 0.5) }

// clipFloor is clipAtImageBorders followed by floor of all four values.
func clipFloor(x, y, w, h float64, W, H int) Rect {
	cx, cy := math.Max(x, 0), math.Max(y, 0)
	cw := math.Min(x+w-cx, float64(W)-cx)
	ch := math.Min(y+h-cy, float64(H)-cy)
	return Rect{int(math.Floor(cx)), int(math.Floor(cy)), int(math.Floor(cw)), int(math.Floor(ch))}
}
