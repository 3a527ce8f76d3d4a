package catalog

import (
	"context"

	"github.com/dgraph-io/badger/v4"
)

// Media is what enrichment learned about a file: derived data, rebuilt
// from the file itself. Field names are those of the JSON API.
type Media struct {
	Kind        string   `json:"kind"` // photo, video or other
	TakenLocal  string   `json:"taken_local,omitempty"`
	Offset      string   `json:"offset,omitempty"`
	TakenUTC    string   `json:"taken_utc,omitempty"`
	DateSource  string   `json:"date_source,omitempty"` // exif, filename, takeout-json, mtime, upload
	Make        string   `json:"make,omitempty"`
	Model       string   `json:"model,omitempty"`
	Lens        string   `json:"lens,omitempty"`
	Lat         *float64 `json:"lat,omitempty"`
	Lon         *float64 `json:"lon,omitempty"`
	Alt         *float64 `json:"alt,omitempty"`
	Width       int      `json:"width,omitempty"`
	Height      int      `json:"height,omitempty"`
	Orientation int      `json:"orientation,omitempty"`
	DurationS   float64  `json:"duration_s,omitempty"`
	PHash       string   `json:"phash,omitempty"`
}

// MediaOf returns the media record of a file, or ErrNotFound.
func (c *Catalog) MediaOf(ctx context.Context, user, bucket, key string) (Media, error) {
	var m Media
	err := c.db.View(func(txn *badger.Txn) error { return getJSON(txn, keyMedia(user, bucket, key), &m) })
	return m, err
}
