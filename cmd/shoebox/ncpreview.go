package main

import (
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"

	"shoebox/catalog"
	"shoebox/davfs/web"
	"shoebox/enrich"
	"shoebox/gateway"
	"shoebox/gateway/auth"
)

// smallThumbMax is the longest side the "small" enrichment thumbnail
// covers (enrich makes it about 250 px); larger requests get "preview"
// (about 1440 px).
const smallThumbMax = 256

// ncPreview serves the Nextcloud apps' thumbnails from the enrichment
// thumbnails (mounted as nextcloud.Config.Preview, authenticated):
//
//	/index.php/core/preview?fileId=N&x=W&y=H&a=1      by file id
//	/index.php/core/preview.png?file=/BUCKET/KEY&x=W&y=H and /core/preview…   by path
//
// A file id is looked up among the authenticated user's rows only
// (catalog.FileByID), a path in the user's tree: another user's file is
// not found. The thumbnail is the smallest enrichment size that covers
// W×H (not resampled further). 404 when there is none yet (not enriched,
// not a photo).
func ncPreview(gw *gateway.Gateway, thumbs *enrich.ThumbStore, lg *slog.Logger) http.Handler {
	cat := gw.Catalog()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx, user, q := r.Context(), auth.User(r.Context()), r.URL.Query()
		var o catalog.Object
		var err error
		switch {
		case q.Get("fileId") != "":
			id, perr := strconv.ParseUint(q.Get("fileId"), 10, 64)
			if perr != nil || id == 0 {
				http.Error(w, "400 Bad Request: fileId must be a file id", http.StatusBadRequest)
				return
			}
			o, err = cat.FileByID(ctx, user, id)
		case q.Get("file") != "":
			p := path.Clean("/" + q.Get("file"))
			bucket, key, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
			if bucket == "" || key == "" {
				http.NotFound(w, r)
				return
			}
			o, err = gw.Stat(ctx, user, bucket, key)
		default:
			http.Error(w, "400 Bad Request: fileId or file is needed", http.StatusBadRequest)
			return
		}
		if errors.Is(err, catalog.ErrNotFound) || errors.Is(err, gateway.ErrNotFound) || (err == nil && (o.IsDir() || o.SHA256 == "")) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			lg.Error("preview", "user", user, "query", r.URL.RawQuery, "err", err)
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return
		}
		size := "small"
		x, _ := strconv.Atoi(q.Get("x"))
		y, _ := strconv.Atoi(q.Get("y"))
		if max(x, y) > smallThumbMax {
			size = "preview"
		}
		th, err := web.OpenThumbnail(ctx, gw, thumbs, user, o, size)
		if err != nil {
			// Not enriched yet, not a photo, or its thumbnail is missing:
			// the apps show their icon.
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "private, max-age=86400")
		defer th.Close()
		w.Header().Set("ETag", th.ETag)
		http.ServeContent(w, r, "", th.Mod, th)
	})
}
