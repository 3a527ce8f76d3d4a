package nn

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

func randTensor(r *rand.Rand, h, w, c int) *Tensor {
	return &Tensor{H: h, W: w, C: c, Data: randSlice(r, h*w*c)}
}

func maxDiff(t *testing.T, got, want []float32, tol float64, what string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	m := 0.0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) || d > m {
			m = d
		}
	}
	if !(m <= tol) {
		t.Fatalf("%s: max |Δ| %g > %g", what, m, tol)
	}
}

// naiveConv is SPEC §1's formula, float64 accumulation.
func naiveConv(x *Tensor, f []float32, kh, kw, cout int, bias []float32, s int, p Padding) *Tensor {
	oh, pt, _ := OutSize(x.H, kh, s, p)
	ow, pl, _ := OutSize(x.W, kw, s, p)
	y := &Tensor{H: oh, W: ow, C: cout, Data: make([]float32, oh*ow*cout)}
	cin := x.C
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			for co := 0; co < cout; co++ {
				acc := 0.0
				if bias != nil {
					acc = float64(bias[co])
				}
				for ky := 0; ky < kh; ky++ {
					for kx := 0; kx < kw; kx++ {
						iy, ix := oy*s+ky-pt, ox*s+kx-pl
						if iy < 0 || ix < 0 || iy >= x.H || ix >= x.W {
							continue
						}
						for ci := 0; ci < cin; ci++ {
							acc += float64(x.Data[(iy*x.W+ix)*cin+ci]) * float64(f[((ky*kw+kx)*cin+ci)*cout+co])
						}
					}
				}
				y.Data[(oy*ow+ox)*cout+co] = float32(acc)
			}
		}
	}
	return y
}

func TestOutSize(t *testing.T) {
	for _, c := range []struct {
		in, k, s  int
		p         Padding
		out, b, a int
	}{
		{416, 3, 1, Valid, 414, 0, 0},
		{414, 2, 2, Same, 207, 0, 0},
		{207, 2, 2, Same, 104, 0, 1},
		{13, 2, 1, Same, 13, 0, 1},
		{112, 3, 2, Same, 56, 0, 1},
		{150, 7, 2, Valid, 72, 0, 0},
		{72, 3, 2, Valid, 35, 0, 0},
		{7, 3, 1, Same, 7, 1, 1},
	} {
		o, b, a := OutSize(c.in, c.k, c.s, c.p)
		if o != c.out || b != c.b || a != c.a {
			t.Errorf("OutSize(%d,%d,%d,%d) = %d,%d,%d want %d,%d,%d", c.in, c.k, c.s, c.p, o, b, a, c.out, c.b, c.a)
		}
	}
}

func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ws := &Workspace{}
	for _, d := range [][3]int{{1, 1, 1}, {3, 5, 7}, {4, 4, 4}, {17, 300, 9}, {130, 513, 33}, {64, 256, 4}, {65, 257, 5}} {
		M, K, N := d[0], d[1], d[2]
		a, b := randSlice(r, M*K), randSlice(r, K*N)
		c := randSlice(r, M*N)
		want := make([]float32, M*N)
		for i := 0; i < M; i++ {
			for j := 0; j < N; j++ {
				acc := float64(c[i*N+j])
				for p := 0; p < K; p++ {
					acc += float64(a[i*K+p]) * float64(b[p*N+j])
				}
				want[i*N+j] = float32(acc)
			}
		}
		Gemm(c, a, K, M, PackB(b, K, N), ws)
		maxDiff(t, c, want, 1e-4, "gemm")
	}
}

