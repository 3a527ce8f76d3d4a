// Package resize scales images down to thumbnails, fast and with few
// allocations, on one goroutine.
//
// The filter is the triangle (tent, "linear") filter, with its support
// scaled by the reduction factor, as imaging.Linear and libvips' linear
// kernel do: each output pixel is the tent-weighted mean of the source
// pixels within one output pixel's width of its center, so reductions by
// any factor are area-correct and do not alias. (When enlarging, it is
// bilinear interpolation.) The filter is applied separably, in fixed point
// (16-bit weights, and no rounding between the passes), streaming: each
// output row is the weighted sum of its source rows, which are read (or
// converted) once each, in order, and kept in a ring of as many rows as the
// filter is tall, then filtered horizontally. So the memory used besides the
// result is a few rows (none are copied for the types read in place).
//
// The result is always an opaque *image.RGBA (the layout that image/jpeg's
// encoder is fastest at): transparent parts are composited over white, as
// the filter computes with premultiplied alpha. A *image.YCbCr, of any
// subsampling ratio, is filtered plane by plane, each from its own
// resolution (the chroma planes are 1/4 of the luma one at 4:2:0, which
// halves the work), and each output row is converted to RGB as it is made:
// no full-size RGB copy is made, and only the output pixels are converted
// (which differs from converting first only where the conversion clamps
// out-of-gamut colors). *image.Gray, *image.RGBA
// and opaque *image.NRGBA are read in place; the other types (NRGBA with
// alpha, 16-bit RGBA64, NRGBA64 and Gray16, CMYK, and any image.Image
// through its At method) are converted one source row at a time.
package resize

import (
	"image"
	"image/color"
	"math"
)

// wBits is the number of fractional bits of the filter weights. The
// vertical pass accumulates weight x 8-bit sample in int32 (at most
// 255 << wBits), the horizontal pass weight x that in int64.
const wBits = 16

// Fit returns img scaled down to fit within maxW x maxH pixels, keeping its
// aspect ratio (the other side is rounded to the nearest pixel, and at least
// 1), or at its own size if it already fits. Its result is what Resize
// returns for that size: an opaque *image.RGBA with bounds starting at (0, 0).
func Fit(img image.Image, maxW, maxH int) *image.RGBA {
	b := img.Bounds()
	w, h := FitSize(b.Dx(), b.Dy(), maxW, maxH)
	return Resize(img, w, h)
}

// FitSize returns the size that Fit scales a w x h image to: w x h if it
// fits in maxW x maxH, else the largest size of the same aspect ratio that
// does, rounded. It returns 0, 0 for an empty image or box.
func FitSize(w, h, maxW, maxH int) (int, int) {
	if w <= 0 || h <= 0 || maxW <= 0 || maxH <= 0 {
		return 0, 0
	}
	if w <= maxW && h <= maxH {
		return w, h
	}
	if int64(w)*int64(maxH) >= int64(h)*int64(maxW) {
		// Limited by the width.
		return maxW, int(max(1, (2*int64(maxW)*int64(h)+int64(w))/(2*int64(w))))
	}
	return int(max(1, (2*int64(maxH)*int64(w)+int64(h))/(2*int64(h)))), maxH
}

