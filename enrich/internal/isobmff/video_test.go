package isobmff

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func ptr(f float64) *float64 { return &f }

// checkVideo compares got with want: times and strings exactly, the
// duration to 50 ms, coordinates to 1e-4 degrees (the 3GPP loci box has
// 16.16 fixed point), altitude to 0.01 m. A want.Rotation of -1 accepts
// 90 or 270.
func checkVideo(t *testing.T, got, want *Video) {
	t.Helper()
	if !got.Created.Equal(want.Created) {
		t.Errorf("Created = %v; want %v", got.Created, want.Created)
	}
	if d := got.Duration - want.Duration; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("Duration = %v; want %v", got.Duration, want.Duration)
	}
	if got.Width != want.Width || got.Height != want.Height {
		t.Errorf("size = %dx%d; want %dx%d", got.Width, got.Height, want.Width, want.Height)
	}
	if want.Rotation == -1 {
		if got.Rotation != 90 && got.Rotation != 270 {
			t.Errorf("Rotation = %d; want 90 or 270", got.Rotation)
		}
	} else if got.Rotation != want.Rotation {
		t.Errorf("Rotation = %d; want %d", got.Rotation, want.Rotation)
	}
	for _, c := range []struct {
		name      string
		got, want *float64
		tol       float64
	}{{"Lat", got.Lat, want.Lat, 1e-4}, {"Lon", got.Lon, want.Lon, 1e-4}, {"Alt", got.Alt, want.Alt, 0.01}} {
		if (c.got == nil) != (c.want == nil) || c.got != nil && !near(*c.got, *c.want, c.tol) {
			t.Errorf("%s = %v; want %v", c.name, fmtPtr(c.got), fmtPtr(c.want))
		}
	}
	if got.Make != want.Make || got.Model != want.Model {
		t.Errorf("Make, Model = %q, %q; want %q, %q", got.Make, got.Model, want.Make, want.Model)
	}
	if got.CreationDate != want.CreationDate {
		t.Errorf("CreationDate = %q; want %q", got.CreationDate, want.CreationDate)
	}
	if got.ContentID != want.ContentID {
		t.Errorf("ContentID = %q; want %q", got.ContentID, want.ContentID)
	}
}

func TestReadVideoClip(t *testing.T) {
	// Expected values from testdata/media/manifest.json.
	v, err := readVideo(testdata(t, "clip.mp4"))
	if err != nil {
		t.Fatalf("ReadVideo(clip.mp4): %v", err)
	}
	checkVideo(t, v, &Video{
		Created:  time.Date(2020, 8, 15, 10, 20, 30, 0, time.UTC),
		Duration: 2 * time.Second,
		Width:    320, Height: 240,
		Lat: ptr(48.8584), Lon: ptr(2.2945), // "location" key; the loci box says the same
	})
}

