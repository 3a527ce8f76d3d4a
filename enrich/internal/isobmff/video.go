package isobmff

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"time"
)

// Video is what ReadVideo finds in a movie's header (the moov box).
type Video struct {
	// Created is the movie header's creation time (UTC; the zero Time
	// when the file says 0, i.e. unknown). Cameras that keep local time
	// write their clock's reading here as if it were UTC.
	Created time.Time
	// Duration is the movie header's duration, else a fragmented movie's
	// (mehd), else the longest track's.
	Duration time.Duration
	// Width and Height are the first video track's size as displayed:
	// the track header's, rotated by Rotation, else the sample
	// description's coded size, rotated.
	Width, Height int
	// Rotation is the clockwise rotation, in degrees (0, 90, 180 or 270),
	// the video track's matrix applies for display: 90 for an iPhone
	// video shot in portrait. (ExifTool's Rotation, Android's
	// METADATA_KEY_VIDEO_ROTATION; ffprobe shows the opposite sign.)
	Rotation int
	// Lat, Lon and Alt (metres) are the recorded location, nil when
	// there is none: Apple's com.apple.quicktime.location.ISO6709, the
	// QuickTime/Android ©xyz, a "location" key, or the 3GPP loci box
	// (whose altitude is always there: ffmpeg writes 0 when it has none).
	Lat, Lon, Alt *float64
	// Make and Model are com.apple.quicktime.make/model or ©mak/©mod.
	Make, Model string
	// CreationDate is com.apple.quicktime.creationdate as written
	// (ISO 8601 local time with its offset, "2023-07-21T18:45:10-0700"),
	// "" when absent.
	CreationDate string
	// XMP is the movie's XMP packet: a top-level uuid box of Adobe's XMP
	// UUID (MP4), else moov/udta/XMP_ (QuickTime); nil when there is none
	// or it is larger than MaxXMP.
	XMP []byte
	// ContentID is com.apple.quicktime.content.identifier: the UUID an
	// iPhone writes in both halves of a Live Photo (the still's MakerNote
	// holds the same), "" when absent.
	ContentID string
}

// xmpUUID is the uuid box type of XMP in ISO files (Adobe XMP part 3).
const xmpUUID = "\xbe\x7a\xcf\xcb\x97\xa9\x42\xe8\x9c\x71\x99\x94\x91\xe3\xaf\xac"

// mp4Epoch is 1904-01-01T00:00:00Z as a Unix time.
const mp4Epoch = -2082844800

// maxTracks is the number of tracks looked at; more are ignored.
const maxTracks = 64

// ReadVideo reads the metadata of a movie (MP4, MOV, 3GP, M4V) of size
// bytes. It finds the movie box wherever it is (at the start of a
// "faststart" file or after the media data); of the boxes after it, only
// the headers are read (for a top-level XMP uuid box), and a file cut
// short or malformed after its movie box still reads. A malformed movie box
// is an error, except in its user data (udta, meta): a broken entry there
// costs only the fields it would have given.
func ReadVideo(r io.ReaderAt, size int64) (*Video, error) {
	f, err := newFile(r, size)
	if err != nil {
		return nil, err
	}
	var v *Video
	var uuidXMP []byte
	err = f.each(0, size, 0, func(b box) error {
		switch b.typ {
		case "uuid":
			if uuidXMP == nil && b.size() > 16 && b.size() <= 16+MaxXMP {
				if h, err := f.head(b, 16); err == nil && string(h) == xmpUUID {
					if p, err := f.payload(b, 16, MaxXMP); err == nil {
						uuidXMP = p
					}
				}
			}
		case "moov":
			if v != nil {
				return nil
			}
			var err error
			if v, err = f.moov(b); err != nil {
				return err
			}
		}
		return nil
	})
	if v != nil {
		// What follows the movie box (media data, XMP) may be cut short
		// or malformed: the movie is read all the same.
		err = nil
		if uuidXMP != nil {
			v.XMP = uuidXMP
		}
	}
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errf("no movie box (moov)")
	}
	return v, nil
}

