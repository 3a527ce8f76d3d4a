package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// exiftoolWrite runs exiftool with args on file (in place) or, when out is
// set, writes a new sidecar out from nothing.
func exiftoolWrite(t *testing.T, exiftool string, args ...string) {
	t.Helper()
	cmd := exec.Command(exiftool, append([]string{"-q", "-q", "-overwrite_original"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("exiftool %q: %v\n%s", args, err, out)
	}
}

func plainPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 5), uint8(y * 3), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// media returns the API's record of bucket/key once its enrichment is done.
func (s *server) media(t *testing.T, p string) apiObject {
	t.Helper()
	var o apiObject
	waitUntil(t, 2*time.Minute, p+" enriched", func() bool {
		resp, body := s.do("GET", "/api/v1/objects/"+p, nil)
		want(t, resp, body, 200)
		o = apiObject{}
		if err := json.Unmarshal([]byte(body), &o); err != nil {
			t.Fatal(err)
		}
		return o.Enrichment != nil && o.Enrichment.State == "done" && o.Media != nil
	})
	return o
}

// TestXMP: files made here with exiftool carry XMP embedded (a JPEG with
// only an XMP date, keywords, rating, hierarchical keywords and an MWG face
// region; a PNG; an MP4) or in sidecars uploaded before (IMG_1.xmp, the
// Lightroom form) and after (IMG_2.jpg.xmp, darktable's) their photos.
// Each field comes out in the API (date_source xmp, taken time and
// offset, rating, tags, regions, GPS) and in the folders: /by-date
// under the XMP date, /by-tag/<keyword>.
func TestXMP(t *testing.T) {
	exiftool := needTool(t, "exiftool")
	ffmpeg := needTool(t, "ffmpeg")
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A JPEG whose only date is in XMP (photoshop:DateCreated, with offset).
	jpg := write("tagged.jpg", photoJPEG(t, 640, 480, 3))
	exiftoolWrite(t, exiftool, "-XMP-photoshop:DateCreated=2015-03-04T05:06:07+01:00", "-XMP-xmp:Rating=4",
		"-XMP-dc:Subject=Beach", "-XMP-dc:Subject=Summer", "-XMP-lr:HierarchicalSubject=Places|Spain|Cadiz",
		"-XMP-exif:GPSLatitude=36 31 37.56 N", "-XMP-exif:GPSLongitude=6 17 18 W",
		"-XMP-mwg-rs:RegionInfo={AppliedToDimensions={W=640,H=480,Unit=pixel},RegionList=[{Area={W=0.2,H=0.3,X=0.5,Y=0.4,Unit=normalized},Name=Alice,Type=Face}]}",
		jpg)
	pngPath := write("garden.png", plainPNG(t, 64, 48))
	exiftoolWrite(t, exiftool, "-XMP-xmp:CreateDate=2016-07-08T09:10:11", "-XMP-xmp:Rating=2", "-XMP-dc:Subject=Garden", pngPath)
	mp4 := filepath.Join(dir, "clip.mp4")
	if out, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5", "-t", "1", "-pix_fmt", "yuv420p", mp4).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	exiftoolWrite(t, exiftool, "-XMP-xmp:CreateDate=2013-05-06T07:08:09+09:00", "-XMP-xmp:Rating=3", "-XMP-dc:Subject=Clip", mp4)
	// Sidecars: IMG_1.xmp (before its photo), IMG_2.jpg.xmp (after).
	side1 := filepath.Join(dir, "IMG_1.xmp")
	exiftoolWrite(t, exiftool, "-o", side1, "-XMP-exif:DateTimeOriginal=2014-01-02T03:04:05-05:00", "-XMP-xmp:Rating=5",
		"-XMP-dc:Subject=Sidecar", "-XMP-exif:GPSLatitude=48 51 30 N", "-XMP-exif:GPSLongitude=2 17 24 E")
	side2 := filepath.Join(dir, "IMG_2.jpg.xmp")
	exiftoolWrite(t, exiftool, "-o", side2, "-XMP-xmp:CreateDate=2012-12-24T18:00:00", "-XMP-xmp:Rating=-1", "-XMP-dc:Subject=Late")

	s := startServer(t)
	s.mkcol("/dav/xxx")
	s.put("/dav/xxx/tagged.jpg", string(mustRead(t, jpg)))
	s.put("/dav/xxx/garden.png", string(mustRead(t, pngPath)))
	s.put("/dav/xxx/clip.mp4", string(mustRead(t, mp4)))
	s.put("/dav/xxx/IMG_1.xmp", string(mustRead(t, side1)))
	s.waitQueue(t, 2*time.Minute)
	s.put("/dav/xxx/IMG_1.JPG", string(photoJPEG(t, 320, 240, 5)))
	s.put("/dav/xxx/IMG_2.jpg", string(photoJPEG(t, 320, 240, 7)))
	s.waitQueue(t, 2*time.Minute)
	if m := s.media(t, "xxx/IMG_2.jpg").Media; m.DateSource == "xmp" || len(m.Tags) > 0 {
		t.Fatalf("IMG_2.jpg before its sidecar: %+v", m)
	}
	s.put("/dav/xxx/IMG_2.jpg.xmp", string(mustRead(t, side2)))
	waitUntil(t, 2*time.Minute, "IMG_2.jpg enriched again with its sidecar", func() bool {
		return s.media(t, "xxx/IMG_2.jpg").Media.DateSource == "xmp"
	})

	type want struct {
		key, local, offset, utc string
		rating                  int
		tags                    []string
		lat, lon                float64 // 0: none
		regions                 int
	}
	for _, w := range []want{
		{"tagged.jpg", "2015-03-04T05:06:07", "+01:00", "2015-03-04T04:06:07Z", 4, []string{"Beach", "Summer", "Cadiz"}, 36.5271, -6.2883333, 1},
		{"garden.png", "2016-07-08T09:10:11", "", "", 2, []string{"Garden"}, 0, 0, 0},
		{"clip.mp4", "2013-05-06T07:08:09", "+09:00", "2013-05-05T22:08:09Z", 3, []string{"Clip"}, 0, 0, 0},
		{"IMG_1.JPG", "2014-01-02T03:04:05", "-05:00", "2014-01-02T08:04:05Z", 5, []string{"Sidecar"}, 48.8583333, 2.29, 0},
		{"IMG_2.jpg", "2012-12-24T18:00:00", "", "", -1, []string{"Late"}, 0, 0, 0},
	} {
		m := s.media(t, "xxx/"+w.key).Media
		if m.DateSource != "xmp" || m.TakenLocal != w.local || m.Offset != w.offset || m.TakenUTC != w.utc {
			t.Errorf("%s: date %q %q %q from %q; want %q %q %q from xmp", w.key, m.TakenLocal, m.Offset, m.TakenUTC, m.DateSource, w.local, w.offset, w.utc)
		}
		if m.Rating == nil || *m.Rating != w.rating {
			t.Errorf("%s: rating %s; want %d", w.key, fmtRating(m.Rating), w.rating)
		}
		if !slices.Equal(m.Tags, w.tags) {
			t.Errorf("%s: tags %q; want %q", w.key, m.Tags, w.tags)
		}
		switch {
		case w.lat == 0 && m.Lat != nil:
			t.Errorf("%s: position %v,%v; want none", w.key, *m.Lat, *m.Lon)
		case w.lat != 0 && (m.Lat == nil || math.Abs(*m.Lat-w.lat) > 1e-4 || math.Abs(*m.Lon-w.lon) > 1e-4):
			t.Errorf("%s: position %v,%v; want %v,%v", w.key, m.Lat, m.Lon, w.lat, w.lon)
		}
		if len(m.Regions) != w.regions {
			t.Errorf("%s: regions %+v; want %d", w.key, m.Regions, w.regions)
		}
	}
	if r := s.media(t, "xxx/tagged.jpg").Media.Regions; len(r) == 1 {
		// MWG's area is centred at 0.5,0.4: the box's corner is 0.4,0.25.
		if b := r[0].Box; r[0].Name != "Alice" || math.Abs(b[0]-0.4) > 1e-6 || math.Abs(b[1]-0.25) > 1e-6 || math.Abs(b[2]-0.2) > 1e-6 || math.Abs(b[3]-0.3) > 1e-6 {
			t.Errorf("tagged.jpg region %+v; want Alice at 0.4,0.25 0.2x0.3", r[0])
		}
	}

	// The folders.
	tags := s.names(t, "/dav/by-tag/")
	for _, tag := range []string{"Beach/", "Cadiz/", "Clip/", "Garden/", "Late/", "Sidecar/", "Summer/"} {
		if !slices.Contains(tags, tag) {
			t.Errorf("/dav/by-tag/ = %q; want %s in it", tags, tag)
		}
	}
	for tag, files := range map[string][]string{"Beach": {"tagged.jpg"}, "Sidecar": {"IMG_1.JPG"}, "Late": {"IMG_2.jpg"}, "Clip": {"clip.mp4"}} {
		if got := s.names(t, "/dav/by-tag/"+tag+"/"); !slices.Equal(got, files) {
			t.Errorf("/dav/by-tag/%s/ = %q; want %q", tag, got, files)
		}
	}
	if got := s.get("/dav/by-tag/Beach/tagged.jpg"); got != string(mustRead(t, jpg)) {
		t.Errorf("GET /dav/by-tag/Beach/tagged.jpg: %d bytes, not the original's", len(got))
	}
	for p, file := range map[string]string{
		"/dav/by-date/2015/2015-03/2015-03-04/": "tagged.jpg",
		"/dav/by-date/2016/2016-07/2016-07-08/": "garden.png",
		"/dav/by-date/2014/2014-01/2014-01-02/": "IMG_1.JPG",
		"/dav/by-date/2012/2012-12/2012-12-24/": "IMG_2.jpg",
	} {
		if got := s.names(t, p); !slices.Contains(got, file) {
			t.Errorf("%s = %q; want %s in it", p, got, file)
		}
	}
	if resp, body := s.do("PUT", "/dav/by-tag/Beach/new.jpg", strings.NewReader("x")); resp.StatusCode < 400 {
		t.Errorf("PUT into /by-tag: %d %s; want it refused (read-only)", resp.StatusCode, body)
	}
	if resp, body := s.do("MKCOL", "/dav/by-tag", nil); resp.StatusCode < 400 {
		t.Errorf("MKCOL /dav/by-tag (a bucket of that name): %d %s; want it refused", resp.StatusCode, body)
	}
}

func fmtRating(r *int) string {
	if r == nil {
		return "none"
	}
	return strconv.Itoa(*r)
}

// TestXMPRegionsNamePeople: with the face models installed, photos whose
// XMP names the face in them (an MWG region written by exiftool, and a
// Microsoft People region) land in /by-person under that name once
// grouping has run: the region names the person Shoebox found there.
func TestXMPRegionsNamePeople(t *testing.T) {
	exiftool := needTool(t, "exiftool")
	s := newServer(t)
	installFaceModels(t, "--data", s.data)
	s.start()
	t.Cleanup(s.stop)
	dir := t.TempDir()
	const faces = "../../../shared/testdata/faces/images"
	names := []string{"jimin.jpg", "jimin2.jpg", "jimin3.jpg", "bona.jpg", "bona2.jpg", "bona3.jpg"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), mustRead(t, filepath.Join(faces, n)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Regions over the whole picture: the one face's centre is inside.
	exiftoolWrite(t, exiftool, "-XMP-mwg-rs:RegionInfo={RegionList=[{Area={W=1,H=1,X=0.5,Y=0.5,Unit=normalized},Name=Park Jimin,Type=Face}]}",
		filepath.Join(dir, "jimin2.jpg"))
	exiftoolWrite(t, exiftool, "-XMP-MP:RegionInfoMP={Regions=[{Rectangle=0|, 0|, 1|, 1,PersonDisplayName=Kang Bona}]}",
		filepath.Join(dir, "bona3.jpg"))
	s.mkcol("/dav/faces")
	for _, n := range names {
		s.put("/dav/faces/"+n, string(mustRead(t, filepath.Join(dir, n))))
	}
	s.waitQueue(t, 5*time.Minute)
	if r := s.media(t, "faces/bona3.jpg").Media.Regions; len(r) != 1 || r[0].Name != "Kang Bona" {
		t.Fatalf("bona3.jpg regions %+v; want Kang Bona's", r)
	}
	for person, photo := range map[string]string{"Park Jimin": "jimin2.jpg", "Kang Bona": "bona3.jpg"} {
		waitUntil(t, 3*time.Minute, photo+" in /by-person/"+person, func() bool {
			resp, _ := s.do("PROPFIND", "/dav/by-person/"+escapePath(person)+"/", nil, "Depth", "1")
			if resp.StatusCode != 207 {
				return false
			}
			return slices.Contains(s.names(t, "/dav/by-person/"+escapePath(person)+"/"), photo)
		})
		t.Logf("/by-person/%s: %q", person, s.names(t, "/dav/by-person/"+escapePath(person)+"/"))
	}
}
