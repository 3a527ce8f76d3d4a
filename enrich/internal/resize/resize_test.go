package resize

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

// photo returns a smooth, photo-like w x h image with fine texture, noise
// and sharp edges.
func photo(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			v := 128 + 60*math.Sin(fx*9+math.Cos(fy*7)) + 18*math.Sin(float64(x)/3.1)*math.Cos(float64(y)/2.7) + rng.NormFloat64()*6
			if (x-w/3)*(x-w/3)+(y-h/2)*(y-h/2) < h*h/25 {
				v -= 60
			}
			i := m.PixOffset(x, y)
			m.Pix[i+0] = clamp(int(v + 40*math.Sin(fy*5)))
			m.Pix[i+1] = clamp(int(v))
			m.Pix[i+2] = clamp(int(v - 40*math.Cos(fx*4)))
			m.Pix[i+3] = 0xff
		}
	}
	return m
}

func clamp(v int) uint8 {
	return uint8(max(0, min(255, v)))
}

// jpegOf returns m encoded and decoded by image/jpeg: a *image.YCbCr, 4:2:0.
func jpegOf(tb testing.TB, m image.Image) *image.YCbCr {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	d, err := jpeg.Decode(&b)
	if err != nil {
		tb.Fatal(err)
	}
	return d.(*image.YCbCr)
}

// toYCbCr converts m to a YCbCr image of the given subsampling, averaging
// the chroma.
func toYCbCr(m image.Image, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	r := m.Bounds()
	out := image.NewYCbCr(r, ratio)
	type sum struct{ cb, cr, n int }
	sums := map[int]*sum{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := m.At(x, y).RGBA()
			yy, u, v := color.RGBToYCbCr(uint8(cr>>8), uint8(cg>>8), uint8(cb>>8))
			out.Y[out.YOffset(x, y)] = yy
			i := out.COffset(x, y)
			s := sums[i]
			if s == nil {
				s = &sum{}
				sums[i] = s
			}
			s.cb += int(u)
			s.cr += int(v)
			s.n++
		}
	}
	for i, s := range sums {
		out.Cb[i] = uint8((s.cb + s.n/2) / s.n)
		out.Cr[i] = uint8((s.cr + s.n/2) / s.n)
	}
	return out
}

// withAlpha returns m as NRGBA with a varying alpha: opaque, transparent
// and partly transparent areas.
func withAlpha(m image.Image) *image.NRGBA {
	r := m.Bounds()
	n := image.NewNRGBA(r)
	draw.Draw(n, r, m, r.Min, draw.Src)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			a := 255
			switch {
			case x < r.Dx()/4:
				a = 0
			case x < r.Dx()/2:
				a = (y * 255) / r.Dy()
			}
			n.Pix[n.PixOffset(x, y)+3] = uint8(a)
		}
	}
	return n
}

// reference is what thumbs.go did before: imaging.Resize with the Linear
// filter, then the NRGBA result composited over white.
func reference(m image.Image, w, h int) *image.RGBA {
	n := imaging.Resize(m, w, h, imaging.Linear)
	px := n.Pix
	for i := 3; i < len(px); i += 4 {
		if a := px[i]; a != 0xFF {
			for c := i - 3; c < i; c++ {
				px[c] = uint8((uint32(px[c])*uint32(a) + 0xFF*(0xFF-uint32(a)) + 127) / 0xFF)
			}
			px[i] = 0xFF
		}
	}
	return &image.RGBA{Pix: px, Stride: n.Stride, Rect: n.Rect}
}

// diff returns the mean absolute difference of each of R, G and B, and the
// maximum, of two images of the same size.
func diff(a, b *image.RGBA) (mean [3]float64, maxd int) {
	r := a.Bounds()
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			p, q := a.Pix[a.PixOffset(x, y):], b.Pix[b.PixOffset(x, y):]
			for c := range 3 {
				d := int(p[c]) - int(q[c])
				d = max(d, -d)
				mean[c] += float64(d)
				maxd = max(maxd, d)
			}
		}
	}
	for c := range mean {
		mean[c] /= float64(r.Dx() * r.Dy())
	}
	return mean, maxd
}

type testImage struct {
	name string
	m    image.Image
}

