// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package jpegdec

import (
	"encoding/binary"
	"io"
)

// maxCodeLength is the maximum (inclusive) number of bits in a Huffman code.
const maxCodeLength = 16

// maxNCodes is the maximum (inclusive) number of codes in a Huffman tree.
const maxNCodes = 256

// lutBits is the log-2 size of the Huffman decoder's look-up tables.
//
// jpegdec: 9 instead of image/jpeg's 8, and the tables are indexed by the
// next lutBits bits of a 64-bit bit buffer (see fillBits).
const lutBits = 9

// huffman is a Huffman decoder, specified in section C.
type huffman struct {
	// length is the number of codes in the tree.
	nCodes int32
	// lut is the look-up table for the next lutBits bits in the bit-stream.
	// The high 8 bits of the uint16 are the encoded value. The low 8 bits
	// are the code length, or 0 if the code is longer than lutBits.
	lut [1 << lutBits]uint16
	// fastAC is a look-up table for the next lutBits bits of AC coefficient
	// data (jpegdec addition, for AC tables only). When the code's length
	// plus its value's number of extra bits s (the low 4 bits of the value)
	// is at most lutBits, and s > 0, the entry holds the decoded
	// coefficient << 16 | run << 10 | code length << 5 | (code length + s).
	// It is 0 otherwise.
	fastAC [1 << lutBits]int32
	// vals are the decoded values, sorted by their encoding.
	vals [maxNCodes]uint8
	// minCodes[i] is the minimum code of length i, or -1 if there are no
	// codes of that length.
	minCodes [maxCodeLength]int32
	// maxCodes[i] is the maximum code of length i, or -1 if there are no
	// codes of that length.
	maxCodes [maxCodeLength]int32
	// valsIndices[i] is the index into vals of minCodes[i].
	valsIndices [maxCodeLength]int32
}

// errShortHuffmanData means that an unexpected EOF occurred while decoding
// Huffman data.
var errShortHuffmanData error = FormatError("short Huffman data")

// resetBits empties the bit buffer, at the start of a scan and at restart
// markers.
func (d *decoder) resetBits() {
	d.acc, d.nBits, d.bitsErr = 0, 0, nil
}

// fillBits reads bytes from the byte buffer into the bit buffer, undoing the
// byte stuffing, until it holds more than 56 bits. It stops early at a marker
// (which it does not consume) or at a read error, setting d.bitsErr.
//
// jpegdec: this replaces image/jpeg's byte-at-a-time ensureNBits. Whole
// bytes that were read into the bit buffer but not decoded at the end of a
// scan are dropped, which, as a marker is never read into the buffer, only
// drops extraneous data (that image/jpeg skips too).
func (d *decoder) fillBits() {
	for d.nBits <= 56 {
		i, j := d.bytes.i, d.bytes.j
		if i+8 <= j {
			x := binary.BigEndian.Uint64(d.bytes.buf[i:])
			if y := ^x; (y-0x0101010101010101)&^y&0x8080808080808080 == 0 {
				// There is no 0xff byte in x: take as many whole bytes of
				// it as fit in the bit buffer.
				nb := (64 - d.nBits) >> 3
				x &^= 1<<(64-8*nb) - 1
				d.acc |= x >> d.nBits
				d.nBits += 8 * nb
				d.bytes.i = i + int(nb)
				return
			}
		}
		var c byte
		if i+2 <= j {
			c = d.bytes.buf[i]
			if c != 0xff {
				d.bytes.i = i + 1
			} else if d.bytes.buf[i+1] == 0x00 {
				d.bytes.i = i + 2
			} else {
				d.bitsErr = errMissingFF00
				return
			}
		} else if i == j {
			if err := d.fill(); err != nil {
				d.bitsErr = huffmanReadError(err)
				return
			}
			continue
		} else {
			// There is exactly one byte buffered.
			c = d.bytes.buf[i]
			d.bytes.i = i + 1
			if c == 0xff {
				// fill keeps the last two bytes in the buffer, so that
				// the 0xff can be unread.
				if err := d.fill(); err != nil {
					d.bytes.i--
					d.bitsErr = huffmanReadError(err)
					return
				}
				if d.bytes.buf[d.bytes.i] != 0x00 {
					d.bytes.i--
					d.bitsErr = errMissingFF00
					return
				}
				d.bytes.i++
			}
		}
		d.acc |= uint64(c) << (56 - d.nBits)
		d.nBits += 8
	}
}

func huffmanReadError(err error) error {
	if err == io.ErrUnexpectedEOF {
		return errShortHuffmanData
	}
	return err
}

// needBits makes sure that the bit buffer holds at least n <= 57 bits.
func (d *decoder) needBits(n uint) error {
	if d.nBits < n {
		d.fillBits()
		if d.nBits < n {
			return d.bitsErr
		}
	}
	return nil
}

// receiveExtend is the composition of RECEIVE and EXTEND, specified in section
// F.2.2.1.
func (d *decoder) receiveExtend(t uint8) (int32, error) {
	if d.nBits < uint(t) {
		if err := d.needBits(uint(t)); err != nil {
			return 0, err
		}
	}
	if t == 0 {
		return 0, nil
	}
	s := int32(1) << t
	x := int32(d.acc >> (64 - t))
	d.acc <<= t
	d.nBits -= uint(t)
	if x < s>>1 {
		x += ((-1) << t) + 1
	}
	return x, nil
}

