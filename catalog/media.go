package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// Media is what enrichment learned about a file: derived data, rebuilt
// from the file itself. Field names are those of the JSON API.
type Media struct {
	Kind        string   `json:"kind"` // photo, video or other
	TakenLocal  string   `json:"taken_local,omitempty"`
	Offset      string   `json:"offset,omitempty"`
	TakenUTC    string   `json:"taken_utc,omitempty"`
	DateSource  string   `json:"date_source,omitempty"` // exif, xmp, filename, takeout-json, mtime, upload
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
	SHA256      string   `json:"sha256,omitempty"`
	// Faces found in the photo; FacesState says why there are none yet
	// ("waiting-for-models" until `shoebox models install`).
	Faces      []Face `json:"faces,omitempty"`
	FacesState string `json:"faces_state,omitempty"`
	// ThumbnailState says why a photo or video has no thumbnails yet
	// ("waiting-for-ffmpeg": a video enriched while ffmpeg was missing).
	ThumbnailState string `json:"thumbnail_state,omitempty"`
	// PreviewOriginal: the photo's original is its preview, which is not
	// stored (enrich.PreviewIsOriginal says when).
	PreviewOriginal bool `json:"preview_original,omitempty"`
	// Tags are the keywords other tools wrote in XMP (dc:subject, and the
	// leaf of each lr:hierarchicalSubject path), as written, each once
	// (indexed: /by-tag).
	Tags []string `json:"tags,omitempty"`
	// Rating is XMP's xmp:Rating: -1 rejected, 0 unrated, 1 to 5 stars;
	// nil when the file has none.
	Rating *int `json:"rating,omitempty"`
	// Regions are the named face regions XMP gives (MWG, Microsoft People).
	Regions []NamedRegion `json:"regions,omitempty"`
	// Video is what a video's container and streams say beyond its size
	// and duration (nil for photos).
	Video *VideoInfo `json:"video,omitempty"`
	// Place is where Lat/Lon is (enrich/places, offline); nil without
	// GPS.
	Place *Place `json:"place,omitempty"`
	// XMPAlbums are albums the file's XMP puts it in (a sidecar `shoebox
	// export` wrote: lr:hierarchicalSubject "Albums|<name>"): CompleteJob
	// adds the file to each, making the album if needed, unless it is in
	// it already — how a new library gets its albums back.
	XMPAlbums []string `json:"xmp_albums,omitempty"`
	// OffsetSource says Offset was derived from the place's time zone:
	// OffsetFromPlaceLocal (TakenLocal was known, TakenUTC derived) or
	// OffsetFromPlaceUTC (TakenUTC was known, TakenLocal derived); ""
	// when the file gave it, or there is none.
	OffsetSource string `json:"offset_source,omitempty"`
	// ContentID is Apple's content identifier (the still's MakerNote,
	// the MOV's com.apple.quicktime.content.identifier): the two halves
	// of a Live Photo share it (indexed: pairing, live.go).
	ContentID string `json:"content_id,omitempty"`
	// LivePair is the key, in the same bucket, of the other half of the
	// Live Photo this file is part of, and LiveRole its own part:
	// LiveStill or LiveMotion. Set by CompleteJob (live.go), which pairs
	// whichever half arrives second; a motion half has no rows in the
	// library's listings (by day, place, camera, person, duplicates,
	// search): the still stands for the pair.
	LivePair string `json:"live_pair,omitempty"`
	LiveRole string `json:"live_role,omitempty"`
	// MotionPhoto, for an Android motion photo (a JPEG with its MP4
	// appended, told by XMP), locates the video in the file; nil for
	// other files.
	MotionPhoto *MotionPart `json:"motion_photo,omitempty"`
	// The exposure, from EXIF: ExposureTime in seconds, FNumber (f/8:
	// 8), ISO, FocalLength in mm as on the lens; zero when unknown.
	ExposureTime float64 `json:"exposure_time,omitempty"`
	FNumber      float64 `json:"f_number,omitempty"`
	ISO          int     `json:"iso,omitempty"`
	FocalLength  float64 `json:"focal_length,omitempty"`
}

// MotionPart is the video inside a motion photo: Length bytes from Offset,
// up to the end of the file.
type MotionPart struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// The values of Media.LiveRole.
const (
	LiveStill  = "still"
	LiveMotion = "motion"
)

// NamedRegion is an area of the photo another tool named (a face tagged
// in Lightroom, digiKam, Windows Photo Gallery). Box is x, y, width,
// height of the area's top-left corner and size, relative to the image as
// displayed (0..1, like Face.Box).
type NamedRegion struct {
	Name string     `json:"name"`
	Box  [4]float64 `json:"box"`
}

