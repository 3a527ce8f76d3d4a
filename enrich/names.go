package enrich

import (
	"path"
	"regexp"
	"time"
)

// Phones name their files after the moment they were taken. These are the
// patterns dated from the name when a file has no EXIF date:
//
//	IMG_20180704_101500.jpg, VID_20180704_101500.mp4   (Android cameras)
//	PXL_20230115_083000123.jpg                         (Pixel: milliseconds)
//	IMG-20170315-WA0003.jpg, VID-20170315-WA0001.mp4   (WhatsApp: the day only)
var (
	nameDateTime = regexp.MustCompile(`^(?:IMG|VID|PXL|MVIMG|PANO|BURST\d*)_(\d{8})_(\d{6})(\d{3})?(?:[._~-]|$)`)
	nameWhatsApp = regexp.MustCompile(`^(?:IMG|VID|AUD|PTT)-(\d{8})-WA\d+`)
)

// DateFromName returns the local date-time a phone file's name gives, as
// "2006-01-02T15:04:05" (with ".000" milliseconds when the name has them;
// a day-only name gives midnight), and false when the name gives none or an
// impossible date.
func DateFromName(key string) (string, bool) {
	name := path.Base(key)
	if m := nameDateTime.FindStringSubmatch(name); m != nil {
		t, err := time.Parse("20060102150405", m[1]+m[2])
		if err != nil || !plausible(t) {
			return "", false
		}
		s := t.Format("2006-01-02T15:04:05")
		if m[3] != "" {
			s += "." + m[3]
		}
		return s, true
	}
	if m := nameWhatsApp.FindStringSubmatch(name); m != nil {
		t, err := time.Parse("20060102", m[1])
		if err != nil || !plausible(t) {
			return "", false
		}
		return t.Format("2006-01-02T15:04:05"), true
	}
	return "", false
}

// plausible rejects dates no phone wrote (before digital cameras, or far
// ahead of any clock).
func plausible(t time.Time) bool {
	return t.Year() >= 1990 && t.Year() <= 2100
}
