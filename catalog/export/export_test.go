package export

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/memfs"
)

// xmpDoc is what the tests read back from a packet with encoding/xml.
type xmpDoc struct {
	XMLName xml.Name `xml:"adobe:ns:meta/ xmpmeta"`
	Desc    struct {
		Subject []string `xml:"subject>Bag>li"`
		Hier    []string `xml:"hierarchicalSubject>Bag>li"`
		Regions struct {
			Dim struct {
				W    int    `xml:"http://ns.adobe.com/xap/1.0/sType/Dimensions# w,attr"`
				H    int    `xml:"http://ns.adobe.com/xap/1.0/sType/Dimensions# h,attr"`
				Unit string `xml:"http://ns.adobe.com/xap/1.0/sType/Dimensions# unit,attr"`
			} `xml:"AppliedToDimensions"`
			List []struct {
				Name string `xml:"Name"`
				Type string `xml:"Type"`
				Area struct {
					X    float64 `xml:"http://ns.adobe.com/xmp/sType/Area# x,attr"`
					Y    float64 `xml:"http://ns.adobe.com/xmp/sType/Area# y,attr"`
					W    float64 `xml:"http://ns.adobe.com/xmp/sType/Area# w,attr"`
					H    float64 `xml:"http://ns.adobe.com/xmp/sType/Area# h,attr"`
					Unit string  `xml:"http://ns.adobe.com/xmp/sType/Area# unit,attr"`
				} `xml:"Area"`
			} `xml:"RegionList>Bag>li"`
		} `xml:"http://www.metadataworkinggroup.com/schemas/regions/ Regions"`
	} `xml:"RDF>Description"`
}

func parseXMP(t *testing.T, b []byte) xmpDoc {
	t.Helper()
	var d xmpDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("the sidecar is not well-formed XML: %v\n%s", err, b)
	}
	return d
}

// TestSidecarXMP: the packet is well-formed RDF/XML in the namespaces
// readers look for, names with markup characters, quotes, unicode and
// the keyword separator come back as they were (the separator replaced).
func TestSidecarXMP(t *testing.T) {
	s := Sidecar{Width: 4000, Height: 3000,
		Regions: []Region{{Name: "O'Brien & <Co>", X: 0.5, Y: 0.25, W: 0.1, H: 0.2}, {Name: "Zoë 李 \"Z\"", X: 0.123456789, Y: 0.9, W: 0.05, H: 0.05}},
		People:  []string{"O'Brien & <Co>", "Zoë 李 \"Z\"", "O'Brien & <Co>"},
		Albums:  []string{"Paris & Lyon", "a|b"}}
	b := s.MarshalXMP()
	if !bytes.HasPrefix(b, []byte("<?xpacket begin=\"\uFEFF\"")) || !bytes.HasSuffix(b, []byte("<?xpacket end=\"w\"?>\n")) {
		t.Errorf("packet wrapper missing:\n%s", b)
	}
	if bytes.Contains(b, []byte("& ")) || bytes.Contains(b, []byte("<Co>")) {
		t.Errorf("names not escaped:\n%s", b)
	}
	d := parseXMP(t, b)
	if want := []string{"O'Brien & <Co>", "Zoë 李 \"Z\"", "Paris & Lyon", "a|b"}; !slices.Equal(d.Desc.Subject, want) {
		t.Errorf("dc:subject = %q; want %q", d.Desc.Subject, want)
	}
	if want := []string{"People|O'Brien & <Co>", "People|Zoë 李 \"Z\"", "Albums|Paris & Lyon", "Albums|a¦b"}; !slices.Equal(d.Desc.Hier, want) {
		t.Errorf("lr:hierarchicalSubject = %q; want %q", d.Desc.Hier, want)
	}
	r := d.Desc.Regions
	if r.Dim.W != 4000 || r.Dim.H != 3000 || r.Dim.Unit != "pixel" {
		t.Errorf("AppliedToDimensions = %+v; want 4000×3000 pixel", r.Dim)
	}
	if len(r.List) != 2 {
		t.Fatalf("%d regions; want 2:\n%s", len(r.List), b)
	}
	got := r.List[0]
	if got.Name != "O'Brien & <Co>" || got.Type != "Face" || got.Area.X != 0.5 || got.Area.Y != 0.25 || got.Area.W != 0.1 || got.Area.H != 0.2 || got.Area.Unit != "normalized" {
		t.Errorf("region 0 = %+v", got)
	}
	if r.List[1].Name != "Zoë 李 \"Z\"" || r.List[1].Area.X != 0.123457 {
		t.Errorf("region 1 = %+v; want the unicode name and x rounded to 0.123457", r.List[1])
	}

	// Albums only: no regions element at all.
	b = Sidecar{Albums: []string{"Paris"}}.MarshalXMP()
	if bytes.Contains(b, []byte("mwg-rs:Regions")) {
		t.Errorf("a sidecar without faces has regions:\n%s", b)
	}
	if d := parseXMP(t, b); !slices.Equal(d.Desc.Hier, []string{"Albums|Paris"}) {
		t.Errorf("hierarchical keywords = %q", d.Desc.Hier)
	}
	// A control character XML cannot hold does not break the packet.
	parseXMP(t, Sidecar{People: []string{"bad\x01name"}}.MarshalXMP())
}

