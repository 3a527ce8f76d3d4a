package xmp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"shoebox/catalog/export"
)

// Limits on what a packet can make the parser do.
const (
	// MaxPacket is the largest packet parsed, in bytes (after conversion
	// to UTF-8); a larger one is refused unread.
	MaxPacket = 2 << 20
	// MaxDepth is the deepest element nesting accepted.
	MaxDepth = 64
	// MaxElements is the most elements one packet may hold.
	MaxElements = 50_000
	// MaxItems caps the keywords and regions kept from one packet.
	MaxItems = 1000
	// maxText is the longest text value kept (longer ones are cut).
	maxText = 4096
)

// ErrFormat is wrapped by every error about a packet: not XML, too large,
// too deep, a DTD or entity declaration, an encoding other than UTF-8 or
// UTF-16.
var ErrFormat = errors.New("xmp: malformed packet")

func errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// Namespaces read (matched by URI, never by prefix).
const (
	nsRDF       = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	nsXMP       = "http://ns.adobe.com/xap/1.0/"
	nsExif      = "http://ns.adobe.com/exif/1.0/"
	nsPhotoshop = "http://ns.adobe.com/photoshop/1.0/"
	nsDC        = "http://purl.org/dc/elements/1.1/"
	nsLR        = "http://ns.adobe.com/lightroom/1.0/"
	nsMWGRS     = "http://www.metadataworkinggroup.com/schemas/regions/"
	nsStArea    = "http://ns.adobe.com/xmp/sType/Area#"
	nsStDim     = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
	nsMP        = "http://ns.microsoft.com/photo/1.2/"
	nsMPRI      = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
	nsMPReg     = "http://ns.microsoft.com/photo/1.2/t/Region#"
	nsGCamera   = "http://ns.google.com/photos/1.0/camera/"
	nsContainer = "http://ns.google.com/photos/1.0/container/"
	nsItem      = "http://ns.google.com/photos/1.0/container/item/"
)

// Data is what a packet says that Shoebox uses. Zero values are absent.
type Data struct {
	// DateTimeOriginal, DateCreated, CreateDate are exif:DateTimeOriginal,
	// photoshop:DateCreated and xmp:CreateDate as written (ISO 8601, maybe
	// with an offset); Date picks among them.
	DateTimeOriginal, DateCreated, CreateDate string
	// HasGPS: Lat and Lon hold exif:GPSLatitude/GPSLongitude.
	HasGPS   bool
	Lat, Lon float64
	Alt      *float64
	// Rating is xmp:Rating (-1 rejected, 0 unrated, 1..5), nil if absent.
	Rating *int
	// Keywords: dc:subject, then the leaf of each lr:hierarchicalSubject
	// path not already there (compared without case), in order, without
	// empty ones.
	Keywords []string
	// Albums are the albums named by lr:hierarchicalSubject paths
	// "Albums|<name>", the scheme `shoebox export` writes
	// (catalog/export.KeywordAlbums); their names are not Keywords.
	Albums []string
	// Regions are the named face regions (MWG, else Microsoft People).
	Regions []Region
	// RegionsW, RegionsH are MWG's AppliedToDimensions (pixels), 0 when
	// not given: the image size the regions were drawn on.
	RegionsW, RegionsH int
	// MotionFromEnd, for an Android motion photo (a JPEG with an MP4
	// appended), is where the video starts, in bytes before the end of
	// the file: GCamera:MicroVideoOffset (with GCamera:MicroVideo), or the
	// lengths and paddings of the Container:Directory items from the
	// one of semantic MotionPhoto on (with GCamera:MotionPhoto); 0 when
	// the file is no motion photo.
	MotionFromEnd int64
}

// Region is a named area of the image, in coordinates normalized to the
// displayed image (0..1): X, Y the top-left corner, W, H the size.
type Region struct {
	Name       string
	X, Y, W, H float64
}

