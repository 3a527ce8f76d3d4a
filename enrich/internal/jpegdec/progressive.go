package jpegdec

import "math/bits"

// Compact coefficient storage for progressive JPEGs decoded at Scale > 1
// (jpegdec addition).
//
// A progressive JPEG sends each block's coefficients in several scans, so
// they have to be kept between scans until the last one; image/jpeg keeps
// all 64 of every block as int32 (256 bytes a block: 72 MB for a 12 MP 4:2:0
// photo). The reduced inverse DCTs only read the top-left bs x bs
// coefficients, but the others cannot simply be dropped: how a successive
// approximation refinement scan is parsed depends on which coefficients of
// its band are already nonzero (a correction bit is read for each of them,
// and the run lengths count only the zero ones). Which is all the parsing
// needs of them: their values never matter, and a nonzero coefficient stays
// nonzero (refinements move it away from zero).
//
// So at Scale > 1 each block keeps
//
//   - progNZ: a bitmap of its nonzero AC coefficients, bit z for the
//     zig-zag index z (1..63), and
//   - progKept: its top-left bs x bs coefficients, in natural order
//     (index v*bs+u), as int16.
//
// That is 40, 16 and 10 bytes a block at Scale 2, 4 and 8. int16 holds
// every coefficient of a valid 8-bit JPEG (at most 11 bits and a sign);
// values of corrupt input that do not fit are saturated, which keeps their
// sign. The entropy decoding reads exactly the same bits, in the same order,
// and so fails exactly when, as when all the coefficients are kept; the
// pixels are the same for valid input.

// keepIndex returns, for each zig-zag index, the index of the coefficient in
// the kept top-left n x n coefficients, or -1 if it is not kept.
func keepIndex(n int) (t [blockSize]int8) {
	for zig, k := range unzig {
		u, v := k%8, k/8
		t[zig] = -1
		if u < n && v < n {
			t[zig] = int8(v*n + u)
		}
	}
	return t
}

// sat16 returns x saturated to the int16 range.
func sat16(x int32) int16 {
	if x != int32(int16(x)) {
		if x < 0 {
			return -1 << 15
		}
		return 1<<15 - 1
	}
	return int16(x)
}

// allocCompact allocates the compact coefficient storage of component
// compIndex, with n blocks.
func (d *decoder) allocCompact(compIndex uint8, n int) {
	d.progNZ[compIndex] = make([]uint64, n)
	d.progKept[compIndex] = make([]int16, n*d.bs*d.bs)
}

// decodeFirstCompact decodes a block of a progressive scan that is not a
// refinement (ah == 0) into the compact storage: kept and nz are the block's
// kept coefficients and nonzero bitmap. It does the same as the general code
// in processSOS, dc is the component's DC predictor.
func (d *decoder) decodeFirstCompact(kept []int16, nz *uint64, dcH, acH *huffman, zigStart, zigEnd int32, al uint32, dc *int32) error {
	zig := zigStart
	if zig == 0 {
		zig++
		// Decode the DC coefficient, as specified in section F.2.2.1.
		value, err := d.decodeHuffman(dcH)
		if err != nil {
			return err
		}
		if value > 16 {
			return UnsupportedError("excessive DC component")
		}
		dcDelta, err := d.receiveExtend(value)
		if err != nil {
			return err
		}
		*dc += dcDelta
		kept[0] = sat16(*dc << al)
	}
	if zig > zigEnd {
		return nil
	}
	if d.eobRun > 0 {
		d.eobRun--
		return nil
	}
	// Decode the AC coefficients, as specified in section F.2.2.2.
	keep := &d.keep
	m := *nz
	for ; zig <= zigEnd; zig++ {
		value, err := d.decodeHuffman(acH)
		if err != nil {
			return err
		}
		val0 := value >> 4
		val1 := value & 0x0f
		if val1 != 0 {
			zig += int32(val0)
			if zig > zigEnd {
				break
			}
			ac, err := d.receiveExtend(val1)
			if err != nil {
				return err
			}
			zig &= blockSize - 1 // zig <= zigEnd < blockSize: this just removes bounds checks.
			m |= 1 << uint(zig)
			if k := keep[zig]; k >= 0 {
				kept[k] = sat16(ac << al)
			}
		} else {
			if val0 != 0x0f {
				d.eobRun = uint16(1 << val0)
				if val0 != 0 {
					bits, err := d.decodeBits(int32(val0))
					if err != nil {
						*nz = m
						return err
					}
					d.eobRun |= uint16(bits)
				}
				d.eobRun--
				break
			}
			zig += 0x0f
		}
	}
	*nz = m
	return nil
}

