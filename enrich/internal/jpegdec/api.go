// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Decode and DecodeConfig are adapted from image/jpeg's reader.go; Options,
// ScaleFor and the scaling are jpegdec additions.

package jpegdec

import (
	"image"
	"image/color"
	"io"
)

// Options for Decode.
type Options struct {
	// Scale is 1, 2, 4 or 8: the image is decoded at 1/Scale of its size in
	// each dimension (dimensions rounded up, as libjpeg does), by an inverse
	// DCT that computes only the 8/Scale x 8/Scale output pixels of each
	// block (for Scale 8, the DC coefficient alone). The zero value means 1.
	Scale int
}

// Decode reads a JPEG image from r and returns it as an [image.Image], of the
// same type as [image/jpeg.Decode] returns (*image.YCbCr with the same
// subsampling ratio, *image.Gray, *image.CMYK or *image.RGBA), at 1/o.Scale
// of the size. A nil o is the same as Scale 1, for which the result is
// identical to image/jpeg's.
func Decode(r io.Reader, o *Options) (image.Image, error) {
	scale := 1
	if o != nil && o.Scale != 0 {
		scale = o.Scale
	}
	switch scale {
	case 1, 2, 4, 8:
	default:
		return nil, UnsupportedError("scale (must be 1, 2, 4 or 8)")
	}
	return decode(r, scale, scale > 1)
}

// decode decodes at the given scale; compact is whether a progressive JPEG's
// coefficients are kept in the compact storage (scale > 1 only, see
// progressive.go).
func decode(r io.Reader, scale int, compact bool) (image.Image, error) {
	d := &decoder{scale: scale, bs: 8 / scale, compact: compact && scale > 1}
	if d.compact {
		d.keep = keepIndex(d.bs)
	}
	return d.decode(r, false)
}

// DecodeConfig returns the color model and the full-size dimensions of a
// JPEG image without decoding the entire image. The dimensions of the image
// decoded at scale s are ceil(Width/s) x ceil(Height/s).
func DecodeConfig(r io.Reader) (image.Config, error) {
	d := &decoder{scale: 1, bs: 8}
	if _, err := d.decode(r, true); err != nil {
		return image.Config{}, err
	}
	switch d.nComp {
	case 1:
		return image.Config{
			ColorModel: color.GrayModel,
			Width:      d.width,
			Height:     d.height,
		}, nil
	case 3:
		cm := color.YCbCrModel
		if d.isRGB() {
			cm = color.RGBAModel
		}
		return image.Config{
			ColorModel: cm,
			Width:      d.width,
			Height:     d.height,
		}, nil
	case 4:
		return image.Config{
			ColorModel: color.CMYKModel,
			Width:      d.width,
			Height:     d.height,
		}, nil
	}
	return image.Config{}, FormatError("missing SOF marker")
}

// ScaleFor returns the largest scale in {1, 2, 4, 8} such that the image of
// w x h pixels decoded at that scale is still at least minW x minH pixels
// (so a thumbnail of that size can be resized down from it). It returns 1 if
// even the full-size image is smaller.
func ScaleFor(w, h, minW, minH int) int {
	for s := 8; s > 1; s /= 2 {
		if ceilDiv(w, s) >= minW && ceilDiv(h, s) >= minH {
			return s
		}
	}
	return 1
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// scaledSize returns the dimensions of the decoded image.
func (d *decoder) scaledSize() (w, h int) {
	return ceilDiv(d.width, d.scale), ceilDiv(d.height, d.scale)
}