func testImages(tb testing.TB) []testImage {
	p := photo(1000, 750, 1)
	gray := image.NewGray(p.Bounds())
	draw.Draw(gray, gray.Bounds(), p, image.Point{}, draw.Src)
	rgba64 := image.NewRGBA64(p.Bounds())
	draw.Draw(rgba64, rgba64.Bounds(), withAlpha(p), image.Point{}, draw.Src)
	nrgba64 := image.NewNRGBA64(p.Bounds())
	draw.Draw(nrgba64, nrgba64.Bounds(), p, image.Point{}, draw.Src)
	gray16 := image.NewGray16(p.Bounds())
	draw.Draw(gray16, gray16.Bounds(), p, image.Point{}, draw.Src)
	cmyk := image.NewCMYK(p.Bounds())
	draw.Draw(cmyk, cmyk.Bounds(), p, image.Point{}, draw.Src)
	pal := image.NewPaletted(p.Bounds(), nil)
	for i := range 256 {
		pal.Palette = append(pal.Palette, color.NRGBA{uint8(i), uint8(255 - i), uint8(i / 2), uint8(max(0, 255-i*2))})
	}
	draw.Draw(pal, pal.Bounds(), p, image.Point{}, draw.Src)
	ims := []testImage{
		{"ycbcr420", jpegOf(tb, p)},
		{"ycbcr422", toYCbCr(p, image.YCbCrSubsampleRatio422)},
		{"ycbcr444", toYCbCr(p, image.YCbCrSubsampleRatio444)},
		{"ycbcr440", toYCbCr(p, image.YCbCrSubsampleRatio440)},
		{"ycbcr411", toYCbCr(p, image.YCbCrSubsampleRatio411)},
		{"ycbcr410", toYCbCr(p, image.YCbCrSubsampleRatio410)},
		{"ycbcr420-odd-subimage", jpegOf(tb, p).SubImage(image.Rect(3, 5, 998, 748))},
		{"rgba", p},
		{"rgba-subimage", p.SubImage(image.Rect(1, 2, 801, 603))},
		{"nrgba-opaque", withAlpha(p).SubImage(image.Rect(500, 0, 1000, 750))},
		{"nrgba-alpha", withAlpha(p)},
		{"gray", gray},
		{"gray16", gray16},
		{"rgba64-alpha", rgba64},
		{"nrgba64", nrgba64},
		{"cmyk", cmyk},
		{"paletted-alpha", pal},
	}
	// Real photos, when the shared test data is there.
	for _, name := range []string{"forest.jpg", "beach_original.jpg"} {
		b, err := os.ReadFile(filepath.Join("/work/shared/testdata/media", name))
		if err != nil {
			continue
		}
		m, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			tb.Fatal(err)
		}
		ims = append(ims, testImage{name, m})
	}
	return ims
}

// maxMeanDiff is the largest mean absolute difference, per channel, from
// imaging.Resize with imaging.Linear (which rounds to 8 bits between its
// passes, and upsamples the chroma of YCbCr images by replicating it).
const maxMeanDiff = 1.0

func TestAgainstImaging(t *testing.T) {
	for _, im := range testImages(t) {
		b := im.m.Bounds()
		for _, f := range []int{1, 2, 3, 5, 8, 0} {
			var w, h int
			if f > 0 {
				w, h = max(1, b.Dx()*2/(3*f)), max(1, b.Dy()*2/(3*f)) // 1.5, 3, 4.5, 7.5 and 12x smaller.
			} else {
				w, h = b.Dx()*3/2, b.Dy()*5/4 // Larger, and not in proportion.
			}
			got := Resize(im.m, w, h)
			if got.Bounds() != image.Rect(0, 0, w, h) {
				t.Fatalf("%s to %dx%d: bounds %v", im.name, w, h, got.Bounds())
			}
			mean, maxd := diff(got, reference(im.m, w, h))
			t.Logf("%-22s %4dx%-4d -> %4dx%-4d: mean abs diff R %.3f G %.3f B %.3f, max %d", im.name, b.Dx(), b.Dy(), w, h, mean[0], mean[1], mean[2], maxd)
			for c := range mean {
				if mean[c] > maxMeanDiff {
					t.Errorf("%s to %dx%d: mean abs diff of channel %d from imaging = %.2f; want <= %.1f", im.name, w, h, c, mean[c], maxMeanDiff)
				}
			}
		}
	}
}

