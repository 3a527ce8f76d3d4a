package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// CaptureTime is when the photo or video was taken, as enrichment found
// it (see DateSource): TakenUTC, else TakenLocal read in loc (the camera
// gave no offset). ok is false for other files and undated ones.
func (m Media) CaptureTime(loc *time.Location) (t time.Time, ok bool) {
	if m.Kind != "photo" && m.Kind != "video" {
		return time.Time{}, false
	}
	if m.TakenUTC != "" {
		if t, err := time.Parse(time.RFC3339Nano, m.TakenUTC); err == nil {
			return t, true
		}
	}
	if m.TakenLocal != "" {
		if t, err := time.ParseInLocation("2006-01-02T15:04:05", m.TakenLocal, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// CaptureTimes returns, for each of the user's files objs (rows with
// Bucket and Key), its capture time in Unix ns (Media.CaptureTime, local
// times read in loc), or 0 when there is none (not enriched yet, not a
// photo or video, undated). It reads the media records in one
// transaction, decoding only their dates.
func (c *Catalog) CaptureTimes(ctx context.Context, user string, objs []Object, loc *time.Location) ([]int64, error) {
	out := make([]int64, len(objs))
	err := c.db.View(func(txn *badger.Txn) error {
		for i, o := range objs {
			if i%256 == 255 && ctx.Err() != nil {
				return ctx.Err()
			}
			item, err := txn.Get(keyMedia(user, o.Bucket, o.Key))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			} else if err != nil {
				return err
			}
			var dates struct { // only the kind and dates are decoded

				Kind       string `json:"kind"`
				TakenLocal string `json:"taken_local"`
				TakenUTC   string `json:"taken_utc"`
			}
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &dates) }); err != nil {
				continue // a bad record has no date
			}
			m := Media{Kind: dates.Kind, TakenLocal: dates.TakenLocal, TakenUTC: dates.TakenUTC}
			if t, ok := m.CaptureTime(loc); ok {
				out[i] = t.UnixNano()
			}
		}
		return nil
	})
	return out, err
}
