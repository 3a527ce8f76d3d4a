package faces

import (
	"fmt"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"shoebox/enrich/faces/nn"
	"shoebox/enrich/internal/resize"
)

func TestFitSimilarity(t *testing.T) {
	want := similarity{A: 1.7, B: -0.4, TX: 31, TY: -12}
	var from, to []Point
	for _, m := range meanFace {
		from = append(from, Point{m.X * 150, m.Y * 150})
		x, y := want.apply(m.X*150, m.Y*150)
		to = append(to, Point{x, y})
	}
	got := fitSimilarity(from, to)
	if d := math.Abs(got.A-want.A) + math.Abs(got.B-want.B) + math.Abs(got.TX-want.TX) + math.Abs(got.TY-want.TY); d > 1e-9 {
		t.Fatalf("fitSimilarity = %+v; want %+v", got, want)
	}
}

// TestAlignFace cuts bona's chip from the golden landmarks: the fitted
// landmarks must land near the template, the eyes level.
func TestAlignFace(t *testing.T) {
	g := loadGolden(t)
	img := g.Images[0]
	im := decodeImage(t, img.File)
	var pts [68]Point
	for i, p := range img.Tiny416.Faces[0].Landmarks {
		pts[i] = Point{p[0], p[1]}
	}
	tr := chipTransform(&pts, alignPoints, ChipSize, ChipPadding)
	k := ChipSize / (1 + 2*ChipPadding)
	var rms float64
	for _, i := range alignPoints {
		m := meanFace[i-17]
		x, y := tr.apply((ChipPadding+m.X)*k, (ChipPadding+m.Y)*k)
		rms += (x-pts[i].X)*(x-pts[i].X) + (y-pts[i].Y)*(y-pts[i].Y)
	}
	rms = math.Sqrt(rms/float64(len(alignPoints))) / tr.scale() // in chip pixels
	if rms > 6 {
		t.Errorf("landmarks fit the template to %.2f chip px rms; want < 6", rms)
	}
	chip := AlignFace(im, &pts)
	if chip.W != ChipSize || chip.H != ChipSize {
		t.Fatalf("chip %dx%d", chip.W, chip.H)
	}
	var sum float64
	for _, v := range chip.Pix {
		sum += float64(v)
	}
	if mean := sum / float64(len(chip.Pix)); mean < 20 || mean > 235 {
		t.Errorf("chip mean %.1f: not a face", mean)
	}
	m := loadModels(t)
	fs, err := m.DetectRGB(im, Options{Align: true})
	if err != nil || len(fs) != 1 || fs[0].Detector != "tiny416a" {
		t.Fatalf("DetectRGB(Align) = %d faces, %v", len(fs), err)
	}
	// The same face, cut two ways: near, but not the same descriptor.
	var ref [128]float32
	for i, v := range img.Tiny416.Faces[0].Descriptor {
		ref[i] = float32(v)
	}
	d := Distance(&fs[0].Descriptor, &ref)
	t.Logf("aligned vs face-api descriptor of %s: L2 %.3f", img.Name, d)
	if d < 0.01 || d > 0.45 || fs[0].DescriptorCrop.W <= 0 {
		t.Errorf("aligned descriptor at L2 %.3f from face-api's, crop %+v", d, fs[0].DescriptorCrop)
	}
}

// evalFace is one face of the shared photos at preview size.
type evalFace struct {
	name string // file name
	id   string // identity ("" for the group photo)
	im   *RGB
	pts  [68]Point
	desc [128]float32 // unaligned (face-api)
}

// evalFaces detects faces in the shared photos, resized like the gateway's
// preview (1440 px on the long side): the largest face of each
// single-person photo, and with group, every face of the group photo
// (tiny800, since tiny416 finds none there).
func evalFaces(t *testing.T, m *Models, group bool) []evalFace {
	needTestdata(t)
	files, _ := filepath.Glob(filepath.Join(testdataDir, "images", "*.jpg"))
	var out []evalFace
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		im := ToRGB(resize.Fit(img, 1440, 1440))
		name := filepath.Base(f)
		id := strings.TrimRight(strings.TrimSuffix(name, ".jpg"), "0123456789")
		opt := Options{}
		switch os.Getenv("SHOEBOX_FACE_EVAL_DET") { // landmarks from another detector's boxes
		case "ssd":
			opt.Detector = DetectorSSD
		case "tiny608":
			opt.InputSize = 608
		}
		if id == "pristin" {
			if !group {
				continue
			}
			opt.InputSize = 800
			id = ""
		}
		fs, err := m.DetectRGB(im, opt)
		if err != nil {
			t.Fatal(err)
		}
		if id != "" && len(fs) > 1 {
			slices.SortFunc(fs, func(a, b Face) int { return int(b.Box.W*b.Box.H - a.Box.W*a.Box.H) })
			fs = fs[:1]
		}
		for _, fc := range fs {
			out = append(out, evalFace{name, id, im, fc.Landmarks, fc.Descriptor})
		}
	}
	return out
}

