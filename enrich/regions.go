package enrich

import (
	"context"
	"fmt"
	"log/slog"

	"shoebox/catalog"
)

// regionMinIoU is the least overlap (intersection over union) between a
// face Shoebox found and a named XMP region for the region to name the
// face; a face whose centre lies inside the region matches too (tools
// draw regions larger or smaller than detectors' boxes).
const regionMinIoU = 0.3

// NameFromRegions applies the named face regions other tools wrote in XMP
// (catalog.Media.Regions) to the faces Shoebox found: a face that
// overlaps a named region (IoU of at least 0.3, or its centre inside it;
// each region names at most one face, the best overlap) gets that name.
// A face whose person is unnamed renames the person (as Rename would); a
// face with no person joins the person of that name, or a new person of
// that name made for it (with the photo Included, so a later full pass
// keeps it there). A person the user or an earlier region already named
// keeps its name, and the name is never given to a second person. Run it
// after a grouping pass or a placement; it returns how many faces it
// named. It reads only the photos with both regions and faces (indexed).
func (p *People) NameFromRegions(ctx context.Context, user string) (int, error) {
	type photo struct {
		bucket, key string
		m           catalog.Media
	}
	var photos []photo
	err := p.cat.RegionFaces(ctx, user, func(bucket, key string, m catalog.Media) error {
		photos = append(photos, photo{bucket, key, m})
		return nil
	})
	if err != nil || len(photos) == 0 {
		return 0, err
	}
	named := 0
	err = p.edit(ctx, user, func() error {
		list, err := p.cat.People(ctx, user)
		if err != nil {
			return err
		}
		byID := map[string]*catalog.Person{}
		byName := map[string]*catalog.Person{}
		for i := range list {
			byID[list[i].ID] = &list[i]
			if list[i].Name != "" {
				byName[list[i].Name] = &list[i]
			}
		}
		for _, ph := range photos {
			// Read again under the lock: grouping may have moved faces.
			m, err := p.cat.MediaOf(ctx, user, ph.bucket, ph.key)
			if err != nil || len(m.Faces) == 0 {
				continue
			}
			persons := make([]string, len(m.Faces))
			for i, f := range m.Faces {
				persons[i] = f.Person
			}
			changed := false
			used := map[int]bool{}
			for _, r := range m.Regions {
				fi := matchRegion(m.Faces, r.Box, used)
				if fi < 0 || r.Name == "" {
					continue
				}
				used[fi] = true
				cur := byID[persons[fi]]
				switch {
				case cur != nil && cur.Name == "" && byName[r.Name] == nil:
					cur.Name = r.Name
					if err := p.cat.PutPerson(ctx, user, cur); err != nil {
						return fmt.Errorf("name person %s %q from %s/%s: %w", cur.ID, r.Name, ph.bucket, ph.key, err)
					}
					byName[r.Name] = cur
					named++
				case cur == nil:
					to := byName[r.Name]
					if to == nil {
						to = &catalog.Person{Name: r.Name, Centroids: [][]float32{make([]float32, 128)}}
					}
					to.Included = appendOnce(to.Included, m.SHA256)
					if err := p.cat.PutPerson(ctx, user, to); err != nil {
						return fmt.Errorf("person %q from %s/%s: %w", r.Name, ph.bucket, ph.key, err)
					}
					byID[to.ID], byName[r.Name] = to, to
					persons[fi], changed = to.ID, true
					named++
				}
			}
			if changed {
				if err := p.cat.SetFacePersons(ctx, user, ph.bucket, ph.key, persons); err != nil {
					return fmt.Errorf("faces of %s/%s: %w", ph.bucket, ph.key, err)
				}
			}
		}
		return nil
	})
	if named > 0 {
		slog.Info("named faces from XMP regions", "component", "people", "user", user, "faces", named)
	}
	return named, err
}

// matchRegion returns the face (not in used) that best overlaps box
// (x, y, w, h, relative), or -1: the highest IoU of at least
// regionMinIoU, else a face whose centre is inside box (the nearest to
// its centre).
func matchRegion(faces []catalog.Face, box [4]float64, used map[int]bool) int {
	best, bestIoU := -1, regionMinIoU
	for i, f := range faces {
		if used[i] {
			continue
		}
		if v := iou(f.Box, box); v >= bestIoU {
			best, bestIoU = i, v
		}
	}
	if best >= 0 {
		return best
	}
	bestD := 2.0
	cx, cy := box[0]+box[2]/2, box[1]+box[3]/2
	for i, f := range faces {
		fx, fy := f.Box[0]+f.Box[2]/2, f.Box[1]+f.Box[3]/2
		if used[i] || fx < box[0] || fx > box[0]+box[2] || fy < box[1] || fy > box[1]+box[3] {
			continue
		}
		if d := (fx-cx)*(fx-cx) + (fy-cy)*(fy-cy); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// iou is the intersection over union of two boxes (x, y, w, h).
func iou(a, b [4]float64) float64 {
	ix := min(a[0]+a[2], b[0]+b[2]) - max(a[0], b[0])
	iy := min(a[1]+a[3], b[1]+b[3]) - max(a[1], b[1])
	if ix <= 0 || iy <= 0 {
		return 0
	}
	in := ix * iy
	u := a[2]*a[3] + b[2]*b[3] - in
	if u <= 0 {
		return 0
	}
	return in / u
}
