package nn

import "math"

// GEMM: C[M×N] += A[M×K] · B[K×N], row-major, float32.
//
// B (the weights) is packed once into panels of nr=16 columns; A is packed
// per (mc×kc) block into panels of mr=6 rows, so the micro-kernel reads both
// operands contiguously. The micro-kernel computes a 6×16 tile over one K
// block into a small buffer that is then added to C (masked at the edges).
// On amd64 with AVX2+FMA the micro-kernel is assembly (kernel_amd64.s);
// elsewhere, or with the purego build tag, it is the Go code below.

const (
	mr = 6
	nr = 16
	kc = 256
	mc = 16 * mr // 96 rows × kc: A block read from L2 while one 16 KiB B panel block stays in L1
)

// PackedB is a K×N matrix packed for Gemm: panel j (columns 16j..16j+15,
// zero padded) stored k-major at Data[(j*K+p)*16+jj].
type PackedB struct {
	K, N int
	np   int
	Data []float32
}

// PackB packs the row-major K×N matrix b.
func PackB(b []float32, K, N int) *PackedB {
	np := (N + nr - 1) / nr
	d := make([]float32, np*K*nr)
	for j := 0; j < np; j++ {
		for p := 0; p < K; p++ {
			for jj := 0; jj < nr; jj++ {
				if col := j*nr + jj; col < N {
					d[(j*K+p)*nr+jj] = b[p*N+col]
				}
			}
		}
	}
	return &PackedB{K: K, N: N, np: np, Data: d}
}

// Act is an activation applied in the GEMM epilogue.
type Act int

const (
	ActNone  Act = iota
	ActRelu      // max(0,x)
	ActRelu6     // min(max(0,x),6)
	ActLeaky     // face-api leaky: m = 0.1x; relu(x-m)+m
)

// Epilogue describes what GemmEpilogue does with each output element once
// its sum is complete: v = (Σ + Bias[j]) * Scale[j] + Shift[j], then Act.
// Nil slices are skipped.
type Epilogue struct {
	Bias, Scale, Shift []float32
	Act                Act
}

// Gemm accumulates A·B into c (row stride N). a has row stride lda ≥ K.
func Gemm(c []float32, a []float32, lda, M int, b *PackedB, ws *Workspace) {
	gemm(c, a, lda, M, b, nil, ws)
}

// GemmEpilogue sets c = epilogue(A·B), overwriting c.
func GemmEpilogue(c []float32, a []float32, lda, M int, b *PackedB, ep *Epilogue, ws *Workspace) {
	if ep == nil {
		ep = &Epilogue{}
	}
	gemm(c, a, lda, M, b, ep, ws)
}

func gemm(c []float32, a []float32, lda, M int, b *PackedB, ep *Epilogue, ws *Workspace) {
	K, N := b.K, b.N
	if M == 0 || N == 0 {
		return
	}
	_ = c[(M-1)*N+N-1]
	if K == 0 {
		if ep != nil {
			var zero [mr * nr]float32
			for m0 := 0; m0 < M; m0 += mr {
				for col := 0; col < N; col += nr {
					epilogueTile(c[m0*N+col:], N, min(mr, M-m0), min(nr, N-col), col, &zero, true, true, ep)
				}
			}
		}
		return
	}
	ws.pack = grow(ws.pack, 2*mr*kc)
	ap, scratch := ws.pack[:mr*kc], ws.pack[mr*kc:] // partial strip; direct-kernel fallback
	var tile [mr * nr]float32
	for k0 := 0; k0 < K; k0 += kc {
		kb := min(kc, K-k0)
		first, last := k0 == 0, k0+kb == K
		for m0 := 0; m0 < M; m0 += mc {
			mb := min(mc, M-m0)
			if rem := mb % mr; rem != 0 {
				// Pack the partial last strip once for all panels.
				packA(ap, a, lda, m0+mb-rem, rem, k0, kb)
			}
			for j := 0; j < b.np; j++ {
				bp := b.Data[(j*K+k0)*nr : (j*K+k0+kb)*nr]
				col := j * nr
				cols := min(nr, N-col)
				for i := 0; i < mb; i += mr {
					rows := min(mr, mb-i)
					off := (m0+i)*N + col
					if rows == mr && cols == nr && fusedTile(kb, a[(m0+i)*lda+k0:], lda, bp, c[off:], N, col, ep, first, last) {
						continue
					}
					if rows == mr {
						microKernelDirect(kb, a[(m0+i)*lda+k0:], lda, bp, &tile, scratch)
					} else {
						microKernel(kb, ap, bp, &tile) // packed before the panel loop
					}
					if ep == nil {
						addTile(c[off:], N, rows, cols, &tile)
					} else {
						epilogueTile(c[off:], N, rows, cols, col, &tile, first, last, ep)
					}
				}
			}
		}
	}
}