func TestReadVideoFFmpeg(t *testing.T) {
	needTool(t, "ffmpeg")
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mov")
	ffmpeg(t, src, "160x120")
	created := time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name  string
		make  func(path string)
		top   []string // top-level boxes, when it matters
		want  Video
		ext   string
		extra string
	}{
		{
			name: "mov with udta ©xyz, ©mak, ©mod", ext: ".mov",
			make: func(p string) {
				ffmpeg(t, p, "160x120", "-metadata", "creation_time=2021-05-06T07:08:09Z",
					"-metadata", "location=+37.8199-122.4783+010.000/", "-metadata", "make=Apple", "-metadata", "model=iPhone X")
			},
			want: Video{Created: created, Duration: time.Second, Width: 160, Height: 120,
				Lat: ptr(37.8199), Lon: ptr(-122.4783), Alt: ptr(10), Make: "Apple", Model: "iPhone X"},
		},
		{
			name: "mov with iPhone keys", ext: ".mov",
			make: func(p string) {
				run(t, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", src, "-c", "copy",
					"-movflags", "use_metadata_tags",
					"-metadata", "creation_time=2023-07-22T01:45:10Z",
					"-metadata", "com.apple.quicktime.location.ISO6709=+37.8199-122.4783+010.000/",
					"-metadata", "com.apple.quicktime.make=Apple",
					"-metadata", "com.apple.quicktime.model=iPhone 14",
					"-metadata", "com.apple.quicktime.creationdate=2023-07-21T18:45:10-0700", p)
			},
			want: Video{Created: time.Date(2023, 7, 22, 1, 45, 10, 0, time.UTC), Duration: time.Second, Width: 160, Height: 120,
				Lat: ptr(37.8199), Lon: ptr(-122.4783), Alt: ptr(10), Make: "Apple", Model: "iPhone 14",
				CreationDate: "2023-07-21T18:45:10-0700"},
		},
		{
			// ffmpeg 5 writes the opposite matrix of older and newer
			// versions for the same "rotate" tag: either quarter turn will do.
			name: "rotated mp4", ext: ".mp4",
			make: func(p string) {
				run(t, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", src, "-c", "copy",
					"-metadata:s:v:0", "rotate=90", p)
			},
			want: Video{Duration: time.Second, Width: 120, Height: 160, Rotation: -1},
		},
		{
			name: "mp4, moov after mdat", ext: ".mp4", top: []string{"ftyp", "free", "mdat", "moov"},
			make: func(p string) {
				ffmpeg(t, p, "320x240", "-metadata", "creation_time=2021-05-06T07:08:09Z", "-metadata", "location=-33.8568+151.2153/")
			},
			want: Video{Created: created, Duration: time.Second, Width: 320, Height: 240, Lat: ptr(-33.8568), Lon: ptr(151.2153), Alt: ptr(0)}, // from loci
		},
		{
			name: "mp4, faststart", ext: ".mp4", top: []string{"ftyp", "moov", "free", "mdat"},
			make: func(p string) {
				ffmpeg(t, p, "320x240", "-movflags", "+faststart",
					"-metadata", "creation_time=2021-05-06T07:08:09Z", "-metadata", "location=-33.8568+151.2153/")
			},
			want: Video{Created: created, Duration: time.Second, Width: 320, Height: 240, Lat: ptr(-33.8568), Lon: ptr(151.2153), Alt: ptr(0)}, // from loci
		},
		{
			// Nothing but the fragments says how long this one is.
			name: "fragmented mp4, empty moov", ext: ".mp4", top: []string{"ftyp", "moov", "moof", "mdat", "mfra"},
			make: func(p string) {
				ffmpeg(t, p, "160x120", "-movflags", "frag_keyframe+empty_moov", "-metadata", "creation_time=2021-05-06T07:08:09Z")
			},
			want: Video{Created: created, Width: 160, Height: 120},
		},
		{
			name: "3gp with a loci box", ext: ".3gp",
			make: func(p string) {
				ffmpeg(t, p, "176x144", "-metadata", "creation_time=2021-05-06T07:08:09Z", "-metadata", "location=+37.8199-122.4783/")
			},
			want: Video{Created: created, Duration: time.Second, Width: 176, Height: 144, Lat: ptr(37.8199), Lon: ptr(-122.4783), Alt: ptr(0)},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "v"+string(rune('0'+i))+tt.ext)
			tt.make(p)
			b := readFile(t, p)
			if tt.top != nil {
				if got := topLevel(b); !slices.Equal(got, tt.top) {
					t.Fatalf("test file's top-level boxes = %q; want %q", got, tt.top)
				}
			}
			v, err := readVideo(b)
			if err != nil {
				t.Fatalf("ReadVideo: %v", err)
			}
			checkVideo(t, v, &tt.want)
		})
	}
}

// Hand-built movies.

var (
	matIdentity = [9]int32{0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000}
	mat90       = [9]int32{0, 0x10000, 0, -0x10000, 0, 0, 1080 << 16, 0, 0x40000000} // iPhone portrait
	mat180      = [9]int32{-0x10000, 0, 0, 0, -0x10000, 0, 1920 << 16, 1080 << 16, 0x40000000}
	mat270      = [9]int32{0, -0x10000, 0, 0x10000, 0, 0, 0, 1920 << 16, 0x40000000}
)

func mvhd(v1 bool, created uint64, scale uint32, dur uint64) []byte {
	if v1 {
		return bx("mvhd", full(1, 0), be64(created, created), be32(scale), be64(dur), zeros(80))
	}
	return bx("mvhd", full(0, 0), be32(uint32(created), uint32(created), scale, uint32(dur)), zeros(80))
}