// TestMeanFace recomputes meanFace (run with SHOEBOX_FACE_EVAL=1 -v): the
// generalised Procrustes mean of landmarks 17–67 of every face found,
// symmetrised, eyes level, bounding box at (0,0) with width 1.
func TestMeanFace(t *testing.T) {
	if os.Getenv("SHOEBOX_FACE_EVAL") == "" {
		t.Skip("set SHOEBOX_FACE_EVAL=1")
	}
	fs := evalFaces(t, loadModels(t), true)
	shapes := make([][]Point, len(fs))
	for i, f := range fs {
		shapes[i] = append([]Point(nil), f.pts[17:]...)
	}
	norm := func(s []Point) {
		var cx, cy, n float64
		for _, p := range s {
			cx += p.X
			cy += p.Y
		}
		cx /= float64(len(s))
		cy /= float64(len(s))
		for i := range s {
			s[i].X -= cx
			s[i].Y -= cy
			n += s[i].X*s[i].X + s[i].Y*s[i].Y
		}
		n = math.Sqrt(n)
		for i := range s {
			s[i].X /= n
			s[i].Y /= n
		}
	}
	// mirror[i] is the 68-point index of i's mirror image.
	mirror := make([]int, 68)
	for i := range mirror {
		mirror[i] = i
	}
	for _, p := range [][2]int{{17, 26}, {18, 25}, {19, 24}, {20, 23}, {21, 22}, {31, 35}, {32, 34},
		{36, 45}, {37, 44}, {38, 43}, {39, 42}, {40, 47}, {41, 46}, {48, 54}, {49, 53}, {50, 52},
		{55, 59}, {56, 58}, {60, 64}, {61, 63}, {65, 67}} {
		mirror[p[0]], mirror[p[1]] = p[1], p[0]
	}
	for _, s := range slices.Clone(shapes) {
		ms := make([]Point, len(s))
		for i := range s {
			p := s[mirror[i+17]-17]
			ms[i] = Point{-p.X, p.Y}
		}
		shapes = append(shapes, ms)
	}
	mean := slices.Clone(shapes[0])
	norm(mean)
	for range 20 {
		next := make([]Point, len(mean))
		for _, s := range shapes {
			tr := fitSimilarity(s, mean)
			for i, p := range s {
				x, y := tr.apply(p.X, p.Y)
				next[i].X += x
				next[i].Y += y
			}
		}
		norm(next)
		mean = next
	}
	// Eyes level.
	eye := func(a int) Point {
		var p Point
		for i := a; i < a+6; i++ {
			p.X += mean[i-17].X / 6
			p.Y += mean[i-17].Y / 6
		}
		return p
	}
	l, r := eye(36), eye(42)
	ang := -math.Atan2(r.Y-l.Y, r.X-l.X)
	rot := similarity{A: math.Cos(ang), B: math.Sin(ang)}
	minX, minY, maxX := math.Inf(1), math.Inf(1), math.Inf(-1)
	for i, p := range mean {
		x, y := rot.apply(p.X, p.Y)
		mean[i] = Point{x, y}
		minX, minY, maxX = math.Min(minX, x), math.Min(minY, y), math.Max(maxX, x)
	}
	var b strings.Builder
	for i, p := range mean {
		x, y := (p.X-minX)/(maxX-minX), (p.Y-minY)/(maxX-minX)
		fmt.Fprintf(&b, "{%.6f, %.6f},", x, y)
		if i%5 == 4 {
			b.WriteString("\n")
		} else {
			b.WriteString(" ")
		}
		if d := math.Hypot(x-meanFace[i].X, y-meanFace[i].Y); d > 0.01 {
			t.Errorf("meanFace[%d] = %v; recomputed (%.6f, %.6f)", i, meanFace[i], x, y)
		}
	}
	t.Logf("%d faces; meanFace:\n%s", len(fs), b.String())
}

// alignVariant is one way to compute the descriptor.
type alignVariant struct {
	name    string
	idx     []int   // fitted landmarks; nil: face-api's axis-aligned crop
	padding float64 // chip padding
	plain   bool    // one bilinear sample per chip pixel (no area averaging)
	flip    bool    // average with the mirrored chip's descriptor
}

