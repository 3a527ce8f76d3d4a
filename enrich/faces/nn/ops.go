package nn

import "math"

// Conv is a 2-D convolution with a [KH,KW,Cin,Cout] filter (TF layout),
// computed as im2col + GEMM, with a fused epilogue: optional bias, optional
// per-channel affine (Scale, Shift) and activation.
type Conv struct {
	KH, KW, Cin, Cout, Stride int
	Pad                       Padding
	B                         *PackedB
	Epilogue                  // Bias nil = no bias
}

// NewConv packs filter ([kh,kw,cin,cout] row-major) for Gemm.
func NewConv(filter []float32, kh, kw, cin, cout int, bias []float32, stride int, pad Padding) *Conv {
	return &Conv{KH: kh, KW: kw, Cin: cin, Cout: cout, Stride: stride, Pad: pad,
		B: PackB(filter[:kh*kw*cin*cout], kh*kw*cin, cout), Epilogue: Epilogue{Bias: bias}}
}

// band is the number of output pixels im2col'ed at once.
const band = 512

// Forward computes dst = act((conv(x) + bias) * scale + shift). dst is reshaped.
func (cv *Conv) Forward(dst, x *Tensor, ws *Workspace) {
	oh, pt, _ := OutSize(x.H, cv.KH, cv.Stride, cv.Pad)
	ow, pl, _ := OutSize(x.W, cv.KW, cv.Stride, cv.Pad)
	dst.Reset(oh, ow, cv.Cout)
	M := oh * ow
	if cv.KH == 1 && cv.KW == 1 && cv.Stride == 1 {
		GemmEpilogue(dst.Data, x.Data, cv.Cin, M, cv.B, &cv.Epilogue, ws)
		return
	}
	K := cv.KH * cv.KW * cv.Cin
	ws.col = grow(ws.col, band*K)
	for m0 := 0; m0 < M; m0 += band {
		mb := min(band, M-m0)
		col := ws.col[:mb*K]
		for i := 0; i < mb; i++ {
			oy, ox := (m0+i)/ow, (m0+i)%ow
			row := col[i*K : (i+1)*K]
			for ky := 0; ky < cv.KH; ky++ {
				iy := oy*cv.Stride + ky - pt
				seg := row[ky*cv.KW*cv.Cin : (ky+1)*cv.KW*cv.Cin]
				if iy < 0 || iy >= x.H {
					clear(seg)
					continue
				}
				ix0 := ox*cv.Stride - pl
				if ix0 >= 0 && ix0+cv.KW <= x.W {
					copy(seg, x.Data[(iy*x.W+ix0)*x.C:(iy*x.W+ix0+cv.KW)*x.C])
					continue
				}
				for kx := 0; kx < cv.KW; kx++ {
					s := seg[kx*cv.Cin : (kx+1)*cv.Cin]
					ix := ix0 + kx
					if ix < 0 || ix >= x.W {
						clear(s)
					} else {
						copy(s, x.Data[(iy*x.W+ix)*x.C:(iy*x.W+ix+1)*x.C])
					}
				}
			}
		}
		GemmEpilogue(dst.Data[m0*cv.Cout:], col, K, mb, cv.B, &cv.Epilogue, ws)
	}
}

func fillBias(d, bias []float32, c int) {
	if bias == nil {
		clear(d)
		return
	}
	bias = bias[:c]
	for i := 0; i+c <= len(d); i += c {
		copy(d[i:i+c], bias)
	}
}

// Depthwise is a depthwise convolution (channel multiplier 1) with a
// [KH,KW,C,1] filter and optional bias.
type Depthwise struct {
	KH, KW, C, Stride int
	Pad               Padding
	F                 []float32
	Bias              []float32
}

// Forward computes dst = depthwise(x) (+ bias).
func (d *Depthwise) Forward(dst, x *Tensor) {
	oh, pt, _ := OutSize(x.H, d.KH, d.Stride, d.Pad)
	ow, pl, _ := OutSize(x.W, d.KW, d.Stride, d.Pad)
	C := d.C
	dst.Reset(oh, ow, C)
	fillBias(dst.Data, d.Bias, C)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			acc := dst.Data[(oy*ow+ox)*C : (oy*ow+ox+1)*C]
			for ky := 0; ky < d.KH; ky++ {
				iy := oy*d.Stride + ky - pt
				if iy < 0 || iy >= x.H {
					continue
				}
				for kx := 0; kx < d.KW; kx++ {
					ix := ox*d.Stride + kx - pl
					if ix < 0 || ix >= x.W {
						continue
					}
					mulAdd(acc, x.Data[(iy*x.W+ix)*C:(iy*x.W+ix+1)*C], d.F[(ky*d.KW+kx)*C:(ky*d.KW+kx+1)*C])
				}
			}
		}
	}
}

