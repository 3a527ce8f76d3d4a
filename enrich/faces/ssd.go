package faces

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"shoebox/enrich/faces/nn"
)

// SSDDetector is face-api's SsdMobilenetv1 (SPEC §4): MobileNetV1 backbone,
// six SSD box predictors and stored anchors, input 512.
type SSDDetector struct {
	conv0 *nn.Conv
	dw    [13]ssdDepthwise
	pw    [13]*nn.Conv // MobilenetV1/Conv2d_1..13_pointwise
	extra [8]*nn.Conv  // Prediction/Conv2d_0..7_pointwise
	box   [6]*nn.Conv
	cls   [6]*nn.Conv
	anch  []float32 // [5118][4] ymin,xmin,ymax,xmax

	mu             sync.Mutex
	ws             nn.Workspace
	a, b, t, c11   nn.Tensor
	feat           [6]nn.Tensor // extra-layer outputs c1,c3,c5,c7 stored at 2..5
	boxOut, clsOut nn.Tensor
}

type ssdDepthwise struct {
	dw            *nn.Depthwise
	beta, mean, k []float64 // k = gamma / sqrt(moving_variance + eps)
}

// SSDAnchors is the number of SSD anchors (5118).
const SSDAnchors = 3072 + 1536 + 384 + 96 + 24 + 6

// NewSSDDetector builds the net from ssd_mobilenetv1_model weights.
func NewSSDDetector(w *nn.Weights) (*SSDDetector, error) {
	g := &nn.Getter{W: w}
	s := &SSDDetector{}
	s.conv0 = nn.NewConv(g.T("MobilenetV1/Conv2d_0_pointwise/weights", 3, 3, 3, 32), 3, 3, 3, 32,
		g.T("MobilenetV1/Conv2d_0_pointwise/convolution_bn_offset", 32), 2, nn.Same)
	ch := []int{32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024}
	for i := 1; i <= 13; i++ {
		cin, cout := ch[i-1], ch[i]
		stride := 1
		if i == 2 || i == 4 || i == 6 || i == 12 {
			stride = 2
		}
		p := fmt.Sprintf("MobilenetV1/Conv2d_%d_depthwise/", i)
		d := &s.dw[i-1]
		d.dw = &nn.Depthwise{KH: 3, KW: 3, C: cin, Stride: stride, Pad: nn.Same, F: g.T(p+"depthwise_weights", 3, 3, cin, 1)}
		f64 := func(v []float32) []float64 {
			o := make([]float64, len(v))
			for i, x := range v {
				o[i] = float64(x)
			}
			return o
		}
		gamma := f64(g.T(p+"BatchNorm/gamma", cin))
		d.beta = f64(g.T(p+"BatchNorm/beta", cin))
		d.mean = f64(g.T(p+"BatchNorm/moving_mean", cin))
		d.k = f64(g.T(p+"BatchNorm/moving_variance", cin))
		for c := range d.k {
			d.k[c] = gamma[c] / math.Sqrt(d.k[c]+0.0010000000474974513)
		}
		p = fmt.Sprintf("MobilenetV1/Conv2d_%d_pointwise/", i)
		s.pw[i-1] = nn.NewConv(g.T(p+"weights", 1, 1, cin, cout), 1, 1, cin, cout, g.T(p+"convolution_bn_offset", cout), 1, nn.Same)
	}
	extra := [8][3]int{{1, 1024, 256}, {3, 256, 512}, {1, 512, 128}, {3, 128, 256}, {1, 256, 128}, {3, 128, 256}, {1, 256, 64}, {3, 64, 128}}
	for i, e := range extra {
		k, cin, cout := e[0], e[1], e[2]
		stride := 1
		if i%2 == 1 {
			stride = 2
		}
		p := fmt.Sprintf("Prediction/Conv2d_%d_pointwise/", i)
		s.extra[i] = nn.NewConv(g.T(p+"weights", k, k, cin, cout), k, k, cin, cout, g.T(p+"convolution_bn_offset", cout), stride, nn.Same)
	}
	featC := []int{512, 1024, 512, 256, 256, 128}
	for j, cin := range featC {
		na := 6
		if j == 0 {
			na = 3
		}
		p := fmt.Sprintf("Prediction/BoxPredictor_%d/", j)
		s.box[j] = nn.NewConv(g.T(p+"BoxEncodingPredictor/weights", 1, 1, cin, 4*na), 1, 1, cin, 4*na, g.T(p+"BoxEncodingPredictor/biases", 4*na), 1, nn.Same)
		s.cls[j] = nn.NewConv(g.T(p+"ClassPredictor/weights", 1, 1, cin, 3*na), 1, 1, cin, 3*na, g.T(p+"ClassPredictor/biases", 3*na), 1, nn.Same)
	}
	s.anch = g.T("Output/extra_dim", 1, SSDAnchors, 4)
	s.conv0.Act = nn.ActRelu6
	for _, c := range append(s.pw[:], s.extra[:]...) {
		c.Act = nn.ActRelu6
	}
	if g.Err != nil {
		return nil, fmt.Errorf("faces: ssd detector: %w", g.Err)
	}
	return s, nil
}

// Input builds the 512×512 input: bottom/right zero pad, resize, p/127.5 - 1.
func (s *SSDDetector) Input(dst *nn.Tensor, im *RGB) {
	resizeSquare(dst, im, 512, false, func(v float32, _ int) float32 { return v/127.5 - 1 })
}

