package xmp

import (
	"bytes"
	"compress/zlib"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

const lightroom = `<?xpacket begin="` + "\ufeff" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"
    xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
    xmp:Rating="4"
    xmp:CreateDate="2019-06-12T10:00:00"
    photoshop:DateCreated="2019-06-12T14:15:16.25+02:00"
    exif:GPSLatitude="48,51.5N"
    exif:GPSLongitude="2,17.4E"
    exif:GPSAltitude="355/10"
    exif:GPSAltitudeRef="0">
   <dc:subject><rdf:Bag><rdf:li>Paris</rdf:li><rdf:li>holiday</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|France|Paris</rdf:li><rdf:li>People|Family|Alice</rdf:li></rdf:Bag></lr:hierarchicalSubject>
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:AppliedToDimensions stDim:w="4000" stDim:h="3000" stDim:unit="pixel"/>
    <mwg-rs:RegionList><rdf:Bag>
     <rdf:li><rdf:Description mwg-rs:Name="Alice" mwg-rs:Type="Face">
       <mwg-rs:Area stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3" stArea:unit="normalized"/>
     </rdf:Description></rdf:li>
     <rdf:li rdf:parseType="Resource"><mwg-rs:Name>Pet</mwg-rs:Name><mwg-rs:Type>Pet</mwg-rs:Type>
       <mwg-rs:Area stArea:x="0.1" stArea:y="0.1" stArea:w="0.1" stArea:h="0.1"/></rdf:li>
    </rdf:Bag></mwg-rs:RegionList>
   </mwg-rs:Regions>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`

const microsoft = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:MP="http://ns.microsoft.com/photo/1.2/" xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#">
<MP:RegionInfo><rdf:Description><MPRI:Regions><rdf:Bag>
<rdf:li><rdf:Description MPReg:Rectangle="0.25, 0.1, 0.2, 0.3" MPReg:PersonDisplayName="Bob"/></rdf:li>
</rdf:Bag></MPRI:Regions></rdf:Description></MP:RegionInfo>
</rdf:Description>
<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:q="http://ns.adobe.com/xap/1.0/">
<exif:DateTimeOriginal>2001-02-03T04:05:06Z</exif:DateTimeOriginal><q:Rating>-1</q:Rating></rdf:Description>
</rdf:RDF></x:xmpmeta>`

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestParseLightroom(t *testing.T) {
	d, err := Parse([]byte(lightroom))
	if err != nil {
		t.Fatal(err)
	}
	local, off, ok := d.Date()
	if !ok || local != "2019-06-12T14:15:16.25" || off != "+02:00" {
		t.Errorf("Date() = %q %q %v; want 2019-06-12T14:15:16.25 +02:00 (photoshop:DateCreated before xmp:CreateDate)", local, off, ok)
	}
	if d.Rating == nil || *d.Rating != 4 {
		t.Errorf("Rating = %v; want 4", d.Rating)
	}
	if !d.HasGPS || !near(d.Lat, 48+51.5/60) || !near(d.Lon, 2+17.4/60) || d.Alt == nil || !near(*d.Alt, 35.5) {
		t.Errorf("GPS = %v %v %v %v; want 48.858333 2.29 35.5", d.HasGPS, d.Lat, d.Lon, d.Alt)
	}
	if got, want := strings.Join(d.Keywords, ","), "Paris,holiday,Alice"; got != want {
		t.Errorf("Keywords = %s; want %s", got, want)
	}
	if len(d.Regions) != 1 {
		t.Fatalf("Regions = %+v; want Alice's face only", d.Regions)
	}
	r := d.Regions[0]
	if r.Name != "Alice" || !near(r.X, 0.4) || !near(r.Y, 0.25) || !near(r.W, 0.2) || !near(r.H, 0.3) {
		t.Errorf("region = %+v; want Alice at 0.4,0.25 0.2x0.3 (top-left from MWG's centre)", r)
	}
}

func TestParseMicrosoft(t *testing.T) {
	d, err := Parse([]byte(microsoft))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Regions) != 1 || d.Regions[0].Name != "Bob" || !near(d.Regions[0].X, 0.25) || !near(d.Regions[0].H, 0.3) {
		t.Errorf("Regions = %+v; want Bob at 0.25,0.1 0.2x0.3", d.Regions)
	}
	if l, o, ok := d.Date(); !ok || l != "2001-02-03T04:05:06" || o != "+00:00" {
		t.Errorf("Date = %q %q %v", l, o, ok)
	}
	if d.Rating == nil || *d.Rating != -1 {
		t.Errorf("Rating = %v; want -1 (rejected)", d.Rating)
	}
}