type trakSpec struct {
	v1                 bool
	handler            string
	dur                uint64 // tkhd
	matrix             [9]int32
	w, h               uint32 // tkhd, pixels
	entryW, entryH     uint16
	mdhdScale, mdhdDur uint32
}

func trak(s trakSpec) []byte {
	var mx []byte
	for _, m := range s.matrix {
		mx = append(mx, be32(uint32(m))...)
	}
	var tkhd []byte
	if s.v1 {
		tkhd = bx("tkhd", full(1, 3), be64(1, 1), be32(1, 0), be64(s.dur), zeros(16), mx, be32(s.w<<16, s.h<<16))
	} else {
		tkhd = bx("tkhd", full(0, 3), be32(1, 1, 1, 0, uint32(s.dur)), zeros(16), mx, be32(s.w<<16, s.h<<16))
	}
	mdhd := bx("mdhd", full(0, 0), be32(1, 1, s.mdhdScale, s.mdhdDur), be16(0x55c4, 0))
	hdlr := bx("hdlr", full(0, 0), be32(0), str(s.handler), zeros(12), str("Handler\x00"))
	entry := bx("avc1", zeros(6), be16(1), zeros(16), be16(s.entryW, s.entryH), zeros(50))
	if s.handler == "soun" {
		entry = bx("mp4a", zeros(6), be16(1), zeros(8), be16(2, 16), zeros(4), be32(44100<<16))
	}
	stbl := bx("stbl", bx("stsd", full(0, 0), be32(1), entry), bx("stts", full(0, 0), be32(0)))
	return bx("trak", tkhd, bx("mdia", mdhd, hdlr, bx("minf", bx("vmhd", full(0, 1), zeros(8)), stbl)))
}

func video(s trakSpec) trakSpec {
	s.handler = "vide"
	if s.matrix == ([9]int32{}) {
		s.matrix = matIdentity
	}
	return s
}

// qtMovie is a QuickTime file with the given moov children.
func qtMovie(children ...[]byte) []byte {
	return cat(bx("ftyp", str("qt  "), be32(0x200), str("qt  ")), bx("wide"), bx("mdat", str("media data")), bx("moov", children...))
}

// appleMeta is an iPhone's moov/meta: QuickTime-style (no version and
// flags), keys naming the ilst items.
func appleMeta(kv ...string) []byte {
	var keys, items []byte
	for i := 0; i+1 < len(kv); i += 2 {
		keys = append(keys, cat(be32(uint32(8+len(kv[i]))), str("mdta"), str(kv[i]))...)
		items = append(items, bx(string(be32(uint32(i/2+1))), bx("data", be32(1), be32(0), str(kv[i+1])))...)
	}
	return bx("meta",
		bx("hdlr", full(0, 0), be32(0), str("mdta"), zeros(12), zeros(1)),
		bx("keys", full(0, 0), be32(uint32(len(kv)/2)), keys),
		bx("ilst", items))
}

// qtStr is a QuickTime user-data string box.
func qtStr(typ, s string) []byte { return bx(typ, be16(uint16(len(s)), 0x55c4), str(s)) }

func loci(lat, lon, alt float64) []byte {
	fx := func(f float64) []byte { return be32(uint32(int32(f * 65536))) }
	return bx("loci", full(0, 0), be16(0x55c4), str("Home\x00"), []byte{0}, fx(lon), fx(lat), fx(alt), str("earth\x00\x00"))
}

