package faces

import (
	"fmt"
	"math"
	"sync"

	"shoebox/enrich/faces/nn"
)

// LandmarkNet is face-api's FaceLandmark68Net (SPEC §5).
type LandmarkNet struct {
	blocks [4]denseBlock
	fcW    []float32
	fcB    []float32

	mu  sync.Mutex
	ws  nn.Workspace
	x   nn.Tensor
	o   [4]nn.Tensor
	in  nn.Tensor
	out nn.Tensor
	avg nn.Tensor
}

type denseBlock struct {
	conv0 *nn.Conv    // first block only
	sep0  *nn.SepConv // other blocks
	sep   [3]*nn.SepConv
}

var faceMean = [3]float32{122.782, 117.001, 104.298}

// NewLandmarkNet builds the net from face_landmark_68_model weights.
func NewLandmarkNet(w *nn.Weights) (*LandmarkNet, error) {
	g := &nn.Getter{W: w}
	n := &LandmarkNet{}
	sizes := []int{3, 32, 64, 128, 256}
	for i := range n.blocks {
		cin, cout := sizes[i], sizes[i+1]
		p := fmt.Sprintf("dense%d/", i)
		b := &n.blocks[i]
		if i == 0 {
			b.conv0 = nn.NewConv(g.T(p+"conv0/filters", 3, 3, cin, cout), 3, 3, cin, cout, g.T(p+"conv0/bias", cout), 2, nn.Same)
			b.conv0.Act = nn.ActRelu
		} else {
			b.sep0 = sepFrom(g, p+"conv0/", cin, cout, 2)
			b.sep0.PW.Act = nn.ActRelu
		}
		for j := 1; j <= 3; j++ {
			b.sep[j-1] = sepFrom(g, fmt.Sprintf("%sconv%d/", p, j), cout, cout, 1)
		}
	}
	n.fcW = g.T("fc/weights", 256, 136)
	n.fcB = g.T("fc/bias", 136)
	if g.Err != nil {
		return nil, fmt.Errorf("faces: landmark net: %w", g.Err)
	}
	return n, nil
}

func sepFrom(g *nn.Getter, p string, cin, cout, stride int) *nn.SepConv {
	return nn.NewSepConv(g.T(p+"depthwise_filter", 3, 3, cin, 1), 3, cin,
		g.T(p+"pointwise_filter", 1, 1, cin, cout), cout, g.T(p+"bias", cout), stride, nn.Same)
}

// Input builds the 112×112 normalised input from a face crop.
func (n *LandmarkNet) Input(dst *nn.Tensor, crop *RGB) {
	toBatchTensor(dst, crop, 112, true, faceMean, 255)
}

// Forward runs the net on a 112×112×3 input and returns the 136 fc outputs
// (x0,y0,x1,y1,… relative to the padded 112 square).
func (n *LandmarkNet) Forward(x *nn.Tensor) []float32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	cur := x
	for i := range n.blocks {
		n.dense(&n.blocks[i], cur)
		cur = &n.out
		if i < 3 {
			// Next block reads from a stable buffer.
			n.x.Reset(cur.H, cur.W, cur.C)
			copy(n.x.Data, cur.Data)
			cur = &n.x
		}
	}
	nn.AvgPool(&n.avg, cur, 7, 2)
	y := make([]float32, 136)
	nn.FC(y, n.avg.Data, n.fcW, n.fcB)
	return y
}

// dense computes denseBlock4 into n.out.
func (n *LandmarkNet) dense(b *denseBlock, x *nn.Tensor) {
	o1, o2, o3, o4 := &n.o[0], &n.o[1], &n.o[2], &n.o[3]
	if b.conv0 != nil {
		b.conv0.Forward(o1, x, &n.ws)
	} else {
		b.sep0.Forward(o1, x, &n.ws)
	}
	// out1 = relu(...) is fused into conv0 / sep0.
	b.sep[0].Forward(o2, o1, &n.ws)
	in := &n.in
	in.Reset(o1.H, o1.W, o1.C)
	for i := range in.Data {
		in.Data[i] = max(o1.Data[i]+o2.Data[i], 0)
	}
	b.sep[1].Forward(o3, in, &n.ws)
	for i := range in.Data {
		in.Data[i] = max(o1.Data[i]+(o2.Data[i]+o3.Data[i]), 0)
	}
	b.sep[2].Forward(o4, in, &n.ws)
	out := &n.out
	out.Reset(o1.H, o1.W, o1.C)
	for i := range out.Data {
		out.Data[i] = max(o1.Data[i]+(o2.Data[i]+(o3.Data[i]+o4.Data[i])), 0)
	}
}

// Point is an image position in pixels.
type Point struct{ X, Y float64 }

// decodeLandmarks maps raw fc outputs to image pixels (SPEC §5 decode):
// crop is the integer crop fed to the net, (boxX, boxY) the unclipped,
// unfloored detection box origin.
func decodeLandmarks(raw []float32, crop Rect, boxX, boxY float64) [68]Point {
	cw, ch := float64(crop.W), float64(crop.H)
	s := 112 / math.Max(cw, ch)
	sw, sh := cw*s, ch*s
	var padX, padY float64
	if sw < sh {
		padX = math.Abs(sw-sh) / 2
	}
	if sh < sw {
		padY = math.Abs(sw-sh) / 2
	}
	f := func(v float64) float64 { return float64(float32(v)) }
	var pts [68]Point
	for i := range pts {
		rx := f(f(f(float64(raw[2*i])*112)-padX) / sw)
		ry := f(f(f(float64(raw[2*i+1])*112)-padY) / sh)
		pts[i] = Point{rx*cw + boxX, ry*ch + boxY}
	}
	return pts
}

// alignRect is the dlib-style square from eye and mouth centres (SPEC §6),
// clipped to the image and floored.
func alignRect(pts *[68]Point, W, H int) Rect {
	mean := func(a, b int) Point {
		var x, y float64
		for i := a; i < b; i++ {
			x += pts[i].X
			y += pts[i].Y
		}
		return Point{x / float64(b-a), y / float64(b-a)}
	}
	L, R, M := mean(36, 42), mean(42, 48), mean(48, 68)
	d := (math.Hypot(M.X-L.X, M.Y-L.Y) + math.Hypot(M.X-R.X, M.Y-R.Y)) / 2
	size := math.Floor(d / 0.45)
	refX, refY := (L.X+R.X+M.X)/3, (L.Y+R.Y+M.Y)/3
	x := math.Floor(math.Max(0, refX-0.5*size))
	y := math.Floor(math.Max(0, refY-0.43*size))
	return clipFloor(x, y, size, size, W, H)
}