func TestParseUTF16(t *testing.T) {
	for _, be := range []bool{true, false} {
		u := utf16.Encode([]rune("\ufeff" + microsoft))
		var b bytes.Buffer
		for _, c := range u {
			if be {
				b.WriteByte(byte(c >> 8))
				b.WriteByte(byte(c))
			} else {
				b.WriteByte(byte(c))
				b.WriteByte(byte(c >> 8))
			}
		}
		d, err := Parse(b.Bytes())
		if err != nil {
			t.Fatalf("big endian %v: %v", be, err)
		}
		if len(d.Regions) != 1 {
			t.Errorf("big endian %v: regions %+v", be, d.Regions)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, c := range []struct{ in, local, off string }{
		{"2019-06-12", "2019-06-12T00:00:00", ""},
		{"2019-06-12T10:11", "2019-06-12T10:11:00", ""},
		{"2019-06-12T10:11:12-07:00", "2019-06-12T10:11:12", "-07:00"},
		{"2019-06-12T10:11:12.123Z", "2019-06-12T10:11:12.123", "+00:00"},
		{"2019:06:12 10:11:12", "2019-06-12T10:11:12", ""},
		{"2019-06", "", ""},
		{"2019-02-30", "", ""},
		{"2019-06-12T25:00:00", "", ""},
		{"2019-06-12T10:00:00+99:00", "", ""},
		{"garbage!!!!", "", ""},
	} {
		l, o, ok := ParseDate(c.in)
		if l != c.local || o != c.off || ok != (c.local != "") {
			t.Errorf("ParseDate(%q) = %q %q %v; want %q %q", c.in, l, o, ok, c.local, c.off)
		}
	}
}

func TestParseGPSCoord(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"48,51.5N", 48 + 51.5/60, true},
		{"122,25.2W", -(122 + 25.2/60), true},
		{"33,52,10S", -(33 + 52.0/60 + 10.0/3600), true},
		{"-12.5", -12.5, true},
		{"1,61N", 0, false},
		{"N", 0, false},
		{"200,0E", 0, false},
	} {
		got, ok := ParseGPSCoord(c.in)
		if ok != c.ok || (ok && !near(got, c.want)) {
			t.Errorf("ParseGPSCoord(%q) = %v %v; want %v %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// hostile returns packets that must be refused quickly and cheaply.
func hostile() map[string][]byte {
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
		`<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
		`<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol3;</x:xmpmeta>`
	external := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`
	undeclared := `<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol;</x:xmpmeta>`
	deep := strings.Repeat("<a>", 100_000) + strings.Repeat("</a>", 100_000)
	wide := "<r>" + strings.Repeat("<a/>", MaxElements+1) + "</r>"
	huge := "<r>" + strings.Repeat("x", 10<<20) + "</r>"
	utf32 := []byte{0, 0, 0xFE, 0xFF, 0, 0, 0, '<'}
	return map[string][]byte{
		"billion laughs":    []byte(laughs),
		"external entity":   []byte(external),
		"undeclared entity": []byte(undeclared),
		"100k nesting":      []byte(deep),
		"too many elements": []byte(wide),
		"10 MB packet":      []byte(huge),
		"UTF-32":            utf32,
		"invalid UTF-8":     []byte("<r>\xff\xfe\xfd</r>"),
		"unclosed":          []byte("<r><a>"),
		"stray end":         []byte("</r>"),
		"encoding latin1":   []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><r/>`),
	}
}

func TestHostile(t *testing.T) {
	for name, b := range hostile() {
		start := time.Now()
		d, err := Parse(b)
		if err == nil || !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Parse = %+v, %v; want an error wrapping ErrFormat", name, d, err)
		}
		t.Logf("%s: %v (%v)", name, err, time.Since(start))
	}
}

func TestExtendedAndITXt(t *testing.T) {
	var e Extended
	guid := strings.Repeat("A", 32)
	part := func(total, off uint32, data string) []byte {
		b := []byte(guid)
		b = append(b, byte(total>>24), byte(total>>16), byte(total>>8), byte(total))
		b = append(b, byte(off>>24), byte(off>>16), byte(off>>8), byte(off))
		return append(b, data...)
	}
	e.Add(part(10, 5, "56789"))
	if e.Bytes() != nil {
		t.Errorf("Bytes before the first part = %q; want nil", e.Bytes())
	}
	e.Add(part(10, 0, "01234"))
	if got := string(e.Bytes()); got != "0123456789" {
		t.Errorf("Bytes = %q", got)
	}
	var big Extended
	big.Add(part(1<<31, 0, "x"))
	if big.Bytes() != nil {
		t.Error("an extended packet of 2 GB was accepted")
	}
	p, ok := FromITXt([]byte(PNGKeyword + "\x00\x00\x00\x00\x00<x/>"))
	if !ok || string(p) != "<x/>" {
		t.Errorf("FromITXt = %q %v", p, ok)
	}
	if _, ok := FromITXt([]byte("Comment\x00\x00\x00\x00\x00<x/>")); ok {
		t.Error("FromITXt took another keyword")
	}
	// A compressed packet that inflates past MaxPacket (a zlib bomb: 10 MB
	// of zeros in about 10 KB) is refused, having inflated MaxPacket+1.
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 10<<20))
	zw.Close()
	if _, ok := FromITXt(append([]byte(PNGKeyword+"\x00\x01\x00\x00\x00"), z.Bytes()...)); ok {
		t.Errorf("FromITXt took a packet inflating to 10 MB (%d bytes compressed)", z.Len())
	}
	var small bytes.Buffer
	zw = zlib.NewWriter(&small)
	zw.Write([]byte("<x/>"))
	zw.Close()
	if p, ok := FromITXt(append([]byte(PNGKeyword+"\x00\x01\x00en\x00\x00"), small.Bytes()...)); !ok || string(p) != "<x/>" {
		t.Errorf("FromITXt of a compressed packet = %q %v", p, ok)
	}
}

func TestSidecarNames(t *testing.T) {
	if got := strings.Join(Sidecars("a/IMG_1.jpg"), " "); got != "a/IMG_1.jpg.xmp a/IMG_1.jpg.XMP a/IMG_1.xmp a/IMG_1.XMP" {
		t.Errorf("Sidecars = %s", got)
	}
	for _, c := range []struct{ in, file, stem string }{
		{"a/IMG_1.jpg.xmp", "a/IMG_1.jpg", "a/IMG_1.jpg"},
		{"a/IMG_1.XMP", "", "a/IMG_1"},
		{"a/.xmp", "", ""},
		{"a/b.txt", "", ""},
	} {
		f, s := SidecarOf(c.in)
		if f != c.file || (s != c.stem && c.stem != "") {
			t.Errorf("SidecarOf(%q) = %q %q; want %q %q", c.in, f, s, c.file, c.stem)
		}
	}
}

func FuzzXMP(f *testing.F) {
	f.Add([]byte(lightroom))
	f.Add([]byte(microsoft))
	for _, b := range hostile() {
		if len(b) < 1<<16 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if d.Rating != nil && (*d.Rating < -1 || *d.Rating > 5) {
			t.Fatalf("rating %d", *d.Rating)
		}
		if len(d.Keywords) > MaxItems || len(d.Regions) > MaxItems {
			t.Fatalf("%d keywords, %d regions", len(d.Keywords), len(d.Regions))
		}
		for _, r := range d.Regions {
			if r.W <= 0 || r.H <= 0 || r.X < -0.01 || r.X+r.W > 1.01 {
				t.Fatalf("region %+v", r)
			}
		}
		if d.HasGPS && (math.Abs(d.Lat) > 90 || math.Abs(d.Lon) > 180) {
			t.Fatalf("GPS %v %v", d.Lat, d.Lon)
		}
		d.Date()
	})
}
