package export

import (
	"encoding/xml"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The keyword scheme: a person's name and an album's name become the
// hierarchical keywords "People|<name>" and "Albums|<name>"
// (lr:hierarchicalSubject, '|'-separated as Lightroom, digiKam and
// darktable read it), and the bare names go in dc:subject.
const (
	KeywordPeople    = "People"
	KeywordAlbums    = "Albums"
	KeywordSeparator = "|"
)

// keywordPart makes a name one level of a hierarchical keyword: a '|' in
// it, which would split the level, becomes '¦' (U+00A6, broken bar).
func keywordPart(name string) string { return strings.ReplaceAll(name, KeywordSeparator, "¦") }

// PeopleKeyword and AlbumKeyword are the hierarchical keywords of a
// person's and an album's name.
func PeopleKeyword(name string) string { return KeywordPeople + KeywordSeparator + keywordPart(name) }

// AlbumKeyword: see PeopleKeyword.
func AlbumKeyword(name string) string { return KeywordAlbums + KeywordSeparator + keywordPart(name) }

// Region is one named face as an MWG region: the centre (X, Y) and size
// (W, H) of the face's box, normalized (0..1) to the image as stored,
// before its EXIF orientation is applied — as the MWG guidelines define
// mwg-rs:Area, and as exiftool's region tools and digiKam read it.
type Region struct {
	Name       string
	X, Y, W, H float64
}

// Sidecar is what one file's XMP sidecar says.
type Sidecar struct {
	// Width and Height are the stored image's size in pixels
	// (mwg-rs:AppliedToDimensions); 0 when unknown.
	Width, Height int
	Regions       []Region
	People        []string // names of the persons in the photo
	Albums        []string // names of the albums it is in
}

// Empty reports whether the sidecar says nothing.
func (s Sidecar) Empty() bool { return len(s.Regions) == 0 && len(s.People) == 0 && len(s.Albums) == 0 }

// Keywords returns the sidecar's flat (dc:subject) and hierarchical
// (lr:hierarchicalSubject) keywords: people first, then albums, each
// sorted, without repeats.
func (s Sidecar) Keywords() (flat, hier []string) {
	people, albums := sortedSet(s.People), sortedSet(s.Albums)
	for _, p := range people {
		hier = append(hier, PeopleKeyword(p))
		flat = append(flat, p)
	}
	for _, a := range albums {
		hier = append(hier, AlbumKeyword(a))
		flat = append(flat, a)
	}
	seen := map[string]bool{}
	flat = slices.DeleteFunc(flat, func(s string) bool {
		if seen[s] {
			return true
		}
		seen[s] = true
		return false
	})
	return flat, hier
}

func sortedSet(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// XMP namespaces written.
const (
	nsX      = "adobe:ns:meta/"
	nsRDF    = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	nsDC     = "http://purl.org/dc/elements/1.1/"
	nsLR     = "http://ns.adobe.com/lightroom/1.0/"
	nsMWGRS  = "http://www.metadataworkinggroup.com/schemas/regions/"
	nsStArea = "http://ns.adobe.com/xmp/sType/Area#"
	nsStDim  = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
)

// MarshalXMP returns the sidecar as an XMP packet (x:xmpmeta with RDF,
// UTF-8), every name XML-escaped.
func (s Sidecar) MarshalXMP() []byte {
	var b strings.Builder
	b.WriteString("<?xpacket begin=\"\uFEFF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
	b.WriteString(`<x:xmpmeta xmlns:x="` + nsX + `" x:xmptk="Shoebox export">` + "\n")
	b.WriteString(` <rdf:RDF xmlns:rdf="` + nsRDF + `">` + "\n")
	b.WriteString(`  <rdf:Description rdf:about=""` + "\n")
	b.WriteString(`    xmlns:dc="` + nsDC + `"` + "\n")
	b.WriteString(`    xmlns:lr="` + nsLR + `"` + "\n")
	b.WriteString(`    xmlns:mwg-rs="` + nsMWGRS + `"` + "\n")
	b.WriteString(`    xmlns:stArea="` + nsStArea + `"` + "\n")
	b.WriteString(`    xmlns:stDim="` + nsStDim + `">` + "\n")
	flat, hier := s.Keywords()
	bag(&b, "dc:subject", flat)
	bag(&b, "lr:hierarchicalSubject", hier)
	if len(s.Regions) > 0 {
		b.WriteString("   <mwg-rs:Regions rdf:parseType=\"Resource\">\n")
		if s.Width > 0 && s.Height > 0 {
			b.WriteString(`    <mwg-rs:AppliedToDimensions stDim:w="` + strconv.Itoa(s.Width) + `" stDim:h="` + strconv.Itoa(s.Height) + `" stDim:unit="pixel"/>` + "\n")
		}
		b.WriteString("    <mwg-rs:RegionList>\n     <rdf:Bag>\n")
		for _, r := range s.Regions {
			b.WriteString("      <rdf:li rdf:parseType=\"Resource\">\n")
			b.WriteString("       <mwg-rs:Name>" + esc(r.Name) + "</mwg-rs:Name>\n")
			b.WriteString("       <mwg-rs:Type>Face</mwg-rs:Type>\n")
			b.WriteString(`       <mwg-rs:Area stArea:x="` + num(r.X) + `" stArea:y="` + num(r.Y) + `" stArea:w="` + num(r.W) + `" stArea:h="` + num(r.H) + `" stArea:unit="normalized"/>` + "\n")
			b.WriteString("      </rdf:li>\n")
		}
		b.WriteString("     </rdf:Bag>\n    </mwg-rs:RegionList>\n   </mwg-rs:Regions>\n")
	}
	b.WriteString("  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n")
	b.WriteString("<?xpacket end=\"w\"?>\n")
	return []byte(b.String())
}

// bag writes an rdf:Bag property (nothing when empty).
func bag(b *strings.Builder, prop string, items []string) {
	if len(items) == 0 {
		return
	}
	b.WriteString("   <" + prop + ">\n    <rdf:Bag>\n")
	for _, it := range items {
		b.WriteString("     <rdf:li>" + esc(it) + "</rdf:li>\n")
	}
	b.WriteString("    </rdf:Bag>\n   </" + prop + ">\n")
}

// esc escapes text for XML content and attribute values; characters XML
// cannot hold become U+FFFD.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder never fail
	return b.String()
}

// num formats a normalized coordinate with 6 decimals at most.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}

// storedRegion turns a face box as the catalog keeps it (left, top,
// width, height, normalized to the displayed image, EXIF orientation
// applied) into an MWG area: centre and size normalized to the stored
// image. The box is clipped to the image first.
func storedRegion(box [4]float64, orientation int) (x, y, w, h float64) {
	x0, y0 := clamp01(box[0]), clamp01(box[1])
	x1, y1 := clamp01(box[0]+box[2]), clamp01(box[1]+box[3])
	u, v, bw, bh := (x0+x1)/2, (y0+y1)/2, x1-x0, y1-y0
	// (u, v) is a point of the displayed image; each case maps it back to
	// the stored image (orientation: how the stored image is turned to
	// be shown, EXIF 1..8).
	switch orientation {
	case 2: // mirrored horizontally
		return 1 - u, v, bw, bh
	case 3: // turned 180°
		return 1 - u, 1 - v, bw, bh
	case 4: // mirrored vertically
		return u, 1 - v, bw, bh
	case 5: // transposed
		return v, u, bh, bw
	case 6: // turned 90° clockwise to be shown
		return v, 1 - u, bh, bw
	case 7: // transversed
		return 1 - v, 1 - u, bh, bw
	case 8: // turned 90° counter-clockwise to be shown
		return 1 - v, u, bh, bw
	}
	return u, v, bw, bh
}

func clamp01(v float64) float64 { return min(max(v, 0), 1) }
