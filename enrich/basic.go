package enrich

import (
	"context"
	"fmt"
	"image"
	_ "image/gif"  // header decoder
	_ "image/jpeg" // header decoder
	_ "image/png"  // header decoder
	"path"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
)

// Basic is the first extractor: the kind of file, the pixel size of
// JPEG/PNG/GIF images from their headers, and the date's fallbacks (a
// phone-style file name, else the client's modification time, else the
// upload time). EXIF, when it comes, outranks them.
type Basic struct{}

// Name implements Extractor.
func (Basic) Name() string { return "basic" }

var photoExt = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".heic": true, ".heif": true,
	".tif": true, ".tiff": true, ".dng": true, ".nef": true, ".arw": true, ".cr2": true, ".cr3": true, ".raf": true, ".orf": true, ".rw2": true,
}

var videoExt = map[string]bool{".mp4": true, ".mov": true, ".m4v": true, ".3gp": true, ".mkv": true, ".avi": true}

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

// Extract implements Extractor.
func (Basic) Extract(ctx context.Context, o catalog.Object, f gateway.File, m *catalog.Media) error {
	m.Kind = Kind(o.Key, o.ContentType)
	if local, ok := DateFromName(o.Key); ok {
		// The phone's local clock; its UTC offset is unknown.
		m.TakenLocal, m.DateSource = local, "filename"
	} else {
		if o.ModNs != o.UploadNs {
			m.DateSource = "mtime"
		} else {
			m.DateSource = "upload"
		}
		t := time.Unix(0, o.ModNs).UTC()
		m.TakenUTC = t.Format(time.RFC3339)
		m.TakenLocal = t.Format("2006-01-02T15:04:05")
	}
	if m.Kind != "photo" {
		return nil
	}
	switch strings.ToLower(path.Ext(o.Key)) {
	case ".jpg", ".jpeg", ".png", ".gif":
	default:
		return nil // other formats come with their own extractors
	}
	cfg, _, err := image.DecodeConfig(f) // reads the header only
	if err != nil {
		return permanent{fmt.Errorf("%s: not a readable image: %w", o.Key, err)}
	}
	m.Width, m.Height = cfg.Width, cfg.Height
	return nil
}
