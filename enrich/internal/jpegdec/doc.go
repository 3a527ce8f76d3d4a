// Package jpegdec is a JPEG decoder that can decode an image at 1/2, 1/4 or
// 1/8 of its size directly in the DCT domain ("shrink-on-load", like
// libjpeg's scale_denom or libvips' shrink-on-load), which makes thumbnails
// of large photos much cheaper to produce than decoding the full image and
// resizing it.
//
//	cfg, err := jpegdec.DecodeConfig(bytes.NewReader(data))
//	...
//	// For a thumbnail of 1440 px on the long side:
//	minW, minH := 1440, 0
//	if cfg.Height > cfg.Width {
//		minW, minH = 0, 1440
//	}
//	s := jpegdec.ScaleFor(cfg.Width, cfg.Height, minW, minH)
//	img, err := jpegdec.Decode(bytes.NewReader(data), &jpegdec.Options{Scale: s})
//	// img is ceil(cfg.Width/s) x ceil(cfg.Height/s): resize it down to the
//	// thumbnail size.
//
// It decodes everything that image/jpeg decodes (baseline, extended
// sequential and progressive JPEGs; grayscale, YCbCr with 4:4:4, 4:4:0,
// 4:2:2, 4:2:0, 4:1:1 and 4:1:0 subsampling, RGB, CMYK and YCbCrK; restart
// intervals) and returns the same image types: *image.YCbCr with the same
// subsampling ratio, *image.Gray, *image.RGBA or *image.CMYK. At Scale 1 the
// result is identical to image/jpeg's.
//
// # Origin and changes
//
// This package is a fork of the decoder half of the Go standard library's
// image/jpeg, from Go 1.26 (see the LICENSE file; the files that came from it
// keep their copyright headers). The encoder, and the registration with
// image.RegisterFormat, were left out. The changes are:
//
//   - Options.Scale and ScaleFor. At Scale 2, 4 or 8, each 8x8 block of DCT
//     coefficients is turned into 4x4, 2x2 or 1x1 pixels by a reduced inverse
//     DCT of its top-left coefficients (idct_reduced.go), and the image
//     buffers are allocated at the reduced size. All the coefficients are
//     still entropy-decoded, but no full-size pixels are ever computed.
//   - Progressive JPEGs decoded at Scale 2, 4 or 8 keep, between scans, only
//     each block's top-left coefficients that the reduced inverse DCT reads
//     (as int16) and a bitmap of which of the others are nonzero, which is
//     all that the parsing of the refinement scans needs of them
//     (progressive.go): 40, 16 or 10 bytes a block instead of the 256 of
//     image/jpeg, which keeps all 64 coefficients of every block (as Scale 1
//     still does). A 12 MP 4:2:0 progressive photo decodes at Scale 2 in
//     about 16 MB instead of 77 MB.
//   - A faster entropy decoder: a 64-bit bit buffer filled several bytes at a
//     time, 9-bit Huffman look-up tables, and a look-up table that decodes
//     a short code together with its coefficient's extra bits. Sequential
//     scans use a specialized block decoder that also dequantizes the
//     coefficients as they are decoded, and progressive scans update the
//     saved coefficients in place. Huffman tables that are over-subscribed
//     (not prefix codes) are rejected, as libjpeg does.
//   - The YCbCrK conversion uses image/draw instead of the standard library's
//     internal image/internal/imageutil (same results).
//
// The full-size inverse DCT (dct.go) is image/jpeg's.
package jpegdec