// Resize returns img resized to w x h pixels (which need not keep its aspect
// ratio) as an opaque *image.RGBA with bounds (0, 0)-(w, h): transparent
// parts are composited over white. It returns an empty image if w, h or img
// is empty.
func Resize(img image.Image, w, h int) *image.RGBA {
	sb := img.Bounds()
	if w <= 0 || h <= 0 || sb.Empty() {
		return &image.RGBA{}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	sw, sh := sb.Dx(), sb.Dy()
	switch m := img.(type) {
	case *image.YCbCr:
		resizeYCbCr(m, dst)
		return dst
	case *image.Gray:
		ha := newAxis(sw, w, sw, 1, 0)
		v := newVFilter(plane(m.Pix, m.PixOffset(sb.Min.X, sb.Min.Y), m.Stride, sw, 1), sw, false, newAxis(sh, h, sh, 1, 0))
		tmp := make([]byte, w)
		for j := range h {
			hpass(tmp, v.next(j), ha, 1)
			out := dst.Pix[j*dst.Stride : j*dst.Stride+4*w]
			for x, g := range tmp {
				q := out[4*x : 4*x+4 : 4*x+4]
				q[0], q[1], q[2], q[3] = g, g, g, 0xff
			}
		}
		return dst
	}
	row, c, conv := rowsOf(img)
	ha := newAxis(sw, w, sw, 1, 0)
	v := newVFilter(row, 4*sw, conv, newAxis(sh, h, sh, 1, 0))
	for j := range h {
		out := dst.Pix[j*dst.Stride : j*dst.Stride+4*w]
		hpass(out, v.next(j), ha, c)
		if c == 4 {
			overWhite(out)
		}
	}
	return dst
}

// A rowFunc returns the source row y: a slice of the image, or buf (of the
// row's length) filled with the row converted.
type rowFunc func(y int, buf []byte) []byte

// plane returns the row function of an 8-bit plane of width w whose first
// sample is pix[off], with step bytes per sample.
func plane(pix []byte, off, stride, w, step int) rowFunc {
	n := w * step
	return func(y int, _ []byte) []byte {
		i := off + y*stride
		return pix[i : i+n]
	}
}

// rowsOf returns the row function of an image that is not a YCbCr or Gray
// image: rows of 4 bytes per pixel, RGB and, if c is 4, premultiplied
// alpha (if c is 3, the image is opaque, and the fourth byte is ignored).
// conv is whether the rows are converted, into the buffers passed to row,
// rather than read in place.
func rowsOf(img image.Image) (row rowFunc, c int, conv bool) {
	b := img.Bounds()
	w := b.Dx()
	switch m := img.(type) {
	case *image.RGBA:
		c := 4
		if m.Opaque() {
			c = 3
		}
		return plane(m.Pix, m.PixOffset(b.Min.X, b.Min.Y), m.Stride, w, 4), c, false
	case *image.NRGBA:
		if m.Opaque() {
			// The same pixels as RGBA.
			return plane(m.Pix, m.PixOffset(b.Min.X, b.Min.Y), m.Stride, w, 4), 3, false
		}
		return func(y int, buf []byte) []byte {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			s := m.Pix[i : i+4*w]
			for x := 0; x+3 < len(s) && x+3 < len(buf); x += 4 {
				a := uint32(s[x+3])
				buf[x+0] = uint8((uint32(s[x+0])*a + 127) / 255)
				buf[x+1] = uint8((uint32(s[x+1])*a + 127) / 255)
				buf[x+2] = uint8((uint32(s[x+2])*a + 127) / 255)
				buf[x+3] = uint8(a)
			}
			return buf
		}, 4, true
	case *image.RGBA64:
		c := 4
		if m.Opaque() {
			c = 3
		}
		return func(y int, buf []byte) []byte {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			s := m.Pix[i : i+8*w]
			for x := 0; x < w; x++ {
				// The high bytes of the 16-bit samples.
				p := s[8*x : 8*x+8 : 8*x+8]
				d := buf[4*x : 4*x+4 : 4*x+4]
				d[0], d[1], d[2], d[3] = p[0], p[2], p[4], p[6]
			}
			return buf
		}, c, true
	case *image.NRGBA64:
		c := 4
		if m.Opaque() {
			c = 3
		}
		return func(y int, buf []byte) []byte {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			s := m.Pix[i : i+8*w]
			for x := 0; x < w; x++ {
				p := s[8*x : 8*x+8 : 8*x+8]
				d := buf[4*x : 4*x+4 : 4*x+4]
				a := uint32(p[6])<<8 | uint32(p[7])
				for k := 0; k < 3; k++ {
					v := uint32(p[2*k])<<8 | uint32(p[2*k+1])
					d[k] = uint8(v * a / 0xffff >> 8)
				}
				d[3] = uint8(a >> 8)
			}
			return buf
		}, c, true
	case *image.Gray16:
		return func(y int, buf []byte) []byte {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			s := m.Pix[i : i+2*w]
			for x := 0; x < w; x++ {
				v := s[2*x]
				d := buf[4*x : 4*x+4 : 4*x+4]
				d[0], d[1], d[2] = v, v, v
			}
			return buf
		}, 3, true
	case *image.CMYK:
		return func(y int, buf []byte) []byte {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			s := m.Pix[i : i+4*w]
			for x := 0; x < w; x++ {
				p := s[4*x : 4*x+4 : 4*x+4]
				d := buf[4*x : 4*x+4 : 4*x+4]
				d[0], d[1], d[2] = color.CMYKToRGB(p[0], p[1], p[2], p[3])
			}
			return buf
		}, 3, true
	}
	c = 4
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		c = 3
	}
	return func(y int, buf []byte) []byte {
		for x := 0; x < w; x++ {
			r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			d := buf[4*x : 4*x+4 : 4*x+4]
			d[0], d[1], d[2], d[3] = uint8(r>>8), uint8(g>>8), uint8(bl>>8), uint8(a>>8)
		}
		return buf
	}, c, true
}

