package faces

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"shoebox/enrich/faces/nn"
)

// TinyDetector is face-api's TinyFaceDetector (SPEC §3).
type TinyDetector struct {
	conv0 *nn.Conv
	sep   [5]*nn.SepConv
	conv8 *nn.Conv

	mu sync.Mutex
	ws nn.Workspace
	a  nn.Tensor
	b  nn.Tensor
}

var tinyAnchors = [5][2]float64{
	{1.603231, 2.094468}, {6.041143, 7.080126}, {2.882459, 3.518061}, {4.266906, 5.178857}, {9.041765, 10.66308},
}

var tinyMean = [3]float32{117.001, 114.697, 97.404}

// NewTinyDetector builds the net from tiny_face_detector_model weights.
func NewTinyDetector(w *nn.Weights) (*TinyDetector, error) {
	g := &nn.Getter{W: w}
	t := &TinyDetector{}
	t.conv0 = nn.NewConv(g.T("conv0/filters", 3, 3, 3, 16), 3, 3, 3, 16, g.T("conv0/bias", 16), 1, nn.Valid)
	sizes := []int{16, 32, 64, 128, 256, 512}
	for i := 1; i <= 5; i++ {
		cin, cout := sizes[i-1], sizes[i]
		p := fmt.Sprintf("conv%d/", i)
		// pad 1 + valid 3x3 stride 1 == same.
		t.sep[i-1] = nn.NewSepConv(g.T(p+"depthwise_filter", 3, 3, cin, 1), 3, cin,
			g.T(p+"pointwise_filter", 1, 1, cin, cout), cout, g.T(p+"bias", cout), 1, nn.Same)
	}
	t.conv0.Act = nn.ActLeaky
	for _, s := range t.sep {
		s.PW.Act = nn.ActLeaky
	}
	t.conv8 = nn.NewConv(g.T("conv8/filters", 1, 1, 512, 25), 1, 1, 512, 25, g.T("conv8/bias", 25), 1, nn.Valid)
	if g.Err != nil {
		return nil, fmt.Errorf("faces: tiny detector: %w", g.Err)
	}
	return t, nil
}

// Input builds the normalised inputSize×inputSize input tensor (SPEC §3 input).
func (t *TinyDetector) Input(dst *nn.Tensor, im *RGB, inputSize int) {
	toBatchTensor(dst, im, inputSize, false, tinyMean, 255)
}

// Forward runs the net on a prepared input and returns the raw G×G×25 conv8
// output (a copy).
func (t *TinyDetector) Forward(x *nn.Tensor) *nn.Tensor {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, b, ws := &t.a, &t.b, &t.ws
	t.conv0.Forward(a, x, ws) // + leaky, fused
	nn.MaxPool(b, a, 2, 2, nn.Same)
	for i, s := range t.sep {
		s.Forward(a, b, ws) // + leaky, fused
		stride := 2
		if i == 4 {
			stride = 1
		}
		nn.MaxPool(b, a, 2, stride, nn.Same)
	}
	t.conv8.Forward(a, b, ws)
	return &nn.Tensor{H: a.H, W: a.W, C: a.C, Data: append([]float32(nil), a.Data...)}
}

// Detection is a detector box in image pixels (not clipped).
type Detection struct {
	Score      float64
	X, Y, W, H float64
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// DecodeTiny turns the raw output into boxes in image pixels for an image of
// imgW×imgH (SPEC §3 decoding + NMS).
func DecodeTiny(out *nn.Tensor, imgW, imgH, inputSize int, scoreThreshold float64) []Detection {
	G := out.H
	rw, rh := reshapedDims(imgW, imgH, inputSize)
	cx, cy := float64(inputSize)/rw, float64(inputSize)/rh
	type cand struct{ score, x, y, w, h float64 }
	var cs []cand
	for row := 0; row < G; row++ {
		for col := 0; col < G; col++ {
			for a := 0; a < 5; a++ {
				o := out.Data[(row*G+col)*25+a*5:]
				score := sigmoid(float64(o[4]))
				if !(score > scoreThreshold) {
					continue
				}
				ctX := (float64(col) + sigmoid(float64(o[0]))) / float64(G) * cx
				ctY := (float64(row) + sigmoid(float64(o[1]))) / float64(G) * cy
				bw := math.Exp(float64(o[2])) * tinyAnchors[a][0] / float64(G) * cx
				bh := math.Exp(float64(o[3])) * tinyAnchors[a][1] / float64(G) * cy
				cs = append(cs, cand{score, ctX - bw/2, ctY - bh/2, bw, bh})
			}
		}
	}
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return cs[order[i]].score < cs[order[j]].score })
	sz := float64(inputSize)
	iou := func(p, q cand) float64 {
		l1, t1, r1, b1 := p.x*sz, p.y*sz, (p.x+p.w)*sz, (p.y+p.h)*sz
		l2, t2, r2, b2 := q.x*sz, q.y*sz, (q.x+q.w)*sz, (q.y+q.h)*sz
		inter := math.Max(0, math.Min(r1, r2)-math.Max(l1, l2)) * math.Max(0, math.Min(b1, b2)-math.Max(t1, t2))
		return inter / ((r1-l1)*(b1-t1) + (r2-l2)*(b2-t2) - inter)
	}
	var dets []Detection
	for len(order) > 0 {
		cur := order[len(order)-1]
		order = order[:len(order)-1]
		c := cs[cur]
		dets = append(dets, Detection{Score: c.score, X: c.x * float64(imgW), Y: c.y * float64(imgH), W: c.w * float64(imgW), H: c.h * float64(imgH)})
		kept := order[:0]
		for _, i := range order {
			if iou(c, cs[i]) <= 0.4 {
				kept = append(kept, i)
			}
		}
		order = kept
	}
	return dets
}
