package faces

import "math"

// Aligned face chips: the dlib ResNet behind the recognition net was trained
// on 150×150 chips cut with a similarity transform (rotation, uniform scale,
// translation) that maps the face's landmarks, in the least-squares sense,
// onto a canonical mean face placed in the chip with a padding margin.
// face-api instead feeds an axis-aligned square (alignRect); Options.Align
// selects the chip instead.

// ChipSize is the side of the aligned chip, the recognition net's input.
const ChipSize = 150

// ChipPadding is the margin around the template, as a fraction of the
// template's width on each side (dlib's face recognition convention).
const ChipPadding = 0.25

// meanFace is the canonical face, landmarks 17–67 (brows, nose, eyes,
// mouth) of the 68-point scheme, in template units: the points' bounding
// box starts at (0, 0) and is 1 wide (uniform scale, so about 0.9 high).
// It was computed, not copied: generalised Procrustes mean of the 68-point
// landmarks that this package's landmark net finds on the shared test
// faces (every tiny416 face, and the tiny800 faces of the group photo),
// averaged with its mirror image so that it is symmetric, rotated so the
// eye centres are level. align_test.go's TestMeanFace recomputes it.
var meanFace = [51]Point{
	{0.000000, 0.069430}, {0.082341, 0.015537}, {0.183839, 0.000000}, {0.275765, 0.010970}, {0.350830, 0.044936},
	{0.649170, 0.044936}, {0.724235, 0.010970}, {0.816161, 0.000000}, {0.917659, 0.015537}, {1.000000, 0.069430},
	{0.500000, 0.224545}, {0.500000, 0.335977}, {0.500000, 0.436309}, {0.500000, 0.532744}, {0.395545, 0.587182},
	{0.442930, 0.601267}, {0.500000, 0.616408}, {0.557070, 0.601267}, {0.604455, 0.587182}, {0.134956, 0.203800},
	{0.187384, 0.178202}, {0.271045, 0.176013}, {0.339687, 0.215643}, {0.277190, 0.241559}, {0.191694, 0.234647},
	{0.660313, 0.215643}, {0.728955, 0.176013}, {0.812616, 0.178202}, {0.865044, 0.203800}, {0.808306, 0.234647},
	{0.722810, 0.241559}, {0.272001, 0.775223}, {0.351059, 0.740660}, {0.445969, 0.713880}, {0.500000, 0.728349},
	{0.554031, 0.713880}, {0.648941, 0.740660}, {0.727999, 0.775223}, {0.643534, 0.856311}, {0.571530, 0.897157},
	{0.500000, 0.908673}, {0.428470, 0.897157}, {0.356466, 0.856311}, {0.290055, 0.775102}, {0.432608, 0.774697},
	{0.500000, 0.776289}, {0.567392, 0.774697}, {0.709945, 0.775102}, {0.566199, 0.817785}, {0.500000, 0.824748},
	{0.433801, 0.817785},
}

// alignPoints are the landmarks fitted to meanFace, dlib's choice: nose
// (27–35), eyes (36–47), upper lip (48–54, 60–64). Brows and lower lip move
// with expression and the jaw line with pose, so they are left out.
var alignPoints = func() []int {
	var idx []int
	for i := 27; i <= 54; i++ {
		idx = append(idx, i)
	}
	for i := 60; i <= 64; i++ {
		idx = append(idx, i)
	}
	return idx
}()

// similarity maps chip coordinates to image coordinates:
// (x, y) → (A·x − B·y + TX, B·x + A·y + TY).
type similarity struct{ A, B, TX, TY float64 }

func (s similarity) apply(x, y float64) (float64, float64) {
	return s.A*x - s.B*y + s.TX, s.B*x + s.A*y + s.TY
}

// scale is the image distance of one chip pixel.
func (s similarity) scale() float64 { return math.Hypot(s.A, s.B) }

