package exif

import (
	"encoding/binary"
	"testing"
)

// appleMakerNote builds an Apple MakerNote whose IFD holds the given
// ASCII entries (tag → value, NUL added), offsets from its start.
func appleMakerNote(entries map[uint16]string, tags []uint16) []byte {
	be := binary.BigEndian
	b := append([]byte("Apple iOS\x00"), 0, 1, 'M', 'M')
	b = be.AppendUint16(b, uint16(len(tags)))
	data := 16 + 12*len(tags) + 4
	var tail []byte
	for _, tag := range tags {
		v := append([]byte(entries[tag]), 0)
		b = be.AppendUint16(b, tag)
		b = be.AppendUint16(b, 2)
		b = be.AppendUint32(b, uint32(len(v)))
		if len(v) <= 4 {
			b = append(b, append(v, make([]byte, 4-len(v))...)...)
			continue
		}
		b = be.AppendUint32(b, uint32(data+len(tail)))
		tail = append(tail, v...)
	}
	b = be.AppendUint32(b, 0) // next IFD
	return append(b, tail...)
}

// tiffWithMakerNote is a little-endian TIFF: IFD0 pointing at an Exif IFD
// holding a MakerNote (type UNDEFINED).
func tiffWithMakerNote(mn []byte) []byte {
	le := binary.LittleEndian
	b := []byte{'I', 'I', 42, 0, 8, 0, 0, 0}
	// IFD0 at 8: one entry (ExifIFD), next 0.
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, tagExifIFD)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 26) // 8 + 2 + 12 + 4
	b = le.AppendUint32(b, 0)
	// Exif IFD at 26: one entry (MakerNote), next 0; value at 44.
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, tagMakerNote)
	b = le.AppendUint16(b, 7)
	b = le.AppendUint32(b, uint32(len(mn)))
	b = le.AppendUint32(b, 44)
	b = le.AppendUint32(b, 0)
	return append(b, mn...)
}

func TestAppleContentID(t *testing.T) {
	const id = "8C9F4A12-3B5D-4E7F-9A1B-2C3D4E5F6A7B"
	tests := []struct {
		name string
		mn   []byte
		want string
	}{
		{"content identifier", appleMakerNote(map[uint16]string{0x0008: "x", 0x0011: id, 0x0017: "y"}, []uint16{0x0008, 0x0011, 0x0017}), id},
		{"no identifier", appleMakerNote(map[uint16]string{0x0008: "abcdef"}, []uint16{0x0008}), ""},
		{"other maker", append([]byte("Nikon\x00\x02\x10\x00\x00"), make([]byte, 40)...), ""},
		{"truncated", appleMakerNote(map[uint16]string{0x0011: id}, []uint16{0x0011})[:40], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppleContentID(tt.mn); got != tt.want {
				t.Errorf("AppleContentID = %q; want %q", got, tt.want)
			}
			d, err := ReadBytes(tiffWithMakerNote(tt.mn))
			if err != nil {
				t.Fatalf("ReadBytes: %v", err)
			}
			if d.ContentID != tt.want {
				t.Errorf("Read: ContentID = %q; want %q (errors %v)", d.ContentID, tt.want, d.Errs)
			}
		})
	}
}
