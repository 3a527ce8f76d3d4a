package jpegdec

import "math"

// Reduced-size inverse DCTs, for decoding at 1/2, 1/4 and 1/8 of the size.
//
// The JPEG inverse DCT (section A.3.3) of an 8x8 block of dequantized
// coefficients F(u, v) is, separably in each dimension,
//
//	f(x) = Σ_{u=0..7} C(u)/2 · F(u) · cos((2x+1)·u·π/16),  C(0) = 1/√2, C(u>0) = 1.
//
// Averaging f over the s consecutive samples x = s·m .. s·m+s-1 (a box filter
// of width s, s = 2, 4 or 8) gives, with N = 8/s output samples per block and
// the product-to-sum identity for the cosines,
//
//	g(m) = Σ_{u=0..7} C(u)/2 · W_s(u) · F(u) · cos((2m+1)·u·π/(2N)),
//	W_s(u) = 1/s · Σ_{j=0..s-1} cos((2j+1-s)·u·π/16),
//
// which is an N-point inverse DCT whose inputs are the weighted coefficients.
// The terms u >= N are frequencies above the Nyquist limit of the reduced
// grid (u = N contributes nothing, u > N alias onto lower frequencies), so,
// as libjpeg does, the reduced transforms keep only the top-left N x N
// coefficients: the output is the box-filtered full-size image with the
// aliased high band removed. For s = 8 it is the DC term alone, DC/8, the
// exact mean of the block.
//
// All the per-coefficient constant factors, C(u)C(v)/4 · W_s(u)W_s(v) and the
// factors taken out of the butterflies below, are folded with the
// quantization table into one fixed-point factor per coefficient (computed
// once per table by scaledQuant), so that dequantization and the first
// multiplications are a single multiply. The arithmetic is done in int64 so
// that no input, however corrupt, can overflow in a way that matters (the
// results are clamped to [0, 255] anyway).

// onesTable is a quantization table of ones, for decoding coefficients that
// are not to be dequantized.
var onesTable = func() (b block) {
	for i := range b {
		b[i] = 1
	}
	return b
}()

// sqBits is the number of fractional bits of the fixed-point values of the
// reduced inverse DCTs.
const sqBits = 16

// sqBias is added to every output sample before the final shift: the +128
// level shift, and ½ to round to nearest.
const sqBias = 128<<sqBits + 1<<(sqBits-1)

// Constants of the 4-point inverse DCT:
//
//	g(0) = G0 + c2·G2 + c1·G1 + c3·G3
//	g(1) = G0 - c2·G2 + c3·G1 - c1·G3
//	g(2) = G0 - c2·G2 - c3·G1 + c1·G3
//	g(3) = G0 + c2·G2 - c1·G1 - c3·G3
//
// with c1 = cos(π/8), c2 = cos(π/4), c3 = cos(3π/8). c2 is folded into G2 and
// c1 into G1 and G3, which leaves the single constant t = c3/c1 = tan(π/8):
//
//	g(0), g(3) = (G0+G2) ± (G1 + t·G3)
//	g(1), g(2) = (G0-G2) ± (t·G1 - G3)
const (
	tanBits  = 15
	tanPi8   = 13573 // round(tan(π/8) · 2^15)
	tanRound = 1 << (tanBits - 1)
)

// boxWeight returns W_s(u), the response of an s-wide box filter to the
// frequency u of the 8-point DCT basis.
func boxWeight(s, u int) float64 {
	var sum float64
	for j := 0; j < s; j++ {
		sum += math.Cos(float64(2*j+1-s) * float64(u) * math.Pi / 16)
	}
	return sum / float64(s)
}

// foldFactor returns the constant factor of coefficient u that the N-point
// butterflies expect to be folded into the coefficient (see above).
func foldFactor(n, u int) float64 {
	switch {
	case n == 4 && (u == 1 || u == 3):
		return math.Cos(math.Pi / 8)
	case n == 4 && u == 2, n == 2 && u == 1:
		return math.Cos(math.Pi / 4)
	}
	return 1
}

