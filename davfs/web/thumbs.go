package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"time"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
)

// Thumbnail is one thumbnail of a file, to read and close.
type Thumbnail struct {
	io.ReadSeekCloser
	Mod  time.Time
	ETag string
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

// OpenThumbnail opens the thumbnail size ("small" or "preview") of the
// file o of user: the stored one, or, for the preview of a photo whose
// original is its preview (enrich.PreviewIsOriginal, so none is stored),
// the original's bytes, with the original's ETag. The API, the person
// covers and the Nextcloud previews all read through here. The error
// satisfies errors.Is(err, fs.ErrNotExist) when there is none.
func OpenThumbnail(ctx context.Context, gw *gateway.Gateway, thumbs *enrich.ThumbStore, user string, o catalog.Object, size string) (*Thumbnail, error) {
	if size == "preview" && len(o.SHA256) == 64 {
		m, err := gw.Catalog().MediaOf(ctx, user, o.Bucket, o.Key)
		if err == nil && m.SHA256 == o.SHA256 && enrich.PreviewIsOriginal(m) {
			f, fo, err := gw.Open(ctx, user, o.Bucket, o.Key)
			if err != nil {
				return nil, fmt.Errorf("preview of %s/%s: %w", o.Bucket, o.Key, fs.ErrNotExist)
			}
			if fo.SHA256 != o.SHA256 { // replaced since: enriched again soon
				f.Close()
				return nil, fmt.Errorf("preview of %s/%s: %w", o.Bucket, o.Key, fs.ErrNotExist)
			}
			return &Thumbnail{ReadSeekCloser: f, Mod: fo.ModTime(), ETag: fo.ETag()}, nil
		}
	}
	b, mod, err := thumbs.Get(ctx, o.SHA256, size)
	if err != nil {
		return nil, err
	}
	etag := `"` + o.SHA256[:16] + "-" + size + `"`
	return &Thumbnail{ReadSeekCloser: nopSeekCloser{bytes.NewReader(b)}, Mod: mod, ETag: etag}, nil
}
