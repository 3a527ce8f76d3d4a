package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
	"shoebox/gateway/auth"
)

// The JSON API (/api/v1/), authenticated like WebDAV. Field names are a
// contract (see the enrichment issue).

type apiEnrichment struct {
	State string `json:"state"` // pending, running, done, failed
	Error string `json:"error,omitempty"`
}

type apiObject struct {
	Bucket      string         `json:"bucket"`
	Key         string         `json:"key"`
	Size        int64          `json:"size"`
	SHA256      string         `json:"sha256,omitempty"`
	ETag        string         `json:"etag"`
	ContentType string         `json:"content_type,omitempty"`
	Modified    string         `json:"modified"`
	Media       *catalog.Media `json:"media,omitempty"`
	Enrichment  *apiEnrichment `json:"enrichment,omitempty"`
}

type apiStatus struct {
	Objects int                `json:"objects"`
	Photos  int                `json:"photos"`
	Videos  int                `json:"videos"`
	Queue   catalog.QueueStats `json:"queue"`
}

// serveThumbnail answers GET .../thumbnail?size=small|preview.
func serveThumbnail(w http.ResponseWriter, r *http.Request, gw *gateway.Gateway, thumbs *enrich.ThumbStore, user string, o catalog.Object) {
	cat := gw.Catalog()
	size := r.URL.Query().Get("size")
	if size == "" {
		size = "small"
	}
	if size != "small" && size != "preview" {
		apiError(w, http.StatusBadRequest, "size must be small or preview, not "+strconv.Quote(size))
		return
	}
	th, err := openThumbnail(r.Context(), gw, thumbs, user, o, size)
	if err != nil {
		msg := "no thumbnail of " + o.Bucket + "/" + o.Key
		if j, err := cat.JobOf(r.Context(), user, o.Bucket, o.Key); err == nil {
			msg += ": enrichment " + j.State(time.Now())
			if j.Err != "" {
				msg += ": " + j.Err
			}
		} else if m, err := cat.MediaOf(r.Context(), user, o.Bucket, o.Key); err == nil && m.ThumbnailState == catalog.ThumbnailWaiting {
			msg += ": the video waits for ffmpeg (install it, or set --ffmpeg)"
		} else if err == nil && m.Kind != "photo" && m.Kind != "video" {
			msg += ": thumbnails are made for photos and videos, and this is " + m.Kind
		}
		apiError(w, http.StatusNotFound, msg)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("ETag", th.ETag)
	http.ServeContent(w, r, "", th.Mod, th)
	th.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// apiHandler serves /api/v1/objects/{bucket}/{key...} (and its
// /thumbnail), /api/v1/status and /api/v1/trash.
func apiHandler(gw *gateway.Gateway, thumbs *enrich.ThumbStore) http.Handler {
	cat := gw.Catalog()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/objects/{bucket}/{key...}", func(w http.ResponseWriter, r *http.Request) {
		user, bucket, key := auth.User(r.Context()), r.PathValue("bucket"), r.PathValue("key")
		o, err := gw.Stat(r.Context(), user, bucket, key)
		if err != nil || o.IsDir() || o.Key == "" {
			// KEY/thumbnail, unless a file is named so.
			if k, ok := strings.CutSuffix(key, "/thumbnail"); ok {
				if o, err := gw.Stat(r.Context(), user, bucket, k); err == nil && !o.IsDir() && o.Key != "" {
					serveThumbnail(w, r, gw, thumbs, user, o)
					return
				}
			}
			apiError(w, http.StatusNotFound, "no file "+bucket+"/"+key)
			return
		}
		out := apiObject{
			Bucket: bucket, Key: o.Key, Size: o.Size, SHA256: o.SHA256, ETag: o.ETag(),
			ContentType: o.ContentType, Modified: o.ModTime().UTC().Format(time.RFC3339Nano),
			Enrichment: &apiEnrichment{State: "done"},
		}
		if j, err := cat.JobOf(r.Context(), user, bucket, o.Key); err == nil {
			out.Enrichment = &apiEnrichment{State: j.State(time.Now()), Error: j.Err}
		} else if !errors.Is(err, catalog.ErrNotFound) {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if m, err := cat.MediaOf(r.Context(), user, bucket, o.Key); err == nil {
			var names map[string]string
			for i := range m.Faces { // boxes, scores and persons; the vectors stay inside
				m.Faces[i].Descriptor, m.Faces[i].Landmarks = nil, nil
				if id := m.Faces[i].Person; id != "" {
					if names == nil {
						names = map[string]string{}
						if ps, err := cat.People(r.Context(), user); err == nil {
							for _, p := range ps {
								names[p.ID] = p.Label()
							}
						}
					}
					m.Faces[i].PersonName = names[id]
				}
			}
			out.Media = &m
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		ctx, user := r.Context(), auth.User(r.Context())
		// Counted in one snapshot and kept until the next write (catalog/counts.go).
		cnt, err := cat.CountsOf(ctx, time.Now(), user)
		st := apiStatus{Objects: cnt.Objects, Photos: cnt.Photos, Videos: cnt.Videos, Queue: cnt.Queue}
		if err != nil {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	apiTrash(mux, gw)
	mux.HandleFunc("GET /api/v1/search", serveSearch(cat))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "no such API: "+strings.TrimPrefix(r.URL.Path, "/api"))
	})
	return mux
}
