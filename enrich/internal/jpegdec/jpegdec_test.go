package jpegdec

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// testFile is a JPEG used by the tests.
type testFile struct {
	name string
	data []byte
	// natural is whether the file is a natural (photo-like) image, for
	// which the scaled decodes must be within minPSNR of a box-downsample.
	natural bool
}

// minPSNR is the minimum PSNR, in dB, of a scaled decode of a natural image
// against the box-downsampled full-size decode.
const minPSNR = 30

// photoLike returns a smooth, photo-like synthetic image with some noise and
// a few sharp edges.
func photoLike(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	fx, fy := 2*math.Pi/float64(w), 2*math.Pi/float64(h)
	for y := 0; y < h; y++ {
		sy1, sy3 := math.Sin(float64(y)*fy), math.Sin(3*float64(y)*fy+1)
		for x := 0; x < w; x++ {
			sx1, sx2 := math.Sin(float64(x)*fx), math.Cos(2*float64(x)*fx+0.5)
			base := 128 + 60*sx1*sy1 + 30*sx2*sy3
			// A sharp-edged disc and stripe, like an object in the scene.
			dx, dy := float64(x-w/3), float64(y-h/2)
			if dx*dx+dy*dy < float64(h*h)/25 {
				base -= 50
			}
			if (x+y/2)%(w/5+1) < w/40 {
				base += 40
			}
			n := rng.Float64()*32 - 16
			r := base + 20*sy3 + n
			g := base + n*0.8
			b := base - 25*sx2 + n*1.2
			i := m.PixOffset(x, y)
			m.Pix[i+0] = clamp8(r)
			m.Pix[i+1] = clamp8(g)
			m.Pix[i+2] = clamp8(b)
			m.Pix[i+3] = 0xff
		}
	}
	return m
}

func clamp8(v float64) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v + 0.5)
}

func encode(tb testing.TB, m image.Image, quality int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func goroot(tb testing.TB) string {
	if r := os.Getenv("GOROOT"); r != "" {
		return r
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		tb.Logf("go env GOROOT: %v", err)
		return ""
	}
	return strings.TrimSpace(string(out))
}

var (
	testFilesOnce sync.Once
	testFilesList []testFile
)

// testFiles returns the generated JPEGs, and those of the shared media test
// data and of the Go distribution's image/testdata that exist.
func testFiles(tb testing.TB) []testFile {
	testFilesOnce.Do(func() {
		var fs []testFile
		rgb := photoLike(333, 251, 1)
		fs = append(fs,
			testFile{"gen/rgb-333x251-q90.jpg", encode(tb, rgb, 90), true},
			testFile{"gen/rgb-333x251-q50.jpg", encode(tb, rgb, 50), true},
			testFile{"gen/rgb-640x480-q75.jpg", encode(tb, photoLike(640, 480, 2), 75), true},
			testFile{"gen/rgb-17x9-q100.jpg", encode(tb, photoLike(17, 9, 3), 100), false},
			testFile{"gen/rgb-1x1-q90.jpg", encode(tb, photoLike(1, 1, 4), 90), false},
		)
		gray := image.NewGray(rgb.Bounds())
		draw.Draw(gray, gray.Bounds(), rgb, image.Point{}, draw.Src)
		fs = append(fs, testFile{"gen/gray-333x251-q90.jpg", encode(tb, gray, 90), true})

		// Progressive versions, with libjpeg's default progression
		// (spectral selection and successive approximation), when vips is
		// installed.
		for _, p := range []struct {
			name, src, opts string
		}{
			{"gen/prog-rgb-333x251-420.jpg", "gen/rgb-333x251-q90.jpg", "Q=90,subsample-mode=on"},
			{"gen/prog-rgb-333x251-444.jpg", "gen/rgb-333x251-q90.jpg", "Q=95,subsample-mode=off"},
			// image/jpeg (and so jpegdec) only decodes progressive JPEGs
			// with restart intervals when the non-interleaved scans have as
			// many blocks as the interleaved ones have MCUs: 4:4:4 (or
			// gray) of a size that is a multiple of 8.
			{"gen/prog-rgb-640x480-444-restart.jpg", "gen/rgb-640x480-q75.jpg", "Q=80,subsample-mode=off,restart-interval=7"},
			{"gen/prog-rgb-17x9.jpg", "gen/rgb-17x9-q100.jpg", "Q=100,subsample-mode=on"},
			{"gen/prog-gray-333x251.jpg", "gen/gray-333x251-q90.jpg", "Q=85"},
		} {
			var src testFile
			for _, f := range fs {
				if f.name == p.src {
					src = f
				}
			}
			b, err := toProgressive(tb, src.data, p.opts)
			if err != nil {
				tb.Logf("no %s: %v", p.name, err)
				continue
			}
			fs = append(fs, testFile{p.name, b, src.natural})
		}

		var paths []string
		if m, _ := filepath.Glob("/work/shared/testdata/media/*.jpg"); m != nil {
			paths = append(paths, m...)
		}
		if r := goroot(tb); r != "" {
			m, _ := filepath.Glob(filepath.Join(r, "src", "image", "testdata", "*.jpeg"))
			paths = append(paths, m...)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Logf("skipping %s: %v", p, err)
				continue
			}
			name := filepath.Base(p)
			// In video-001.rgb.jpeg, the G and B components are subsampled
			// 2x2 relative to R, so a reduced decode, which subsamples them
			// relative to the reduced R, cannot match the box-downsampled
			// full-size decode, which replicates their samples to the full
			// RGBA resolution.
			natural := name != "video-001.rgb.jpeg"
			fs = append(fs, testFile{name, b, natural})
			if name == "video-001.cmyk.jpeg" {
				// Mark a copy as YCbCrK instead of CMYK (Adobe APP14
				// transform 2), to test the other 4-component path. Its
				// colors are not natural: CMYK values read as YCbCr are
				// mostly out of the RGB gamut, and clamped.
				if i := bytes.Index(b, []byte("Adobe")); i >= 0 && i+11 < len(b) {
					ycck := bytes.Clone(b)
					ycck[i+11] = adobeTransformYCbCrK
					fs = append(fs, testFile{"video-001.ycck(patched).jpeg", ycck, false})
				}
			}
		}
		testFilesList = fs
	})
	return testFilesList
}