// resizeYCbCr resizes the three planes of m, each at its own resolution,
// and converts the result to RGB, one output row at a time.
func resizeYCbCr(m *image.YCbCr, dst *image.RGBA) {
	sb := m.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	hy := newAxis(sw, w, sw, 1, 0)
	vy := newVFilter(plane(m.Y, m.YOffset(sb.Min.X, sb.Min.Y), m.YStride, sw, 1), sw, false, newAxis(sh, h, sh, 1, 0))

	// The chroma planes: chroma sample i (from the image's first one)
	// covers the luma columns fx*(i+cx0) to fx*(i+cx0)+fx-1, in absolute
	// coordinates.
	fx, fy := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		fx = 2
	case image.YCbCrSubsampleRatio420:
		fx, fy = 2, 2
	case image.YCbCrSubsampleRatio440:
		fy = 2
	case image.YCbCrSubsampleRatio411:
		fx = 4
	case image.YCbCrSubsampleRatio410:
		fx, fy = 4, 2
	}
	cx0, cy0 := floorDiv(sb.Min.X, fx), floorDiv(sb.Min.Y, fy)
	cw := floorDiv(sb.Max.X-1, fx) - cx0 + 1
	ch := floorDiv(sb.Max.Y-1, fy) - cy0 + 1
	hc := newAxis(cw, w, sw, fx, fx*cx0-sb.Min.X)
	vc := newAxis(ch, h, sh, fy, fy*cy0-sb.Min.Y)
	off := m.COffset(sb.Min.X, sb.Min.Y)
	vcb := newVFilter(plane(m.Cb, off, m.CStride, cw, 1), cw, false, vc)
	vcr := newVFilter(plane(m.Cr, off, m.CStride, cw, 1), cw, false, vc)

	// A row of the luma plane, resized.
	ty := make([]byte, w)
	for j := range h {
		hpass(ty, vy.next(j), hy, 1)
		chromaToRGBA(dst.Pix[j*dst.Stride:j*dst.Stride+4*w], ty, vcb.next(j), vcr.next(j), hc)
	}
}