func addTile(c []float32, ldc, rows, cols int, tile *[mr * nr]float32) {
	for ii := 0; ii < rows; ii++ {
		dst := c[ii*ldc : ii*ldc+cols]
		src := tile[ii*nr : ii*nr+cols]
		for jj := range dst {
			dst[jj] += src[jj]
		}
	}
}

func epilogueTile(c []float32, ldc, rows, cols, col int, tile *[mr * nr]float32, first, last bool, ep *Epilogue) {
	for ii := 0; ii < rows; ii++ {
		dst := c[ii*ldc : ii*ldc+cols]
		src := tile[ii*nr : ii*nr+cols]
		if first {
			if ep.Bias != nil {
				bias := ep.Bias[col : col+cols]
				for jj := range dst {
					dst[jj] = src[jj] + bias[jj]
				}
			} else {
				copy(dst, src)
			}
		} else {
			for jj := range dst {
				dst[jj] += src[jj]
			}
		}
		if !last {
			continue
		}
		if ep.Scale != nil {
			sc, sh := ep.Scale[col:col+cols], ep.Shift[col:col+cols]
			for jj := range dst {
				dst[jj] = dst[jj]*sc[jj] + sh[jj]
			}
		}
		applyAct(dst, ep.Act)
	}
}

// relu0 is max(v, 0) without a branch (NaN with the sign bit set becomes 0).
func relu0(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

func applyAct(d []float32, act Act) {
	switch act {
	case ActRelu:
		for i, v := range d {
			d[i] = relu0(v)
		}
	case ActRelu6:
		for i, v := range d {
			v = relu0(v)
			if v > 6 {
				v = 6
			}
			d[i] = v
		}
	case ActLeaky:
		for i, v := range d {
			m := v * 0.1
			d[i] = relu0(v-m) + m
		}
	}
}

// packA packs rows m0..m0+mb, columns k0..k0+kb of a into mr-row panels
// (pan[p*mr+ii]), zero-padding the last panel.
func packA(ap, a []float32, lda, m0, mb, k0, kb int) {
	for i := 0; i < mb; i += mr {
		pan := ap[(i/mr)*kb*mr : (i/mr+1)*kb*mr]
		rows := min(mr, mb-i)
		if rows == mr {
			base := (m0 + i) * lda
			r0 := a[base+k0 : base+k0+kb]
			r1 := a[base+lda+k0 : base+lda+k0+kb]
			r2 := a[base+2*lda+k0 : base+2*lda+k0+kb]
			r3 := a[base+3*lda+k0 : base+3*lda+k0+kb]
			r4 := a[base+4*lda+k0 : base+4*lda+k0+kb]
			r5 := a[base+5*lda+k0 : base+5*lda+k0+kb]
			for p := range r0 {
				q := pan[p*mr : p*mr+mr : p*mr+mr]
				q[0], q[1], q[2], q[3], q[4], q[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
			continue
		}
		for p := 0; p < kb; p++ {
			for ii := 0; ii < mr; ii++ {
				v := float32(0)
				if ii < rows {
					v = a[(m0+i+ii)*lda+k0+p]
				}
				pan[p*mr+ii] = v
			}
		}
	}
}

// kernelGo sets t (6×16, row-major) to the product of an mr-row A panel and
// an nr-column B panel over kb steps, as 4-column strips of 6×4 register
// blocks computed in two halves (rows 0-2, rows 3-5) to keep 12 accumulators.
func kernelGo(kb int, a, b []float32, t *[mr * nr]float32) {
	a = a[:kb*mr]
	b = b[:kb*nr]
	for g := 0; g < nr; g += 4 {
		for h := 0; h < mr; h += 3 {
			var c00, c01, c02, c03 float32
			var c10, c11, c12, c13 float32
			var c20, c21, c22, c23 float32
			for p := 0; p < kb; p++ {
				aa := a[p*mr+h : p*mr+h+3 : p*mr+h+3]
				bb := b[p*nr+g : p*nr+g+4 : p*nr+g+4]
				a0, a1, a2 := aa[0], aa[1], aa[2]
				b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
				c20 += a2 * b0
				c21 += a2 * b1
				c22 += a2 * b2
				c23 += a2 * b3
			}
			r := t[h*nr+g : h*nr+g+4 : h*nr+g+4]
			r[0], r[1], r[2], r[3] = c00, c01, c02, c03
			r = t[(h+1)*nr+g : (h+1)*nr+g+4 : (h+1)*nr+g+4]
			r[0], r[1], r[2], r[3] = c10, c11, c12, c13
			r = t[(h+2)*nr+g : (h+2)*nr+g+4 : (h+2)*nr+g+4]
			r[0], r[1], r[2], r[3] = c20, c21, c22, c23
		}
	}
}

func mulAddGo(dst, a, b []float32) {
	a = a[:len(dst)]
	b = b[:len(dst)]
	for i := range dst {
		dst[i] += a[i] * b[i]
	}
}

func maxIntoGo(dst, a []float32) {
	a = a[:len(dst)]
	for i, v := range a {
		if v > dst[i] {
			dst[i] = v
		}
	}
}