// toProgressive re-encodes a JPEG as a progressive one with libvips' vips
// command, with the given jpegsave options (for example "Q=90"). It returns
// an error if vips is not installed or fails.
func toProgressive(tb testing.TB, data []byte, opts string) ([]byte, error) {
	if _, err := exec.LookPath("vips"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("vips is not installed (apt-get install libvips-tools): %v", err)
		}
		return nil, fmt.Errorf("vips is not installed (apt-get install libvips-tools): %w", err)
	}
	dir, err := os.MkdirTemp("", "jpegdec-prog")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.jpg"), filepath.Join(dir, "out.jpg")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("vips", "copy", in, out+"[interlace,strip,"+opts+"]")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("vips copy: %v %s", err, bytes.TrimSpace(b))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	if !isProgressive(b) {
		return nil, fmt.Errorf("vips copy did not write a progressive JPEG")
	}
	return b, nil
}

// isProgressive returns whether the JPEG data has a progressive (SOF2)
// frame header.
func isProgressive(data []byte) bool {
	for i := 2; i+4 <= len(data) && data[i] == 0xff; {
		m := data[i+1]
		if m == sof2Marker {
			return true
		}
		if m == sof0Marker || m == sof1Marker || m == sosMarker {
			return false
		}
		i += 2 + int(data[i+2])<<8 + int(data[i+3])
	}
	return false
}

// TestProgressiveCompact checks that scaled decodes of progressive JPEGs,
// which keep only the coefficients that the reduced inverse DCT needs (and a
// bitmap of the others' nonzero ones), are the same as when all the
// coefficients are kept.
func TestProgressiveCompact(t *testing.T) {
	n := 0
	for _, f := range testFiles(t) {
		if !isProgressive(f.data) {
			continue
		}
		n++
		t.Run(f.name, func(t *testing.T) {
			for _, s := range []int{2, 4, 8} {
				want, wantErr := decode(bytes.NewReader(f.data), s, false)
				got, err := decode(bytes.NewReader(f.data), s, true)
				if (err == nil) != (wantErr == nil) {
					t.Fatalf("scale %d: error = %v; want %v", s, err, wantErr)
				}
				if err != nil {
					continue
				}
				if err := samePixels(got, want); err != nil {
					t.Fatalf("scale %d: %v", s, err)
				}
			}
			// The cut files must fail, or succeed, as the full ones do.
			if len(f.data) > 120_000 {
				return
			}
			for i := 1; i < 16; i++ {
				cut := f.data[:len(f.data)*i/16]
				for _, s := range []int{2, 8} {
					_, wantErr := decode(bytes.NewReader(cut), s, false)
					_, err := decode(bytes.NewReader(cut), s, true)
					if fmt.Sprint(err) != fmt.Sprint(wantErr) {
						t.Fatalf("cut to %d bytes, scale %d: error = %v; want %v", len(cut), s, err, wantErr)
					}
				}
			}
		})
	}
	if n < 5 {
		t.Errorf("only %d progressive test files", n)
	}
}

