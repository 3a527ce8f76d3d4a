package isobmff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
)

// Image is what ReadHEIF finds about a HEIF still image (HEIC, AVIF).
type Image struct {
	// Width and Height are the primary item's size as stored (its ispe
	// property; for a grid image, the grid's: the whole picture), before
	// Rotation and Mirror.
	Width, Height int
	// Rotation is the primary item's irot: degrees anticlockwise (0, 90,
	// 180 or 270) to turn the stored image for display.
	Rotation int
	// Mirror says the primary item has an imir property: it is shown
	// mirrored. (HEIF applies irot and imir in the order the item lists
	// them; that order is not kept here. Apple writes irot only.)
	Mirror bool
	// Exif is the Exif metadata describing the primary item, starting at
	// its TIFF header ("II*\x00" or "MM\x00*"); nil when there is none, it
	// is larger than MaxExif, or it is not where the file says.
	Exif []byte
	// XMP is the XMP packet of the file (a "mime" item of content type
	// application/rdf+xml); nil when there is none or it is larger than
	// MaxXMP.
	XMP []byte
	// Brand is the file type box's major brand: "heic", "mif1", "avif"...
	Brand string
	// Grid is the output size a grid primary item's data declares (0x0
	// for other items): what a decoder allocates for the whole picture,
	// whatever the ispe property says.
	GridWidth, GridHeight int
	// LargestWidth x LargestHeight is the largest ispe property of any
	// item (tiles, thumbnails, auxiliary images, the primary item): a
	// decoder may allocate that much for one item.
	LargestWidth, LargestHeight int
}