// fitSimilarity is the least-squares similarity transform taking from[i]
// to to[i] (closed form: centre both sets, then the rotation-scale is
// the complex ratio Σ conj(f)·t / Σ |f|²).
func fitSimilarity(from, to []Point) similarity {
	n := float64(len(from))
	var fx, fy, tx, ty float64
	for i := range from {
		fx += from[i].X
		fy += from[i].Y
		tx += to[i].X
		ty += to[i].Y
	}
	fx, fy, tx, ty = fx/n, fy/n, tx/n, ty/n
	var dot, cross, norm float64
	for i := range from {
		ax, ay := from[i].X-fx, from[i].Y-fy
		bx, by := to[i].X-tx, to[i].Y-ty
		dot += ax*bx + ay*by
		cross += ax*by - ay*bx
		norm += ax*ax + ay*ay
	}
	if norm == 0 {
		return similarity{A: 1, TX: tx - fx, TY: ty - fy}
	}
	a, b := dot/norm, cross/norm
	return similarity{A: a, B: b, TX: tx - (a*fx - b*fy), TY: ty - (b*fx + a*fy)}
}

// chipTransform fits the landmarks idx (68-point indices, 17–67) of pts to
// meanFace placed in a size×size chip with the given padding: template
// point m lands at chip pixel (padding + m) / (1 + 2·padding) · size.
func chipTransform(pts *[68]Point, idx []int, size int, padding float64) similarity {
	from := make([]Point, len(idx))
	to := make([]Point, len(idx))
	k := float64(size) / (1 + 2*padding)
	for j, i := range idx {
		m := meanFace[i-17]
		from[j] = Point{(padding + m.X) * k, (padding + m.Y) * k}
		to[j] = pts[i]
	}
	return fitSimilarity(from, to)
}

// warpChip samples im at the chip pixels mapped by t into a size×size
// image. Each chip pixel averages n×n bilinear samples spread over its
// footprint in the image, n = ceil(scale), so a chip cut from a large face
// is area-averaged rather than aliased. Outside the image is black.
func warpChip(im *RGB, t similarity, size int) *RGB {
	out := &RGB{W: size, H: size, Pix: make([]uint8, size*size*3)}
	n := max(1, int(math.Ceil(t.scale()-1e-9)))
	n = min(n, 16)
	offs := make([]float64, n)
	for i := range offs {
		offs[i] = (float64(i)+0.5)/float64(n) - 0.5
	}
	inv := 1 / float64(n*n)
	W, H := im.W, im.H
	pix := im.Pix
	for r := 0; r < size; r++ {
		for c := 0; c < size; c++ {
			var acc [3]float64
			for _, oy := range offs {
				for _, ox := range offs {
					x, y := t.apply(float64(c)+ox, float64(r)+oy)
					if !(x > -1 && y > -1 && x < float64(W) && y < float64(H)) {
						continue
					}
					x0, y0 := int(math.Floor(x)), int(math.Floor(y))
					dx, dy := x-float64(x0), y-float64(y0)
					w00, w01 := (1-dx)*(1-dy), dx*(1-dy)
					w10, w11 := (1-dx)*dy, dx*dy
					for _, tap := range [4]struct {
						x, y int
						w    float64
					}{{x0, y0, w00}, {x0 + 1, y0, w01}, {x0, y0 + 1, w10}, {x0 + 1, y0 + 1, w11}} {
						if tap.w == 0 || tap.x < 0 || tap.y < 0 || tap.x >= W || tap.y >= H {
							continue
						}
						p := pix[(tap.y*W+tap.x)*3:]
						acc[0] += tap.w * float64(p[0])
						acc[1] += tap.w * float64(p[1])
						acc[2] += tap.w * float64(p[2])
					}
				}
			}
			o := out.Pix[(r*size+c)*3:]
			for k := range 3 {
				o[k] = uint8(min(255, math.Floor(acc[k]*inv+0.5)))
			}
		}
	}
	return out
}

// chipBounds is the integer bounding box of the chip's footprint in the
// image, clipped to it.
func chipBounds(t similarity, size, W, H int) Rect {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	s := float64(size - 1)
	for _, c := range [4][2]float64{{0, 0}, {s, 0}, {0, s}, {s, s}} {
		x, y := t.apply(c[0], c[1])
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	return clipFloor(minX, minY, maxX-minX+1, maxY-minY+1, W, H)
}

// AlignFace cuts the aligned ChipSize×ChipSize chip of a face from im given
// its 68 landmarks (in im's pixels): the similarity transform that best
// maps the nose, eye and upper-lip landmarks onto the canonical face with
// ChipPadding. Feed it to RecognitionNet.Input.
func AlignFace(im *RGB, pts *[68]Point) *RGB {
	return warpChip(im, chipTransform(pts, alignPoints, ChipSize, ChipPadding), ChipSize)
}