// TestProgressiveCompactCorrupt checks that progressive JPEGs with random
// bytes changed fail, or not, in the same way with the compact coefficient
// storage as with all the coefficients kept: the parsing of the scans is the
// same.
func TestProgressiveCompactCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, f := range testFiles(t) {
		if !isProgressive(f.data) || len(f.data) > 120_000 {
			continue
		}
		sos := bytes.Index(f.data, []byte{0xff, sosMarker})
		if sos < 0 {
			continue
		}
		failed, same := 0, 0
		for i := 0; i < 40; i++ {
			b := bytes.Clone(f.data)
			for range 1 + rng.IntN(4) {
				b[sos+rng.IntN(len(b)-sos)] = byte(rng.Uint32())
			}
			for _, s := range []int{2, 8} {
				mAll, errAll := decode(bytes.NewReader(b), s, false)
				m, err := decode(bytes.NewReader(b), s, true)
				if fmt.Sprint(err) != fmt.Sprint(errAll) {
					t.Fatalf("%s changed at random, scale %d: error = %v; want %v", f.name, s, err, errAll)
				}
				if err != nil {
					failed++
				} else if samePixels(m, mAll) == nil {
					// Not always: out-of-range coefficients of corrupt
					// input are saturated.
					same++
				}
			}
		}
		t.Logf("%s: %d of 80 decodes failed, %d had the same pixels", f.name, failed, same)
	}
}

// allocated returns the number of bytes that f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestProgressiveCompactMemory checks that a progressive JPEG decoded at
// scale 2 allocates a fraction of what it does when all the coefficients
// are kept (BenchmarkDecodeProgressive measures it for 12 MP).
func TestProgressiveCompactMemory(t *testing.T) {
	data, err := toProgressive(t, encode(t, photoLike(1024, 768, 5), 90), "Q=90,subsample-mode=on")
	if err != nil {
		t.Skip(err)
	}
	for _, s := range []int{2, 4, 8} {
		var err1, err2 error
		all := allocated(func() { _, err1 = decode(bytes.NewReader(data), s, false) })
		compact := allocated(func() { _, err2 = decode(bytes.NewReader(data), s, true) })
		if err1 != nil || err2 != nil {
			t.Fatalf("scale %d: errors %v, %v", s, err1, err2)
		}
		t.Logf("1024x768 4:2:0 progressive, scale %d: %d bytes allocated; %d with all the coefficients kept (%.0f%%)",
			s, compact, all, 100*float64(compact)/float64(all))
		if compact > all*3/10 {
			t.Errorf("scale %d: %d bytes allocated; want at most 30%% of the %d with all the coefficients kept", s, compact, all)
		}
	}
}

