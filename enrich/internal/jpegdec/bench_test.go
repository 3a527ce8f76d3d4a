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
func benchData(b testing.TB) []byte {
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

var (
	progOnce sync.Once
	progJPEG []byte
	progErr  error
)

// progressiveData returns benchData re-encoded as a progressive JPEG (with
// successive approximation, libjpeg's default progression) by libvips'
// vips command, or skips the benchmark when vips is not installed.
func progressiveData(tb testing.TB) []byte {
	data := benchData(tb)
	progOnce.Do(func() { progJPEG, progErr = toProgressive(tb, data, "Q=90,subsample-mode=on") })
	if progErr != nil {
		tb.Skip(progErr)
	}
	return progJPEG
}

// BenchmarkDecodeProgressive decodes a 12 MP progressive 4:2:0 JPEG. The
// B/op of scale=2 against scale=2/all-coefficients is the memory that the
// compact coefficient storage saves (see progressive.go); the latter keeps
// all 64 coefficients of every block until the last scan, as image/jpeg
// does (and as scale=1 still does).
func BenchmarkDecodeProgressive(b *testing.B) {
	data := progressiveData(b)
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, bc := range []struct {
		name           string
		scale          int
		allCoefficents bool
	}{
		{"scale=1", 1, true},
		{"scale=2/all-coefficients", 2, true},
		{"scale=2", 2, false},
		{"scale=4", 4, false},
		{"scale=8", 8, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decode(bytes.NewReader(data), bc.scale, !bc.allCoefficents); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
