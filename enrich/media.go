package enrich

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/enrich/faces"
	"shoebox/enrich/internal/exif"
	"shoebox/enrich/internal/xmp"
)

// Metadata is the main extractor: it tells the kind of file from its
// content, reads its metadata (EXIF in JPEG, PNG, WebP, HEIF and the
// TIFF-based raws; the MP4/MOV container of videos; XMP embedded or in a
// sidecar: rating, keywords, named face regions, GPS when EXIF has none),
// dates it, and, when Thumbs is set, makes its thumbnails and perceptual
// hash.
//
// The date comes from, in order: EXIF DateTimeOriginal (with
// OffsetTimeOriginal and SubSecTimeOriginal), XMP (exif:DateTimeOriginal,
// photoshop:DateCreated, xmp:CreateDate, with their offsets; a sidecar's
// over the embedded packet's), a video's creation time, a phone-style file
// name, a Google Takeout JSON sidecar, EXIF's modification DateTime, the
// modification time the client sent, the upload time.
//
// A file whose metadata could be read but whose pixels could not (a
// truncated JPEG) keeps its metadata; the job fails with the decoding
// error.
type Metadata struct {
	// Thumbs receives the thumbnails; nil makes none (and no phash).
	Thumbs *ThumbStore
	// MaxPixels is the largest image decoded, in pixels; larger ones are
	// refused from their header (decompression bombs). 0 means 120 MP.
	// It holds for every image decoded: the file's, a raw's or TIFF's
	// embedded previews and thumbnails, a HEIF's grid and each of its
	// items.
	MaxPixels int
	// MaxDecodeBytes is the memory one decode may take, estimated from
	// the header (size, bit depth, channels, coding) before decoding:
	// larger ones are refused like MaxPixels. 0 means 512 MiB, which a
	// 120 MP 8-bit image fits and a 120 MP 16-bit one does not. Each
	// worker decodes one image at a time.
	MaxDecodeBytes int64
	// Faces, when set, finds the faces of photos on their previews. When
	// nil and WantFaces is set, photos are marked catalog.FacesWaiting, to
	// be enriched again once the models are installed.
	Faces     *faces.Models
	WantFaces bool
	// FaceDetector is faces.DetectorTiny (default: fast) or
	// faces.DetectorSSD (finds more faces, small or turned, and costs about
	// 8 times as much; Faces must hold the SSD model). The descriptors of
	// the two are of different kinds (FaceKindOf) and grouped apart.
	FaceDetector string
	// FFmpeg, when set, makes the poster frames and thumbnails of videos
	// and reads their streams (codec, frame rate, bitrate, audio). While
	// it is nil or cannot find ffmpeg, videos are marked
	// catalog.ThumbnailWaiting, to be enriched again once it is there
	// (FFmpeg.Watch).
	FFmpeg *FFmpeg
}

// Name implements Extractor.
func (Metadata) Name() string { return "metadata" }

// Kind says whether a file is a photo, a video or something else, from its
// name and content type. macOS's "._*" and ".DS_Store" files are never media.
func Kind(key, contentType string) string {
	name := path.Base(key)
	if strings.HasPrefix(name, "._") || name == ".DS_Store" {
		return "other"
	}
	ext := strings.ToLower(path.Ext(name))
	switch {
	case photoExt[ext] || strings.HasPrefix(contentType, "image/"):
		return "photo"
	case videoExt[ext] || strings.HasPrefix(contentType, "video/"):
		return "video"
	}
	return "other"
}

var photoExt = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".heic": true, ".heif": true, ".avif": true,
	".tif": true, ".tiff": true, ".dng": true, ".nef": true, ".arw": true, ".cr2": true, ".cr3": true, ".raf": true, ".orf": true, ".rw2": true,
}

var videoExt = map[string]bool{".mp4": true, ".mov": true, ".m4v": true, ".3gp": true, ".mkv": true, ".avi": true}