func TestConv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ws := &Workspace{}
	for _, c := range []struct {
		h, w, cin, k, cout, s int
		p                     Padding
		bias                  bool
	}{
		{9, 7, 3, 3, 16, 1, Valid, true},
		{8, 8, 3, 3, 5, 2, Same, true},
		{7, 9, 4, 3, 6, 2, Same, false},
		{20, 20, 3, 7, 8, 2, Valid, true},
		{35, 35, 8, 3, 8, 1, Same, true},
		{17, 17, 8, 3, 12, 2, Valid, true},
		{6, 5, 12, 1, 7, 1, Valid, true},
		{30, 30, 5, 3, 9, 1, Same, true}, // > band pixels
	} {
		x := randTensor(r, c.h, c.w, c.cin)
		f := randSlice(r, c.k*c.k*c.cin*c.cout)
		var b []float32
		if c.bias {
			b = randSlice(r, c.cout)
		}
		want := naiveConv(x, f, c.k, c.k, c.cout, b, c.s, c.p)
		var got Tensor
		NewConv(f, c.k, c.k, c.cin, c.cout, b, c.s, c.p).Forward(&got, x, ws)
		if got.H != want.H || got.W != want.W || got.C != want.C {
			t.Fatalf("%+v: shape %dx%dx%d want %dx%dx%d", c, got.H, got.W, got.C, want.H, want.W, want.C)
		}
		maxDiff(t, got.Data, want.Data, 1e-4, "conv")
		// Second call reuses buffers and must give the same answer.
		NewConv(f, c.k, c.k, c.cin, c.cout, b, c.s, c.p).Forward(&got, x, ws)
		maxDiff(t, got.Data, want.Data, 1e-4, "conv again")
	}
}

func naiveDepthwise(x *Tensor, f []float32, k, s int, p Padding) *Tensor {
	// Depthwise = conv with a block-diagonal filter.
	C := x.C
	full := make([]float32, k*k*C*C)
	for i := 0; i < k*k; i++ {
		for c := 0; c < C; c++ {
			full[(i*C+c)*C+c] = f[i*C+c]
		}
	}
	return naiveConv(x, full, k, k, C, nil, s, p)
}

func TestDepthwiseSep(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ws := &Workspace{}
	for _, c := range []struct {
		h, w, cin, cout, s int
		p                  Padding
	}{
		{10, 10, 16, 32, 1, Same}, {8, 8, 8, 4, 2, Same}, {7, 7, 6, 5, 2, Same}, {9, 8, 3, 3, 1, Valid},
	} {
		x := randTensor(r, c.h, c.w, c.cin)
		dw := randSlice(r, 9*c.cin)
		var got Tensor
		(&Depthwise{KH: 3, KW: 3, C: c.cin, Stride: c.s, Pad: c.p, F: dw}).Forward(&got, x)
		want := naiveDepthwise(x, dw, 3, c.s, c.p)
		maxDiff(t, got.Data, want.Data, 1e-5, "depthwise")
		pw, b := randSlice(r, c.cin*c.cout), randSlice(r, c.cout)
		NewSepConv(dw, 3, c.cin, pw, c.cout, b, c.s, c.p).Forward(&got, x, ws)
		want2 := naiveConv(want, pw, 1, 1, c.cout, b, 1, Valid)
		maxDiff(t, got.Data, want2.Data, 1e-4, "sepconv")
	}
}

func TestPools(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := randTensor(r, 7, 7, 3)
	var got Tensor
	MaxPool(&got, x, 2, 2, Same) // 4x4, pads bottom/right
	if got.H != 4 || got.W != 4 {
		t.Fatalf("maxpool shape %dx%d", got.H, got.W)
	}
	for oy := 0; oy < 4; oy++ {
		for ox := 0; ox < 4; ox++ {
			for c := 0; c < 3; c++ {
				m := float32(math.Inf(-1))
				for ky := 0; ky < 2; ky++ {
					for kx := 0; kx < 2; kx++ {
						iy, ix := 2*oy+ky, 2*ox+kx
						if iy < 7 && ix < 7 {
							m = max(m, x.Data[(iy*7+ix)*3+c])
						}
					}
				}
				if g := got.Data[(oy*4+ox)*3+c]; g != m {
					t.Fatalf("maxpool (%d,%d,%d) = %g want %g", oy, ox, c, g, m)
				}
			}
		}
	}
	MaxPool(&got, x, 3, 2, Valid)
	if got.H != 3 || got.Data[0] != max(x.Data[0], x.Data[3], x.Data[6], x.Data[21], x.Data[24], x.Data[27], x.Data[42], x.Data[45], x.Data[48]) {
		t.Fatalf("maxpool 3x3/2 valid wrong")
	}
	AvgPool(&got, x, 7, 2)
	mean := make([]float32, 3)
	MeanHW(mean, x)
	maxDiff(t, got.Data, mean, 1e-6, "avgpool 7x7 vs mean")
	AvgPool(&got, x, 2, 2)
	oy, ox, c := 1, 2, 1
	w := (x.Data[((2*oy)*7+2*ox)*3+c] + x.Data[((2*oy)*7+2*ox+1)*3+c] + x.Data[((2*oy+1)*7+2*ox)*3+c] + x.Data[((2*oy+1)*7+2*ox+1)*3+c]) / 4
	if d := math.Abs(float64(got.Data[(oy*3+ox)*3+c] - w)); d > 1e-6 {
		t.Fatalf("avgpool 2x2 off by %g", d)
	}
}