// processDHT processes a Define Huffman Table marker, and initializes a huffman
// struct from its contents. Specified in section B.2.4.2.
func (d *decoder) processDHT(n int) error {
	for n > 0 {
		if n < 17 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(d.tmp[:17]); err != nil {
			return err
		}
		tc := d.tmp[0] >> 4
		if tc > maxTc {
			return FormatError("bad Tc value")
		}
		th := d.tmp[0] & 0x0f
		// The baseline th <= 1 restriction is specified in table B.5.
		if th > maxTh || (d.baseline && th > 1) {
			return FormatError("bad Th value")
		}
		h := &d.huff[tc][th]

		// Read nCodes and h.vals (and derive h.nCodes).
		// nCodes[i] is the number of codes with code length i.
		// h.nCodes is the total number of codes.
		h.nCodes = 0
		var nCodes [maxCodeLength]int32
		for i := range nCodes {
			nCodes[i] = int32(d.tmp[i+1])
			h.nCodes += nCodes[i]
		}
		if h.nCodes == 0 {
			return FormatError("Huffman table has zero length")
		}
		if h.nCodes > maxNCodes {
			return FormatError("Huffman table has excessive length")
		}
		n -= int(h.nCodes) + 17
		if n < 0 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(h.vals[:h.nCodes]); err != nil {
			return err
		}

		// jpegdec: reject over-subscribed tables (more codes of some
		// length than there are bit patterns left), as libjpeg does. They
		// are not prefix codes, and would overflow the look-up tables.
		var code uint32
		for i, n := range nCodes {
			code += uint32(n)
			if code > 1<<(i+1) {
				return FormatError("bad Huffman table")
			}
			code <<= 1
		}

		// Derive the look-up tables.
		clear(h.lut[:])
		clear(h.fastAC[:])
		var x uint32
		code = 0
		for i := uint32(0); i < lutBits; i++ {
			code <<= 1
			for j := int32(0); j < nCodes[i]; j++ {
				// The codeLength is 1+i, so shift code by lutBits-(1+i) to
				// calculate the high bits for every lutBits-bit sequence
				// whose codeLength's high bits matches code.
				codeLen := 1 + i
				free := lutBits - codeLen
				base := code << free
				val := h.vals[x]
				lutValue := uint16(val)<<8 | uint16(codeLen)
				for k := uint32(0); k < 1<<free; k++ {
					h.lut[base|k] = lutValue
				}
				if run, size := uint32(val>>4), uint32(val&0x0f); tc == acTable && size != 0 && size <= free {
					// The extra bits e also fit: decode the coefficient.
					for e := int32(0); e < 1<<size; e++ {
						coef := e
						if e < 1<<(size-1) {
							coef += (-1 << size) + 1
						}
						entry := coef<<16 | int32(run<<10|codeLen<<5|(codeLen+size))
						b := base | uint32(e)<<(free-size)
						for k := uint32(0); k < 1<<(free-size); k++ {
							h.fastAC[b|k] = entry
						}
					}
				}
				code++
				x++
			}
		}

		// Derive minCodes, maxCodes, and valsIndices.
		var c, index int32
		for i, n := range nCodes {
			if n == 0 {
				h.minCodes[i] = -1
				h.maxCodes[i] = -1
				h.valsIndices[i] = -1
			} else {
				h.minCodes[i] = c
				h.maxCodes[i] = c + n - 1
				h.valsIndices[i] = index
				c += n
				index += n
			}
			c <<= 1
		}
	}
	return nil
}

// decodeHuffman returns the next Huffman-coded value from the bit-stream,
// decoded according to h.
func (d *decoder) decodeHuffman(h *huffman) (uint8, error) {
	if h.nCodes == 0 {
		return 0, FormatError("uninitialized Huffman table")
	}
	if d.nBits < maxCodeLength {
		d.fillBits()
	}
	if v := h.lut[d.acc>>(64-lutBits)]; v != 0 {
		n := uint(v & 0xff)
		if n > d.nBits {
			return 0, d.bitsErr
		}
		d.acc <<= n
		d.nBits -= n
		return uint8(v >> 8), nil
	}
	return d.decodeHuffmanSlow(h)
}

// decodeHuffmanSlow decodes a code longer than lutBits.
func (d *decoder) decodeHuffmanSlow(h *huffman) (uint8, error) {
	for i := lutBits; i < maxCodeLength; i++ {
		// The bits after the nBits valid ones are zeros, and a code
		// is only accepted if it is made of valid bits.
		code := int32(d.acc >> (63 - i))
		if code <= h.maxCodes[i] {
			n := uint(i + 1)
			if n > d.nBits {
				return 0, d.bitsErr
			}
			d.acc <<= n
			d.nBits -= n
			return h.vals[h.valsIndices[i]+code-h.minCodes[i]], nil
		}
	}
	if d.nBits < maxCodeLength {
		return 0, d.bitsErr
	}
	return 0, FormatError("bad Huffman code")
}

func (d *decoder) decodeBit() (bool, error) {
	if d.nBits == 0 {
		if err := d.needBits(1); err != nil {
			return false, err
		}
	}
	ret := d.acc>>63 != 0
	d.acc <<= 1
	d.nBits--
	return ret, nil
}

func (d *decoder) decodeBits(n int32) (uint32, error) {
	if d.nBits < uint(n) {
		if err := d.needBits(uint(n)); err != nil {
			return 0, err
		}
	}
	if n == 0 {
		return 0, nil
	}
	ret := uint32(d.acc >> (64 - uint(n)))
	d.acc <<= uint(n)
	d.nBits -= uint(n)
	return ret, nil
}