func TestFitSize(t *testing.T) {
	tests := []struct{ w, h, maxW, maxH, wantW, wantH int }{
		{4000, 3000, 1440, 1440, 1440, 1080},
		{3000, 4000, 1440, 1440, 1080, 1440},
		{2000, 1500, 1440, 1440, 1440, 1080},
		{1440, 1080, 250, 250, 250, 188}, // 187.5
		{1080, 1440, 250, 250, 188, 250},
		{1000, 1000, 250, 250, 250, 250},
		{1000, 999, 250, 250, 250, 250}, // 249.75
		{800, 600, 1440, 1440, 800, 600},
		{20000, 10, 1440, 1440, 1440, 1},
		{10, 20000, 250, 250, 1, 250},
		{1441, 1, 1440, 1440, 1440, 1},
		{0, 10, 250, 250, 0, 0},
		{10, 10, 0, 250, 0, 0},
	}
	for _, tt := range tests {
		if w, h := FitSize(tt.w, tt.h, tt.maxW, tt.maxH); w != tt.wantW || h != tt.wantH {
			t.Errorf("FitSize(%d, %d, %d, %d) = %d, %d; want %d, %d", tt.w, tt.h, tt.maxW, tt.maxH, w, h, tt.wantW, tt.wantH)
		}
	}
	m := Fit(image.NewGray(image.Rect(0, 0, 2000, 1500)), 250, 250)
	if m.Bounds() != image.Rect(0, 0, 250, 188) {
		t.Errorf("Fit(2000x1500, 250, 250) bounds = %v", m.Bounds())
	}
	if m := Resize(image.NewGray(image.Rect(0, 0, 20, 20)), 0, 5); len(m.Pix) != 0 {
		t.Errorf("Resize to 0x5 = %v; want an empty image", m.Bounds())
	}
	if m := Resize(image.NewGray(image.Rect(3, 3, 3, 9)), 5, 5); len(m.Pix) != 0 {
		t.Errorf("Resize of an empty image = %v; want an empty image", m.Bounds())
	}
}

// TestConstant checks that a uniform image stays exactly uniform, at every
// size (the weights sum to one exactly, also at the edges).
func TestConstant(t *testing.T) {
	c := color.RGBA{200, 100, 30, 255}
	src := image.NewRGBA(image.Rect(0, 0, 97, 61))
	draw.Draw(src, src.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	ycc := toYCbCr(src, image.YCbCrSubsampleRatio420)
	for _, m := range []image.Image{src, ycc} {
		wantC := color.RGBAModel.Convert(m.At(0, 0)).(color.RGBA)
		for _, sz := range [][2]int{{1, 1}, {5, 3}, {13, 61}, {97, 61}, {96, 60}, {50, 31}, {200, 130}} {
			got := Resize(m, sz[0], sz[1])
			for i := 0; i < len(got.Pix); i += 4 {
				if p := (color.RGBA{got.Pix[i], got.Pix[i+1], got.Pix[i+2], got.Pix[i+3]}); p != wantC {
					t.Fatalf("%T to %dx%d: pixel %d = %v; want %v", m, sz[0], sz[1], i/4, p, wantC)
				}
			}
		}
	}
}

// TestNoAliasing checks that fine patterns reduced 5 to 8 times become
// their mean gray, not moiré.
func TestNoAliasing(t *testing.T) {
	b := func(v bool) uint8 {
		if v {
			return 255
		}
		return 0
	}
	patterns := map[string]func(x, y int) uint8{
		"checkerboard": func(x, y int) uint8 { return b((x+y)%2 == 0) },
		"stripes-3px":  func(x, y int) uint8 { return b(x%3 == 0) },
		"lines-2px":    func(x, y int) uint8 { return b(y%2 == 0) },
		// A diagonal sine wave of 0.43 and 0.14 cycles a pixel.
		"sine": func(x, y int) uint8 {
			return uint8(128 + 127*math.Sin(2*math.Pi*(float64(x)/2.3+float64(y)/7.1)))
		},
	}
	for name, f := range patterns {
		src := image.NewGray(image.Rect(0, 0, 800, 600))
		var sum int
		for y := range 600 {
			for x := range 800 {
				v := f(x, y)
				src.Pix[y*800+x] = v
				sum += int(v)
			}
		}
		mean := float64(sum) / (800 * 600)
		for _, r := range []float64{5, 6.5, 8} {
			w, h := int(800/r), int(600/r)
			got := Resize(src, w, h)
			var dev, n float64
			maxDev := 0.0
			for y := range h {
				for x := range w {
					d := math.Abs(float64(got.Pix[got.PixOffset(x, y)]) - mean)
					dev += d
					n++
					maxDev = max(maxDev, d)
				}
			}
			// (Sampling without a filter would give deviations of about
			// 127, with moiré.)
			t.Logf("%s reduced %.1fx: mean deviation from the mean gray %.2f, max %.0f", name, r, dev/n, maxDev)
			if dev/n > 6 || maxDev > 40 {
				t.Errorf("%s reduced %.1fx: mean deviation from the mean gray %.2f, max %.0f; want <= 6, <= 40", name, r, dev/n, maxDev)
			}
		}
	}
}

// TestOrientation checks that the image is not rotated or flipped: a
// marked top-left corner stays there, for every source type.
func TestOrientation(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 640, 320))
	draw.Draw(src, src.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(src, image.Rect(0, 0, 160, 80), image.Black, image.Point{}, draw.Src)
	// With alpha: its bottom-right quarter is transparent (white).
	nrgba := image.NewNRGBA(src.Bounds())
	draw.Draw(nrgba, nrgba.Bounds(), src, image.Point{}, draw.Src)
	draw.Draw(nrgba, image.Rect(320, 160, 640, 320), image.Transparent, image.Point{}, draw.Src)
	for _, m := range []image.Image{src, toYCbCr(src, image.YCbCrSubsampleRatio420), nrgba, func() image.Image {
		g := image.NewGray(src.Bounds())
		draw.Draw(g, g.Bounds(), src, image.Point{}, draw.Src)
		return g
	}()} {
		got := Fit(m, 100, 100)
		if got.Bounds() != image.Rect(0, 0, 100, 50) {
			t.Fatalf("%T: bounds %v", m, got.Bounds())
		}
		dark := func(x, y int) bool { return got.Pix[got.PixOffset(x, y)+1] < 64 }
		if !dark(5, 5) || dark(5, 45) || dark(95, 45) || dark(95, 5) || dark(30, 5) {
			t.Errorf("%T: the dark corner moved", m)
		}
	}
}

