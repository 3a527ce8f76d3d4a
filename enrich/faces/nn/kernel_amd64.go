//go:build amd64 && !purego

package nn

// useAVX2 reports AVX2 + FMA with OS support for YMM state.
var useAVX2 = detectAVX2()

const haveAsmKernel = true

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// kernelAVX2 is kernelGo for AVX2+FMA (fused multiply-add).
//
//go:noescape
func kernelAVX2(kb int, a, b *float32, t *[mr * nr]float32)

func detectAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

func microKernel(kb int, a, b []float32, t *[mr * nr]float32) {
	if useAVX2 && kb > 0 {
		_ = a[kb*mr-1]
		_ = b[kb*nr-1]
		kernelAVX2(kb, &a[0], &b[0], t)
		return
	}
	kernelGo(kb, a, b, t)
}

//go:noescape
func mulAddAVX2(dst, a, b *float32, n int)

// mulAdd sets dst[i] += a[i]*b[i]; a and b must be at least as long as dst.
func mulAdd(dst, a, b []float32) {
	if useAVX2 && len(dst) > 0 {
		_ = a[len(dst)-1]
		_ = b[len(dst)-1]
		mulAddAVX2(&dst[0], &a[0], &b[0], len(dst))
		return
	}
	mulAddGo(dst, a, b)
}

//go:noescape
func kernelAVX2Direct(kb int, a *float32, lda int, b *float32, t *[mr * nr]float32)

// microKernelDirect is microKernel on 6 unpacked rows of a (row stride lda);
// buf is scratch of at least mr*kb floats (used without AVX2).
func microKernelDirect(kb int, a []float32, lda int, b []float32, t *[mr * nr]float32, buf []float32) {
	if useAVX2 && kb > 0 {
		_ = a[5*lda+kb-1]
		_ = b[kb*nr-1]
		kernelAVX2Direct(kb, &a[0], lda, &b[0], t)
		return
	}
	packA(buf, a, lda, 0, mr, 0, kb)
	kernelGo(kb, buf, b, t)
}

//go:noescape
func maxIntoAVX2(dst, a *float32, n int)

// maxInto sets dst[i] = max(dst[i], a[i]); a must be at least as long as dst.
func maxInto(dst, a []float32) {
	if useAVX2 && len(dst) > 0 {
		_ = a[len(dst)-1]
		maxIntoAVX2(&dst[0], &a[0], len(dst))
		return
	}
	maxIntoGo(dst, a)
}

//go:noescape
func kernelAVX2Fused(kb int, a *float32, lda int, b *float32, c *float32, ldc int, bias, scale, shift *float32, flags int)

// fusedTile computes a full 6×16 tile from 6 unpacked rows of a and applies
// the epilogue (ep nil: accumulate only) straight into c. It reports false
// when no fused kernel is available.
func fusedTile(kb int, a []float32, lda int, b []float32, c []float32, ldc, col int, ep *Epilogue, first, last bool) bool {
	if !useAVX2 || kb == 0 {
		return false
	}
	_ = a[5*lda+kb-1]
	_ = b[kb*nr-1]
	_ = c[5*ldc+nr-1]
	flags := 0
	var bias, scale, shift *float32
	if ep == nil {
		flags = 1
	} else {
		if !first {
			flags |= 1
		} else if ep.Bias != nil {
			flags |= 4
			bias = &ep.Bias[col : col+nr][0]
		}
		if last {
			flags |= 2 | int(ep.Act)<<4
			if ep.Scale != nil {
				flags |= 8
				scale = &ep.Scale[col : col+nr][0]
				shift = &ep.Shift[col : col+nr][0]
			}
		}
	}
	kernelAVX2Fused(kb, &a[0], lda, &b[0], &c[0], ldc, bias, scale, shift, flags)
	return true
}
