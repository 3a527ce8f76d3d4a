package enrich

import (
	"context"
	"encoding/json"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"shoebox/catalog"
)

// Google Takeout exports a photo's date and place beside it, in a JSON
// "sidecar": IMG_1234.JPG.json, or (since 2024)
// IMG_1234.JPG.supplemental-metadata.json; edited copies
// (IMG_1234-edited.JPG) share the original's.
type takeoutJSON struct {
	PhotoTakenTime struct {
		Timestamp string `json:"timestamp"`
	} `json:"photoTakenTime"`
	GeoData     *takeoutGeo `json:"geoData"`
	GeoDataExif *takeoutGeo `json:"geoDataExif"`
}

type takeoutGeo struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Altitude  float64 `json:"altitude"`
}

// sidecarNames lists where a file's Takeout sidecar may be. Takeout cuts
// a sidecar's name to 46 characters before ".json", and names the sidecar
// of a duplicate "IMG_1234(1).jpg" as "IMG_1234.jpg(1).json".
func sidecarNames(key string) []string {
	dir, base := path.Split(key)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	var names []string
	add := func(name string) {
		names = append(names, dir+name+".json")
		if r := []rune(name); len(r) > 46 {
			names = append(names, dir+string(r[:46])+".json")
		}
	}
	for _, suffix := range []string{"", ".supplemental-metadata"} {
		add(base + suffix)
		if s, ok := strings.CutSuffix(stem, "-edited"); ok {
			add(s + ext + suffix)
		}
		if i := strings.LastIndexByte(stem, '('); i > 0 && strings.HasSuffix(stem, ")") {
			n := stem[i:]
			names = append(names, dir+stem[:i]+ext+suffix+n+".json")
		}
	}
	return append(names, dir+stem+".json")
}

// sidecarOf returns the media files a sidecar name may belong to.
func sidecarOf(key string) []string {
	k, ok := strings.CutSuffix(key, ".json")
	if !ok {
		return nil
	}
	// IMG_1234.jpg(1).json belongs to IMG_1234(1).jpg.
	n := ""
	if i := strings.LastIndexByte(k, '('); i > 0 && strings.HasSuffix(k, ")") {
		k, n = k[:i], k[i:]
	}
	k = strings.TrimSuffix(k, ".supplemental-metadata")
	if n != "" {
		ext := path.Ext(k)
		k = strings.TrimSuffix(k, ext) + n + ext
	}
	return []string{k}
}

// takeoutDate dates a file (and places it, when EXIF did not) from its
// Takeout sidecar. The sidecar's time is UTC; the camera's zone is unknown.
func (x Metadata) takeoutDate(ctx context.Context, in *Input, m *catalog.Media) bool {
	if in.Open == nil {
		return false
	}
	for _, name := range sidecarNames(in.Object.Key) {
		f, o, err := in.Open(ctx, name)
		if err != nil {
			continue
		}
		var j takeoutJSON
		err = json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&j)
		f.Close()
		if err != nil || o.Size > 1<<20 {
			continue
		}
		sec, err := strconv.ParseInt(j.PhotoTakenTime.Timestamp, 10, 64)
		if err != nil || sec <= 0 {
			continue
		}
		setUTC(m, time.Unix(sec, 0))
		m.DateSource = "takeout-json"
		if m.Lat == nil {
			for _, g := range []*takeoutGeo{j.GeoData, j.GeoDataExif} {
				if g != nil && (g.Latitude != 0 || g.Longitude != 0) {
					m.Lat, m.Lon = ptr(g.Latitude), ptr(g.Longitude)
					if g.Altitude != 0 {
						m.Alt = ptr(g.Altitude)
					}
					break
				}
			}
		}
		return true
	}
	return false
}

// sidecarArrived re-enriches the media file a sidecar belongs to when
// that file was dated only by a weaker source: sidecars often arrive after
// their photos.
func (x Metadata) sidecarArrived(ctx context.Context, in *Input) {
	if in.Requeue == nil || in.Media == nil {
		return
	}
	for _, key := range sidecarOf(in.Object.Key) {
		if m, err := in.Media(ctx, key); err == nil && (m.DateSource == "mtime" || m.DateSource == "upload") {
			in.Requeue(ctx, key)
		}
	}
}