// Parse reads one XMP packet (with or without its xpacket wrapper, UTF-8
// or UTF-16 with a BOM or a leading '<'). It never expands entities:
// a DTD or entity declaration is refused, as is any entity reference but
// XML's five.
func Parse(b []byte) (*Data, error) {
	root, err := parseTree(b)
	if err != nil {
		return nil, err
	}
	d := &Data{}
	for _, desc := range root.descriptions() {
		d.fill(desc)
	}
	return d, nil
}

// Merge returns d with what o says where d says nothing; o's keywords and
// regions are taken only when d has none.
func (d *Data) Merge(o *Data) *Data {
	if d == nil {
		return o
	}
	if o == nil {
		return d
	}
	out := *d
	for _, p := range [][2]*string{{&out.DateTimeOriginal, &o.DateTimeOriginal}, {&out.DateCreated, &o.DateCreated}, {&out.CreateDate, &o.CreateDate}} {
		if *p[0] == "" {
			*p[0] = *p[1]
		}
	}
	if !out.HasGPS && o.HasGPS {
		out.HasGPS, out.Lat, out.Lon, out.Alt = true, o.Lat, o.Lon, o.Alt
	}
	if out.Rating == nil {
		out.Rating = o.Rating
	}
	if len(out.Keywords) == 0 {
		out.Keywords = o.Keywords
	}
	if len(out.Regions) == 0 {
		out.Regions, out.RegionsW, out.RegionsH = o.Regions, o.RegionsW, o.RegionsH
	}
	if out.MotionFromEnd == 0 {
		out.MotionFromEnd = o.MotionFromEnd
	}
	return &out
}

// node is an element of the packet: its name, attributes, text, children.
type node struct {
	name  xml.Name
	attrs []xml.Attr
	text  string
	kids  []*node
}

// toUTF8 returns the packet as UTF-8: UTF-16 (told by its BOM, or by a
// zero byte beside the first '<') is converted; UTF-32 and invalid UTF-8
// are refused.
func toUTF8(b []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}), bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}),
		len(b) >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == '<',
		len(b) >= 4 && b[0] == '<' && b[1] == 0 && b[2] == 0 && b[3] == 0:
		return nil, errf("UTF-32 packets are not read")
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return fromUTF16(b[2:], true)
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return fromUTF16(b[2:], false)
	case len(b) >= 2 && b[0] == 0 && b[1] == '<':
		return fromUTF16(b, true)
	case len(b) >= 2 && b[0] == '<' && b[1] == 0:
		return fromUTF16(b, false)
	}
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	if !utf8.Valid(b) {
		return nil, errf("packet is not valid UTF-8")
	}
	return b, nil
}

func fromUTF16(b []byte, bigEndian bool) ([]byte, error) {
	if len(b)%2 != 0 {
		b = b[:len(b)-1]
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return []byte(string(utf16.Decode(u))), nil
}

// parseTree reads the packet into a tree, within the limits.
func parseTree(b []byte) (*node, error) {
	if len(b) > 4*MaxPacket {
		return nil, errf("packet of %d bytes is over the limit of %d", len(b), MaxPacket)
	}
	b, err := toUTF8(b)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPacket {
		return nil, errf("packet of %d bytes is over the limit of %d", len(b), MaxPacket)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	// The bytes are UTF-8 by now, whatever the declaration says.
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "utf16":
			return r, nil
		}
		return nil, errf("encoding %q", label)
	}
	root := &node{}
	stack := []*node{root}
	elements := 0
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			if elements++; elements > MaxElements {
				return nil, errf("more than %d elements", MaxElements)
			}
			if len(stack) > MaxDepth {
				return nil, errf("elements nested deeper than %d", MaxDepth)
			}
			n := &node{name: t.Name, attrs: t.Attr}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 1 {
				return nil, errf("unexpected </%s>", t.Name.Local)
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(top.text) < maxText {
				top.text += string(t[:min(len(t), maxText-len(top.text))])
			}
		case xml.Directive:
			return nil, errf("DTD or entity declarations are refused")
		}
	}
	if len(stack) != 1 {
		return nil, errf("packet ends inside <%s>", stack[len(stack)-1].name.Local)
	}
	resolve(root, nil)
	return root, nil
}