// SepConv is a depthwise conv (no bias) followed by a 1x1 pointwise conv with
// bias, no activation in between (face-api's separable conv).
type SepConv struct {
	DW *Depthwise
	PW *Conv
}

// NewSepConv builds a separable conv from [k,k,cin,1] depthwise and
// [1,1,cin,cout] pointwise filters.
func NewSepConv(dw []float32, k, cin int, pw []float32, cout int, bias []float32, stride int, pad Padding) *SepConv {
	return &SepConv{
		DW: &Depthwise{KH: k, KW: k, C: cin, Stride: stride, Pad: pad, F: dw},
		PW: NewConv(pw, 1, 1, cin, cout, bias, 1, Valid),
	}
}

// Forward computes dst = pointwise(depthwise(x)) + bias.
func (s *SepConv) Forward(dst, x *Tensor, ws *Workspace) {
	s.DW.Forward(&ws.tmp, x)
	s.PW.Forward(dst, &ws.tmp, ws)
}

// MaxPool computes a k×k stride-s max pool; padded cells never win.
func MaxPool(dst, x *Tensor, k, s int, p Padding) {
	oh, pt, _ := OutSize(x.H, k, s, p)
	ow, pl, _ := OutSize(x.W, k, s, p)
	C := x.C
	dst.Reset(oh, ow, C)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			out := dst.Data[(oy*ow+ox)*C : (oy*ow+ox+1)*C]
			for c := range out {
				out[c] = float32(math.Inf(-1))
			}
			for ky := 0; ky < k; ky++ {
				iy := oy*s + ky - pt
				if iy < 0 || iy >= x.H {
					continue
				}
				for kx := 0; kx < k; kx++ {
					ix := ox*s + kx - pl
					if ix < 0 || ix >= x.W {
						continue
					}
					maxInto(out, x.Data[(iy*x.W+ix)*C:(iy*x.W+ix+1)*C])
				}
			}
		}
	}
}

// AvgPool computes a valid k×k stride-s average pool.
func AvgPool(dst, x *Tensor, k, s int) {
	oh, _, _ := OutSize(x.H, k, s, Valid)
	ow, _, _ := OutSize(x.W, k, s, Valid)
	C := x.C
	dst.Reset(oh, ow, C)
	inv := 1 / float32(k*k)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			out := dst.Data[(oy*ow+ox)*C : (oy*ow+ox+1)*C]
			clear(out)
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					iy, ix := oy*s+ky, ox*s+kx
					xs := x.Data[(iy*x.W+ix)*C : (iy*x.W+ix+1)*C]
					for c := range out {
						out[c] += xs[c]
					}
				}
			}
			for c := range out {
				out[c] *= inv
			}
		}
	}
}

// MeanHW averages over H and W into dst (length C).
func MeanHW(dst []float32, x *Tensor) {
	C := x.C
	dst = dst[:C]
	clear(dst)
	for i := 0; i < x.H*x.W; i++ {
		xs := x.Data[i*C : (i+1)*C]
		for c := range dst {
			dst[c] += xs[c]
		}
	}
	inv := 1 / float32(x.H*x.W)
	for c := range dst {
		dst[c] *= inv
	}
}

// FC computes y[o] = Σ_i x[i]·w[i*out+o] (+ b[o]) for w [in,out].
func FC(y, x, w, b []float32) {
	out := len(y)
	if b != nil {
		copy(y, b[:out])
	} else {
		clear(y)
	}
	for i, xv := range x {
		row := w[i*out : (i+1)*out]
		for o := range y {
			y[o] += xv * row[o]
		}
	}
}

// Relu applies max(0,x) in place.
func Relu(d []float32) { applyAct(d, ActRelu) }

// Relu6 applies min(max(0,x),6) in place.
func Relu6(d []float32) { applyAct(d, ActRelu6) }

// LeakyFaceAPI applies face-api's leaky ReLU, m = 0.1x; relu(x-m)+m, in place.
func LeakyFaceAPI(d []float32) { applyAct(d, ActLeaky) }

// Add sets dst[i] += src[i].
func Add(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// ChannelAffine sets x = x*scale[c] + bias[c] per channel.
func ChannelAffine(x *Tensor, scale, bias []float32) {
	C := x.C
	scale, bias = scale[:C], bias[:C]
	for i := 0; i+C <= len(x.Data); i += C {
		xs := x.Data[i : i+C]
		for c := range xs {
			xs[c] = xs[c]*scale[c] + bias[c]
		}
	}
}