// refineCompact decodes a successive approximation refinement block, as
// specified in section G.1.2, into the compact storage. It is refine and
// refineNonZeroes, with the nonzero coefficients found in the bitmap.
func (d *decoder) refineCompact(kept []int16, nz *uint64, h *huffman, zigStart, zigEnd, delta int32) error {
	// Refining a DC component is trivial.
	if zigStart == 0 {
		if zigEnd != 0 {
			panic("unreachable")
		}
		bit, err := d.decodeBit()
		if err != nil {
			return err
		}
		if bit {
			kept[0] = sat16(int32(kept[0]) | delta)
		}
		return nil
	}

	// Refining AC components is more complicated; see sections G.1.2.2 and G.1.2.3.
	zig := zigStart
	if d.eobRun == 0 {
	loop:
		for ; zig <= zigEnd; zig++ {
			z := int32(0)
			value, err := d.decodeHuffman(h)
			if err != nil {
				return err
			}
			val0 := value >> 4
			val1 := value & 0x0f

			switch val1 {
			case 0:
				if val0 != 0x0f {
					d.eobRun = uint16(1 << val0)
					if val0 != 0 {
						bits, err := d.decodeBits(int32(val0))
						if err != nil {
							return err
						}
						d.eobRun |= uint16(bits)
					}
					break loop
				}
			case 1:
				z = delta
				bit, err := d.decodeBit()
				if err != nil {
					return err
				}
				if !bit {
					z = -z
				}
			default:
				return FormatError("unexpected Huffman code")
			}

			zig, err = d.refineNonZeroesCompact(kept, *nz, zig, zigEnd, int32(val0), delta)
			if err != nil {
				return err
			}
			if zig > zigEnd {
				return FormatError("too many coefficients")
			}
			if z != 0 {
				zig &= blockSize - 1 // zig <= zigEnd < blockSize.
				*nz |= 1 << uint(zig)
				if k := d.keep[zig]; k >= 0 {
					kept[k] = sat16(z)
				}
			}
		}
	}
	if d.eobRun > 0 {
		d.eobRun--
		if _, err := d.refineNonZeroesCompact(kept, *nz, zig, zigEnd, -1, delta); err != nil {
			return err
		}
	}
	return nil
}

// refineNonZeroesCompact is refineNonZeroes for the compact storage: it reads
// a correction bit for each nonzero coefficient (in the bitmap m) from zig
// on, up to zigEnd or, if nz >= 0, up to the (nz+1)th zero coefficient, and
// returns where it stopped: that zero coefficient's index, or zigEnd+1.
func (d *decoder) refineNonZeroesCompact(kept []int16, m uint64, zig, zigEnd, nz, delta int32) (int32, error) {
	// band is the bits of zig..zigEnd (zig <= zigEnd+1, zigEnd < 64).
	band := (uint64(1)<<uint(zigEnd-zig+1) - 1) << uint(zig)
	if zigEnd-zig+1 == 64 {
		band = ^uint64(0)
	}
	end := zigEnd + 1
	if nz >= 0 {
		// Find the (nz+1)th zero of the band.
		zeros := ^m & band
		for ; nz > 0 && zeros != 0; nz-- {
			zeros &= zeros - 1
		}
		if zeros != 0 {
			end = int32(bits.TrailingZeros64(zeros))
			band &= 1<<uint(end) - 1
		}
	}
	for set := m & band; set != 0; set &= set - 1 {
		z := bits.TrailingZeros64(set)
		bit, err := d.decodeBit()
		if err != nil {
			return 0, err
		}
		if !bit {
			continue
		}
		if k := d.keep[z&(blockSize-1)]; k >= 0 {
			if v := int32(kept[k]); v >= 0 {
				kept[k] = sat16(v + delta)
			} else {
				kept[k] = sat16(v - delta)
			}
		}
	}
	return end, nil
}

// reconstructCompact does the inverse DCTs of the blocks kept in the compact
// storage, as reconstructProgressiveImage does for full blocks.
func (d *decoder) reconstructCompact() error {
	h0 := d.comp[0].h
	mxx := (d.width + 8*h0 - 1) / (8 * h0)
	n := d.bs
	nn := n * n
	// The reduced inverse DCTs read only the top-left n x n coefficients of
	// b, the only ones written.
	var b block
	for i := 0; i < d.nComp; i++ {
		kept := d.progKept[i]
		if kept == nil {
			continue
		}
		v := 8 * d.comp[0].v / d.comp[i].v
		h := 8 * d.comp[0].h / d.comp[i].h
		stride := mxx * d.comp[i].h
		for by := 0; by*v < d.height; by++ {
			for bx := 0; bx*h < d.width; bx++ {
				c := kept[(by*stride+bx)*nn:][:nn]
				for y := 0; y < n; y++ {
					for x := 0; x < n; x++ {
						b[8*y+x] = int32(c[y*n+x])
					}
				}
				if err := d.reconstructBlock(&b, bx, by, i, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