// Extract implements Extractor.
func (x Metadata) Extract(ctx context.Context, in *Input, m *catalog.Media) error {
	o := in.Object
	m.Kind = Kind(o.Key, o.ContentType)
	m.SHA256 = o.SHA256
	if m.Kind == "other" && strings.HasSuffix(strings.ToLower(o.Key), ".json") {
		x.sidecarArrived(ctx, in)
	}
	if m.Kind == "other" && xmp.IsSidecar(o.Key) {
		x.xmpSidecarArrived(ctx, in)
	}
	var p *probed
	var perr error
	if m.Kind != "other" {
		p, perr = probe(in.File, o.Size)
		switch {
		case p.format == FormatUnknown:
			m.Kind = "other"
		case p.format == FormatVideo:
			m.Kind = "video"
		default:
			m.Kind = "photo"
		}
	}
	x.fill(m, p)
	var xd *xmp.Data
	if m.Kind != "other" {
		xd = x.xmpOf(ctx, in, p)
		applyXMP(m, xd, p != nil && p.format == FormatHEIF)
		if m.Kind == "photo" {
			m.MotionPhoto = motionPart(in, xd)
		}
	}
	x.date(ctx, in, p, xd, m)
	if perr != nil {
		if errors.Is(perr, errUnknownFormat) {
			return permanent{fmt.Errorf("%s: named like a photo or video, but %w", o.Key, perr)}
		}
		return permanent{fmt.Errorf("%s: unreadable %s: %w", o.Key, p.format, perr)}
	}
	if m.Kind == "photo" && x.Thumbs != nil {
		if err := x.thumbnails(ctx, in, p, m); err != nil {
			return err
		}
	}
	if m.Kind == "video" && x.Thumbs != nil {
		if err := x.videoThumbnails(ctx, in, p, m); err != nil {
			return err
		}
	}
	return nil
}

// fill copies what the headers say into the record.
func (x Metadata) fill(m *catalog.Media, p *probed) {
	if p == nil {
		return
	}
	w, h := p.width, p.height
	if e := p.exif; e != nil {
		m.Make, m.Model, m.Lens = cleanMake(e.Make), e.Model, e.Lens
		m.ExposureTime, m.FNumber, m.ISO, m.FocalLength = e.ExposureTime, e.FNumber, e.ISO, e.FocalLength
		m.Orientation = e.Orientation
		m.ContentID = e.ContentID
		if e.HasGPS {
			m.Lat, m.Lon, m.Alt = ptr(round(e.Lat, 7)), ptr(round(e.Lon, 7)), e.Alt
		}
		if w == 0 {
			w, h = e.Width, e.Height
		}
	}
	if v := p.video; v != nil {
		m.DurationS = round(v.Duration.Seconds(), 3)
		m.ContentID = v.ContentID
		if v.Rotation != 0 {
			m.Video = &catalog.VideoInfo{Rotation: v.Rotation}
		}
		if m.Make == "" {
			m.Make, m.Model = v.Make, v.Model
		}
		if v.Lat != nil && v.Lon != nil {
			m.Lat, m.Lon, m.Alt = v.Lat, v.Lon, v.Alt
		}
		// The container gives the displayed size already.
		m.Width, m.Height = w, h
		return
	}
	switch {
	case p.format == FormatHEIF:
		// HEIF's irot, not EXIF, is how the image is shown.
		if p.rotation == 90 || p.rotation == 270 {
			w, h = h, w
		}
	case m.Orientation >= 5:
		w, h = h, w
	}
	m.Width, m.Height = w, h
}

// cleanMake trims the padding some cameras leave in Make.
func cleanMake(s string) string { return strings.TrimSpace(s) }

func ptr(f float64) *float64 { return &f }

func round(f float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(f*p) / p
}

// date sets the taken time and its source.
func (x Metadata) date(ctx context.Context, in *Input, p *probed, xd *xmp.Data, m *catalog.Media) {
	var e *exif.Data
	if p != nil {
		e = p.exif
	}
	if e != nil && setExifDate(m, e.DateTime, e.SubSec, e.Offset) {
		return
	}
	if setXMPDate(m, xd) {
		return
	}
	if p != nil && p.video != nil && setVideoDate(m, p.video.CreationDate, p.video.Created) {
		return
	}
	if local, ok := DateFromName(in.Object.Key); ok {
		// The phone's local clock; its UTC offset is unknown.
		m.TakenLocal, m.DateSource = local, "filename"
		return
	}
	if x.takeoutDate(ctx, in, m) {
		return
	}
	if e != nil && setExifDate(m, e.Modified, "", e.ModifiedOffset) {
		return
	}
	o := in.Object
	if o.ModNs != o.UploadNs {
		m.DateSource = "mtime"
	} else {
		m.DateSource = "upload"
	}
	// Without the client's time zone, the local date is UTC's.
	setUTC(m, time.Unix(0, o.ModNs))
}