// resolve turns the prefixes RawToken left into namespace URIs (RawToken
// is used so that the decoder keeps no state per element beyond ours).
func resolve(n *node, scope map[string]string) {
	own, copied := scope, false
	for _, a := range n.attrs {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			if !copied {
				own, copied = make(map[string]string, len(scope)+2), true
				for k, v := range scope {
					own[k] = v
				}
			}
			if a.Name.Space == "xmlns" {
				own[a.Name.Local] = a.Value
			} else {
				own[""] = a.Value
			}
		}
	}
	lookup := func(name xml.Name, attr bool) xml.Name {
		if (name.Space == "" && attr) || name.Space == "xml" || name.Space == "xmlns" {
			return name
		}
		return xml.Name{Space: own[name.Space], Local: name.Local}
	}
	n.name = lookup(n.name, false)
	for i := range n.attrs {
		n.attrs[i].Name = lookup(n.attrs[i].Name, true)
	}
	for _, k := range n.kids {
		resolve(k, own)
	}
}

// descriptions returns every rdf:Description under rdf:RDF (anywhere:
// the xmpmeta wrapper is optional).
func (n *node) descriptions() []*node {
	var out []*node
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		for _, k := range n.kids {
			if k.name.Space == nsRDF && k.name.Local == "RDF" {
				for _, d := range k.kids {
					if d.name.Space == nsRDF && d.name.Local == "Description" {
						out = append(out, d)
					}
				}
				continue
			}
			walk(k, depth+1)
		}
	}
	walk(n, 0)
	return out
}

// field is a property's value: text, or fields of a struct, or items of
// an array.
type field struct {
	text   string
	fields map[xml.Name]*field
	items  []*field
}

// value reads a property element (or an rdf:li, or a Description) into a
// field, following RDF/XML's forms: text; rdf:parseType="Resource"; a
// nested rdf:Description; attributes as fields; an rdf:Bag/Seq/Alt.
func value(n *node) *field {
	f := &field{}
	addAttrs := func(attrs []xml.Attr) {
		for _, a := range attrs {
			if a.Name.Space == nsRDF || a.Name.Space == "xml" || a.Name.Space == "xmlns" || a.Name.Space == "" {
				continue
			}
			if f.fields == nil {
				f.fields = map[xml.Name]*field{}
			}
			f.fields[a.Name] = &field{text: a.Value}
		}
	}
	addAttrs(n.attrs)
	for _, a := range n.attrs {
		if a.Name.Space == nsRDF && a.Name.Local == "resource" {
			f.text = a.Value
		}
	}
	if len(n.kids) == 0 {
		if f.text == "" {
			f.text = strings.TrimSpace(n.text)
		}
		return f
	}
	for _, k := range n.kids {
		switch {
		case k.name.Space == nsRDF && (k.name.Local == "Bag" || k.name.Local == "Seq" || k.name.Local == "Alt"):
			for _, li := range k.kids {
				if li.name.Space == nsRDF && li.name.Local == "li" && len(f.items) < MaxItems {
					f.items = append(f.items, value(li))
				}
			}
		case k.name.Space == nsRDF && k.name.Local == "Description":
			inner := value(k)
			if f.fields == nil {
				f.fields = map[xml.Name]*field{}
			}
			for name, v := range inner.fields {
				f.fields[name] = v
			}
		default:
			if f.fields == nil {
				f.fields = map[xml.Name]*field{}
			}
			f.fields[k.name] = value(k)
		}
	}
	return f
}

func (f *field) get(space, local string) *field {
	if f == nil {
		return nil
	}
	return f.fields[xml.Name{Space: space, Local: local}]
}