// ReadHEIF reads the primary image's size, rotation and Exif from a HEIF
// file (HEIC, HEIF, AVIF) of size bytes.
func ReadHEIF(r io.ReaderAt, size int64) (*Image, error) {
	f, err := newFile(r, size)
	if err != nil {
		return nil, err
	}
	img := &Image{}
	found := false
	err = f.each(0, size, 0, func(b box) error {
		switch b.typ {
		case "ftyp":
			if p, err := f.head(b, 4); err != nil {
				return err
			} else if img.Brand == "" && len(p) == 4 {
				img.Brand = text(p)
			}
		case "meta":
			found = true
			if err := f.heif(b, img); err != nil {
				return err
			}
			return errStop
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errf("no meta box")
	}
	return img, nil
}

type extent struct{ off, n uint64 }

// location is an item's iloc entry.
type location struct {
	method  uint8  // construction method: 0 file offsets, 1 idat offsets
	dataRef uint16 // 0: this file
	base    uint64
	extents []extent
}

// heifMeta is the meta box of a HEIF file, being read.
type heifMeta struct {
	f                                  *file
	hdlr, pitm, iinf, iref, iloc, iprp box // typ "" when absent
	idat                               box
	primary                            uint32
	primaryType                        string
	exifItems                          []uint32
	exif                               uint32 // the Exif item used; 0: none
	xmp                                uint32 // the first XMP item; 0: none
	locs                               map[uint32]*location
}

// errSkip says an item's data is left out: too large, in another file, or
// built in a way this package does not support.
var errSkip = errors.New("skipped")

func (f *file) heif(b box, img *Image) error {
	h := &heifMeta{f: f}
	err := f.children(b, 4, 1, func(c box) error {
		var slot *box
		switch c.typ {
		case "hdlr":
			slot = &h.hdlr
		case "pitm":
			slot = &h.pitm
		case "iinf":
			slot = &h.iinf
		case "iref":
			slot = &h.iref
		case "iloc":
			slot = &h.iloc
		case "iprp":
			slot = &h.iprp
		case "idat":
			slot = &h.idat
		default:
			return nil
		}
		if slot.typ == "" {
			*slot = c
		}
		return nil
	})
	if err != nil {
		return err
	}
	if h.hdlr.typ == "" {
		return errf("meta box without a handler")
	}
	p, err := f.head(h.hdlr, 12)
	if err != nil {
		return err
	}
	if len(p) < 12 {
		return errf("%v is truncated", h.hdlr)
	}
	if t := string(p[8:12]); t != "pict" {
		return errf("meta box for %q, not a picture", t)
	}
	if err := h.readPitm(); err != nil {
		return err
	}
	if err := h.readIinf(); err != nil {
		return err
	}
	if err := h.readIref(); err != nil {
		return err
	}
	if err := h.readIloc(); err != nil {
		return err
	}
	if err := h.readIprp(img); err != nil {
		return err
	}
	// The primary image's data must be in the file: a HEIC cut short
	// says so here.
	if loc := h.locs[h.primary]; loc != nil && loc.dataRef == 0 && loc.method <= 1 {
		if _, _, err := h.spans(h.primary, loc, math.MaxInt64); err != nil && !errors.Is(err, errSkip) {
			return err
		}
	}
	if h.primaryType == "grid" {
		if p, err := h.itemData(h.primary, 64); err == nil {
			img.GridWidth, img.GridHeight = gridSize(p)
			if img.Width == 0 {
				img.Width, img.Height = img.GridWidth, img.GridHeight
			}
		} else if !errors.Is(err, errSkip) {
			return err
		}
	}
	if h.exif != 0 {
		p, err := h.itemData(h.exif, MaxExif+64)
		switch {
		case err == nil:
			if img.Exif = tiffStart(p); len(img.Exif) > MaxExif {
				img.Exif = nil
			}
		case !errors.Is(err, errSkip):
			return err
		}
	}
	if h.xmp != 0 {
		switch p, err := h.itemData(h.xmp, MaxXMP); {
		case err == nil:
			img.XMP = p
		case !errors.Is(err, errSkip):
			return err
		}
	}
	return nil
}

func (h *heifMeta) readPitm() error {
	if h.pitm.typ == "" {
		return errf("no primary item (pitm)")
	}
	p, err := h.f.head(h.pitm, 8)
	if err != nil {
		return err
	}
	c := cursor{b: p}
	switch v, _ := c.fullBox(); v {
	case 0:
		h.primary = uint32(c.u16())
	case 1:
		h.primary = c.u32()
	default:
		return errf("%v: unknown version %d", h.pitm, v)
	}
	if c.bad {
		return errf("%v is truncated", h.pitm)
	}
	return nil
}

// readIinf finds the primary item's type and the Exif items.
func (h *heifMeta) readIinf() error {
	if h.iinf.typ == "" {
		return nil
	}
	p, err := h.f.head(h.iinf, 4)
	if err != nil {
		return err
	}
	skip := int64(4 + 4) // version and flags, 32-bit entry count
	if len(p) == 4 && p[0] == 0 {
		skip = 4 + 2
	}
	return h.f.children(h.iinf, skip, 2, func(c box) error {
		if c.typ != "infe" {
			return nil
		}
		p, err := h.f.head(c, 512)
		if err != nil {
			return err
		}
		c2 := cursor{b: p}
		var id uint32
		switch v, _ := c2.fullBox(); v {
		case 0, 1: // no item type: not an image or Exif item
			return nil
		case 2:
			id = uint32(c2.u16())
		default:
			id = c2.u32()
		}
		c2.skip(2) // protection index
		typ := c2.take(4)
		if c2.bad {
			return errf("%v is truncated", c)
		}
		if id == h.primary && h.primaryType == "" {
			h.primaryType = string(typ)
		}
		if string(typ) == "Exif" && len(h.exifItems) < 16 {
			h.exifItems = append(h.exifItems, id)
		}
		if string(typ) == "mime" && h.xmp == 0 {
			// item_name, then content_type, each ending in a zero byte.
			rest := c2.b
			if i := bytes.IndexByte(rest, 0); i >= 0 {
				rest = rest[i+1:]
				if j := bytes.IndexByte(rest, 0); j >= 0 && string(rest[:j]) == "application/rdf+xml" {
					h.xmp = id
				}
			}
		}
		return nil
	})
}

// readIref picks the Exif item describing the primary item (a cdsc
// reference), else the first Exif item describing nothing in particular.
func (h *heifMeta) readIref() error {
	if len(h.exifItems) == 0 {
		return nil
	}
	isExif := func(id uint32) bool {
		for _, e := range h.exifItems {
			if e == id {
				return true
			}
		}
		return false
	}
	describes := map[uint32]bool{} // Exif items with a cdsc reference
	if h.iref.typ != "" {
		p, err := h.f.head(h.iref, 4)
		if err != nil {
			return err
		}
		if len(p) < 4 {
			return errf("%v is truncated", h.iref)
		}
		idSize := 2
		if p[0] != 0 {
			idSize = 4
		}
		err = h.f.children(h.iref, 4, 2, func(c box) error {
			if c.typ != "cdsc" {
				return nil
			}
			p, err := h.f.payload(c, 0, maxLeaf)
			if err != nil {
				return err
			}
			r := cursor{b: p}
			from := uint32(r.uint(idSize))
			n := int(r.u16())
			if r.bad {
				return errf("%v is truncated", c)
			}
			if !isExif(from) {
				return nil
			}
			describes[from] = true
			for i := 0; i < n && !r.bad; i++ {
				if uint32(r.uint(idSize)) == h.primary && !r.bad {
					h.exif = from
					return errStop
				}
			}
			if r.bad {
				return errf("%v is truncated", c)
			}
			return nil
		})
		if err != nil || h.exif != 0 {
			return err
		}
	}
	for _, id := range h.exifItems {
		if !describes[id] {
			h.exif = id
			break
		}
	}
	return nil
}

// readIloc reads the locations of the primary and Exif items.
func (h *heifMeta) readIloc() error {
	h.locs = map[uint32]*location{}
	if h.iloc.typ == "" {
		return nil
	}
	p, err := h.f.payload(h.iloc, 0, maxLeaf)
	if err != nil {
		return err
	}
	c := cursor{b: p}
	v, _ := c.fullBox()
	if v > 2 {
		return errf("%v: unknown version %d", h.iloc, v)
	}
	sizes := c.u16()
	offSize, lenSize, baseSize, idxSize := int(sizes>>12), int(sizes>>8&15), int(sizes>>4&15), int(sizes&15)
	if v == 0 {
		idxSize = 0 // reserved
	}
	for _, s := range []int{offSize, lenSize, baseSize, idxSize} {
		if s != 0 && s != 4 && s != 8 {
			return errf("%v: field size %d", h.iloc, s)
		}
	}
	var count uint32
	if v < 2 {
		count = uint32(c.u16())
	} else {
		count = c.u32()
	}
	for i := uint32(0); i < count && !c.bad; i++ {
		var id uint32
		if v < 2 {
			id = uint32(c.u16())
		} else {
			id = c.u32()
		}
		var method uint8
		if v >= 1 {
			method = uint8(c.u16() & 15)
		}
		dataRef := c.u16()
		base := c.uint(baseSize)
		n := int(c.u16())
		per := idxSize + offSize + lenSize
		if n*per > c.left() || (per == 0 && n > 1) {
			return errf("%v: item %d: %d extents do not fit", h.iloc, id, n)
		}
		var loc *location
		if (id == h.primary || id == h.exif || (h.xmp != 0 && id == h.xmp)) && h.locs[id] == nil {
			loc = &location{method: method, dataRef: dataRef, base: base, extents: make([]extent, 0, n)}
			h.locs[id] = loc
		}
		for j := 0; j < n; j++ {
			c.uint(idxSize)
			off, ln := c.uint(offSize), c.uint(lenSize)
			if loc != nil {
				loc.extents = append(loc.extents, extent{off, ln})
			}
		}
	}
	if c.bad {
		return errf("%v is truncated", h.iloc)
	}
	return nil
}

type span struct{ off, n int64 }

// spans resolves an item's extents to byte ranges of the file, checking
// they lie within the file (or its idat box) and add up to at most max
// bytes (else errSkip).
func (h *heifMeta) spans(id uint32, loc *location, max int64) ([]span, int64, error) {
	if loc.dataRef != 0 || loc.method > 1 {
		return nil, 0, errSkip
	}
	start, end, where := int64(0), h.f.size, "file"
	if loc.method == 1 {
		if h.idat.typ == "" {
			return nil, 0, errf("item %d refers to a missing idat box", id)
		}
		start, end, where = h.idat.data, h.idat.end, "idat box"
	}
	room := uint64(end - start)
	var out []span
	var total int64
	for _, e := range loc.extents {
		if e.off > math.MaxUint64-loc.base {
			return nil, 0, errf("item %d: extent offset overflows", id)
		}
		off, n := loc.base+e.off, e.n
		if n == 0 && len(loc.extents) == 1 && off <= room { // to the end
			n = room - off
		}
		if off > room || n > room-off {
			return nil, 0, errf("item %d: %d bytes at %d past the end of the %s (%d bytes)", id, n, off, where, room)
		}
		if int64(n) > max-total {
			return nil, 0, errSkip
		}
		total += int64(n)
		out = append(out, span{start + int64(off), int64(n)})
	}
	return out, total, nil
}

// itemData reads an item's data, at most max bytes (else errSkip).
func (h *heifMeta) itemData(id uint32, max int64) ([]byte, error) {
	loc := h.locs[id]
	if loc == nil {
		return nil, errSkip
	}
	spans, total, err := h.spans(id, loc, max)
	if err != nil {
		return nil, err
	}
	p := make([]byte, total)
	at := int64(0)
	for _, s := range spans {
		if err := h.f.readAt(p[at:at+s.n], s.off); err != nil {
			return nil, err
		}
		at += s.n
	}
	return p, nil
}

// readIprp reads the primary item's ispe, irot and imir properties, and
// the largest ispe of any item.
func (h *heifMeta) readIprp(img *Image) error {
	if h.iprp.typ == "" {
		return nil
	}
	var ipco box
	var ipmas []box
	err := h.f.children(h.iprp, 0, 2, func(c box) error {
		switch c.typ {
		case "ipco":
			if ipco.typ == "" {
				ipco = c
			}
		case "ipma":
			if len(ipmas) < 8 {
				ipmas = append(ipmas, c)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	want := map[int]bool{} // 1-based indexes into ipco
	for _, b := range ipmas {
		p, err := h.f.payload(b, 0, maxLeaf)
		if err != nil {
			return err
		}
		c := cursor{b: p}
		v, flags := c.fullBox()
		n := c.u32()
		for i := uint32(0); i < n && !c.bad; i++ {
			var id uint32
			if v < 1 {
				id = uint32(c.u16())
			} else {
				id = c.u32()
			}
			k := int(c.u8())
			for j := 0; j < k; j++ {
				var idx int
				if flags&1 != 0 {
					idx = int(c.u16() & 0x7FFF)
				} else {
					idx = int(c.u8() & 0x7F)
				}
				if id == h.primary && idx != 0 && !c.bad {
					want[idx] = true
				}
			}
		}
		if c.bad {
			return errf("%v is truncated", b)
		}
	}
	if ipco.typ == "" {
		return nil
	}
	idx, haveSize := 0, false
	return h.f.children(ipco, 0, 3, func(c box) error {
		idx++
		if !want[idx] && c.typ != "ispe" {
			return nil
		}
		switch c.typ {
		case "ispe":
			p, err := h.f.head(c, 12)
			if err != nil {
				return err
			}
			r := cursor{b: p}
			r.fullBox()
			w, ht := r.u32(), r.u32()
			switch {
			case r.bad && !want[idx]:
				return nil // another item's broken size: not this file's
			case r.bad:
				return errf("%v is truncated", c)
			}
			// A size beyond int32 counts as the largest int32 one: too
			// large to decode, whichever item it is.
			lw, lh := int64(min(w, math.MaxInt32)), int64(min(ht, math.MaxInt32))
			if lw*lh > int64(img.LargestWidth)*int64(img.LargestHeight) {
				img.LargestWidth, img.LargestHeight = int(lw), int(lh)
			}
			if haveSize || !want[idx] {
				return nil
			}
			if w > math.MaxInt32 || ht > math.MaxInt32 {
				return errf("%v: size %dx%d", c, w, ht)
			}
			img.Width, img.Height, haveSize = int(w), int(ht), true
		case "irot":
			p, err := h.f.head(c, 1)
			if err != nil {
				return err
			}
			if len(p) < 1 {
				return errf("%v is truncated", c)
			}
			img.Rotation = int(p[0]&3) * 90
		case "imir":
			img.Mirror = true
		}
		return nil
	})
}

// gridSize is the output size in a grid item's data.
func gridSize(p []byte) (w, h int) {
	c := cursor{b: p}
	c.u8() // version
	flags := c.u8()
	c.skip(2) // rows - 1, columns - 1
	var cw, ch uint64
	if flags&1 != 0 {
		cw, ch = uint64(c.u32()), uint64(c.u32())
	} else {
		cw, ch = uint64(c.u16()), uint64(c.u16())
	}
	if c.bad || cw > math.MaxInt32 || ch > math.MaxInt32 {
		return 0, 0
	}
	return int(cw), int(ch)
}

// tiffStart finds the TIFF header in an Exif item's data: after the 32-bit
// offset that starts it, the offset's worth of bytes ("Exif\0\0" in Apple's
// files) skipped. Writers that got the offset wrong are forgiven when the
// header is within the first bytes.
func tiffStart(p []byte) []byte {
	isTIFF := func(q []byte) bool {
		return bytes.HasPrefix(q, []byte("II*\x00")) || bytes.HasPrefix(q, []byte("MM\x00*"))
	}
	if len(p) < 4 {
		return nil
	}
	if off := binary.BigEndian.Uint32(p); uint64(off) <= uint64(len(p)-4) && isTIFF(p[4+off:]) {
		return p[4+off:]
	}
	for i := 0; i < 32 && i+4 <= len(p); i++ {
		if isTIFF(p[i:]) {
			return p[i:]
		}
	}
	return nil
}