// TestAlignEval measures descriptors of the 15 single-person photos
// (run with SHOEBOX_FACE_EVAL=1 -v): same- vs different-person distances
// (centred cosine as people.go computes it, and L2), ROC AUC, and pairwise
// precision/recall/F1 of people.go's average linkage over thresholds, for
// face-api's crop and aligned variants; and the alignment time per face.
func TestAlignEval(t *testing.T) {
	if os.Getenv("SHOEBOX_FACE_EVAL") == "" {
		t.Skip("set SHOEBOX_FACE_EVAL=1")
	}
	m := loadModels(t)
	fs := evalFaces(t, m, false)
	if len(fs) != 15 {
		t.Fatalf("%d faces; want 15", len(fs))
	}
	span := func(a, b int) []int {
		var s []int
		for i := a; i <= b; i++ {
			s = append(s, i)
		}
		return s
	}
	all := span(17, 67)
	eyesNoseMouth := append(append(span(30, 30), span(36, 47)...), 48, 54)
	variants := []alignVariant{
		{name: "face-api crop"},
		{name: "dlib pts, pad 0.25", idx: alignPoints, padding: 0.25},
		{name: "dlib pts, pad 0.25, plain bilinear", idx: alignPoints, padding: 0.25, plain: true},
		{name: "dlib pts, pad 0.20", idx: alignPoints, padding: 0.20},
		{name: "dlib pts, pad 0.30", idx: alignPoints, padding: 0.30},
		{name: "pts 17-67, pad 0.25", idx: all, padding: 0.25},
		{name: "eyes+nose tip+mouth corners, pad 0.25", idx: eyesNoseMouth, padding: 0.25},
		{name: "eyes+nose tip+mouth corners, pad 0.20", idx: eyesNoseMouth, padding: 0.20},
		{name: "eyes+nose tip+mouth corners, pad 0.30", idx: eyesNoseMouth, padding: 0.30},
		{name: "dlib 5-point (eye corners, 33), pad 0.25", idx: []int{33, 36, 39, 42, 45}, padding: 0.25},
		{name: "eyes+nose 27-35, pad 0.25", idx: span(27, 47), padding: 0.25},
		{name: "dlib pts, pad 0.25, + mirror", idx: alignPoints, padding: 0.25, flip: true},
		{name: "eyes+nose tip+mouth corners, pad 0.25, + mirror", idx: eyesNoseMouth, padding: 0.25, flip: true},
	}
	ths := []float64{0.75, 0.80, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89, 0.90, 0.92}
	var x nn.Tensor
	for _, v := range variants {
		descs := make([][]float64, len(fs))
		var warp time.Duration
		for i, f := range fs {
			d := f.desc
			if v.idx != nil {
				start := time.Now()
				tr := chipTransform(&f.pts, v.idx, ChipSize, v.padding)
				var chip *RGB
				if v.plain {
					chip = warpPlain(f.im, tr, ChipSize)
				} else {
					chip = warpChip(f.im, tr, ChipSize)
				}
				warp += time.Since(start)
				m.Recognition.Input(&x, chip)
				d = m.Recognition.Forward(&x)
				if v.flip {
					fl := &RGB{W: chip.W, H: chip.H, Pix: make([]uint8, len(chip.Pix))}
					for r := 0; r < chip.H; r++ {
						for c := 0; c < chip.W; c++ {
							copy(fl.Pix[(r*chip.W+c)*3:][:3], chip.Pix[(r*chip.W+chip.W-1-c)*3:])
						}
					}
					m.Recognition.Input(&x, fl)
					d2 := m.Recognition.Forward(&x)
					for j := range d {
						d[j] = (d[j] + d2[j]) / 2
					}
				}
			}
			descs[i] = make([]float64, 128)
			for j, e := range d {
				descs[i][j] = float64(e)
			}
		}
		vecs := centreTest(descs)
		var sameC, diffC, sameL, diffL []float64
		for i := range fs {
			for j := i + 1; j < len(fs); j++ {
				c := 1 - dotTest(vecs[i], vecs[j])
				l := l2Test(descs[i], descs[j])
				if fs[i].id == fs[j].id {
					sameC, sameL = append(sameC, c), append(sameL, l)
				} else {
					diffC, diffL = append(diffC, c), append(diffL, l)
				}
			}
		}
		line := fmt.Sprintf("%-40s cos: AUC %.3f same %.3f diff %.3f | L2: AUC %.3f same %.3f diff %.3f",
			v.name, auc(sameC, diffC), meanTest(sameC), meanTest(diffC), auc(sameL, diffL), meanTest(sameL), meanTest(diffL))
		if v.idx != nil {
			line += fmt.Sprintf(" | warp %.1f ms/face", float64(warp.Microseconds())/1000/float64(len(fs)))
		}
		t.Log(line)
		var prf []string
		for _, th := range ths {
			p, r, f1 := pairScore(fs, clusterTest(vecs, 1-th))
			prf = append(prf, fmt.Sprintf("%.2f:%.2f/%.2f/%.2f", th, p, r, f1))
		}
		t.Log("    P/R/F1 by threshold: " + strings.Join(prf, " "))
	}
}