// TestAlpha checks the compositing over white.
func TestAlpha(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	draw.Draw(src, image.Rect(0, 0, 20, 40), image.NewUniform(color.NRGBA{0, 0, 0, 0}), image.Point{}, draw.Src)
	draw.Draw(src, image.Rect(20, 0, 40, 40), image.NewUniform(color.NRGBA{255, 0, 0, 128}), image.Point{}, draw.Src)
	got := Resize(src, 10, 10)
	for _, tc := range []struct {
		x    int
		want color.RGBA
	}{{1, color.RGBA{255, 255, 255, 255}}, {8, color.RGBA{255, 127, 127, 255}}} {
		i := got.PixOffset(tc.x, 5)
		p := color.RGBA{got.Pix[i], got.Pix[i+1], got.Pix[i+2], got.Pix[i+3]}
		if d := int(p.G) - int(tc.want.G); p.R != tc.want.R || d < -1 || d > 1 || p.G != p.B || p.A != 255 {
			t.Errorf("pixel (%d, 5) = %v; want %v", tc.x, p, tc.want)
		}
	}
}

// TestWrite writes, when RESIZE_OUT is set to a directory, the results and
// the references, to look at.
func TestWrite(t *testing.T) {
	dir := os.Getenv("RESIZE_OUT")
	if dir == "" {
		t.Skip("RESIZE_OUT not set")
	}
	for _, im := range testImages(t) {
		b := im.m.Bounds()
		w, h := FitSize(b.Dx(), b.Dy(), 250, 250)
		for name, m := range map[string]image.Image{"resize": Resize(im.m, w, h), "imaging": reference(im.m, w, h)} {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s.png", im.name, name)))
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, m)
			f.Close()
		}
	}
}

var sinkRGBA *image.RGBA

func BenchmarkResize(b *testing.B) {
	ycc := jpegOf(b, photo(2000, 1500, 3))
	prev := Resize(ycc, 1440, 1080)
	for _, bc := range []struct {
		name string
		m    image.Image
		w, h int
	}{
		{"YCbCr420-2000x1500-to-1440x1080", ycc, 1440, 1080},
		{"YCbCr420-2000x1500-to-250x188", ycc, 250, 188},
		{"RGBA-1440x1080-to-250x188", prev, 250, 188},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkRGBA = Resize(bc.m, bc.w, bc.h)
			}
		})
		b.Run(bc.name+"/imaging.Linear", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkRGBA = reference(bc.m, bc.w, bc.h)
			}
		})
	}
}