// Metadata fields and the names they come from; of two names for one
// field, the lower rank wins.
const (
	fieldLoc = iota
	fieldMake
	fieldModel
	fieldDate
	fieldCID
	numFields
)

var metaNames = map[string]struct{ field, rank int }{
	"com.apple.quicktime.location.ISO6709":   {fieldLoc, 1},
	"\xa9xyz":                                {fieldLoc, 2},
	"location":                               {fieldLoc, 3},
	"com.apple.quicktime.make":               {fieldMake, 1},
	"\xa9mak":                                {fieldMake, 2},
	"com.apple.quicktime.model":              {fieldModel, 1},
	"\xa9mod":                                {fieldModel, 2},
	"com.apple.quicktime.creationdate":       {fieldDate, 1},
	"com.apple.quicktime.content.identifier": {fieldCID, 1},
}

const lociRank = 4 // the 3GPP location box ranks after every string

type track struct {
	handler              string
	dur                  uint64 // tkhd, in the movie's timescale
	mdhdDur, mdhdScale   uint64
	width, height        int // tkhd, 16.16 rounded
	rotation             int
	entryWidth, entryHgt int // first sample description
}

type movie struct {
	f                 *file
	hasMvhd           bool
	created           uint64
	scale, dur        uint64
	fragDur           uint64 // mehd, in the movie's timescale
	tracks            []*track
	ranks             [numFields]int // of the values held; 0: none
	make, model, date string
	cid               string
	lat, lon          float64
	alt               *float64
	xmp               []byte
}