// warpPlain is warpChip with one bilinear sample per chip pixel.
func warpPlain(im *RGB, t similarity, size int) *RGB {
	out := &RGB{W: size, H: size, Pix: make([]uint8, size*size*3)}
	for r := 0; r < size; r++ {
		for c := 0; c < size; c++ {
			x, y := t.apply(float64(c), float64(r))
			x0, y0 := int(math.Floor(x)), int(math.Floor(y))
			if x0 < 0 || y0 < 0 || x0+1 >= im.W || y0+1 >= im.H {
				continue
			}
			dx, dy := x-float64(x0), y-float64(y0)
			for k := range 3 {
				p := func(xx, yy int) float64 { return float64(im.Pix[(yy*im.W+xx)*3+k]) }
				v := (1-dy)*((1-dx)*p(x0, y0)+dx*p(x0+1, y0)) + dy*((1-dx)*p(x0, y0+1)+dx*p(x0+1, y0+1))
				out.Pix[(r*size+c)*3+k] = uint8(math.Floor(v + 0.5))
			}
		}
	}
	return out
}

func pairScore(fs []evalFace, groups [][]int) (p, r, f1 float64) {
	tp, fp, pos := 0, 0, 0
	for i := range fs {
		for j := i + 1; j < len(fs); j++ {
			if fs[i].id == fs[j].id {
				pos++
			}
		}
	}
	for _, g := range groups {
		for a := range g {
			for b := a + 1; b < len(g); b++ {
				if fs[g[a]].id == fs[g[b]].id {
					tp++
				} else {
					fp++
				}
			}
		}
	}
	p = float64(tp) / float64(max(1, tp+fp))
	r = float64(tp) / float64(pos)
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return p, r, f1
}

// auc is the probability that a same-person distance is below a
// different-person one (ties count half).
func auc(same, diff []float64) float64 {
	var s float64
	for _, a := range same {
		for _, b := range diff {
			switch {
			case a < b:
				s++
			case a == b:
				s += 0.5
			}
		}
	}
	return s / float64(len(same)*len(diff))
}

func meanTest(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func l2Test(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}

func dotTest(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// centreTest is enrich/people.go's centre: subtract the mean, normalise.
func centreTest(descs [][]float64) [][]float64 {
	mean := make([]float64, 128)
	for _, d := range descs {
		for j, v := range d {
			mean[j] += v / float64(len(descs))
		}
	}
	out := make([][]float64, len(descs))
	for i, d := range descs {
		v := make([]float64, 128)
		n := 0.0
		for j := range d {
			v[j] = d[j] - mean[j]
			n += v[j] * v[j]
		}
		for j := range v {
			v[j] /= math.Sqrt(n)
		}
		out[i] = v
	}
	return out
}

// clusterTest is enrich/people.go's clusterFaces (average linkage; pairs
// taken in order of similarity, each merge rechecked on the groups as they
// are), groups of at least 2.
func clusterTest(vecs [][]float64, minSim float64) [][]int {
	n := len(vecs)
	parent := make([]int, n)
	sums := make([][]float64, n)
	sizes := make([]int, n)
	for i := range vecs {
		parent[i], sums[i], sizes[i] = i, slices.Clone(vecs[i]), 1
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	type pr struct {
		s    float64
		i, j int
	}
	var ps []pr
	for i := range n {
		for j := i + 1; j < n; j++ {
			if s := dotTest(vecs[i], vecs[j]); s >= minSim {
				ps = append(ps, pr{s, i, j})
			}
		}
	}
	sort.SliceStable(ps, func(a, b int) bool { return ps[a].s > ps[b].s })
	for _, p := range ps {
		a, b := find(p.i), find(p.j)
		if a == b || dotTest(sums[a], sums[b])/float64(sizes[a]*sizes[b]) < minSim {
			continue
		}
		parent[b] = a
		for j := range sums[a] {
			sums[a][j] += sums[b][j]
		}
		sizes[a] += sizes[b]
	}
	byRoot := map[int][]int{}
	for i := range n {
		byRoot[find(i)] = append(byRoot[find(i)], i)
	}
	var out [][]int
	for _, g := range byRoot {
		if len(g) >= 2 {
			out = append(out, g)
		}
	}
	return out
}
