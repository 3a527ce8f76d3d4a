package nn

// Tensor is a batch-1 NHWC float32 tensor.
type Tensor struct {
	H, W, C int
	Data    []float32
}

// Reset sets the shape, reusing Data's capacity when possible. Contents are
// unspecified afterwards.
func (t *Tensor) Reset(h, w, c int) {
	t.H, t.W, t.C = h, w, c
	t.Data = grow(t.Data, h*w*c)
}

// Len is H*W*C.
func (t *Tensor) Len() int { return t.H * t.W * t.C }

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// Padding mode of a convolution or pooling (TensorFlow semantics).
type Padding int

const (
	Valid Padding = iota
	Same
)

// OutSize returns the output length and the padding before/after for an
// input length in, kernel k, stride s (tfjs conv_util: same pads
// floor(total/2) before and the rest after).
func OutSize(in, k, s int, p Padding) (out, before, after int) {
	if p == Valid {
		return (in-k)/s + 1, 0, 0
	}
	out = (in + s - 1) / s
	total := max(0, (out-1)*s+k-in)
	before = total / 2
	return out, before, total - before
}

// Workspace holds scratch buffers reused across calls (not safe for
// concurrent use).
type Workspace struct {
	col  []float32 // im2col band
	pack []float32 // packed A block
	tmp  Tensor
}