// Place is a photo's place: its country (ISO 3166-1 alpha-2 code and
// English name; empty at sea beyond the data's coastal waters), a region
// where the data has one, the nearest city or town (reported even at sea,
// with its distance) and the IANA time zone.
type Place struct {
	CountryCode string  `json:"country_code,omitempty"`
	Country     string  `json:"country,omitempty"`
	Region      string  `json:"region,omitempty"`
	City        string  `json:"city,omitempty"`
	DistanceKm  float64 `json:"distance_km"`
	Zone        string  `json:"zone,omitempty"`
}

// The values of Media.OffsetSource.
const (
	OffsetFromPlaceLocal = "place-local"
	OffsetFromPlaceUTC   = "place-utc"
)

// FacesWaiting is the FacesState of a photo enriched without face models.
const FacesWaiting = "waiting-for-models"

// ThumbnailWaiting is the ThumbnailState of a video enriched while ffmpeg
// was missing.
const ThumbnailWaiting = "waiting-for-ffmpeg"

// VideoInfo describes a video's streams. Rotation comes from the container
// (always there); the rest from ffprobe, so it is empty without ffmpeg.
type VideoInfo struct {
	// Codec is the first video stream's codec as ffprobe names it (h264,
	// hevc, prores, ...).
	Codec string `json:"codec,omitempty"`
	// FrameRate is the average frame rate, frames a second.
	FrameRate float64 `json:"frame_rate,omitempty"`
	// Bitrate is the whole file's, bits a second.
	Bitrate int64 `json:"bitrate,omitempty"`
	// Rotation is the clockwise rotation, in degrees, the container asks
	// for on display (applied to the thumbnails).
	Rotation int `json:"rotation,omitempty"`
	// AudioCodec is the first audio stream's codec, "" when silent.
	AudioCodec      string `json:"audio_codec,omitempty"`
	AudioChannels   int    `json:"audio_channels,omitempty"`
	AudioSampleRate int    `json:"audio_sample_rate,omitempty"`
	// PosterS is where in the video, in seconds, the poster frame was
	// taken (past any fade from black).
	PosterS float64 `json:"poster_s,omitempty"`
}

// Face is one face in a photo. Box and Landmarks are relative to the
// displayed image (0..1, orientation applied), so they do not depend on the
// resolution the detector saw. Descriptors from different detectors are not
// comparable: Detector says which one found the face.
type Face struct {
	Box        [4]float64   `json:"box"` // x, y, width, height
	Score      float64      `json:"score"`
	Detector   string       `json:"detector"`
	Landmarks  [][2]float32 `json:"landmarks,omitempty"`  // 68 points, dlib order
	Descriptor []float32    `json:"descriptor,omitempty"` // 128-d
	// Person is the id of the person the face was grouped with ("" none).
	Person string `json:"person,omitempty"`
	// Checked: grouping has looked at the face (SetFacePersons). A face
	// neither checked nor with a person is new (indexed: NewFaces).
	Checked bool `json:"checked,omitempty"`
	// PersonName is filled in by the API, not stored.
	PersonName string `json:"person_name,omitempty"`
}

// MediaOf returns the media record of a file, or ErrNotFound.
func (c *Catalog) MediaOf(ctx context.Context, user, bucket, key string) (Media, error) {
	var m Media
	err := c.db.View(func(txn *badger.Txn) error { return getJSON(txn, keyMedia(user, bucket, key), &m) })
	return m, err
}