func TestReadVideoBuilt(t *testing.T) {
	const c2020 = 3680331630 // 2020-08-15T10:20:30Z in seconds since 1904
	t2020 := time.Date(2020, 8, 15, 10, 20, 30, 0, time.UTC)
	hd := video(trakSpec{w: 1920, h: 1080, dur: 2000})
	tests := []struct {
		name string
		file []byte
		want Video
	}{
		{"version 0 headers", qtMovie(mvhd(false, c2020, 1000, 2500), trak(hd)),
			Video{Created: t2020, Duration: 2500 * time.Millisecond, Width: 1920, Height: 1080}},
		{"version 1 headers", qtMovie(mvhd(true, 2082844800+1700000000, 90000, 3*90000), trak(video(trakSpec{v1: true, w: 1280, h: 720}))),
			Video{Created: time.Unix(1700000000, 0).UTC(), Duration: 3 * time.Second, Width: 1280, Height: 720}},
		{"unknown creation time", qtMovie(mvhd(false, 0, 1000, 1000), trak(hd)),
			Video{Duration: time.Second, Width: 1920, Height: 1080}},
		{"rotated 90", qtMovie(mvhd(false, c2020, 600, 600), trak(video(trakSpec{w: 1920, h: 1080, matrix: mat90}))),
			Video{Created: t2020, Duration: time.Second, Width: 1080, Height: 1920, Rotation: 90}},
		{"rotated 180", qtMovie(mvhd(false, c2020, 600, 600), trak(video(trakSpec{w: 1920, h: 1080, matrix: mat180}))),
			Video{Created: t2020, Duration: time.Second, Width: 1920, Height: 1080, Rotation: 180}},
		{"rotated 270", qtMovie(mvhd(false, c2020, 600, 600), trak(video(trakSpec{w: 1920, h: 1080, matrix: mat270}))),
			Video{Created: t2020, Duration: time.Second, Width: 1080, Height: 1920, Rotation: 270}},
		{"size from the sample entry", qtMovie(mvhd(false, c2020, 600, 600), trak(video(trakSpec{entryW: 640, entryH: 480}))),
			Video{Created: t2020, Duration: time.Second, Width: 640, Height: 480}},
		{"size from the sample entry, rotated", qtMovie(mvhd(false, c2020, 600, 600), trak(video(trakSpec{entryW: 640, entryH: 480, matrix: mat90}))),
			Video{Created: t2020, Duration: time.Second, Width: 480, Height: 640, Rotation: 90}},
		{"audio track first", qtMovie(mvhd(false, c2020, 600, 600),
			trak(trakSpec{handler: "soun", matrix: matIdentity, dur: 600}), trak(video(trakSpec{w: 720, h: 576, matrix: mat270}))),
			Video{Created: t2020, Duration: time.Second, Width: 576, Height: 720, Rotation: 270}},
		{"duration from the longest track header", qtMovie(mvhd(false, c2020, 1000, 0xFFFFFFFF),
			trak(video(trakSpec{w: 320, h: 240, dur: 4000})), trak(trakSpec{handler: "soun", dur: 5000})),
			Video{Created: t2020, Duration: 5 * time.Second, Width: 320, Height: 240}},
		{"duration from the media header", qtMovie(mvhd(false, c2020, 0, 0),
			trak(video(trakSpec{w: 320, h: 240, mdhdScale: 12800, mdhdDur: 4 * 12800}))),
			Video{Created: t2020, Duration: 4 * time.Second, Width: 320, Height: 240}},
		{"iPhone keys", qtMovie(mvhd(false, c2020, 600, 600), trak(hd), appleMeta(
			"com.apple.quicktime.location.accuracy.horizontal", "4.7",
			"com.apple.quicktime.location.ISO6709", "+37.8199-122.4783+010.123/",
			"com.apple.quicktime.make", "Apple",
			"com.apple.quicktime.model", "iPhone 14",
			"com.apple.quicktime.software", "16.5",
			"com.apple.quicktime.creationdate", "2023-07-21T18:45:10-0700",
			"com.apple.quicktime.content.identifier", "3F5A7C1E-2B4D-4E6F-8A9B-0C1D2E3F4A5B")),
			Video{Created: t2020, Duration: time.Second, Width: 1920, Height: 1080, Lat: ptr(37.8199), Lon: ptr(-122.4783), Alt: ptr(10.123),
				Make: "Apple", Model: "iPhone 14", CreationDate: "2023-07-21T18:45:10-0700", ContentID: "3F5A7C1E-2B4D-4E6F-8A9B-0C1D2E3F4A5B"}},
		{"Android udta", qtMovie(mvhd(false, c2020, 600, 600), trak(hd), bx("udta", qtStr("\xa9xyz", "+48.8584+002.2945/"), bx("meta", full(0, 0), bx("hdlr", full(0, 0), be32(0), str("mdir"), zeros(13))))),
			Video{Created: t2020, Duration: time.Second, Width: 1920, Height: 1080, Lat: ptr(48.8584), Lon: ptr(2.2945)}},
		{"iPhone keys outrank udta", qtMovie(mvhd(false, c2020, 600, 600), trak(hd),
			bx("udta", qtStr("\xa9xyz", "+48.8584+002.2945/"), qtStr("\xa9mak", "Other"), qtStr("\xa9mod", "Phone"), loci(1, 2, 3), be32(0)),
			appleMeta("com.apple.quicktime.location.ISO6709", "+37.8199-122.4783/", "com.apple.quicktime.model", "iPhone 14")),
			Video{Created: t2020, Duration: time.Second, Width: 1920, Height: 1080, Lat: ptr(37.8199), Lon: ptr(-122.4783),
				Make: "Other", Model: "iPhone 14"}},
		{"loci only", qtMovie(mvhd(false, c2020, 600, 600), trak(hd), bx("udta", loci(-33.8568, 151.2153, 42))),
			Video{Created: t2020, Duration: time.Second, Width: 1920, Height: 1080, Lat: ptr(-33.8568), Lon: ptr(151.2153), Alt: ptr(42)}},
		{"unparseable location falls back", qtMovie(mvhd(false, c2020, 600, 600), trak(hd),
			bx("udta", qtStr("\xa9xyz", "somewhere"), loci(-33.8568, 151.2153, 0))),
			Video{Created: t2020, Duration: time.Second, Width: 1920, Height: 1080, Lat: ptr(-33.8568), Lon: ptr(151.2153), Alt: ptr(0)}},
		{"iTunes-style ilst", qtMovie(mvhd(false, c2020, 600, 600), trak(hd), bx("udta", bx("meta", full(0, 0),
			bx("hdlr", full(0, 0), be32(0), str("mdir"), zeros(13)),
			bx("ilst", bx("\xa9xyz", bx("data", be32(1), be32(0), str("+35.6586+139.7454/"))), bx("\xa9mak", bx("data", be32(1), be32(0), str("Sony"))))))),
			Video{Created: t2020, Duration: time.Second, Width: 1920, Height: 1080, Lat: ptr(35.6586), Lon: ptr(139.7454), Make: "Sony"}},
		{"fragmented movie's duration (mehd)", qtMovie(mvhd(true, c2020, 1000, 0), trak(hd), bx("mvex", bx("mehd", full(1, 0), be64(5000)), bx("trex", full(0, 0), zeros(20)))),
			Video{Created: t2020, Duration: 5 * time.Second, Width: 1920, Height: 1080}},
		{"broken user data is skipped", qtMovie(mvhd(false, c2020, 600, 600), trak(hd),
			bx("udta", qtStr("\xa9mak", "Apple"), be32(0xFFFF), str("\xa9xyz"), zeros(4)),
			appleMeta("com.apple.quicktime.location.ISO6709", "+37.8199-122.4783/", "com.apple.quicktime.model", "iPhone 14"),
			bx("meta", bx("hdlr", full(0, 0), be32(0), str("mdta"), zeros(13)), bx("keys", full(0, 0), be32(99), be32(4)))),
			Video{Created: t2020, Duration: time.Second, Width: 1920, Height: 1080, Lat: ptr(37.8199), Lon: ptr(-122.4783),
				Make: "Apple", Model: "iPhone 14"}},
		{"no video track", qtMovie(mvhd(false, c2020, 600, 600), trak(trakSpec{handler: "soun", matrix: matIdentity})),
			Video{Created: t2020, Duration: time.Second}},
		{"moov of size 0 (to the end of the file)", func() []byte {
			f := qtMovie(mvhd(false, c2020, 600, 600), trak(hd))
			moov := bytes.LastIndex(f, []byte("moov")) - 4
			copy(f[moov:], be32(0))
			return f
		}(), Video{Created: t2020, Duration: time.Second, Width: 1920, Height: 1080}},
		{"moov with a 64-bit size", func() []byte {
			m := bx("moov", mvhd(false, c2020, 600, 600), trak(hd))
			large := cat(be32(1), str("moov"), be64(uint64(len(m)+8)), m[8:])
			return cat(bx("ftyp", str("isom"), be32(0)), bx("mdat", zeros(100)), large, bx("free", zeros(10)))
		}(), Video{Created: t2020, Duration: time.Second, Width: 1920, Height: 1080}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := readVideo(tt.file)
			if err != nil {
				t.Fatalf("ReadVideo: %v", err)
			}
			checkVideo(t, v, &tt.want)
		})
	}
}