// samePixels returns an error describing the first difference between a and
// b, which must be of the same type, bounds and pixel values.
func samePixels(a, b image.Image) error {
	if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
		return fmt.Errorf("type %T; want %T", a, b)
	}
	if a.Bounds() != b.Bounds() {
		return fmt.Errorf("bounds %v; want %v", a.Bounds(), b.Bounds())
	}
	r := a.Bounds()
	switch a := a.(type) {
	case *image.YCbCr:
		b := b.(*image.YCbCr)
		if a.SubsampleRatio != b.SubsampleRatio {
			return fmt.Errorf("subsample ratio %v; want %v", a.SubsampleRatio, b.SubsampleRatio)
		}
		pa, pb := planes(a), planes(b)
		same := true
		for i := range pa {
			for y := 0; y < pa[i].h && same; y++ {
				ra := pa[i].pix[pa[i].off+y*pa[i].stride:][:pa[i].w]
				rb := pb[i].pix[pb[i].off+y*pb[i].stride:][:pb[i].w]
				same = bytes.Equal(ra, rb)
			}
		}
		if same {
			return nil
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				ya, yb := a.Y[a.YOffset(x, y)], b.Y[b.YOffset(x, y)]
				ca, cb := a.COffset(x, y), b.COffset(x, y)
				if ya != yb || a.Cb[ca] != b.Cb[cb] || a.Cr[ca] != b.Cr[cb] {
					return fmt.Errorf("pixel (%d, %d) = YCbCr(%d, %d, %d); want (%d, %d, %d)",
						x, y, ya, a.Cb[ca], a.Cr[ca], yb, b.Cb[cb], b.Cr[cb])
				}
			}
		}
		return nil
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if ca, cb := a.At(x, y), b.At(x, y); ca != cb {
				return fmt.Errorf("pixel (%d, %d) = %v; want %v", x, y, ca, cb)
			}
		}
	}
	return nil
}

func TestScale1IdenticalToStdlib(t *testing.T) {
	for _, f := range testFiles(t) {
		t.Run(f.name, func(t *testing.T) {
			want, wantErr := jpeg.Decode(bytes.NewReader(f.data))
			for _, o := range []*Options{nil, {}, {Scale: 1}} {
				got, err := Decode(bytes.NewReader(f.data), o)
				if wantErr != nil {
					if err == nil || err.Error() != wantErr.Error() {
						t.Fatalf("Decode(%+v) error = %v; want %v", o, err, wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("Decode(%+v) error = %v; want nil", o, err)
				}
				if err := samePixels(got, want); err != nil {
					t.Fatalf("Decode(%+v): %v", o, err)
				}
			}
		})
	}
}

func TestDecodeConfig(t *testing.T) {
	for _, f := range testFiles(t) {
		t.Run(f.name, func(t *testing.T) {
			want, wantErr := jpeg.DecodeConfig(bytes.NewReader(f.data))
			got, err := DecodeConfig(bytes.NewReader(f.data))
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("DecodeConfig error = %v; want %v", err, wantErr)
			}
			if got != want {
				t.Fatalf("DecodeConfig = %+v; want %+v", got, want)
			}
		})
	}
}

// toRGBA converts m to an *image.RGBA with the same bounds.
func toRGBA(m image.Image) *image.RGBA {
	r := image.NewRGBA(m.Bounds())
	draw.Draw(r, r.Bounds(), m, m.Bounds().Min, draw.Src)
	return r
}

// A plane is one channel of an image: the sample at (x, y) is
// pix[off+y*stride+x*step].
type plane struct {
	name              string
	w, h              int
	pix               []byte
	off, stride, step int
}

func (p plane) at(x, y int) int { return int(p.pix[p.off+y*p.stride+x*p.step]) }

// planes returns the channels of m: Y, Cb and Cr (at their own resolution)
// for an *image.YCbCr, and the interleaved channels of the other types.
func planes(m image.Image) []plane {
	r := m.Bounds()
	switch m := m.(type) {
	case *image.YCbCr:
		// The chroma rectangle, as computed by image.YCbCr.
		cr := m.SubImage(r).(*image.YCbCr)
		cw, ch := r.Dx(), r.Dy()
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio422:
			cw = (r.Max.X+1)/2 - r.Min.X/2
		case image.YCbCrSubsampleRatio420:
			cw, ch = (r.Max.X+1)/2-r.Min.X/2, (r.Max.Y+1)/2-r.Min.Y/2
		case image.YCbCrSubsampleRatio440:
			ch = (r.Max.Y+1)/2 - r.Min.Y/2
		case image.YCbCrSubsampleRatio411:
			cw = (r.Max.X+3)/4 - r.Min.X/4
		case image.YCbCrSubsampleRatio410:
			cw, ch = (r.Max.X+3)/4-r.Min.X/4, (r.Max.Y+1)/2-r.Min.Y/2
		}
		co := cr.COffset(r.Min.X, r.Min.Y)
		return []plane{
			{"Y", r.Dx(), r.Dy(), m.Y, m.YOffset(r.Min.X, r.Min.Y), m.YStride, 1},
			{"Cb", cw, ch, m.Cb, co, m.CStride, 1},
			{"Cr", cw, ch, m.Cr, co, m.CStride, 1},
		}
	case *image.Gray:
		return []plane{{"Gray", r.Dx(), r.Dy(), m.Pix, m.PixOffset(r.Min.X, r.Min.Y), m.Stride, 1}}
	case *image.CMYK:
		var ps []plane
		for i, n := range []string{"C", "M", "Y", "K"} {
			ps = append(ps, plane{n, r.Dx(), r.Dy(), m.Pix, m.PixOffset(r.Min.X, r.Min.Y) + i, m.Stride, 4})
		}
		return ps
	case *image.RGBA:
		var ps []plane
		for i, n := range []string{"R", "G", "B"} {
			ps = append(ps, plane{n, r.Dx(), r.Dy(), m.Pix, m.PixOffset(r.Min.X, r.Min.Y) + i, m.Stride, 4})
		}
		return ps
	}
	return planes(toRGBA(m))
}