// chromaToRGBA filters the rows of the two chroma planes horizontally with
// ha (as hpass does), and converts them with the resized luma row y to the
// opaque RGBA row out, as color.YCbCrToRGB does.
func chromaToRGBA(out, y []byte, acb, acr []int32, ha *axis) {
	n := ha.taps
	lo, w := ha.lo[:len(y)], ha.w[:len(y)*n]
	out = out[:4*len(y)]
	if n == 2 {
		for x, l := range lo {
			i := int(l)
			w0, w1 := int(w[2*x]), int(w[2*x+1])
			cb := (w0*int(acb[i]) + w1*int(acb[i+1]) + round) >> shift
			cr := (w0*int(acr[i]) + w1*int(acr[i+1]) + round) >> shift
			ycbcrToRGB(out[4*x:4*x+4:4*x+4], y[x], cb, cr)
		}
		return
	}
	for x, l := range lo {
		i := int(l)
		cb, cr := round, round
		for k, wt := range w[x*n : x*n+n] {
			cb += int(wt) * int(acb[i+k])
			cr += int(wt) * int(acr[i+k])
		}
		ycbcrToRGB(out[4*x:4*x+4:4*x+4], y[x], cb>>shift, cr>>shift)
	}
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// An axis holds the filter weights along one dimension: output sample j is
// the sum of w[j*taps+k] x source sample lo[j]+k, for k < taps. The weights
// are zero outside first[j] <= lo[j]+k < end[j], and sum to 1 << wBits.
type axis struct {
	taps       int
	lo         []int32
	first, end []int32
	w          []int32
}

// newAxis returns the weights of the tent filter for n source samples and
// dn output samples. The source samples may be subsampled relative to a
// reference grid of refN samples (a luma plane, for a chroma plane): source
// sample i covers the reference samples f*i+off to f*i+off+f-1, and the
// output samples cover the reference samples evenly.
func newAxis(n, dn, refN, f, off int) *axis {
	a := &axis{
		lo:    make([]int32, dn),
		first: make([]int32, dn),
		end:   make([]int32, dn),
	}
	step := float64(refN) / float64(dn) / float64(f) // Source samples per output sample.
	scale := max(1, step)                            // The tent's half-width, in source samples.
	// center returns output sample j's center, in source sample
	// coordinates (sample i is centered on i).
	center := func(j int) float64 {
		return ((float64(j)+0.5)*float64(refN)/float64(dn)-float64(off))/float64(f) - 0.5
	}
	// The source samples of nonzero weight, 1 - |i-c|/scale > 0: those
	// strictly within scale of the center.
	for j := range dn {
		c := center(j)
		first := max(0, int(math.Floor(c-scale))+1)
		end := min(n, int(math.Ceil(c+scale)))
		if first >= end {
			// Outside of the source (only possible for a subsampled
			// plane): its nearest sample.
			first = min(n-1, max(0, int(math.Round(c))))
			end = first + 1
		}
		a.first[j], a.end[j] = int32(first), int32(end)
		a.taps = max(a.taps, end-first)
	}
	a.w = make([]int32, dn*a.taps)
	wf := make([]float64, a.taps)
	for j := range dn {
		c := center(j)
		first, end := int(a.first[j]), int(a.end[j])
		lo := min(first, n-a.taps)
		a.lo[j] = int32(lo)
		wj := wf[:end-first]
		for i := range wj {
			wj[i] = max(0, 1-math.Abs(float64(first+i)-c)/scale)
		}
		if len(wj) == 1 {
			wj[0] = 1
		}
		quantize(a.w[j*a.taps+first-lo:][:len(wj)], wj)
	}
	return a
}

// quantize sets q to the fixed-point weights w normalized to sum to
// 1 << wBits exactly.
func quantize(q []int32, w []float64) {
	var sum float64
	for _, x := range w {
		sum += x
	}
	total, big := int32(0), 0
	for i, x := range w {
		q[i] = int32(math.Round(x / sum * (1 << wBits)))
		total += q[i]
		if q[i] > q[big] {
			big = i
		}
	}
	q[big] += 1<<wBits - total
}

// A vFilter is the vertical pass of a resize: next returns the output rows
// one after the other, each the weighted sum of its source rows, which are
// read in order and kept in a ring of as many rows as an output row has.
type vFilter struct {
	row  rowFunc
	va   *axis
	ring [][]byte // Source row y is ring[y%len(ring)] while it is needed.
	bufs [][]byte // The buffers of converted rows.
	acc  []int32
	y    int // The next source row to read.
}

// newVFilter returns the vertical pass for the source rows of n bytes that
// row returns (conv is whether it converts them into buffers), with the
// weights va.
func newVFilter(row rowFunc, n int, conv bool, va *axis) *vFilter {
	v := &vFilter{row: row, va: va, ring: make([][]byte, va.taps), bufs: make([][]byte, va.taps), acc: make([]int32, n)}
	if conv {
		buf := make([]byte, va.taps*n)
		for i := range v.bufs {
			v.bufs[i] = buf[i*n : (i+1)*n]
		}
	}
	return v
}

// next returns output row j, the sum of its source rows times their
// weights (1 << wBits for 1), as int32s: a byte of a source row becomes an
// int32. It must be called for j = 0, 1, 2... in order, and the row is only
// valid until the next call.
func (v *vFilter) next(j int) []int32 {
	va := v.va
	first, end := int(va.first[j]), int(va.end[j])
	for ; v.y < end; v.y++ {
		if v.y >= first { // Else the row is in no output row (when enlarging).
			i := v.y % len(v.ring)
			v.ring[i] = v.row(v.y, v.bufs[i])
		}
	}
	w := va.w[j*va.taps+first-int(va.lo[j]):][:end-first]
	acc := v.acc
	for k := 0; k < len(w); {
		r := func(i int) []byte { return v.ring[(first+k+i)%len(v.ring)][:len(acc)] }
		switch n := len(w) - k; {
		case n >= 4:
			addRows4(acc, r(0), r(1), r(2), r(3), w[k], w[k+1], w[k+2], w[k+3], k == 0)
			k += 4
		case n >= 2:
			addRows2(acc, r(0), r(1), w[k], w[k+1], k == 0)
			k += 2
		default:
			addRows1(acc, r(0), w[k], k == 0)
			k++
		}
	}
	return acc
}

// addRows4 adds (or sets, if first) the weighted sum of four rows to acc.
func addRows4(acc []int32, r0, r1, r2, r3 []byte, w0, w1, w2, w3 int32, first bool) {
	r0, r1, r2, r3 = r0[:len(acc)], r1[:len(acc)], r2[:len(acc)], r3[:len(acc)]
	if first {
		for x := range acc {
			acc[x] = w0*int32(r0[x]) + w1*int32(r1[x]) + w2*int32(r2[x]) + w3*int32(r3[x])
		}
		return
	}
	for x := range acc {
		acc[x] += w0*int32(r0[x]) + w1*int32(r1[x]) + w2*int32(r2[x]) + w3*int32(r3[x])
	}
}

// addRows2 adds (or sets, if first) the weighted sum of two rows to acc.
func addRows2(acc []int32, r0, r1 []byte, w0, w1 int32, first bool) {
	r0, r1 = r0[:len(acc)], r1[:len(acc)]
	if first {
		for x := range acc {
			acc[x] = w0*int32(r0[x]) + w1*int32(r1[x])
		}
		return
	}
	for x := range acc {
		acc[x] += w0*int32(r0[x]) + w1*int32(r1[x])
	}
}

// addRows1 adds (or sets, if first) a weighted row to acc.
func addRows1(acc []int32, r0 []byte, w0 int32, first bool) {
	r0 = r0[:len(acc)]
	if first {
		for x := range acc {
			acc[x] = w0 * int32(r0[x])
		}
		return
	}
	for x := range acc {
		acc[x] += w0 * int32(r0[x])
	}
}

// hpass filters the row a (1 int32 a pixel for c = 1, 4 otherwise, of which
// the fourth is ignored for c = 3) horizontally into out: 1 byte a pixel for
// c = 1, 4 otherwise (for c = 3, the fourth is set to opaque).
//
// The results need no clamping: the weights are not negative, and those of
// each output sample sum to 1 << wBits, in both passes.
func hpass(out []byte, a []int32, ha *axis, c int) {
	n := ha.taps
	dw := len(out)
	if c != 1 {
		dw /= 4
	}
	lo, w := ha.lo[:dw], ha.w[:dw*n]
	switch c {
	case 1:
		out = out[:len(lo)]
		switch n {
		case 1:
			for x, l := range lo {
				out[x] = uint8((int(w[x])*int(a[l]) + round) >> shift)
			}
		case 2:
			w = w[:2*len(lo)]
			for x, l := range lo {
				i := int(l)
				out[x] = uint8((int(w[2*x])*int(a[i]) + int(w[2*x+1])*int(a[i+1]) + round) >> shift)
			}
		case 3:
			w = w[:3*len(lo)]
			for x, l := range lo {
				i := int(l)
				out[x] = uint8((int(w[3*x])*int(a[i]) + int(w[3*x+1])*int(a[i+1]) + int(w[3*x+2])*int(a[i+2]) + round) >> shift)
			}
		case 4:
			w = w[:4*len(lo)]
			for x, l := range lo {
				i := int(l)
				out[x] = uint8((int(w[4*x])*int(a[i]) + int(w[4*x+1])*int(a[i+1]) + int(w[4*x+2])*int(a[i+2]) + int(w[4*x+3])*int(a[i+3]) + round) >> shift)
			}
		default:
			for x, l := range lo {
				s := a[l : int(l)+n]
				sum := round
				for i, wt := range w[x*n : x*n+n] {
					sum += int(wt) * int(s[i])
				}
				out[x] = uint8(sum >> shift)
			}
		}
	case 3:
		for x, l := range lo {
			s := a[4*l : 4*int(l)+4*n]
			r, g, b := round, round, round
			for _, wt := range w[x*n : x*n+n] {
				p := s[:3:3]
				r += int(wt) * int(p[0])
				g += int(wt) * int(p[1])
				b += int(wt) * int(p[2])
				s = s[4:]
			}
			o := out[4*x : 4*x+4 : 4*x+4]
			o[0], o[1], o[2], o[3] = uint8(r>>shift), uint8(g>>shift), uint8(b>>shift), 0xff
		}
	case 4:
		for x, l := range lo {
			s := a[4*l : 4*int(l)+4*n]
			r, g, b, al := round, round, round, round
			for _, wt := range w[x*n : x*n+n] {
				p := s[:4:4]
				r += int(wt) * int(p[0])
				g += int(wt) * int(p[1])
				b += int(wt) * int(p[2])
				al += int(wt) * int(p[3])
				s = s[4:]
			}
			o := out[4*x : 4*x+4 : 4*x+4]
			o[0], o[1], o[2], o[3] = uint8(r>>shift), uint8(g>>shift), uint8(b>>shift), uint8(al>>shift)
		}
	}
}

// The output of the horizontal pass is shifted by shift, rounded.
const (
	shift = 2 * wBits
	round = 1 << (shift - 1)
)

// overWhite composites the premultiplied pixels of an RGBA row over white.
func overWhite(p []byte) {
	for i := 0; i+3 < len(p); i += 4 {
		if a := p[i+3]; a != 0xff {
			t := 0xff - uint32(a)
			p[i+0] = uint8(min(0xff, uint32(p[i+0])+t))
			p[i+1] = uint8(min(0xff, uint32(p[i+1])+t))
			p[i+2] = uint8(min(0xff, uint32(p[i+2])+t))
			p[i+3] = 0xff
		}
	}
}

// ycbcrToRGB sets the pixel q to the opaque RGB color of Y'CbCr (yv, cb,
// cr), as color.YCbCrToRGB computes it.
func ycbcrToRGB(q []byte, yv byte, cb, cr int) {
	yy1 := int32(yv) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy1 + 91881*cr1
	g := yy1 - 22554*cb1 - 46802*cr1
	b := yy1 + 116130*cb1
	q[0], q[1], q[2], q[3] = clamp16(r), clamp16(g), clamp16(b), 0xff
}

// clamp16 returns x >> 16 clamped to [0, 255].
func clamp16(x int32) uint8 {
	if uint32(x)&0xff000000 == 0 {
		return uint8(x >> 16)
	}
	return uint8(^(x >> 31))
}