func (f *field) str(space, local string) string {
	v := f.get(space, local)
	if v == nil {
		return ""
	}
	if v.text == "" && len(v.items) > 0 { // an Alt of one language, or a Seq of one date
		return v.items[0].text
	}
	return v.text
}

// list returns the texts of an array (or the one text of a simple value).
func (f *field) list(space, local string) []string {
	v := f.get(space, local)
	if v == nil {
		return nil
	}
	if len(v.items) == 0 {
		if v.text != "" {
			return []string{v.text}
		}
		return nil
	}
	out := make([]string, 0, len(v.items))
	for _, it := range v.items {
		out = append(out, it.text)
	}
	return out
}

// fill adds what one rdf:Description says; earlier descriptions win.
func (d *Data) fill(desc *node) {
	f := value(desc)
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = strings.TrimSpace(v)
		}
	}
	set(&d.DateTimeOriginal, f.str(nsExif, "DateTimeOriginal"))
	set(&d.DateCreated, f.str(nsPhotoshop, "DateCreated"))
	set(&d.CreateDate, f.str(nsXMP, "CreateDate"))
	if !d.HasGPS {
		lat, ok1 := ParseGPSCoord(f.str(nsExif, "GPSLatitude"))
		lon, ok2 := ParseGPSCoord(f.str(nsExif, "GPSLongitude"))
		if ok1 && ok2 && math.Abs(lat) <= 90 && math.Abs(lon) <= 180 && (lat != 0 || lon != 0) {
			d.HasGPS, d.Lat, d.Lon = true, lat, lon
			if alt, ok := rational(f.str(nsExif, "GPSAltitude")); ok {
				if f.str(nsExif, "GPSAltitudeRef") == "1" {
					alt = -alt
				}
				d.Alt = &alt
			}
		}
	}
	if d.Rating == nil {
		if r, err := strconv.ParseFloat(strings.TrimSpace(f.str(nsXMP, "Rating")), 64); err == nil && r >= -1 && r <= 5 {
			n := int(math.Round(r))
			d.Rating = &n
		}
	}
	seen := map[string]bool{}
	for _, k := range d.Keywords {
		seen[strings.ToLower(k)] = true
	}
	add := func(k string) {
		k = strings.TrimSpace(k)
		if k == "" || seen[strings.ToLower(k)] || len(d.Keywords) >= MaxItems {
			return
		}
		seen[strings.ToLower(k)] = true
		d.Keywords = append(d.Keywords, k)
	}
	for _, k := range f.list(nsDC, "subject") {
		add(k)
	}
	albums := map[string]bool{}
	for _, h := range f.list(nsLR, "hierarchicalSubject") {
		parts := strings.Split(h, "|")
		if len(parts) == 2 && parts[0] == export.KeywordAlbums {
			if a := strings.TrimSpace(parts[1]); a != "" && !albums[a] && len(d.Albums) < MaxItems {
				albums[a] = true
				d.Albums = append(d.Albums, a)
			}
			continue
		}
		add(parts[len(parts)-1])
	}
	if len(albums) > 0 { // dc:subject repeats the albums' names for other tools
		d.Keywords = slices.DeleteFunc(d.Keywords, func(k string) bool { return albums[k] })
	}
	if len(d.Regions) == 0 {
		d.Regions = mwgRegions(f)
		if dims := f.get(nsMWGRS, "Regions").get(nsMWGRS, "AppliedToDimensions"); dims != nil && len(d.Regions) > 0 {
			d.RegionsW, _ = strconv.Atoi(strings.TrimSpace(dims.str(nsStDim, "w")))
			d.RegionsH, _ = strconv.Atoi(strings.TrimSpace(dims.str(nsStDim, "h")))
		}
	}
	if len(d.Regions) == 0 {
		d.Regions = msRegions(f)
	}
	if d.MotionFromEnd == 0 {
		d.MotionFromEnd = motionFromEnd(f)
	}
}