// boxDownsample returns p reduced by s in each dimension (rounded up): each
// sample is the rounded mean of the (up to) s x s samples that it covers.
func boxDownsample(p plane, s int) plane {
	w, h := ceilDiv(p.w, s), ceilDiv(p.h, s)
	out := plane{name: p.name, w: w, h: h, pix: make([]byte, w*h), stride: w, step: 1}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sum, n := 0, 0
			for yy := y * s; yy < min(y*s+s, p.h); yy++ {
				for xx := x * s; xx < min(x*s+s, p.w); xx++ {
					sum += p.at(xx, yy)
					n++
				}
			}
			out.pix[y*w+x] = uint8((sum + n/2) / n)
		}
	}
	return out
}

// psnr returns the PSNR, in dB, of the samples of all the planes of got
// against want, and the maximum absolute difference.
func psnr(got, want []plane) (db float64, maxDiff int, err error) {
	if len(got) != len(want) {
		return 0, 0, fmt.Errorf("%d planes; want %d", len(got), len(want))
	}
	var sse float64
	n := 0
	for i, g := range got {
		w := want[i]
		if g.w != w.w || g.h != w.h {
			return 0, 0, fmt.Errorf("plane %s is %dx%d; want %dx%d", g.name, g.w, g.h, w.w, w.h)
		}
		for y := 0; y < g.h; y++ {
			for x := 0; x < g.w; x++ {
				d := g.at(x, y) - w.at(x, y)
				sse += float64(d * d)
				maxDiff = max(maxDiff, d, -d)
				n++
			}
		}
	}
	if sse == 0 {
		return math.Inf(1), 0, nil
	}
	return 10 * math.Log10(255*255*float64(n)/sse), maxDiff, nil
}

func TestScaled(t *testing.T) {
	for _, f := range testFiles(t) {
		t.Run(f.name, func(t *testing.T) {
			full, fullErr := jpeg.Decode(bytes.NewReader(f.data))
			if fullErr != nil {
				for _, s := range []int{2, 4, 8} {
					if _, err := Decode(bytes.NewReader(f.data), &Options{Scale: s}); err == nil {
						t.Errorf("scale %d: error = nil; want %v (as for the full-size decode)", s, fullErr)
					}
				}
				return
			}
			fullPlanes := planes(full)
			fb := full.Bounds()
			var report []string
			for _, s := range []int{2, 4, 8} {
				got, err := Decode(bytes.NewReader(f.data), &Options{Scale: s})
				if err != nil {
					t.Fatalf("scale %d: error = %v; want nil", s, err)
				}
				if got, want := fmt.Sprintf("%T", got), fmt.Sprintf("%T", full); got != want {
					t.Errorf("scale %d: type %s; want %s", s, got, want)
				}
				if g, ok := got.(*image.YCbCr); ok {
					if want := full.(*image.YCbCr).SubsampleRatio; g.SubsampleRatio != want {
						t.Errorf("scale %d: subsample ratio %v; want %v", s, g.SubsampleRatio, want)
					}
				}
				wantRect := image.Rect(0, 0, ceilDiv(fb.Dx(), s), ceilDiv(fb.Dy(), s))
				if got.Bounds() != wantRect {
					t.Fatalf("scale %d: bounds %v; want %v", s, got.Bounds(), wantRect)
				}
				var want []plane
				for _, p := range fullPlanes {
					want = append(want, boxDownsample(p, s))
				}
				db, maxDiff, err := psnr(planes(got), want)
				if err != nil {
					t.Fatalf("scale %d: %v", s, err)
				}
				report = append(report, fmt.Sprintf("1/%d %dx%d: %.1f dB (max diff %d)", s, wantRect.Dx(), wantRect.Dy(), db, maxDiff))
				if f.natural && db < minPSNR {
					t.Errorf("scale %d: PSNR against box-downsampled full decode = %.1f dB; want >= %d dB", s, db, minPSNR)
				}
			}
			t.Logf("%s %dx%d %T: %s", f.name, fb.Dx(), fb.Dy(), full, strings.Join(report, ", "))
		})
	}
}

