//go:build !amd64 || purego

package nn

const haveAsmKernel = false

func microKernel(kb int, a, b []float32, t *[mr * nr]float32) { kernelGo(kb, a, b, t) }

// mulAdd sets dst[i] += a[i]*b[i]; a and b must be at least as long as dst.
func mulAdd(dst, a, b []float32) { mulAddGo(dst, a, b) }

// microKernelDirect is microKernel on 6 unpacked rows of a (row stride lda);
// buf is scratch of at least mr*kb floats.
func microKernelDirect(kb int, a []float32, lda int, b []float32, t *[mr * nr]float32, buf []float32) {
	packA(buf, a, lda, 0, mr, 0, kb)
	kernelGo(kb, buf, b, t)
}

// maxInto sets dst[i] = max(dst[i], a[i]); a must be at least as long as dst.
func maxInto(dst, a []float32) { maxIntoGo(dst, a) }

func fusedTile(kb int, a []float32, lda int, b []float32, c []float32, ldc, col int, ep *Epilogue, first, last bool) bool {
	return false
}