func (f *file) moov(b box) (*Video, error) {
	m := &movie{f: f}
	err := f.children(b, 0, 1, func(c box) error {
		switch c.typ {
		case "mvhd":
			return m.mvhd(c)
		case "trak":
			return m.trak(c, 2)
		case "mvex":
			return m.mvex(c, 2)
		case "udta":
			return lenient(m.udta(c, 2))
		case "meta":
			return lenient(m.meta(c, 2))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !m.hasMvhd {
		return nil, errf("%v has no movie header (mvhd)", b)
	}
	return m.video(), nil
}

// lenient drops a format error in optional metadata: a quirky or broken
// user-data box costs its own fields, not the rest of the movie's.
// (The box budget still holds: once spent, every later walk fails.)
func lenient(err error) error {
	if errors.Is(err, ErrFormat) {
		return nil
	}
	return err
}

// mvex reads a fragmented movie's duration (mehd), for when mvhd has none.
func (m *movie) mvex(b box, depth int) error {
	return m.f.children(b, 0, depth, func(c box) error {
		if c.typ != "mehd" {
			return nil
		}
		p, err := m.f.head(c, 12)
		if err != nil {
			return err
		}
		r := cursor{b: p}
		if v, _ := r.fullBox(); v == 1 {
			m.fragDur = r.u64()
		} else {
			m.fragDur = uint64(r.u32())
		}
		if r.bad {
			return errf("%v is truncated", c)
		}
		return errStop
	})
}

func (m *movie) mvhd(b box) error {
	if m.hasMvhd {
		return nil
	}
	p, err := m.f.head(b, 32)
	if err != nil {
		return err
	}
	c := cursor{b: p}
	switch v, _ := c.fullBox(); v {
	case 0:
		m.created = uint64(c.u32())
		c.skip(4) // modification time
		m.scale = uint64(c.u32())
		if m.dur = uint64(c.u32()); m.dur == math.MaxUint32 {
			m.dur = 0
		}
	case 1:
		m.created = c.u64()
		c.skip(8)
		m.scale = uint64(c.u32())
		if m.dur = c.u64(); m.dur == math.MaxUint64 {
			m.dur = 0
		}
	default:
		return errf("%v: unknown version %d", b, v)
	}
	if c.bad {
		return errf("%v is truncated", b)
	}
	m.hasMvhd = true
	return nil
}

func (m *movie) trak(b box, depth int) error {
	t := &track{}
	f := m.f
	err := f.children(b, 0, depth, func(c box) error {
		switch c.typ {
		case "tkhd":
			return t.tkhd(f, c)
		case "mdia":
			return f.children(c, 0, depth+1, func(d box) error {
				switch d.typ {
				case "mdhd":
					return t.mdhd(f, d)
				case "hdlr":
					p, err := f.head(d, 12)
					if err != nil {
						return err
					}
					if len(p) < 12 {
						return errf("%v is truncated", d)
					}
					t.handler = string(p[8:12])
				case "minf":
					return f.children(d, 0, depth+2, func(e box) error {
						if e.typ != "stbl" {
							return nil
						}
						return f.children(e, 0, depth+3, func(g box) error {
							if g.typ != "stsd" {
								return nil
							}
							return t.stsd(f, g, depth+4)
						})
					})
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(m.tracks) < maxTracks {
		m.tracks = append(m.tracks, t)
	}
	return nil
}

func (t *track) tkhd(f *file, b box) error {
	p, err := f.head(b, 96)
	if err != nil {
		return err
	}
	c := cursor{b: p}
	switch v, _ := c.fullBox(); v {
	case 0:
		c.skip(4 + 4 + 4 + 4) // creation, modification, track ID, reserved
		if t.dur = uint64(c.u32()); t.dur == math.MaxUint32 {
			t.dur = 0
		}
	case 1:
		c.skip(8 + 8 + 4 + 4)
		if t.dur = c.u64(); t.dur == math.MaxUint64 {
			t.dur = 0
		}
	default:
		return errf("%v: unknown version %d", b, v)
	}
	c.skip(8 + 2 + 2 + 2 + 2) // reserved, layer, alternate group, volume, reserved
	var mx [9]int32
	for i := range mx {
		mx[i] = int32(c.u32())
	}
	w, h := c.u32(), c.u32()
	if c.bad {
		return errf("%v is truncated", b)
	}
	t.width, t.height = int((uint64(w)+0x8000)>>16), int((uint64(h)+0x8000)>>16)
	t.rotation = matrixRotation(mx[0], mx[1])
	return nil
}

// matrixRotation is the clockwise display rotation, to the nearest quarter
// turn, of a transformation matrix whose first row starts a, b.
func matrixRotation(a, b int32) int {
	abs := func(x int32) int64 {
		if x < 0 {
			return -int64(x)
		}
		return int64(x)
	}
	switch {
	case abs(a) >= abs(b) && a >= 0:
		return 0
	case abs(a) >= abs(b):
		return 180
	case b > 0:
		return 90
	}
	return 270
}

func (t *track) mdhd(f *file, b box) error {
	p, err := f.head(b, 32)
	if err != nil {
		return err
	}
	c := cursor{b: p}
	switch v, _ := c.fullBox(); v {
	case 0:
		c.skip(8)
		t.mdhdScale = uint64(c.u32())
		if t.mdhdDur = uint64(c.u32()); t.mdhdDur == math.MaxUint32 {
			t.mdhdDur = 0
		}
	case 1:
		c.skip(16)
		t.mdhdScale = uint64(c.u32())
		if t.mdhdDur = c.u64(); t.mdhdDur == math.MaxUint64 {
			t.mdhdDur = 0
		}
	default:
		return errf("%v: unknown version %d", b, v)
	}
	if c.bad {
		return errf("%v is truncated", b)
	}
	return nil
}

// stsd reads the coded size in the first sample description; it means
// something only in a video track.
func (t *track) stsd(f *file, b box, depth int) error {
	return f.children(b, 8, depth, func(e box) error { // after version, flags, entry count
		p, err := f.head(e, 28)
		if err != nil {
			return err
		}
		if len(p) == 28 { // reserved 6, data reference index 2, pre-defined and reserved 16
			t.entryWidth = int(binary.BigEndian.Uint16(p[24:]))
			t.entryHgt = int(binary.BigEndian.Uint16(p[26:]))
		}
		return errStop
	})
}

func (m *movie) udta(b box, depth int) error {
	return m.f.children(b, 0, depth, func(c box) error {
		switch c.typ {
		case "meta":
			return m.meta(c, depth+1)
		case "XMP_":
			if m.xmp == nil && c.size() <= MaxXMP {
				p, err := m.f.payload(c, 0, MaxXMP)
				if err != nil {
					return err
				}
				m.xmp = p
			}
		case "loci":
			if c.size() > maxText {
				return nil
			}
			p, err := m.f.payload(c, 0, maxText)
			if err != nil {
				return err
			}
			if lat, lon, alt, ok := parseLoci(p); ok && m.claim(fieldLoc, lociRank) {
				m.lat, m.lon, m.alt = lat, lon, &alt
			}
		default:
			if _, ok := metaNames[c.typ]; !ok || c.size() > maxText {
				return nil
			}
			p, err := m.f.payload(c, 0, maxText)
			if err != nil {
				return err
			}
			m.offer(c.typ, qtText(p))
		}
		return nil
	})
}

// claim says whether a value of the given rank replaces the field's
// current one, and records it when it does.
func (m *movie) claim(field, rank int) bool {
	if r := m.ranks[field]; r != 0 && r <= rank {
		return false
	}
	m.ranks[field] = rank
	return true
}

// offer records the value of a metadata name if it is one ReadVideo uses
// and outranks what the field has.
func (m *movie) offer(name, value string) {
	n, ok := metaNames[name]
	if !ok || value == "" {
		return
	}
	if n.field == fieldLoc {
		lat, lon, alt, ok := ParseISO6709(value)
		if ok && m.claim(fieldLoc, n.rank) {
			m.lat, m.lon, m.alt = lat, lon, alt
		}
		return
	}
	if !m.claim(n.field, n.rank) {
		return
	}
	switch n.field {
	case fieldMake:
		m.make = value
	case fieldModel:
		m.model = value
	case fieldDate:
		m.date = value
	case fieldCID:
		m.cid = value
	}
}

// meta reads a metadata box: QuickTime's (moov/meta, with keys naming the
// ilst items; iPhones) or ISO's (udta/meta; iTunes-style ilst items named
// by their type, or keys written by ffmpeg).
func (m *movie) meta(b box, depth int) error {
	f := m.f
	skip, err := f.metaSkip(b)
	if err != nil {
		return err
	}
	var keys []string
	var lists []box
	err = f.children(b, skip, depth, func(c box) error {
		switch c.typ {
		case "keys":
			if keys == nil {
				p, err := f.payload(c, 0, maxLeaf)
				if err != nil {
					return err
				}
				if keys = parseKeys(p); keys == nil {
					return errf("%v is truncated", c)
				}
			}
		case "ilst":
			if len(lists) < 4 {
				lists = append(lists, c)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, l := range lists {
		err := f.children(l, 0, depth+1, func(item box) error {
			name := item.typ
			if len(keys) > 0 {
				if i := binary.BigEndian.Uint32([]byte(item.typ)); i >= 1 && uint64(i) <= uint64(len(keys)) {
					name = keys[i-1]
				}
			}
			if _, ok := metaNames[name]; !ok {
				return nil
			}
			return f.children(item, 0, depth+2, func(d box) error {
				if d.typ != "data" || d.size() > maxText {
					return nil
				}
				p, err := f.payload(d, 0, maxText)
				if err != nil {
					return err
				}
				m.offer(name, dataValue(p))
				return errStop
			})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// parseKeys reads a QuickTime keys box: the names of the ilst items, ""
// for those ReadVideo has no use for (nil when the box is malformed).
func parseKeys(p []byte) []string {
	c := cursor{b: p}
	c.fullBox()
	n := c.u32()
	keys := []string{}
	for i := uint32(0); i < n && !c.bad; i++ {
		size := c.u32()
		c.skip(4) // namespace, "mdta"
		if size < 8 || uint64(size-8) > uint64(c.left()) {
			c.bad = true
			break
		}
		name := c.take(int(size - 8))
		if _, ok := metaNames[string(name)]; ok {
			keys = append(keys, string(name))
		} else {
			keys = append(keys, "") // not kept: a hostile list of a million names costs no strings
		}
	}
	if c.bad {
		return nil
	}
	return keys
}

// dataValue is the string in the payload of an ilst data box ("" when
// it holds something else).
func dataValue(p []byte) string {
	c := cursor{b: p}
	typ := c.u32() & 0xFFFFFF // well-known type
	c.skip(4)                 // locale
	if c.bad {
		return ""
	}
	switch typ {
	case 0, 1: // implicit, UTF-8
		return text(c.b)
	case 2: // UTF-16
		return utf16Text(c.b)
	}
	return ""
}

// qtText is the string in a QuickTime user-data text box (©xyz, ©mak):
// a 16-bit length and a language code, then the text. An iTunes-style
// data box and plain text are accepted too.
func qtText(p []byte) string {
	if len(p) >= 16 && string(p[4:8]) == "data" {
		if n := binary.BigEndian.Uint32(p); n >= 16 && uint64(n) <= uint64(len(p)) {
			return dataValue(p[8:n])
		}
	}
	if len(p) >= 4 {
		if n := int(binary.BigEndian.Uint16(p)); 4+n <= len(p) {
			return text(p[4 : 4+n])
		}
	}
	return text(p)
}

// parseLoci reads a 3GPP location box: version and flags, language, a
// NUL-terminated name (UTF-8, or UTF-16 after a byte-order mark), role,
// then longitude, latitude and altitude as signed 16.16 fixed point.
func parseLoci(p []byte) (lat, lon, alt float64, ok bool) {
	c := cursor{b: p}
	c.fullBox()
	c.skip(2) // language
	if len(c.b) >= 2 && c.b[0] == 0xFE && c.b[1] == 0xFF {
		c.skip(2)
		for !c.bad && c.u16() != 0 {
		}
	} else {
		for !c.bad && c.u8() != 0 {
		}
	}
	c.skip(1) // role
	lon = float64(int32(c.u32())) / 65536
	lat = float64(int32(c.u32())) / 65536
	alt = float64(int32(c.u32())) / 65536
	if c.bad || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return 0, 0, 0, false
	}
	return lat, lon, alt, true
}

// duration is d units of 1/scale seconds, 0 when unknown or absurd.
func duration(d, scale uint64) time.Duration {
	if d == 0 || scale == 0 {
		return 0
	}
	sec, rem := d/scale, d%scale
	if sec > math.MaxInt64/uint64(time.Second)-1 {
		return 0
	}
	if rem > math.MaxUint64/uint64(time.Second) { // scale > 2^32: only mehd-style 64-bit scales
		return time.Duration(sec) * time.Second
	}
	return time.Duration(sec)*time.Second + time.Duration(rem*uint64(time.Second)/scale)
}

func (m *movie) video() *Video {
	v := &Video{Make: m.make, Model: m.model, CreationDate: m.date, XMP: m.xmp, ContentID: m.cid}
	if m.created != 0 && m.created < 1<<40 {
		v.Created = time.Unix(int64(m.created)+mp4Epoch, 0).UTC()
	}
	v.Duration = duration(m.dur, m.scale)
	if v.Duration == 0 {
		v.Duration = duration(m.fragDur, m.scale)
	}
	if v.Duration == 0 {
		for _, t := range m.tracks {
			d := duration(t.dur, m.scale)
			if d == 0 {
				d = duration(t.mdhdDur, t.mdhdScale)
			}
			v.Duration = max(v.Duration, d)
		}
	}
	for _, t := range m.tracks {
		if t.handler != "vide" {
			continue
		}
		v.Rotation = t.rotation
		v.Width, v.Height = t.width, t.height
		if v.Width == 0 || v.Height == 0 {
			v.Width, v.Height = t.entryWidth, t.entryHgt
		}
		if v.Rotation == 90 || v.Rotation == 270 {
			v.Width, v.Height = v.Height, v.Width
		}
		break
	}
	if m.ranks[fieldLoc] != 0 {
		lat, lon := m.lat, m.lon
		v.Lat, v.Lon, v.Alt = &lat, &lon, m.alt
	}
	return v
}