// refReduced computes, in floating point, the reduced inverse DCT that
// idct4x4, idct2x2 and idct1x1 implement: the full 8x8 inverse DCT of the
// top-left n x n coefficients (dequantized by a table of ones), averaged
// over s x s boxes, level-shifted, rounded and clamped.
func refReduced(b *block, s int) []byte {
	n := 8 / s
	var full [8][8]float64
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			var sum float64
			for v := 0; v < n; v++ {
				for u := 0; u < n; u++ {
					cu, cv := 1.0, 1.0
					if u == 0 {
						cu = 1 / math.Sqrt2
					}
					if v == 0 {
						cv = 1 / math.Sqrt2
					}
					sum += cu * cv / 4 * float64(b[8*v+u]) *
						math.Cos(float64((2*x+1)*u)*math.Pi/16) *
						math.Cos(float64((2*y+1)*v)*math.Pi/16)
				}
			}
			full[y][x] = sum
		}
	}
	out := make([]byte, n*n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			var sum float64
			for yy := 0; yy < s; yy++ {
				for xx := 0; xx < s; xx++ {
					sum += full[y*s+yy][x*s+xx]
				}
			}
			out[y*n+x] = clamp8(math.Floor(sum/float64(s*s) + 128 + 0.5))
		}
	}
	return out
}

func TestReducedIDCT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var ones [maxTq + 1]block
	for i := range ones[0] {
		ones[0][i] = 1
	}
	for _, s := range []int{2, 4, 8} {
		d := &decoder{scale: s, bs: 8 / s, quant: ones}
		n := 8 / s
		for iter := 0; iter < 2000; iter++ {
			var b block
			// Mostly small coefficients, as in real images, sometimes
			// large ones that saturate.
			amp := []int{4, 64, 512, 2047}[iter%4]
			for i := range b {
				if rng.IntN(3) == 0 {
					b[i] = int32(rng.IntN(2*amp+1) - amp)
				}
			}
			b[0] = int32(rng.IntN(2048) - 1024)
			want := refReduced(&b, s)
			got := make([]byte, n*n)
			switch s {
			case 2:
				idct4x4(&b, d.scaledQuant(0), got, n)
			case 4:
				idct2x2(&b, d.scaledQuant(0), got, n)
			case 8:
				idct1x1(&b, d.scaledQuant(0), got)
			}
			for i := range got {
				if diff := int(got[i]) - int(want[i]); diff < -1 || diff > 1 {
					t.Fatalf("scale %d, block %v: pixel %d = %d; want %d (±1)", s, b, i, got[i], want[i])
				}
			}
		}
	}
}

func TestInvalidScale(t *testing.T) {
	data := testFiles(t)[0].data
	for _, s := range []int{-1, 3, 5, 16} {
		if _, err := Decode(bytes.NewReader(data), &Options{Scale: s}); err == nil {
			t.Errorf("Decode(Scale %d) error = nil; want an error", s)
		}
	}
}