func setUTC(m *catalog.Media, t time.Time) {
	t = t.UTC()
	m.TakenUTC = t.Format(time.RFC3339)
	m.TakenLocal = t.Format("2006-01-02T15:04:05")
	m.Offset = ""
}

// setExifDate parses an EXIF date-time as the camera wrote it. Cameras
// write "2006:01:02 15:04:05"; some use '-' or 'T', drop the seconds, or
// write zeros for "no date": all are accepted or refused here.
func setExifDate(m *catalog.Media, s, subsec, offset string) bool {
	local, ok := ParseExifDate(s)
	if !ok {
		return false
	}
	if ss := digitsOnly(subsec); ss != "" && !strings.Contains(local, ".") {
		if len(ss) > 9 {
			ss = ss[:9]
		}
		local += "." + ss
	}
	m.TakenLocal, m.DateSource, m.Offset, m.TakenUTC = local, "exif", "", ""
	if off, ok := parseOffset(offset); ok {
		m.Offset = off
		if t, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", local+off); err == nil {
			m.TakenUTC = t.UTC().Format(time.RFC3339Nano)
		}
	}
	return true
}

// ParseExifDate turns an EXIF date-time into "2006-01-02T15:04:05": the
// digits are read in order (year, month, day, hour, minute, second), so
// separators do not matter, missing seconds (or time) count as zero, and a
// date of zeros, or an impossible one, is no date.
func ParseExifDate(s string) (string, bool) {
	var f [6]int
	n := 0
	for i := 0; i < len(s) && n < 6; {
		if s[i] < '0' || s[i] > '9' {
			i++
			continue
		}
		want := 2
		if n == 0 {
			want = 4
		}
		j := i
		for j < len(s) && j-i < want && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i != want {
			return "", false
		}
		for _, c := range s[i:j] {
			f[n] = f[n]*10 + int(c-'0')
		}
		n++
		i = j
	}
	if n < 3 || f[0] == 0 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60 {
		return "", false
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], min(f[5], 59), 0, time.UTC)
	if t.Day() != f[2] {
		return "", false // 31 April
	}
	return t.Format("2006-01-02T15:04:05"), true
}

func digitsOnly(s string) string {
	s = strings.TrimSpace(s)
	for _, c := range s {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return s
}

// parseOffset normalizes "+02:00", "+0200", "-7", "Z" to "+02:00".
func parseOffset(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "Z" {
		return "+00:00", true
	}
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return "", false
	}
	d := strings.ReplaceAll(s[1:], ":", "")
	if digitsOnly(d) == "" {
		return "", false
	}
	var h, mm int
	switch len(d) {
	case 1, 2:
		fmt.Sscanf(d, "%d", &h)
	case 4:
		fmt.Sscanf(d[:2], "%d", &h)
		fmt.Sscanf(d[2:], "%d", &mm)
	default:
		return "", false
	}
	if h > 14 || mm > 59 {
		return "", false
	}
	return fmt.Sprintf("%c%02d:%02d", s[0], h, mm), true
}

// setVideoDate dates a video from Apple's creationdate (local time with
// offset), else the container's UTC creation time.
func setVideoDate(m *catalog.Media, apple string, created time.Time) bool {
	if apple != "" {
		if t, err := time.Parse("2006-01-02T15:04:05-0700", apple); err == nil {
			m.TakenLocal, m.DateSource = t.Format("2006-01-02T15:04:05"), "exif"
			m.Offset = t.Format("-07:00")
			m.TakenUTC = t.UTC().Format(time.RFC3339)
			return true
		}
	}
	if created.IsZero() || created.Year() < 1990 {
		return false // unset (1904 or 1970) or impossible
	}
	setUTC(m, created)
	m.DateSource = "exif"
	return true
}

// motionPart locates the video of a motion photo, when XMP says there is
// one and an MP4 (an ftyp box) starts where it says.
func motionPart(in *Input, xd *xmp.Data) *catalog.MotionPart {
	size := in.Object.Size
	if xd == nil || xd.MotionFromEnd <= 8 || xd.MotionFromEnd >= size {
		return nil
	}
	off := size - xd.MotionFromEnd
	var hdr [8]byte
	if _, err := in.File.ReadAt(hdr[:], off); err != nil || string(hdr[4:]) != "ftyp" {
		return nil
	}
	return &catalog.MotionPart{Offset: off, Length: xd.MotionFromEnd}
}
