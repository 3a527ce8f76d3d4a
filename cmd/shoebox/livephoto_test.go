package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/minio/minio-go/v7"
)

// TestLivePhotos: three Live Photos made at test time, uploaded in both
// orders (over WebDAV; the third's video over S3) — one paired by Apple's content identifier (a MOV whose
// keys ffmpeg writes, a JPEG whose Apple MakerNote is built here; their
// names differ), one by folder, base name and capture time (exiftool dates
// the JPEG) — are one item each in /by-date; the still's API names its
// video, which serves the MOV's bytes; deleting a half unpairs the other,
// which is listed again.
func TestLivePhotos(t *testing.T) {
	ffmpeg := needTool(t, "ffmpeg")
	exiftool := needTool(t, "exiftool")
	dir := t.TempDir()
	mov := func(name string, meta ...string) []byte {
		t.Helper()
		p := filepath.Join(dir, name)
		args := []string{"-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30:duration=1",
			"-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "use_metadata_tags", "-metadata", "creation_time=2024-05-01T08:00:00Z"}
		for _, m := range meta {
			args = append(args, "-metadata", m)
		}
		if out, err := exec.Command(ffmpeg, append(args, p)...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const cid = "6E1C2A3B-4D5E-4F60-8172-93A4B5C6D7E8"
	cidMOV := mov("cid.mov", "com.apple.quicktime.content.identifier="+cid)
	plainMOV := mov("IMG_0002.MOV")
	// Captured 2 s after the video started, as iPhones do: 10:00:02+02:00.
	cidJPEG := jpegWithExif(t, "2024:05:01 10:00:02", "+02:00", cid)
	plainPath := filepath.Join(dir, "IMG_0002.JPG")
	if err := os.WriteFile(plainPath, jpegWithExif(t, "", "", ""), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(exiftool, "-q", "-overwrite_original", "-DateTimeOriginal=2024:05:01 10:00:02", "-OffsetTimeOriginal=+02:00", plainPath).CombinedOutput(); err != nil {
		t.Fatalf("exiftool: %v\n%s", err, out)
	}
	plainJPEG, err := os.ReadFile(plainPath)
	if err != nil {
		t.Fatal(err)
	}

	s := startServer(t)
	s.mkcol("/dav/live")
	s.mkcol("/dav/live/a")
	s.mkcol("/dav/live/b")
	// Pair a: the video first; pair b: the still first.
	s.put("/dav/live/a/motion.mov", string(cidMOV))
	s.waitDone(t, "live/a/motion.mov")
	s.put("/dav/live/a/still.jpg", string(cidJPEG))
	s.waitDone(t, "live/a/still.jpg")
	s.put("/dav/live/b/IMG_0002.JPG", string(plainJPEG))
	s.waitDone(t, "live/b/IMG_0002.JPG")
	s.put("/dav/live/b/IMG_0002.MOV", string(plainMOV))
	s.waitDone(t, "live/b/IMG_0002.MOV")

	// Pair c: the video over S3, then the still over WebDAV.
	id, secret := s3Keys(t, s)
	mc := minioClient(t, s, id, secret, false, false)
	s3MOV := mov("IMG_0003.MOV", "title=c")
	if _, err := mc.PutObject(context.Background(), "live", "c/IMG_0003.MOV", bytes.NewReader(s3MOV), int64(len(s3MOV)), minio.PutObjectOptions{ContentType: "video/quicktime"}); err != nil {
		t.Fatalf("S3 PUT: %v", err)
	}
	s.waitDone(t, "live/c/IMG_0003.MOV")
	s.put("/dav/live/c/IMG_0003.JPG", string(jpegWithExif(t, "2024:05:01 10:00:01", "+02:00", "")))
	s.waitDone(t, "live/c/IMG_0003.JPG")

	day := "/dav/by-date/2024/2024-05/2024-05-01/"
	if got := s.names(t, day); !slices.Equal(sorted(got), []string{"IMG_0002.JPG", "IMG_0003.JPG", "still.jpg"}) {
		t.Errorf("%s = %q; want the three stills only", day, got)
	}
	for still, video := range map[string]string{"live/a/still.jpg": "live/a/motion.mov", "live/b/IMG_0002.JPG": "live/b/IMG_0002.MOV", "live/c/IMG_0003.JPG": "live/c/IMG_0003.MOV"} {
		o := s.apiObject(t, still)
		if o.LiveVideo != "/api/v1/files/"+video {
			t.Errorf("%s: live_video = %q; want /api/v1/files/%s (media %+v)", still, o.LiveVideo, video, o.Media)
		}
		v := s.apiObject(t, video)
		if v.Media == nil || v.Media.LiveRole != "motion" || v.LiveStill != "/api/v1/objects/"+still {
			t.Errorf("%s: media %+v, live_still %q; want the motion half of %s", video, v.Media, v.LiveStill, still)
		}
	}
	if o := s.apiObject(t, "live/a/still.jpg"); o.Media == nil || o.Media.ContentID != cid {
		t.Errorf("still.jpg: media %+v; want content identifier %s", o.Media, cid)
	}
	if got := s.get("/api/v1/files/live/a/motion.mov"); got != string(cidMOV) {
		t.Errorf("the still's live_video: %d bytes; want the MOV's %d", len(got), len(cidMOV))
	}

	// Deleting the MOV unpairs the still; deleting a still lists its video.
	resp, body := s.do("DELETE", "/dav/live/b/IMG_0002.MOV", nil)
	want(t, resp, body, 204)
	if o := s.apiObject(t, "live/b/IMG_0002.JPG"); o.LiveVideo != "" || o.Media == nil || o.Media.LivePair != "" {
		t.Errorf("IMG_0002.JPG after its MOV was deleted: live_video %q, media %+v; want unpaired", o.LiveVideo, o.Media)
	}
	resp, body = s.do("DELETE", "/dav/live/a/still.jpg", nil)
	want(t, resp, body, 204)
	if got := s.names(t, day); !slices.Equal(sorted(got), []string{"IMG_0002.JPG", "IMG_0003.JPG", "motion.mov"}) {
		t.Errorf("%s after the deletes = %q; want IMG_0002.JPG, IMG_0003.JPG and motion.mov", day, got)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// jpegWithExif is a small JPEG; with a date, it carries an EXIF block
// with DateTimeOriginal and OffsetTimeOriginal, and, with cid, an Apple
// MakerNote whose ContentIdentifier (tag 0x0011) is cid (exiftool cannot
// write that tag).
func jpegWithExif(t *testing.T, date, offset, cid string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 128, 255})
		}
	}
	var j bytes.Buffer
	if err := jpeg.Encode(&j, img, nil); err != nil {
		t.Fatal(err)
	}
	if date == "" {
		return j.Bytes()
	}
	be := binary.BigEndian
	var mn []byte
	if cid != "" {
		v := append([]byte(cid), 0)
		mn = append([]byte("Apple iOS\x00"), 0, 1, 'M', 'M')
		mn = be.AppendUint16(mn, 1)
		mn = be.AppendUint16(mn, 0x0011)
		mn = be.AppendUint16(mn, 2)
		mn = be.AppendUint32(mn, uint32(len(v)))
		mn = be.AppendUint32(mn, 16+12+4)
		mn = be.AppendUint32(mn, 0)
		mn = append(mn, v...)
	}
	dto, off := append([]byte(date), 0), append([]byte(offset), 0)
	type ent struct {
		tag, typ uint16
		v        []byte
	}
	es := []ent{{0x9003, 2, dto}, {0x9011, 2, off}}
	if mn != nil {
		es = append(es, ent{0x927C, 7, mn})
	}
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	exifAt := 8 + 2 + 12 + 4
	tiff = be.AppendUint16(tiff, 1)
	tiff = be.AppendUint16(tiff, 0x8769)
	tiff = be.AppendUint16(tiff, 4)
	tiff = be.AppendUint32(tiff, 1)
	tiff = be.AppendUint32(tiff, uint32(exifAt))
	tiff = be.AppendUint32(tiff, 0)
	data := exifAt + 2 + 12*len(es) + 4
	var tail []byte
	tiff = be.AppendUint16(tiff, uint16(len(es)))
	for _, e := range es {
		tiff = be.AppendUint16(tiff, e.tag)
		tiff = be.AppendUint16(tiff, e.typ)
		tiff = be.AppendUint32(tiff, uint32(len(e.v)))
		tiff = be.AppendUint32(tiff, uint32(data+len(tail)))
		tail = append(tail, e.v...)
		if len(tail)%2 == 1 {
			tail = append(tail, 0)
		}
	}
	tiff = be.AppendUint32(tiff, 0)
	tiff = append(tiff, tail...)
	app1 := append([]byte{0xFF, 0xE1, 0, 0}, "Exif\x00\x00"...)
	app1 = append(app1, tiff...)
	be.PutUint16(app1[2:], uint16(len(app1)-2))
	b := j.Bytes()
	return append(append(append([]byte{}, b[:2]...), app1...), b[2:]...)
}

// TestMotionPhoto: an Android motion photo made at test time (a JPEG whose
// XMP names an MP4 appended to it, as Pixel phones write) is one photo;
// its API names its motion part, served byte-exact, with Range.
func TestMotionPhoto(t *testing.T) {
	ffmpeg := needTool(t, "ffmpeg")
	mp4Path := filepath.Join(t.TempDir(), "motion.mp4")
	if out, err := exec.Command(ffmpeg, "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30:duration=1",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", mp4Path).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	mp4, err := os.ReadFile(mp4Path)
	if err != nil {
		t.Fatal(err)
	}
	packet := `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
		`<rdf:Description xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" xmlns:Container="http://ns.google.com/photos/1.0/container/"` +
		` xmlns:Item="http://ns.google.com/photos/1.0/container/item/" GCamera:MotionPhoto="1" GCamera:MotionPhotoVersion="1">` +
		`<Container:Directory><rdf:Seq>` +
		`<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary" Item:Length="0" Item:Padding="0"/></rdf:li>` +
		`<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto" Item:Length="` + strconv.Itoa(len(mp4)) + `"/></rdf:li>` +
		`</rdf:Seq></Container:Directory></rdf:Description></rdf:RDF></x:xmpmeta>`
	app1 := append([]byte{0xFF, 0xE1, 0, 0}, "http://ns.adobe.com/xap/1.0/\x00"+packet...)
	binary.BigEndian.PutUint16(app1[2:], uint16(len(app1)-2))
	j := jpegWithExif(t, "", "", "")
	file := append(append(append(append([]byte{}, j[:2]...), app1...), j[2:]...), mp4...)

	s := startServer(t)
	s.mkcol("/dav/motion")
	s.put("/dav/motion/PXL_20240501_080000000.MP.jpg", string(file))
	o := s.waitDone(t, "motion/PXL_20240501_080000000.MP.jpg")
	if o.Media == nil || o.Media.Kind != "photo" || o.Media.MotionPhoto == nil ||
		o.Media.MotionPhoto.Offset != int64(len(file)-len(mp4)) || o.Media.MotionPhoto.Length != int64(len(mp4)) {
		t.Fatalf("media %+v; want a photo whose motion part is %d bytes at %d", o.Media, len(mp4), len(file)-len(mp4))
	}
	want := "/api/v1/objects/motion/PXL_20240501_080000000.MP.jpg/motion"
	if o.LiveVideo != want {
		t.Errorf("live_video = %q; want %q", o.LiveVideo, want)
	}
	resp, body := s.do("GET", want, nil)
	if resp.StatusCode != 200 || body != string(mp4) || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Errorf("GET motion: %d, %s, %d bytes; want 200, video/mp4 and the MP4's %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body), len(mp4))
	}
	resp, body = s.do("GET", want, nil, "Range", "bytes=4-11")
	if resp.StatusCode != 206 || body != string(mp4[4:12]) {
		t.Errorf("GET motion, bytes 4-11: %d %q; want 206 %q", resp.StatusCode, body, mp4[4:12])
	}
	if got := s.names(t, "/dav/by-date/2024/2024-05/2024-05-01/"); !slices.Equal(got, []string{"PXL_20240501_080000000.MP.jpg"}) {
		t.Errorf("by-date = %q; want the photo", got)
	}
}