func TestScaleFor(t *testing.T) {
	tests := []struct {
		w, h, minW, minH int
		want             int
	}{
		{4000, 3000, 1440, 1080, 2},
		{4000, 3000, 1440, 0, 2},
		{4000, 3000, 1000, 750, 4},
		{4000, 3000, 500, 375, 8},
		{4000, 3000, 100, 100, 8},
		{4000, 3000, 2001, 0, 1},
		{4000, 3000, 4000, 3000, 1},
		{4000, 3000, 8000, 6000, 1}, // Smaller than wanted: no reduction.
		{3000, 4000, 1080, 1440, 2},
		{3000, 4000, 1440, 1440, 2},
		{1001, 1001, 501, 501, 2}, // ceil(1001/2) = 501.
		{1001, 1001, 126, 126, 8}, // ceil(1001/8) = 126.
		{1001, 1001, 127, 126, 4},
		{0, 0, 0, 0, 8},
	}
	for _, tt := range tests {
		if got := ScaleFor(tt.w, tt.h, tt.minW, tt.minH); got != tt.want {
			t.Errorf("ScaleFor(%d, %d, %d, %d) = %d; want %d", tt.w, tt.h, tt.minW, tt.minH, got, tt.want)
		}
	}
}

// TestTruncated checks that every file cut short returns an error, at every
// scale, and does not panic.
func TestTruncated(t *testing.T) {
	for _, f := range testFiles(t) {
		if len(f.data) > 120_000 {
			continue // Keep the test fast: the small files cover the same code.
		}
		for _, s := range []int{1, 2, 4, 8} {
			for i := 0; i < 32; i++ {
				n := len(f.data) * i / 32
				if i == 0 {
					n = 1
				}
				_, err := Decode(bytes.NewReader(f.data[:n]), &Options{Scale: s})
				if err == nil {
					t.Errorf("%s cut to %d bytes, scale %d: error = nil; want an error", f.name, n, s)
				}
			}
		}
	}
}

func TestGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	inputs := map[string][]byte{
		"empty":        nil,
		"random":       garbage,
		"soi+random":   append([]byte{0xff, 0xd8}, garbage...),
		"soi+eoi":      {0xff, 0xd8, 0xff, 0xd9},
		"soi+bad-len":  {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x01},
		"not-jpeg-png": []byte("\x89PNG\r\n\x1a\n"),
	}
	for name, in := range inputs {
		for _, s := range []int{1, 2, 4, 8} {
			if _, err := Decode(bytes.NewReader(in), &Options{Scale: s}); err == nil {
				t.Errorf("%s, scale %d: error = nil; want an error", name, s)
			}
		}
	}
}

// FuzzDecode checks that no input makes Decode panic, that the scaled
// decodes succeed or fail as the full-size one does, with the right bounds,
// and that the full-size decode is the same as image/jpeg's.
func FuzzDecode(f *testing.F) {
	for _, tf := range testFiles(f) {
		if len(tf.data) <= 64<<10 {
			f.Add(tf.data)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width*cfg.Height > 1e6 {
			return
		}
		want, wantErr := jpeg.Decode(bytes.NewReader(b))
		var err1 error
		for _, s := range []int{1, 2, 4, 8} {
			m, err := Decode(bytes.NewReader(b), &Options{Scale: s})
			if s == 1 {
				err1 = err
				switch {
				case err != nil && wantErr == nil:
					// Over-subscribed Huffman tables are rejected, unlike
					// by image/jpeg.
					if err.Error() != FormatError("bad Huffman table").Error() {
						t.Errorf("scale 1: error = %v; want nil (as image/jpeg)", err)
					}
				case err == nil && wantErr != nil:
					t.Errorf("scale 1: error = nil; want %v (as image/jpeg)", wantErr)
				case err == nil:
					if err := samePixels(m, want); err != nil {
						t.Errorf("scale 1: %v", err)
					}
				}
			} else {
				if (err == nil) != (err1 == nil) {
					t.Errorf("scale %d: error = %v; want %v (as at scale 1)", s, err, err1)
				}
				// The compact storage of progressive coefficients fails
				// exactly when keeping all of them does.
				if _, errAll := decode(bytes.NewReader(b), s, false); fmt.Sprint(err) != fmt.Sprint(errAll) {
					t.Errorf("scale %d: error = %v; want %v (as with all the coefficients kept)", s, err, errAll)
				}
			}
			if err != nil {
				continue
			}
			wantRect := image.Rect(0, 0, ceilDiv(cfg.Width, s), ceilDiv(cfg.Height, s))
			if m.Bounds() != wantRect {
				t.Errorf("scale %d: bounds %v; want %v", s, m.Bounds(), wantRect)
			}
		}
	})
}