// TestStoredRegion: a face box on the displayed image maps back to the
// stored image for each EXIF orientation.
func TestStoredRegion(t *testing.T) {
	// A box at the displayed image's top-left corner: left 0.1, top 0.2,
	// 0.2 wide, 0.4 high; centre (0.2, 0.4).
	box := [4]float64{0.1, 0.2, 0.2, 0.4}
	for _, tc := range []struct {
		o          int
		x, y, w, h float64
	}{
		{1, 0.2, 0.4, 0.2, 0.4},
		{0, 0.2, 0.4, 0.2, 0.4},
		{2, 0.8, 0.4, 0.2, 0.4},
		{3, 0.8, 0.6, 0.2, 0.4},
		{4, 0.2, 0.6, 0.2, 0.4},
		{5, 0.4, 0.2, 0.4, 0.2},
		// Shown turned 90° clockwise: the displayed top-left was the
		// stored bottom-left.
		{6, 0.4, 0.8, 0.4, 0.2},
		{7, 0.6, 0.8, 0.4, 0.2},
		// Shown turned 90° counter-clockwise: displayed top-left was
		// stored top-right.
		{8, 0.6, 0.2, 0.4, 0.2},
	} {
		x, y, w, h := storedRegion(box, tc.o)
		if !near(x, tc.x) || !near(y, tc.y) || !near(w, tc.w) || !near(h, tc.h) {
			t.Errorf("orientation %d: got %.3f %.3f %.3f %.3f; want %.3f %.3f %.3f %.3f", tc.o, x, y, w, h, tc.x, tc.y, tc.w, tc.h)
		}
	}
	// Clipped to the image.
	if x, y, w, h := storedRegion([4]float64{-0.1, 0.9, 0.3, 0.2}, 1); !near(x, 0.1) || !near(y, 0.95) || !near(w, 0.2) || !near(h, 0.1) {
		t.Errorf("clipped box: %.3f %.3f %.3f %.3f; want 0.1 0.95 0.2 0.1", x, y, w, h)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// lib is a catalog with a gateway over memory.
type lib struct {
	t   *testing.T
	cat *catalog.Catalog
	gw  *gateway.Gateway
}

func newLib(t *testing.T) *lib {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	gw := gateway.New(memfs.New(), cat, gateway.Options{Logger: quiet})
	for _, b := range []string{"Phone", "Camera"} {
		if err := gw.MakeBucket(context.Background(), "alice", b); err != nil {
			t.Fatal(err)
		}
	}
	return &lib{t: t, cat: cat, gw: gw}
}

// put stores a file with the given bytes and media record; faces name
// their person by id.
func (l *lib) put(bucket, key, body string, m catalog.Media) catalog.Object {
	l.t.Helper()
	ctx := context.Background()
	o, err := l.gw.Put(ctx, gateway.PutInput{User: "alice", Bucket: bucket, Key: key, Body: strings.NewReader(body), MakeParents: true})
	if err != nil {
		l.t.Fatal(err)
	}
	j, err := l.cat.JobOf(ctx, "alice", bucket, key)
	if err != nil {
		l.t.Fatal(err)
	}
	m.SHA256 = o.SHA256
	persons := make([]string, len(m.Faces))
	for i, f := range m.Faces {
		persons[i] = f.Person
	}
	if err := l.cat.CompleteJob(ctx, j, m); err != nil {
		l.t.Fatal(err)
	}
	if len(persons) > 0 {
		if err := l.cat.SetFacePersons(ctx, "alice", bucket, key, persons); err != nil {
			l.t.Fatal(err)
		}
	}
	return o
}

// memSink keeps what an export writes.
type memSink struct {
	sidecars map[string][]byte
	docs     map[string][]byte
}

func (m *memSink) Sidecar(ctx context.Context, user, bucket, key string, xmp []byte) error {
	m.sidecars[user+"/"+bucket+"/"+key] = xmp
	return nil
}

func (m *memSink) Document(ctx context.Context, user string, doc []byte) error {
	m.docs[user] = doc
	return nil
}

// fixture fills a library: persons (named, unnamed, hidden, with a
// rejected and an included photo), photos with faces (one turned by its
// EXIF orientation), an album holding a photo with two copies, a trash
// item.
func fixture(t *testing.T) *lib {
	l := newLib(t)
	ctx := context.Background()
	obrien := &catalog.Person{Name: "O'Brien & <Co>"}
	zoe := &catalog.Person{Name: "Zoë 李"}
	unnamed := &catalog.Person{}
	hidden := &catalog.Person{Name: "Ghost", Hidden: true}
	for _, p := range []*catalog.Person{obrien, zoe, unnamed, hidden} {
		if err := l.cat.PutPerson(ctx, "alice", p); err != nil {
			t.Fatal(err)
		}
	}
	face := func(p *catalog.Person, x, y, w, h float64) catalog.Face {
		return catalog.Face{Box: [4]float64{x, y, w, h}, Score: 0.91234, Detector: "tiny416a", Person: p.ID}
	}
	l.put("Phone", "Camera/IMG_0001.JPG", "one", catalog.Media{Kind: "photo", Width: 4000, Height: 3000, Orientation: 1,
		Faces: []catalog.Face{face(obrien, 0.1, 0.2, 0.2, 0.4), face(zoe, 0.5, 0.5, 0.1, 0.1), face(unnamed, 0.8, 0.8, 0.1, 0.1), face(hidden, 0, 0, 0.1, 0.1)}})
	// Displayed 3000×4000, stored 4000×3000 turned 90° clockwise.
	l.put("Phone", "Camera/IMG_0002.JPG", "two", catalog.Media{Kind: "photo", Width: 3000, Height: 4000, Orientation: 6,
		Faces: []catalog.Face{face(zoe, 0.1, 0.2, 0.2, 0.4)}})
	rejected := l.put("Phone", "Camera/IMG_0003.JPG", "three", catalog.Media{Kind: "photo", Width: 100, Height: 100,
		Faces: []catalog.Face{face(obrien, 0.1, 0.1, 0.5, 0.5)}})
	paris := l.put("Camera", "2019/Paris/DSC_0042.JPG", "paris", catalog.Media{Kind: "photo"})
	l.put("Phone", "copy of DSC_0042.JPG", "paris", catalog.Media{Kind: "photo"})
	included := l.put("Phone", "back.jpg", "back of Zoë's head", catalog.Media{Kind: "photo"})
	l.put("Phone", "nothing.jpg", "nobody, no album", catalog.Media{Kind: "photo"})
	obrien.Rejected = []string{rejected.SHA256}
	zoe.Included = []string{included.SHA256}
	for _, p := range []*catalog.Person{obrien, zoe} {
		if err := l.cat.PutPerson(ctx, "alice", p); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"Paris & <Lyon>", "Zoë's"} {
		if err := l.cat.CreateAlbum(ctx, "alice", a, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano()); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range [][2]string{{"Paris & <Lyon>", paris.SHA256}, {"Zoë's", paris.SHA256}, {"Zoë's", included.SHA256}} {
		if err := l.cat.AlbumAdd(ctx, "alice", m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.cat.PutTrash(ctx, catalog.TrashItem{User: "alice", ID: "t1", Bucket: "Phone", Key: "old.jpg", DeletedNs: 1}); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestExport: which files get sidecars and what they say, and the
// document's content.
func TestExport(t *testing.T) {
	l := fixture(t)
	ctx := context.Background()
	sink := &memSink{sidecars: map[string][]byte{}, docs: map[string][]byte{}}
	e := New(l.cat, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return time.Unix(1e9, 0) }})
	st, err := e.Export(ctx, "alice", sink)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range sink.sidecars {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"alice/Camera/2019/Paris/DSC_0042.JPG", "alice/Phone/Camera/IMG_0001.JPG", "alice/Phone/Camera/IMG_0002.JPG", "alice/Phone/back.jpg", "alice/Phone/copy of DSC_0042.JPG"}
	if !slices.Equal(names, want) || st.Sidecars != len(want) {
		t.Fatalf("sidecars %q (stats %d); want %q (not the rejected photo, nor the one with nothing)", names, st.Sidecars, want)
	}

	one := parseXMP(t, sink.sidecars["alice/Phone/Camera/IMG_0001.JPG"])
	if got := one.Desc.Regions.List; len(got) != 2 || got[0].Name != "O'Brien & <Co>" || got[1].Name != "Zoë 李" {
		t.Errorf("IMG_0001 regions %+v; want O'Brien's and Zoë's (not the unnamed nor the hidden person)", got)
	} else if a := got[0].Area; !near(a.X, 0.2) || !near(a.Y, 0.4) || !near(a.W, 0.2) || !near(a.H, 0.4) {
		t.Errorf("O'Brien's area %+v; want centre 0.2,0.4 size 0.2×0.4", a)
	}
	if !slices.Equal(one.Desc.Hier, []string{"People|O'Brien & <Co>", "People|Zoë 李"}) {
		t.Errorf("IMG_0001 keywords %q", one.Desc.Hier)
	}
	two := parseXMP(t, sink.sidecars["alice/Phone/Camera/IMG_0002.JPG"])
	if d := two.Desc.Regions.Dim; d.W != 4000 || d.H != 3000 {
		t.Errorf("IMG_0002 AppliedToDimensions %+v; want the stored 4000×3000", d)
	}
	if a := two.Desc.Regions.List[0].Area; !near(a.X, 0.4) || !near(a.Y, 0.8) || !near(a.W, 0.4) || !near(a.H, 0.2) {
		t.Errorf("IMG_0002 area %+v; want the stored image's 0.4,0.8 0.4×0.2", a)
	}
	for _, n := range []string{"alice/Camera/2019/Paris/DSC_0042.JPG", "alice/Phone/copy of DSC_0042.JPG"} {
		if got := parseXMP(t, sink.sidecars[n]).Desc.Hier; !slices.Equal(got, []string{"Albums|Paris & <Lyon>", "Albums|Zoë's"}) {
			t.Errorf("%s keywords %q; want both albums (albums hold content: every copy)", n, got)
		}
	}
	if got := parseXMP(t, sink.sidecars["alice/Phone/back.jpg"]).Desc.Hier; !slices.Equal(got, []string{"People|Zoë 李", "Albums|Zoë's"}) {
		t.Errorf("back.jpg keywords %q; want Zoë (included by hand) and her album", got)
	}

	var doc Document
	if err := json.Unmarshal(sink.docs["alice"], &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != Schema || doc.Version != 1 || doc.User != "alice" || !doc.Exported.Equal(time.Unix(1e9, 0)) || doc.Keywords.Albums != "Albums" {
		t.Errorf("document header %+v", doc)
	}
	if len(doc.Albums) != 2 || doc.Albums[0].Name != "Paris & <Lyon>" || len(doc.Albums[0].Members) != 1 || len(doc.Albums[0].Members[0].Files) != 2 {
		t.Errorf("albums %+v; want Paris with one photo in two files", doc.Albums)
	}
	if len(doc.Persons) != 4 {
		t.Fatalf("%d persons; want 4", len(doc.Persons))
	}
	ob, zo, un, gh := doc.Persons[0], doc.Persons[1], doc.Persons[2], doc.Persons[3]
	if ob.Name != "O'Brien & <Co>" || len(ob.Faces) != 2 || len(ob.Rejected) != 1 {
		t.Errorf("O'Brien %+v; want 2 faces (the rejected photo's too: it is the catalog's) and 1 rejection", ob)
	}
	if f := ob.Faces[0]; f.Key != "Camera/IMG_0001.JPG" || f.BoxPx == nil || *f.BoxPx != (BoxPx{400, 600, 800, 1200}) || f.Box.W != 0.2 || f.Width != 4000 {
		t.Errorf("O'Brien's first face %+v", f)
	}
	if zo.Name != "Zoë 李" || len(zo.Faces) != 2 || len(zo.Included) != 1 {
		t.Errorf("Zoë %+v", zo)
	}
	if un.Name != "" || un.Label != "Person 3" || len(un.Faces) != 1 || !gh.Hidden || len(gh.Faces) != 1 {
		t.Errorf("unnamed %+v, hidden %+v", un, gh)
	}
	if len(doc.Trash) != 1 || doc.Trash[0].Key != "old.jpg" || doc.Trash[0].ID != "t1" {
		t.Errorf("trash %+v", doc.Trash)
	}
}

// TestExportReadByExiftool: exiftool, the reference reader of XMP, reads
// the sidecars written to a directory back: region names, areas,
// dimensions and keywords.
func TestExportReadByExiftool(t *testing.T) {
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("exiftool is not installed (make test installs it: libimage-exiftool-perl)")
		}
		t.Skip("exiftool is not installed; apt-get install libimage-exiftool-perl")
	}
	l := fixture(t)
	dir := t.TempDir()
	e := New(l.cat, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if _, err := e.Export(context.Background(), "alice", DirSink{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exiftool, "-j", "-struct", "-XMP:all",
		filepath.Join(dir, "alice/Phone/Camera/IMG_0001.JPG.xmp"), filepath.Join(dir, "alice/Phone/Camera/IMG_0002.JPG.xmp"),
		filepath.Join(dir, "alice/Camera/2019/Paris/DSC_0042.JPG.xmp")).Output()
	if err != nil {
		t.Fatalf("exiftool: %v\n%s", err, out)
	}
	var got []ExiftoolXMP
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("exiftool's JSON: %v\n%s", err, out)
	}
	if len(got) != 3 {
		t.Fatalf("exiftool read %d files; want 3:\n%s", len(got), out)
	}
	one, two, paris := got[0], got[1], got[2]
	if r := one.RegionInfo; r.AppliedToDimensions.W != 4000 || r.AppliedToDimensions.H != 3000 || len(r.RegionList) != 2 ||
		r.RegionList[0].Name != "O'Brien & <Co>" || r.RegionList[0].Type != "Face" || r.RegionList[1].Name != "Zoë 李" ||
		!near(r.RegionList[0].Area.X, 0.2) || !near(r.RegionList[0].Area.H, 0.4) || r.RegionList[0].Area.Unit != "normalized" {
		t.Errorf("IMG_0001 regions as exiftool reads them: %+v\n%s", r, out)
	}
	if !slices.Equal(one.Subject, []string{"O'Brien & <Co>", "Zoë 李"}) || !slices.Equal(one.HierarchicalSubject, []string{"People|O'Brien & <Co>", "People|Zoë 李"}) {
		t.Errorf("IMG_0001 keywords as exiftool reads them: %q %q", one.Subject, one.HierarchicalSubject)
	}
	if a := two.RegionInfo.RegionList; len(a) != 1 || !near(a[0].Area.X, 0.4) || !near(a[0].Area.Y, 0.8) || !near(a[0].Area.W, 0.4) || !near(a[0].Area.H, 0.2) {
		t.Errorf("IMG_0002 regions as exiftool reads them: %+v", a)
	}
	if !slices.Equal(paris.HierarchicalSubject, []string{"Albums|Paris & <Lyon>", "Albums|Zoë's"}) || !slices.Equal(paris.Subject, []string{"Paris & <Lyon>", "Zoë's"}) {
		t.Errorf("DSC_0042 keywords as exiftool reads them: %q %q", paris.Subject, paris.HierarchicalSubject)
	}
}

// ExiftoolXMP is what `exiftool -j -struct -XMP:all` says of a sidecar,
// as far as the tests look.
type ExiftoolXMP struct {
	Subject             flexStrings
	HierarchicalSubject flexStrings
	RegionInfo          struct {
		AppliedToDimensions struct{ W, H int }
		RegionList          []struct {
			Name, Type string
			Area       struct {
				X, Y, W, H float64
				Unit       string
			}
		}
	}
}

// flexStrings reads a list that exiftool writes as a bare value when it
// has one item.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	var one any
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	switch v := one.(type) {
	case []any:
		for _, x := range v {
			*f = append(*f, toString(x))
		}
	default:
		*f = flexStrings{toString(v)}
	}
	return nil
}

func toString(v any) string {
	b, _ := json.Marshal(v)
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	return strings.Trim(string(b), `"`)
}
