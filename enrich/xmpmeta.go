package enrich

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/enrich/internal/xmp"
)

// xmpOf returns what the file's XMP says: its sidecar's (IMG_1.jpg.xmp,
// else IMG_1.xmp), where the sidecar says it, over the packet embedded in
// the file (p.xmp, and a JPEG's extended XMP). nil when there is none. A
// packet that cannot be read is logged and passed over.
func (x Metadata) xmpOf(ctx context.Context, in *Input, p *probed) *xmp.Data {
	var d *xmp.Data
	if in.Open != nil {
		for _, name := range xmp.Sidecars(in.Object.Key) {
			f, o, err := in.Open(ctx, name)
			if err != nil {
				continue
			}
			b, err := io.ReadAll(io.LimitReader(f, xmp.MaxPacket+1))
			f.Close()
			if err != nil || o.Size > xmp.MaxPacket || len(b) > xmp.MaxPacket {
				slog.Debug("XMP sidecar passed over", "component", "enrich", "key", name, "size", o.Size, "err", err)
				continue
			}
			if d, err = xmp.Parse(b); err != nil {
				slog.Debug("XMP sidecar unreadable", "component", "enrich", "key", name, "err", err)
				continue
			}
			break
		}
	}
	if p == nil {
		return d
	}
	for _, b := range [][]byte{p.xmp, p.xmpExt} {
		if len(b) == 0 {
			continue
		}
		e, err := xmp.Parse(b)
		if err != nil {
			slog.Debug("embedded XMP unreadable", "component", "enrich", "key", in.Object.Key, "err", err)
			continue
		}
		d = d.Merge(e)
	}
	return d
}

// applyXMP records the rating, keywords and named regions XMP gives, and
// its GPS position when the file's own metadata had none. Regions are
// drawn on the image as stored (the MWG guidance; digiKam, Lightroom), so
// an EXIF orientation turns them like the pixels, unless the dimensions
// they say they apply to are the displayed ones (a writer that drew them
// on the turned image). HEIF's orientation is its irot, not EXIF's: its
// regions are taken as they are.
func applyXMP(m *catalog.Media, d *xmp.Data, heif bool) {
	if d == nil {
		return
	}
	if m.Lat == nil && d.HasGPS {
		m.Lat, m.Lon = ptr(round(d.Lat, 7)), ptr(round(d.Lon, 7))
		if d.Alt != nil {
			m.Alt = ptr(round(*d.Alt, 2))
		}
	}
	if d.Rating != nil {
		r := *d.Rating
		m.Rating = &r
	}
	m.Tags = nil
	for _, t := range d.Keywords {
		if t = catalog.CleanTag(t); t != "" && !containsFold(m.Tags, t) {
			m.Tags = append(m.Tags, t)
		}
	}
	m.Regions = nil
	for _, r := range d.Regions {
		x, y, w, h := r.X, r.Y, r.W, r.H
		turned := d.RegionsW == m.Width && d.RegionsH == m.Height && m.Width != m.Height
		if !heif && m.Orientation > 1 && !turned {
			x, y, w, h = orientBox(m.Orientation, x, y, w, h)
		}
		box := [4]float64{clamp01(x), clamp01(y), w, h}
		box[2], box[3] = math.Min(box[2], 1-box[0]), math.Min(box[3], 1-box[1])
		for i := range box {
			box[i] = round(box[i], 5)
		}
		m.Regions = append(m.Regions, catalog.NamedRegion{Name: strings.TrimSpace(r.Name), Box: box})
	}
}

// orientBox maps a box (x, y, w, h, relative) on the stored image to the
// image shown under EXIF orientation o.
func orientBox(o int, x, y, w, h float64) (float64, float64, float64, float64) {
	pt := func(u, v float64) (float64, float64) {
		switch o {
		case 2:
			return 1 - u, v
		case 3:
			return 1 - u, 1 - v
		case 4:
			return u, 1 - v
		case 5:
			return v, u
		case 6:
			return 1 - v, u
		case 7:
			return 1 - v, 1 - u
		case 8:
			return v, 1 - u
		}
		return u, v
	}
	x1, y1 := pt(x, y)
	x2, y2 := pt(x+w, y+h)
	return math.Min(x1, x2), math.Min(y1, y2), math.Abs(x2 - x1), math.Abs(y2 - y1)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func clamp01(f float64) float64 { return math.Max(0, math.Min(1, f)) }

// setXMPDate dates the file from XMP (exif:DateTimeOriginal,
// photoshop:DateCreated, xmp:CreateDate, with their offsets).
func setXMPDate(m *catalog.Media, d *xmp.Data) bool {
	local, off, ok := d.Date()
	if !ok {
		return false
	}
	m.TakenLocal, m.DateSource, m.Offset, m.TakenUTC = local, "xmp", off, ""
	if off != "" {
		if t, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", local+off); err == nil {
			m.TakenUTC = t.UTC().Format(time.RFC3339Nano)
		}
	}
	return true
}

// xmpSidecarArrived queues again the media files an XMP sidecar may
// belong to (IMG_1.jpg for IMG_1.jpg.xmp; IMG_1.<any photo or video
// extension> for IMG_1.xmp): sidecars are written after their photos as
// often as before, and each write may change tags or rating.
func (x Metadata) xmpSidecarArrived(ctx context.Context, in *Input) {
	if in.Requeue == nil || in.Media == nil {
		return
	}
	file, stem := xmp.SidecarOf(in.Object.Key)
	var cands []string
	if file != "" {
		cands = append(cands, file)
	}
	if stem != "" {
		for ext := range photoExt {
			cands = append(cands, stem+ext, stem+strings.ToUpper(ext))
		}
		for ext := range videoExt {
			cands = append(cands, stem+ext, stem+strings.ToUpper(ext))
		}
	}
	seen := map[string]bool{}
	for _, key := range cands {
		if seen[key] || key == in.Object.Key {
			continue
		}
		seen[key] = true
		if m, err := in.Media(ctx, key); err == nil && (m.Kind == "photo" || m.Kind == "video") {
			if err := in.Requeue(ctx, key); err != nil {
				slog.Warn("requeue for XMP sidecar", "component", "enrich", "key", key, "sidecar", in.Object.Key, "err", err)
			}
		}
	}
}
