// Package nn is a small float32 NHWC (batch 1) inference core for the
// face-api networks (shared/faces/SPEC.md §1 and the layer conventions).
//
// It owns:
//   - weights.go: TF.js weight manifests: shards concatenated per group,
//     tensors back to back in manifest order; uint8/uint16-quantised entries
//     dequantised as float32(float64(q)*scale+min) (int32 entries rounded),
//     raw little-endian float32/int32 otherwise. Getter checks names and shapes.
//   - tensor.go: Tensor, TF "same"/"valid" padding arithmetic (OutSize: same
//     pads floor(total/2) before and the rest after, so a stride-2 conv on an
//     even input pads only bottom/right), Workspace scratch buffers.
//   - gemm.go: a blocked GEMM. Weights are packed once into 16-column panels;
//     A is read in 6-row strips (kc = 256, mc = 96), the micro-kernel keeps a
//     6×16 tile in registers, and a fused epilogue applies bias, a per-channel
//     affine and the activation (ReLU, ReLU6, face-api's leaky ReLU
//     m = 0.1x; relu(x-m)+m) while the tile is hot.
//   - kernel_amd64.s/.go: AVX2+FMA micro-kernels (GEMM tile, multiply-add and
//     max for depthwise conv and pooling), used when CPUID reports AVX2, FMA
//     and OS YMM support. kernel_generic.go and the Go kernels in gemm.go are
//     the portable versions (other GOARCHes, or -tags purego); tests run both.
//   - ops.go: conv2d (TF [kh,kw,cin,cout] filters, im2col in 512-pixel bands,
//     direct GEMM for 1×1 stride 1), depthwise conv ([kh,kw,c,1]), separable
//     conv (depthwise, then pointwise + bias, nothing in between), max pool
//     (padded cells never win), valid average pool, spatial mean, fully
//     connected ([in,out] weights), element-wise activations and affine.
//
// Nothing is transposed except the GEMM packing. Steady-state calls allocate
// nothing: outputs and scratch are Tensors/Workspaces reused by the caller.
// A Workspace must not be used concurrently.
package nn
