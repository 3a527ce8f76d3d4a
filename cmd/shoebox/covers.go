package main

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"

	"github.com/disintegration/imaging"

	"shoebox/catalog"
	"shoebox/davfs/web"
	"shoebox/enrich"
	"shoebox/gateway"
)

// personCover makes a person folder's .folder.jpg: the person's
// best-scored face, cut from that photo's preview with a margin, at most
// 256 px.
func personCover(gw *gateway.Gateway, thumbs *enrich.ThumbStore) func(context.Context, string, catalog.Person) ([]byte, error) {
	cat := gw.Catalog()
	return func(ctx context.Context, user string, p catalog.Person) ([]byte, error) {
		var best catalog.Face
		var photo catalog.Object
		err := cat.PersonPhotos(ctx, user, p.ID, func(o catalog.Object) error {
			m, err := cat.MediaOf(ctx, user, o.Bucket, o.Key)
			if err != nil {
				return nil
			}
			for _, f := range m.Faces {
				if f.Person == p.ID && f.Score > best.Score {
					best, photo = f, o
				}
			}
			return nil
		})
		if err != nil || photo.SHA256 == "" {
			return nil, errors.Join(err, errors.New("no face"))
		}
		th, err := web.OpenThumbnail(ctx, gw, thumbs, user, photo, "preview")
		if err != nil {
			return nil, err
		}
		img, err := jpeg.Decode(th)
		th.Close()
		if err != nil {
			return nil, err
		}
		r := img.Bounds()
		w, h := float64(r.Dx()), float64(r.Dy())
		x, y, bw, bh := best.Box[0]*w, best.Box[1]*h, best.Box[2]*w, best.Box[3]*h
		m := 0.25 * max(bw, bh)
		crop := image.Rect(int(x-m), int(y-m), int(x+bw+m), int(y+bh+m)).Intersect(r)
		if crop.Empty() {
			return nil, errors.New("empty face box")
		}
		face := imaging.Fit(imaging.Crop(img, crop), 256, 256, imaging.Linear)
		var out bytes.Buffer
		if err := jpeg.Encode(&out, face, &jpeg.Options{Quality: 85}); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
}