// motionFromEnd reads where a motion photo's video starts, counted from
// the end of the file (see Data.MotionFromEnd).
func motionFromEnd(f *field) int64 {
	num := func(s string) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < 0 {
			return 0
		}
		return n
	}
	if strings.TrimSpace(f.str(nsGCamera, "MotionPhoto")) == "1" {
		dir := f.get(nsContainer, "Directory")
		if dir != nil {
			var from int64
			found := false
			for _, it := range dir.items {
				item := it.get(nsContainer, "Item")
				if item == nil {
					item = it // the item's fields written on the rdf:li itself
				}
				if item.str(nsItem, "Semantic") == "MotionPhoto" {
					found = true
				}
				if found {
					from += num(item.str(nsItem, "Length")) + num(item.str(nsItem, "Padding"))
				}
			}
			if found && from > 0 {
				return from
			}
		}
	}
	if strings.TrimSpace(f.str(nsGCamera, "MicroVideo")) == "1" {
		return num(f.str(nsGCamera, "MicroVideoOffset"))
	}
	return 0
}

// mwgRegions reads mwg-rs:Regions: stArea x, y are the centre of the area.
func mwgRegions(f *field) []Region {
	info := f.get(nsMWGRS, "Regions")
	if info == nil {
		return nil
	}
	list := info.get(nsMWGRS, "RegionList")
	if list == nil {
		return nil
	}
	var out []Region
	for _, it := range list.items {
		name := strings.TrimSpace(it.str(nsMWGRS, "Name"))
		typ := it.str(nsMWGRS, "Type")
		if name == "" || (typ != "" && typ != "Face") {
			continue
		}
		area := it.get(nsMWGRS, "Area")
		if area == nil {
			continue
		}
		var v [4]float64
		ok := true
		for i, k := range []string{"x", "y", "w", "h"} {
			x, err := strconv.ParseFloat(strings.TrimSpace(area.str(nsStArea, k)), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				ok = false
			}
			v[i] = x
		}
		if unit := area.str(nsStArea, "unit"); unit != "" && unit != "normalized" {
			ok = false
		}
		if r, good := normRegion(name, v[0]-v[2]/2, v[1]-v[3]/2, v[2], v[3]); ok && good {
			out = append(out, r)
		}
	}
	return out
}

// msRegions reads Microsoft People tags: MP:RegionInfo/MPRI:Regions,
// MPReg:Rectangle "x, y, w, h" (top-left corner, normalized).
func msRegions(f *field) []Region {
	info := f.get(nsMP, "RegionInfo")
	if info == nil {
		return nil
	}
	list := info.get(nsMPRI, "Regions")
	if list == nil {
		return nil
	}
	var out []Region
	for _, it := range list.items {
		name := strings.TrimSpace(it.str(nsMPReg, "PersonDisplayName"))
		parts := strings.Split(it.str(nsMPReg, "Rectangle"), ",")
		if name == "" || len(parts) != 4 {
			continue
		}
		var v [4]float64
		ok := true
		for i, p := range parts {
			x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				ok = false
			}
			v[i] = x
		}
		if r, good := normRegion(name, v[0], v[1], v[2], v[3]); ok && good {
			out = append(out, r)
		}
	}
	return out
}

// normRegion keeps a region whose box lies (mostly) in the image.
func normRegion(name string, x, y, w, h float64) (Region, bool) {
	if w <= 0 || h <= 0 || w > 1.01 || h > 1.01 || x < -0.01 || y < -0.01 || x+w > 1.01 || y+h > 1.01 || len(name) > 256 {
		return Region{}, false
	}
	return Region{Name: name, X: x, Y: y, W: w, H: h}, true
}

