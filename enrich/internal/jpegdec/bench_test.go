package jpegdec

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"sync"
	"testing"
)

var (
	benchOnce sync.Once
	benchJPEG []byte
)

// benchData returns a 4000x3000 (12 MP) photo-like 4:2:0 JPEG encoded at
// quality 90 by image/jpeg.
func benchData(b *testing.B) []byte {
	benchOnce.Do(func() {
		benchJPEG = encode(b, photoLike(4000, 3000, 42), 90)
	})
	return benchJPEG
}

func BenchmarkDecode(b *testing.B) {
	data := benchData(b)
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, s := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("scale=%d", s), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(bytes.NewReader(data), &Options{Scale: s}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