// RequeueFacesNotOf queues again every photo with a face whose Detector
// is not kind (descriptors made another way, which grouping cannot compare
// with new ones), once per kind: the kind is remembered, so later calls
// read nothing. The media records stay until the photos are enriched
// again, and their faces keep their persons (see CompleteJob).
func (c *Catalog) RequeueFacesNotOf(ctx context.Context, kind string) (int, error) {
	done := false
	err := c.db.View(func(txn *badger.Txn) error {
		var k string
		if err := getJSON(txn, []byte(pfxFacesKind), &k); err == nil {
			done = k == kind
		}
		return nil
	})
	if err != nil || done {
		return 0, err
	}
	var refs [][]string
	err = c.db.View(func(txn *badger.Txn) error {
		return eachMedia(ctx, txn, []byte(pfxMedia), len(pfxMedia), func(rest string, m Media) error {
			for _, f := range m.Faces {
				if f.Detector != kind {
					if parts := strings.SplitN(rest, sep, 3); len(parts) == 3 {
						refs = append(refs, parts)
					}
					break
				}
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	if err := c.requeueRefs(ctx, refs); err != nil {
		return 0, err
	}
	return len(refs), c.update(ctx, func(txn *badger.Txn) error { return setJSON(txn, []byte(pfxFacesKind), kind) })
}

// RequeueAll drops every media record and queues every file for
// enrichment again (`shoebox reindex`), in batches; progress hears of
// each file queued. Objects, users and everything primary are untouched.
func (c *Catalog) RequeueAll(ctx context.Context, progress func(n int)) error {
	for _, p := range append(derivedPrefixes, pfxJobFailed) {
		err := c.db.DropPrefix([]byte(p))
		c.counts.changed()
		if err != nil {
			return fmt.Errorf("drop derived rows %s: %w", p, err)
		}
	}
	wb := c.db.NewWriteBatch()
	defer wb.Cancel()
	n := 0
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxObject), PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			parts := strings.SplitN(strings.TrimPrefix(string(it.Item().Key()), pfxObject), sep, 3)
			if len(parts) != 3 || strings.HasSuffix(parts[2], "/") {
				continue // a folder
			}
			var o Object
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &o) }); err != nil {
				return err
			}
			jb, _ := json.Marshal(Job{Gen: o.UploadNs})
			if err := wb.Set(keyJob(parts[0], parts[1], parts[2]), jb); err != nil {
				return err
			}
			n++
			if progress != nil {
				progress(n)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.flushBatch(wb)
}

// RequeueWaitingThumbnails queues again every video enriched while ffmpeg
// was missing (ThumbnailState ThumbnailWaiting, indexed as twait rows, so
// only those are read); it returns how many.
func (c *Catalog) RequeueWaitingThumbnails(ctx context.Context) (int, error) {
	return c.requeuePrefix(ctx, pfxThumbsWaiting)
}

// RequeueWaitingFaces queues again every photo enriched while the face
// models were missing (FacesState FacesWaiting, indexed as fwait rows, so
// only those are read); it returns how many.
func (c *Catalog) RequeueWaitingFaces(ctx context.Context) (int, error) {
	return c.requeuePrefix(ctx, pfxFacesWaiting)
}

// requeuePrefix queues again the files named by the index rows under
// prefix (prefix|U|B|KEY).
func (c *Catalog) requeuePrefix(ctx context.Context, prefix string) (int, error) {
	var refs [][]string
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if parts := strings.SplitN(string(it.Item().Key()[len(prefix):]), sep, 3); len(parts) == 3 {
				refs = append(refs, parts)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := c.requeueRefs(ctx, refs); err != nil {
		return 0, err
	}
	return len(refs), nil
}

// requeueRefs queues again the files named by refs (user, bucket, key).
func (c *Catalog) requeueRefs(ctx context.Context, refs [][]string) error {
	for _, r := range refs {
		if err := c.Requeue(ctx, r[0], r[1], r[2]); err != nil {
			return err
		}
	}
	return nil
}

// RequeueMediaWhere queues again every file whose media record want
// selects (after a restore: the photos whose thumbnails are missing, which
// the catalog does not hold), in transactions of up to 256 files; it
// returns how many. The media records stay until the files are enriched
// again.
func (c *Catalog) RequeueMediaWhere(ctx context.Context, want func(user, bucket, key string, m Media) bool) (int, error) {
	var refs [][]string
	err := c.db.View(func(txn *badger.Txn) error {
		return eachMedia(ctx, txn, []byte(pfxMedia), len(pfxMedia), func(rest string, m Media) error {
			parts := strings.SplitN(rest, sep, 3)
			if len(parts) == 3 && want(parts[0], parts[1], parts[2], m) {
				refs = append(refs, parts)
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("requeue media: %w", err)
	}
	total := len(refs)
	for len(refs) > 0 {
		n := min(len(refs), 256)
		err := c.update(ctx, func(txn *badger.Txn) error {
			for _, r := range refs[:n] {
				var o Object
				if err := getJSON(txn, keyObject(r[0], r[1], r[2]), &o); err != nil {
					if errors.Is(err, ErrNotFound) {
						continue
					}
					return err
				}
				if err := txn.Delete(keyJobFailed(r[0], r[1], r[2])); err != nil {
					return err
				}
				if err := setJSON(txn, keyJob(r[0], r[1], r[2]), Job{Gen: o.UploadNs}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("requeue media of %s/%s/%s and after: %w", refs[0][0], refs[0][1], refs[0][2], err)
		}
		refs = refs[n:]
	}
	return total, nil
}