// ParseGPSCoord reads an XMP GPS coordinate: "DDD,MM.mmk" or
// "DDD,MM,SSk" (k one of N, S, E, W), or a signed decimal.
func ParseGPSCoord(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	sign := 1.0
	switch s[len(s)-1] {
	case 'S', 's', 'W', 'w':
		sign = -1
		s = s[:len(s)-1]
	case 'N', 'n', 'E', 'e':
		s = s[:len(s)-1]
	}
	parts := strings.Split(s, ",")
	if len(parts) > 3 {
		return 0, false
	}
	v, scale := 0.0, 1.0
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || (i > 0 && (x < 0 || x >= 60)) {
			return 0, false
		}
		v += x / scale
		scale *= 60
	}
	if v < 0 {
		sign, v = -sign, -v
	}
	if v > 180 {
		return 0, false
	}
	return sign * v, true
}

// rational reads "123/10" or "12.3".
func rational(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if n, d, ok := strings.Cut(s, "/"); ok {
		a, err1 := strconv.ParseFloat(n, 64)
		b, err2 := strconv.ParseFloat(d, 64)
		if err1 != nil || err2 != nil || b == 0 || math.IsNaN(a/b) || math.IsInf(a/b, 0) {
			return 0, false
		}
		return a / b, true
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// Date returns the capture date the packet gives, in the order
// exif:DateTimeOriginal, photoshop:DateCreated, xmp:CreateDate: the local
// time ("2006-01-02T15:04:05", maybe with fractional seconds) and the
// offset ("+02:00", "" when not given). A value without a full date
// (year and month only) is passed over.
func (d *Data) Date() (local, offset string, ok bool) {
	if d == nil {
		return "", "", false
	}
	for _, s := range []string{d.DateTimeOriginal, d.DateCreated, d.CreateDate} {
		if l, o, ok := ParseDate(s); ok {
			return l, o, true
		}
	}
	return "", "", false
}

// ParseDate reads an XMP date: "YYYY-MM-DD", "YYYY-MM-DDThh:mm",
// "YYYY-MM-DDThh:mm:ss[.s+]" each with an optional "Z" or "±hh:mm".
// EXIF's "YYYY:MM:DD hh:mm:ss", which some writers put in XMP, is read too.
func ParseDate(s string) (local, offset string, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return "", "", false
	}
	date, rest := s[:10], s[10:]
	if date[4] == ':' && date[7] == ':' {
		date = date[:4] + "-" + date[5:7] + "-" + date[8:]
	}
	if date[4] != '-' || date[7] != '-' {
		return "", "", false
	}
	// Split off the zone.
	if rest != "" {
		switch {
		case strings.HasSuffix(rest, "Z"):
			offset, rest = "+00:00", rest[:len(rest)-1]
		case len(rest) >= 6 && (rest[len(rest)-6] == '+' || rest[len(rest)-6] == '-') && rest[len(rest)-3] == ':':
			offset, rest = rest[len(rest)-6:], rest[:len(rest)-6]
		}
	}
	clock := "00:00:00"
	frac := ""
	if rest != "" {
		if rest[0] != 'T' && rest[0] != ' ' {
			return "", "", false
		}
		rest = rest[1:]
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			frac, rest = rest[i:], rest[:i]
			if len(frac) < 2 || len(frac) > 10 || strings.Trim(frac[1:], "0123456789") != "" {
				return "", "", false
			}
		}
		switch len(rest) {
		case 5:
			clock = rest + ":00"
		case 8:
			clock = rest
		default:
			return "", "", false
		}
	}
	if offset != "" {
		h, err1 := strconv.Atoi(offset[1:3])
		m, err2 := strconv.Atoi(offset[4:])
		if err1 != nil || err2 != nil || h > 14 || m > 59 {
			return "", "", false
		}
	}
	t, err := time.Parse("2006-01-02T15:04:05", date+"T"+clock)
	if err != nil || t.Year() < 1800 {
		return "", "", false
	}
	return t.Format("2006-01-02T15:04:05") + frac, offset, true
}
