package nn

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Param is one dequantized weight tensor.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// Weights is a TF.js weights manifest loaded into float32 tensors.
type Weights struct {
	Names  []string // manifest order
	params map[string]*Param
}

type manifestEntry struct {
	Name         string `json:"name"`
	Shape        []int  `json:"shape"`
	Dtype        string `json:"dtype"`
	Quantization *struct {
		Dtype string   `json:"dtype"`
		Scale *float64 `json:"scale"`
		Min   *float64 `json:"min"`
	} `json:"quantization"`
}

type manifestGroup struct {
	Paths   []string        `json:"paths"`
	Weights []manifestEntry `json:"weights"`
}

// LoadManifest reads dir/<name>-weights_manifest.json and its shards.
func LoadManifest(dir, name string) (*Weights, error) {
	mpath := filepath.Join(dir, name+"-weights_manifest.json")
	b, err := os.ReadFile(mpath)
	if err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	var groups []manifestGroup
	if err := json.Unmarshal(b, &groups); err != nil {
		return nil, fmt.Errorf("nn: %s: %w", mpath, err)
	}
	w := &Weights{params: map[string]*Param{}}
	for _, g := range groups {
		var buf []byte
		for _, p := range g.Paths {
			if p != filepath.Base(p) || strings.Contains(p, "..") {
				return nil, fmt.Errorf("nn: %s: refusing shard path %q", mpath, p)
			}
			sb, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil {
				return nil, fmt.Errorf("nn: %w", err)
			}
			buf = append(buf, sb...)
		}
		off, err := w.decodeGroup(g.Weights, buf)
		if err != nil {
			return nil, fmt.Errorf("nn: %s: %w", mpath, err)
		}
		if off != len(buf) {
			return nil, fmt.Errorf("nn: %s: manifest describes %d bytes, shards hold %d", mpath, off, len(buf))
		}
	}
	return w, nil
}

// DecodeWeights decodes one manifest group's entries from their concatenated
// shard bytes (exported for tests). It returns the bytes consumed.
func (w *Weights) decodeGroup(entries []manifestEntry, buf []byte) (int, error) {
	off := 0
	for _, e := range entries {
		n := 1
		for _, d := range e.Shape {
			if d < 0 {
				return 0, fmt.Errorf("%s: bad shape %v", e.Name, e.Shape)
			}
			n *= d
		}
		p := &Param{Name: e.Name, Shape: append([]int(nil), e.Shape...), Data: make([]float32, n)}
		isInt := e.Dtype == "int32"
		if e.Dtype != "float32" && !isInt {
			return 0, fmt.Errorf("%s: unsupported dtype %q", e.Name, e.Dtype)
		}
		if q := e.Quantization; q != nil {
			if q.Scale == nil || q.Min == nil {
				return 0, fmt.Errorf("%s: quantization without scale/min", e.Name)
			}
			scale, mn := *q.Scale, *q.Min
			var width int
			switch q.Dtype {
			case "uint8":
				width = 1
			case "uint16":
				width = 2
			default:
				return 0, fmt.Errorf("%s: unsupported quantization %q", e.Name, q.Dtype)
			}
			if off+n*width > len(buf) {
				return 0, fmt.Errorf("%s: shard too short", e.Name)
			}
			for i := range p.Data {
				var qv float64
				if width == 1 {
					qv = float64(buf[off+i])
				} else {
					qv = float64(binary.LittleEndian.Uint16(buf[off+2*i:]))
				}
				v := qv*scale + mn
				if isInt {
					v = math.Round(v)
				}
				p.Data[i] = float32(v)
			}
			off += n * width
		} else {
			if off+4*n > len(buf) {
				return 0, fmt.Errorf("%s: shard too short", e.Name)
			}
			for i := range p.Data {
				u := binary.LittleEndian.Uint32(buf[off+4*i:])
				if isInt {
					p.Data[i] = float32(int32(u))
				} else {
					p.Data[i] = math.Float32frombits(u)
				}
			}
			off += 4 * n
		}
		if _, dup := w.params[e.Name]; dup {
			return 0, fmt.Errorf("duplicate tensor %q", e.Name)
		}
		w.params[e.Name] = p
		w.Names = append(w.Names, e.Name)
	}
	return off, nil
}

// Param returns the named tensor or nil.
func (w *Weights) Param(name string) *Param { return w.params[name] }

// Getter fetches tensors with a shape check, remembering the first error so a
// net constructor can fetch everything and check once.
type Getter struct {
	W      *Weights
	Prefix string
	Err    error
}

// T returns the data of Prefix+name, checking its shape.
func (g *Getter) T(name string, shape ...int) []float32 {
	full := g.Prefix + name
	p := g.W.Param(full)
	if p == nil {
		if g.Err == nil {
			g.Err = fmt.Errorf("nn: missing tensor %q", full)
		}
		return make([]float32, prod(shape))
	}
	ok := len(p.Shape) == len(shape)
	for i := 0; ok && i < len(shape); i++ {
		ok = p.Shape[i] == shape[i]
	}
	if !ok {
		if g.Err == nil {
			g.Err = fmt.Errorf("nn: tensor %q has shape %v, want %v", full, p.Shape, shape)
		}
		return make([]float32, prod(shape))
	}
	return p.Data
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