func TestActivationsFC(t *testing.T) {
	d := []float32{-2, -0.5, 0, 0.5, 7}
	l := append([]float32(nil), d...)
	LeakyFaceAPI(l)
	maxDiff(t, l, []float32{-0.2, -0.05, 0, 0.5, 7}, 1e-6, "leaky")
	r6 := append([]float32(nil), d...)
	Relu6(r6)
	maxDiff(t, r6, []float32{0, 0, 0, 0.5, 6}, 0, "relu6")
	Relu(d)
	maxDiff(t, d, []float32{0, 0, 0, 0.5, 7}, 0, "relu")
	y := make([]float32, 2)
	FC(y, []float32{1, 2, 3}, []float32{1, 2, 3, 4, 5, 6}, []float32{0.5, -1})
	maxDiff(t, y, []float32{1 + 6 + 15 + 0.5, 2 + 8 + 18 - 1}, 0, "fc")
	x := &Tensor{H: 1, W: 2, C: 2, Data: []float32{1, 2, 3, 4}}
	ChannelAffine(x, []float32{2, 3}, []float32{1, 0})
	maxDiff(t, x.Data, []float32{3, 6, 7, 12}, 0, "affine")
}

func TestLoadManifest(t *testing.T) {
	dir := t.TempDir()
	manifest := `[{"paths":["m.bin"],"weights":[
	 {"name":"q","shape":[2,2],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.1,"min":-1.05}},
	 {"name":"f","shape":[2],"dtype":"float32"},
	 {"name":"s","shape":[],"dtype":"int32","quantization":{"dtype":"uint8","scale":2.5,"min":0}}]}]`
	bin := []byte{0, 1, 10, 255}
	bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(1.5))
	bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(-2.25))
	bin = append(bin, 3)
	os.WriteFile(filepath.Join(dir, "m-weights_manifest.json"), []byte(manifest), 0o644)
	os.WriteFile(filepath.Join(dir, "m.bin"), bin, 0o644)
	w, err := LoadManifest(dir, "m")
	if err != nil {
		t.Fatal(err)
	}
	g := &Getter{W: w}
	q := g.T("q", 2, 2)
	f := g.T("f", 2)
	s := g.T("s")
	if g.Err != nil {
		t.Fatal(g.Err)
	}
	for i, qv := range []float64{0, 1, 10, 255} {
		if want := float32(qv*0.1 + -1.05); q[i] != want {
			t.Errorf("q[%d] = %v want %v", i, q[i], want)
		}
	}
	if f[0] != 1.5 || f[1] != -2.25 || s[0] != 8 {
		t.Errorf("f=%v s=%v", f, s)
	}
	g.T("f", 3)
	if g.Err == nil {
		t.Error("shape mismatch not reported")
	}
	os.WriteFile(filepath.Join(dir, "m.bin"), bin[:len(bin)-1], 0o644)
	if _, err := LoadManifest(dir, "m"); err == nil {
		t.Error("short shard not reported")
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, d := range [][3]int{{1024, 256, 256}, {256, 1024, 1024}, {43264, 16, 32}} {
		M, K, N := d[0], d[1], d[2]
		b.Run(fmt.Sprintf("%dx%dx%d", M, K, N), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			a, bb := randSlice(r, M*K), PackB(randSlice(r, K*N), K, N)
			c := make([]float32, M*N)
			ws := &Workspace{}
			for b.Loop() {
				Gemm(c, a, K, M, bb, ws)
			}
			b.ReportMetric(float64(M*K*N)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

// TestKernels checks the platform micro-kernel against the Go one.
func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, kb := range []int{1, 2, 7, 256} {
		a, b := randSlice(r, kb*mr), randSlice(r, kb*nr)
		var t1, t2 [mr * nr]float32
		kernelGo(kb, a, b, &t1)
		microKernel(kb, a, b, &t2)
		maxDiff(t, t2[:], t1[:], 1e-4, "micro-kernel")
	}
	t.Logf("assembly kernel compiled in: %v", haveAsmKernel)
}

// TestSteadyStateAllocs: with warm buffers, convs, separable convs and
// pools allocate nothing.
func TestSteadyStateAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x := randTensor(r, 40, 40, 8)
	c3 := NewConv(randSlice(r, 9*8*16), 3, 3, 8, 16, randSlice(r, 16), 2, Same)
	c1 := NewConv(randSlice(r, 8*16), 1, 1, 8, 16, nil, 1, Valid)
	sp := NewSepConv(randSlice(r, 9*8), 3, 8, randSlice(r, 8*16), 16, randSlice(r, 16), 1, Same)
	ws := &Workspace{}
	var y, z Tensor
	run := func() {
		c3.Forward(&y, x, ws)
		c1.Forward(&y, x, ws)
		sp.Forward(&y, x, ws)
		LeakyFaceAPI(y.Data)
		MaxPool(&z, &y, 2, 2, Same)
		AvgPool(&z, &y, 2, 2)
	}
	run()
	if n := testing.AllocsPerRun(5, run); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

func TestMulAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 77, 1024} {
		d, a, b := randSlice(r, n), randSlice(r, n+3), randSlice(r, n+3)
		want := append([]float32(nil), d...)
		mulAddGo(want, a, b)
		mulAdd(d, a, b)
		maxDiff(t, d, want, 1e-6, "mulAdd")
	}
}

// TestConvEpilogue checks the fused bias/affine/activation, including K
// split over several GEMM blocks (K = 3*3*40 = 360 > kc).
func TestConvEpilogue(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	ws := &Workspace{}
	x := randTensor(r, 11, 9, 40)
	for _, cout := range []int{13, 32, 35} {
		f := randSlice(r, 9*40*cout)
		b, sc, sh := randSlice(r, cout), randSlice(r, cout), randSlice(r, cout)
		for _, act := range []Act{ActNone, ActRelu, ActRelu6, ActLeaky} {
			for _, variant := range []string{"bias", "affine", "nobias"} {
				bias := b
				if variant == "nobias" {
					bias = nil
				}
				cv := NewConv(f, 3, 3, 40, cout, bias, 1, Same)
				cv.Act = act
				ref := naiveConv(x, f, 3, 3, cout, bias, 1, Same)
				if variant == "affine" {
					cv.Scale, cv.Shift = sc, sh
					ChannelAffine(ref, sc, sh)
				}
				for i, v := range ref.Data {
					switch act {
					case ActRelu:
						v = max(v, 0)
					case ActRelu6:
						v = min(max(v, 0), 6)
					case ActLeaky:
						if v < 0 {
							v *= 0.1
						}
					}
					ref.Data[i] = v
				}
				var got Tensor
				cv.Forward(&got, x, ws)
				maxDiff(t, got.Data, ref.Data, 1e-4, fmt.Sprintf("conv epilogue cout %d act %d %s", cout, act, variant))
			}
		}
	}
	if v := relu0(float32(math.Copysign(0, -1))); math.Signbit(float64(v)) {
		t.Error("relu0(-0) kept the sign")
	}
}