// Forward runs the net on a 512×512×3 input and returns the decoded boxes
// ([ymin,xmin,ymax,xmax] relative to the padded input) and face scores per
// anchor (SPEC §4 decoding, before NMS).
func (s *SSDDetector) Forward(x *nn.Tensor) (boxes [][4]float64, scores []float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := &s.ws
	cur, next := &s.a, &s.b
	s.conv0.Forward(cur, x, ws) // + relu6, fused
	for i := range s.dw {
		d := &s.dw[i]
		d.dw.Forward(&s.t, cur)
		C := s.t.C
		// Batch norm in float64 like tfjs's cpu kernel, with gamma/sqrt(var+eps)
		// precomputed (a rounding difference far below float32 resolution).
		beta, mean, k := d.beta[:C], d.mean[:C], d.k[:C]
		for p := 0; p+C <= len(s.t.Data); p += C {
			v := s.t.Data[p : p+C : p+C]
			for c := range v {
				v[c] = float32(beta[c] + (float64(v[c])-mean[c])*k[c])
			}
		}
		nn.Relu6(s.t.Data)
		s.pw[i].Forward(next, &s.t, ws) // + relu6, fused
		cur, next = next, cur
		if i == 10 { // output of layer 11
			s.c11.Reset(cur.H, cur.W, cur.C)
			copy(s.c11.Data, cur.Data)
		}
	}
	// cur = x (16x16x1024)
	t := cur
	for i, e := range s.extra {
		out := &s.feat[2+i/2]
		if i%2 == 0 {
			out = &s.t
		}
		e.Forward(out, t, ws) // + relu6, fused
		t = out
	}
	feats := [6]*nn.Tensor{&s.c11, cur, &s.feat[2], &s.feat[3], &s.feat[4], &s.feat[5]}
	boxes = make([][4]float64, 0, SSDAnchors)
	scores = make([]float64, 0, SSDAnchors)
	for j, f := range feats {
		s.box[j].Forward(&s.boxOut, f, ws)
		s.cls[j].Forward(&s.clsOut, f, ws)
		for i := 0; i+4 <= len(s.boxOut.Data); i += 4 {
			n := len(boxes)
			a := s.anch[4*n : 4*n+4]
			ay0, ax0, ay1, ax1 := float64(a[0]), float64(a[1]), float64(a[2]), float64(a[3])
			ty, tx := float64(s.boxOut.Data[i]), float64(s.boxOut.Data[i+1])
			th, tw := float64(s.boxOut.Data[i+2]), float64(s.boxOut.Data[i+3])
			ah, aw := ay1-ay0, ax1-ax0
			acy, acx := ay0+ah/2, ax0+aw/2
			cy, cx := ty/10*ah+acy, tx/10*aw+acx
			hh, hw := math.Exp(th/5)*ah/2, math.Exp(tw/5)*aw/2
			boxes = append(boxes, [4]float64{cy - hh, cx - hw, cy + hh, cx + hw})
		}
		for i := 0; i+3 <= len(s.clsOut.Data); i += 3 {
			scores = append(scores, sigmoid(float64(s.clsOut.Data[i+1])))
		}
	}
	return boxes, scores
}

// DecodeSSD applies face-api's SSD NMS (IoU 0.5) and maps the kept boxes to
// image pixels for an image of imgW×imgH (SPEC §4).
func DecodeSSD(boxes [][4]float64, scores []float64, imgW, imgH int, minConfidence float64, maxResults int) []Detection {
	var cand []int
	for i, sc := range scores {
		if sc > minConfidence {
			cand = append(cand, i)
		}
	}
	sort.SliceStable(cand, func(a, b int) bool { return scores[cand[a]] > scores[cand[b]] })
	iou := func(i, j int) float64 {
		bi, bj := boxes[i], boxes[j]
		yi0, xi0, yi1, xi1 := math.Min(bi[0], bi[2]), math.Min(bi[1], bi[3]), math.Max(bi[0], bi[2]), math.Max(bi[1], bi[3])
		yj0, xj0, yj1, xj1 := math.Min(bj[0], bj[2]), math.Min(bj[1], bj[3]), math.Max(bj[0], bj[2]), math.Max(bj[1], bj[3])
		ai, aj := (yi1-yi0)*(xi1-xi0), (yj1-yj0)*(xj1-xj0)
		if ai <= 0 || aj <= 0 {
			return 0
		}
		inter := math.Max(math.Min(yi1, yj1)-math.Max(yi0, yj0), 0) * math.Max(math.Min(xi1, xj1)-math.Max(xi0, xj0), 0)
		return inter / (ai + aj - inter)
	}
	maxOut := min(maxResults, len(boxes))
	var sel []int
	for _, c := range cand {
		if len(sel) >= maxOut {
			break
		}
		keep := true
		for k := len(sel) - 1; k >= 0; k-- {
			if iou(c, sel[k]) > 0.5 {
				keep = false
				break
			}
		}
		if keep {
			sel = append(sel, c)
		}
	}
	rw, rh := reshapedDims(imgW, imgH, 512)
	px, py := 512/rw, 512/rh
	dets := make([]Detection, 0, len(sel))
	for _, i := range sel {
		b := boxes[i]
		top, bottom := math.Max(0, b[0])*py, math.Min(1, b[2])*py
		left, right := math.Max(0, b[1])*px, math.Min(1, b[3])*px
		dets = append(dets, Detection{Score: scores[i],
			X: left * float64(imgW), Y: top * float64(imgH), W: (right - left) * float64(imgW), H: (bottom - top) * float64(imgH)})
	}
	return dets
}
