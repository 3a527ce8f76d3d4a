package enrich

import (
	"math"

	"shoebox/catalog"
)

// faceKey names a face by its photo's content (SHA-256; bucket/key for a
// file not hashed yet) and its index in the photo: copies of one photo
// share their faces' keys.
type faceKey struct {
	photo string
	idx   int
}

// faceSample is what the grouping knows of a face besides its descriptor.
type faceSample struct {
	faceKey
	// usable: the face is good enough to be grouped (PeopleOptions.usable).
	usable bool
}

// groupVectors groups the faces (unit vectors, centred: see centre) that
// are usable, each photo's content once: of the faces with one faceKey,
// only the first usable one is clustered (one photo, one vote: copies of
// a photo do not make a group by themselves, nor weigh more in one). Faces
// join by average linkage at opt.Threshold (clusterFaces); a group needs
// faces from opt.MinFaces different photos to be kept. It returns the
// kept groups as indexes into vecs, one per face content; faces left out
// are unassigned.
func groupVectors(vecs [][]float64, samples []faceSample, opt PeopleOptions) [][]int {
	seen := map[faceKey]bool{}
	var idx []int
	for i, s := range samples {
		if !s.usable || seen[s.faceKey] {
			continue
		}
		seen[s.faceKey] = true
		idx = append(idx, i)
	}
	sub := make([][]float64, len(idx))
	for j, i := range idx {
		sub[j] = vecs[i]
	}
	var out [][]int
	for _, g := range clusterFaces(sub, 1-opt.Threshold) {
		photos := map[string]bool{}
		members := make([]int, len(g))
		for j, k := range g {
			members[j] = idx[k]
			photos[samples[idx[k]].photo] = true
		}
		if len(photos) >= max(opt.MinFaces, 1) {
			out = append(out, members)
		}
	}
	return out
}

// usable says whether a face is good enough to be grouped: detected with
// a score of at least MinScore, at least MinFaceSize pixels across on the
// preview, and turned at most MaxYaw away from the camera (faceGeometry).
// Small, uncertain and profile faces give descriptors that sit between
// people: grouped, they bridge two persons; left out, they stay
// unassigned (unless the user puts them into a person).
func (opt PeopleOptions) usable(f catalog.Face, m catalog.Media) bool {
	if opt.MinScore > 0 && f.Score < opt.MinScore {
		return false
	}
	size, yaw := faceGeometry(f, m)
	if opt.MinFaceSize > 0 && size >= 0 && size < opt.MinFaceSize {
		return false
	}
	if opt.MaxYaw > 0 && math.Abs(yaw) > opt.MaxYaw {
		return false
	}
	return true
}

// faceGeometry returns a face's size, the geometric mean of its box's
// sides in pixels of the preview it was found on (-1 when the photo's
// size is unknown), and its yaw from the landmarks: where the nose tip
// (point 30) falls between the jaw's ends (points 0 and 16) along the axis
// of the eyes, from -1 to 1, 0 for a face looking at the camera, near ±1
// in profile (0 without landmarks).
func faceGeometry(f catalog.Face, m catalog.Media) (size, yaw float64) {
	w, h := float64(m.Width), float64(m.Height)
	if m.Orientation >= 5 {
		w, h = h, w
	}
	size = -1
	if w > 0 && h > 0 {
		scale := math.Min(1, PreviewSize/math.Max(w, h))
		w, h = w*scale, h*scale
		size = math.Sqrt(f.Box[2] * w * f.Box[3] * h)
	} else {
		w, h = 1, 1
	}
	if len(f.Landmarks) != 68 {
		return size, 0
	}
	pt := func(i int) (float64, float64) { return float64(f.Landmarks[i][0]) * w, float64(f.Landmarks[i][1]) * h }
	var lx, ly, rx, ry float64
	for i := 36; i < 42; i++ {
		x, y := pt(i)
		lx, ly = lx+x/6, ly+y/6
		x, y = pt(i + 6)
		rx, ry = rx+x/6, ry+y/6
	}
	ux, uy := rx-lx, ry-ly
	if n := math.Hypot(ux, uy); n > 0 {
		ux, uy = ux/n, uy/n
	} else {
		return size, 0
	}
	nx, ny := pt(30)
	ax, ay := pt(0)
	bx, by := pt(16)
	a := (nx-ax)*ux + (ny-ay)*uy
	b := (bx-nx)*ux + (by-ny)*uy
	if a+b <= 0 {
		return size, 0
	}
	return size, (a - b) / (a + b)
}
