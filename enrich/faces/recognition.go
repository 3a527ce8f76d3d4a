package faces

import (
	"fmt"
	"sync"

	"shoebox/enrich/faces/nn"
)

// RecognitionNet is face-api's FaceRecognitionNet (dlib ResNet, SPEC §7).
type RecognitionNet struct {
	down   convUnit // conv32_down
	layers []resLayer
	fc     []float32

	mu   sync.Mutex
	ws   nn.Workspace
	a, b nn.Tensor // ping-pong activations
	t1   nn.Tensor
	t2   nn.Tensor
	pool nn.Tensor
	mean [256]float32
}

// convUnit is conv + bias, then dlib's affine (scale layer), then optional
// relu, all in the conv's fused epilogue.
type convUnit struct {
	conv *nn.Conv
}

func (u *convUnit) forward(dst, x *nn.Tensor, ws *nn.Workspace) {
	u.conv.Forward(dst, x, ws)
}

type resLayer struct {
	down         bool
	conv1, conv2 convUnit
}

func unitFrom(g *nn.Getter, p string, k, cin, cout, stride int, pad nn.Padding, relu bool) convUnit {
	c := nn.NewConv(g.T(p+"conv/filters", k, k, cin, cout), k, k, cin, cout, g.T(p+"conv/bias", cout), stride, pad)
	c.Scale = g.T(p+"scale/weights", cout)
	c.Shift = g.T(p+"scale/biases", cout)
	if relu {
		c.Act = nn.ActRelu
	}
	return convUnit{conv: c}
}

// NewRecognitionNet builds the net from face_recognition_model weights.
func NewRecognitionNet(w *nn.Weights) (*RecognitionNet, error) {
	g := &nn.Getter{W: w}
	n := &RecognitionNet{}
	n.down = unitFrom(g, "conv32_down/", 7, 3, 32, 2, nn.Valid, true)
	add := func(name string, cin, cout int, down bool) {
		s1, p1 := 1, nn.Same
		if down {
			s1, p1 = 2, nn.Valid
		}
		n.layers = append(n.layers, resLayer{
			down:  down,
			conv1: unitFrom(g, name+"/conv1/", 3, cin, cout, s1, p1, true),
			conv2: unitFrom(g, name+"/conv2/", 3, cout, cout, 1, nn.Same, false),
		})
	}
	add("conv32_1", 32, 32, false)
	add("conv32_2", 32, 32, false)
	add("conv32_3", 32, 32, false)
	add("conv64_down", 32, 64, true)
	add("conv64_1", 64, 64, false)
	add("conv64_2", 64, 64, false)
	add("conv64_3", 64, 64, false)
	add("conv128_down", 64, 128, true)
	add("conv128_1", 128, 128, false)
	add("conv128_2", 128, 128, false)
	add("conv256_down", 128, 256, true)
	add("conv256_1", 256, 256, false)
	add("conv256_2", 256, 256, false)
	add("conv256_down_out", 256, 256, true)
	n.fc = g.T("fc", 256, 128)
	if g.Err != nil {
		return nil, fmt.Errorf("faces: recognition net: %w", g.Err)
	}
	return n, nil
}

// Input builds the 150×150 normalised input from a face crop.
func (n *RecognitionNet) Input(dst *nn.Tensor, crop *RGB) {
	toBatchTensor(dst, crop, 150, true, faceMean, 255)
}

// Forward computes the 128-d descriptor (not normalised) of a 150×150×3 input.
func (n *RecognitionNet) Forward(x *nn.Tensor) [128]float32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	ws := &n.ws
	n.down.forward(&n.t1, x, ws)
	nn.MaxPool(&n.a, &n.t1, 3, 2, nn.Valid)
	cur, next := &n.a, &n.b
	for i := range n.layers {
		l := &n.layers[i]
		l.conv1.forward(&n.t1, cur, ws)
		l.conv2.forward(&n.t2, &n.t1, ws)
		o := &n.t2
		if !l.down {
			next.Reset(o.H, o.W, o.C)
			for j := range next.Data {
				next.Data[j] = max(o.Data[j]+cur.Data[j], 0)
			}
		} else {
			nn.AvgPool(&n.pool, cur, 2, 2)
			p := &n.pool
			next.Reset(p.H, p.W, o.C)
			for y := 0; y < p.H; y++ {
				for xx := 0; xx < p.W; xx++ {
					dst := next.Data[(y*p.W+xx)*o.C : (y*p.W+xx+1)*o.C]
					pc := p.Data[(y*p.W+xx)*p.C : (y*p.W+xx+1)*p.C]
					for c := range dst {
						var v, pv float32
						if y < o.H && xx < o.W { // o is zero padded bottom/right
							v = o.Data[(y*o.W+xx)*o.C+c]
						}
						if c < p.C { // p is zero padded in channels
							pv = pc[c]
						}
						dst[c] = max(pv+v, 0)
					}
				}
			}
		}
		cur, next = next, cur
	}
	nn.MeanHW(n.mean[:], cur)
	var d [128]float32
	nn.FC(d[:], n.mean[:], n.fc, nil)
	return d
}