// scaledQuant returns the fixed-point (sqBits) dequantization factors of the
// top-left N x N coefficients, in natural order (index v*N+u), for the
// quantization table tq and the decoder's scale.
func (d *decoder) scaledQuant(tq uint8) *[16]int64 {
	sq := &d.sq[tq]
	if d.sqValid[tq] {
		return sq
	}
	s, n := d.scale, d.bs
	var f [4]float64
	for u := 0; u < n; u++ {
		cu := 1.0
		if u == 0 {
			cu = 1 / math.Sqrt2
		}
		f[u] = cu / 2 * boxWeight(s, u) * foldFactor(n, u)
	}
	for zig := 0; zig < blockSize; zig++ {
		k := unzig[zig]
		u, v := k%8, k/8
		if u >= n || v >= n {
			continue
		}
		sq[v*n+u] = int64(math.Round(float64(d.quant[tq][zig]) * f[u] * f[v] * (1 << sqBits)))
	}
	d.sqValid[tq] = true
	return sq
}

// clampShift returns x>>sqBits clamped to [0, 255].
func clampShift(x int64) byte {
	x >>= sqBits
	if uint64(x) > 255 {
		if x < 0 {
			return 0
		}
		return 255
	}
	return byte(x)
}

// idct4x4 dequantizes the top-left 4x4 coefficients of b with sq, and writes
// their 4-point inverse DCT, level-shifted and clamped, to the 4x4 pixels at
// dst (with the given stride).
func idct4x4(b *block, sq *[16]int64, dst []byte, stride int) {
	var t [16]int64
	// Rows: 1-D transform along u of each of the 4 coefficient rows v.
	for v := 0; v < 4; v++ {
		r := b[8*v : 8*v+4 : 8*v+4]
		q := sq[4*v : 4*v+4 : 4*v+4]
		g0 := int64(r[0]) * q[0]
		if v == 0 {
			// Adding the bias to the DC term adds it to every output.
			g0 += sqBias
		}
		if r[1] == 0 && r[2] == 0 && r[3] == 0 {
			t[4*v+0], t[4*v+1], t[4*v+2], t[4*v+3] = g0, g0, g0, g0
			continue
		}
		g1 := int64(r[1]) * q[1]
		g2 := int64(r[2]) * q[2]
		g3 := int64(r[3]) * q[3]
		e0, e1 := g0+g2, g0-g2
		o0 := g1 + (g3*tanPi8+tanRound)>>tanBits
		o1 := (g1*tanPi8+tanRound)>>tanBits - g3
		t[4*v+0] = e0 + o0
		t[4*v+1] = e1 + o1
		t[4*v+2] = e1 - o1
		t[4*v+3] = e0 - o0
	}
	// Columns: 1-D transform along v of each of the 4 output columns x.
	_ = dst[3*stride+3]
	for x := 0; x < 4; x++ {
		g0, g1, g2, g3 := t[x], t[4+x], t[8+x], t[12+x]
		e0, e1 := g0+g2, g0-g2
		o0 := g1 + (g3*tanPi8+tanRound)>>tanBits
		o1 := (g1*tanPi8+tanRound)>>tanBits - g3
		dst[x] = clampShift(e0 + o0)
		dst[stride+x] = clampShift(e1 + o1)
		dst[2*stride+x] = clampShift(e1 - o1)
		dst[3*stride+x] = clampShift(e0 - o0)
	}
}

// idct2x2 is like idct4x4, for the top-left 2x2 coefficients and 2x2 pixels.
//
// The 2-point inverse DCT is g(0), g(1) = G0 ± cos(π/4)·G1, with cos(π/4)
// folded into G1.
func idct2x2(b *block, sq *[16]int64, dst []byte, stride int) {
	g00 := int64(b[0])*sq[0] + sqBias
	g01 := int64(b[1]) * sq[1]
	g10 := int64(b[8]) * sq[2]
	g11 := int64(b[9]) * sq[3]
	a0, a1 := g00+g01, g00-g01 // Row v = 0, at x = 0 and 1.
	c0, c1 := g10+g11, g10-g11 // Row v = 1, at x = 0 and 1.
	_ = dst[stride+1]
	dst[0] = clampShift(a0 + c0)
	dst[1] = clampShift(a1 + c1)
	dst[stride] = clampShift(a0 - c0)
	dst[stride+1] = clampShift(a1 - c1)
}

// idct1x1 writes the single pixel of a block decoded at 1/8 size: the mean of
// the block, DC/8, level-shifted and clamped.
func idct1x1(b *block, sq *[16]int64, dst []byte) {
	dst[0] = clampShift(int64(b[0])*sq[0] + sqBias)
}
