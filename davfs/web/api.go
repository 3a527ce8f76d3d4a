package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
)

// Enrichment is an object's enrichment job state in the API.
type Enrichment struct {
	State string `json:"state"` // pending, running, done, failed
	Error string `json:"error,omitempty"`
}

// Object is GET /api/v1/objects/{bucket}/{key}: a file, what enrichment
// learned of it, and the albums it is in. Field names are a contract.
type Object struct {
	Bucket      string         `json:"bucket"`
	Key         string         `json:"key"`
	Size        int64          `json:"size"`
	SHA256      string         `json:"sha256,omitempty"`
	ETag        string         `json:"etag"`
	ContentType string         `json:"content_type,omitempty"`
	Modified    string         `json:"modified"`
	Media       *catalog.Media `json:"media,omitempty"`
	Enrichment  *Enrichment    `json:"enrichment,omitempty"`
	Albums      []string       `json:"albums,omitempty"`
	// LiveVideo, for the still of a Live Photo, is the path of its motion
	// half's bytes (GET /api/v1/files/..., Range works); LiveStill, for
	// the motion half, is its still's object path.
	LiveVideo string `json:"live_video,omitempty"`
	LiveStill string `json:"live_still,omitempty"`
}

// Status is GET /api/v1/status.
type Status struct {
	Objects int                `json:"objects"`
	Photos  int                `json:"photos"`
	Videos  int                `json:"videos"`
	Queue   catalog.QueueStats `json:"queue"`
}

type csrfKey struct{}

func withCSRF(ctx context.Context, tok string) context.Context {
	return context.WithValue(ctx, csrfKey{}, tok)
}

// routes is the API's mux; every route but the sign-in is behind
// authenticate, and reads the user from the request's context only.
func (h *Handler) routes() http.Handler {
	mux := http.NewServeMux()
	a := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, h.authenticate(fn)) }
	mux.HandleFunc("POST /api/v1/session", h.signIn)
	// Who is signed in: {"user": ""} when nobody (200, so the app's first
	// look is no failed request), the CSRF token with a session.
	whoami := h.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := r.Context().Value(csrfKey{}).(string)
		writeJSON(w, http.StatusOK, sessionInfo{User: auth.User(r.Context()), CSRF: tok})
	}))
	mux.HandleFunc("GET /api/v1/session", func(w http.ResponseWriter, r *http.Request) {
		if _, _, basic := r.BasicAuth(); !basic && !h.hasSession(r) {
			writeJSON(w, http.StatusOK, sessionInfo{})
			return
		}
		whoami.ServeHTTP(w, r)
	})
	a("DELETE /api/v1/session", h.signOut)
	a("GET /api/v1/status", h.status)
	a("GET /api/v1/objects/{bucket}/{key...}", h.getObject)
	a("PUT /api/v1/objects/{bucket}/{key...}", h.putObject)
	a("DELETE /api/v1/objects/{bucket}/{key...}", h.deleteObject)
	a("GET /api/v1/files/{bucket}/{key...}", h.getFile)
	a("GET /api/v1/buckets", h.buckets)
	a("GET /api/v1/search", h.search)
	a("GET /api/v1/timeline", h.timeline)
	a("GET /api/v1/places", h.places)
	a("GET /api/v1/places/{country}", h.cities)
	a("GET /api/v1/tags", h.tags)
	a("GET /api/v1/timeline/months", h.months)
	a("GET /api/v1/albums", h.albums)
	a("POST /api/v1/albums", h.createAlbum)
	a("GET /api/v1/albums/{name}", h.album)
	a("PATCH /api/v1/albums/{name}", h.renameAlbum)
	a("DELETE /api/v1/albums/{name}", h.deleteAlbum)
	a("POST /api/v1/albums/{name}/items", h.albumAdd)
	a("DELETE /api/v1/albums/{name}/items/{bucket}/{key...}", h.albumRemove)
	a("GET /api/v1/people", h.people)
	a("GET /api/v1/people/{id}", h.person)
	a("GET /api/v1/people/{id}/cover", h.personCover)
	a("PATCH /api/v1/people/{id}", h.renamePerson)
	a("POST /api/v1/people/{id}/merge", h.mergePerson)
	a("POST /api/v1/people/{id}/reject", h.rejectPerson)
	a("POST /api/v1/people/{id}/hide", h.hidePerson)
	a("GET /api/v1/duplicates", h.duplicates)
	a("POST /api/v1/duplicates/keep", h.keepDuplicate)
	a("GET /api/v1/trash", h.trash)
	a("GET /api/v1/trash/{id}/thumbnail", h.trashThumbnail)
	a("POST /api/v1/trash/{id}/restore", h.restore)
	a("DELETE /api/v1/trash/{id}", h.purge)
	a("GET /api/v1/failed", h.failed)             // failed.go
	a("POST /api/v1/failed/retry", h.retryFailed) // failed.go
	mux.Handle("/api/", h.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "no such API: "+r.Method+" "+strings.TrimPrefix(r.URL.Path, "/api"))
	})))
	return mux
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	// Counted in one snapshot and kept until the next write (catalog/counts.go).
	cnt, err := h.cat.CountsOf(ctx, time.Now(), user)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Status{Objects: cnt.Objects, Photos: cnt.Photos, Videos: cnt.Videos, Queue: cnt.Queue})
}

// file returns the file bucket/key of the request's user (never a folder).
func (h *Handler) file(ctx context.Context, bucket, key string) (catalog.Object, error) {
	if bucket == catalog.TrashBucket { // reached through /api/v1/trash only
		return catalog.Object{}, fmt.Errorf("no file %s/%s: %w", bucket, key, gateway.ErrNotFound)
	}
	o, err := h.gw.Stat(ctx, auth.User(ctx), bucket, key)
	if err == nil && (o.IsDir() || o.Key == "") {
		err = gateway.ErrIsDir
	}
	if err != nil {
		return o, fmt.Errorf("no file %s/%s: %w", bucket, key, gateway.ErrNotFound)
	}
	o.Bucket = bucket
	return o, nil
}

// getObject serves GET /api/v1/objects/{bucket}/{key...} and its
// .../thumbnail?size=small|preview.
func (h *Handler) getObject(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	bucket, key := r.PathValue("bucket"), r.PathValue("key")
	o, err := h.file(ctx, bucket, key)
	if err != nil {
		// KEY/thumbnail, unless a file is named so.
		if k, ok := strings.CutSuffix(key, "/thumbnail"); ok {
			if o, err := h.file(ctx, bucket, k); err == nil {
				h.serveThumbnail(w, r, user, o)
				return
			}
		}
		if k, ok := strings.CutSuffix(key, "/motion"); ok {
			if o, err := h.file(ctx, bucket, k); err == nil {
				h.serveMotion(w, r, user, o)
				return
			}
		}
		apiError(w, http.StatusNotFound, "no file "+bucket+"/"+key)
		return
	}
	out := Object{
		Bucket: bucket, Key: o.Key, Size: o.Size, SHA256: o.SHA256, ETag: o.ETag(),
		ContentType: o.ContentType, Modified: o.ModTime().UTC().Format(time.RFC3339Nano),
		Enrichment: &Enrichment{State: "done"},
	}
	if j, err := h.cat.JobOf(ctx, user, bucket, o.Key); err == nil {
		out.Enrichment = &Enrichment{State: j.State(time.Now()), Error: j.Err}
	} else if !errors.Is(err, catalog.ErrNotFound) {
		h.fail(w, r, err)
		return
	}
	if m, err := h.cat.MediaOf(ctx, user, bucket, o.Key); err == nil {
		var names map[string]string
		for i := range m.Faces { // boxes, scores and persons; the vectors stay inside
			m.Faces[i].Descriptor, m.Faces[i].Landmarks = nil, nil
			if id := m.Faces[i].Person; id != "" {
				if names == nil {
					names = map[string]string{}
					if ps, err := h.cat.People(ctx, user); err == nil {
						for _, p := range ps {
							names[p.ID] = p.Label()
						}
					}
				}
				m.Faces[i].PersonName = names[id]
			}
		}
		out.Media = &m
		switch m.LiveRole {
		case catalog.LiveStill:
			out.LiveVideo = "/" + strings.Replace(objectURL(bucket, m.LivePair), "api/v1/objects/", "api/v1/files/", 1)
		case catalog.LiveMotion:
			out.LiveStill = "/" + objectURL(bucket, m.LivePair)
		}
		if m.MotionPhoto != nil {
			out.LiveVideo = "/" + objectURL(bucket, o.Key) + "/motion"
		}
	}
	if o.SHA256 != "" && r.URL.Query().Get("albums") != "" {
		out.Albums, _ = h.albumsOf(ctx, user, o.SHA256)
	}
	writeJSON(w, http.StatusOK, out)
}

// serveThumbnail answers GET .../thumbnail?size=small|preview. The
// thumbnail of given bytes never changes: its ETag names the content, and
// it may be cached for a year (the URL stays, so a file overwritten gets a
// new ETag on revalidation only: the cache is private, and immutable is
// not claimed).
func (h *Handler) serveThumbnail(w http.ResponseWriter, r *http.Request, user string, o catalog.Object) {
	size := r.URL.Query().Get("size")
	if size == "" {
		size = "small"
	}
	if size != "small" && size != "preview" {
		apiError(w, http.StatusBadRequest, "size must be small or preview, not "+strconv.Quote(size))
		return
	}
	th, err := OpenThumbnail(r.Context(), h.gw, h.cfg.Thumbs, user, o, size)
	if err != nil {
		msg := "no thumbnail of " + o.Bucket + "/" + o.Key
		if j, err := h.cat.JobOf(r.Context(), user, o.Bucket, o.Key); err == nil {
			msg += ": enrichment " + j.State(time.Now())
			if j.Err != "" {
				msg += ": " + j.Err
			}
		} else if m, err := h.cat.MediaOf(r.Context(), user, o.Bucket, o.Key); err == nil && m.ThumbnailState == catalog.ThumbnailWaiting {
			msg += ": the video waits for ffmpeg (install it, or set --ffmpeg)"
		} else if err == nil && m.Kind != "photo" && m.Kind != "video" {
			msg += ": thumbnails are made for photos and videos, and this is " + m.Kind
		}
		apiError(w, http.StatusNotFound, msg)
		return
	}
	defer th.Close()
	w.Header().Set("Content-Type", "image/jpeg")
	if r.URL.Query().Get("v") != "" {
		// A URL that names the content (?v=<sha256 prefix>, as the
		// timeline gives them) never changes what it serves.
		w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "private, max-age=86400")
	}
	w.Header().Set("ETag", th.ETag)
	http.ServeContent(w, r, "", th.Mod, th)
}

// getFile serves GET /api/v1/files/{bucket}/{key...}: the original's
// bytes, with Range, If-None-Match and the like (videos seek through it);
// ?download=1 asks the browser to save it.
func (h *Handler) getFile(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	bucket, key := r.PathValue("bucket"), r.PathValue("key")
	if _, err := h.file(ctx, bucket, key); err != nil {
		h.fail(w, r, err)
		return
	}
	f, o, err := h.gw.Open(ctx, user, bucket, key)
	if err != nil {
		apiError(w, statusFor(err), "no file "+bucket+"/"+key)
		return
	}
	defer f.Close()
	if o.ContentType != "" {
		w.Header().Set("Content-Type", o.ContentType)
	}
	w.Header().Set("ETag", o.ETag())
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox")
	disp := "inline"
	if r.URL.Query().Get("download") != "" {
		disp = "attachment"
	}
	w.Header().Set("Content-Disposition", disp+"; filename*=UTF-8''"+urlPathEscape(path.Base(o.Key)))
	http.ServeContent(w, r, "", o.ModTime(), f)
}

// serveMotion answers GET .../motion: the video inside a motion photo
// (Media.MotionPhoto), as video/mp4, with Range; 404 for other files.
func (h *Handler) serveMotion(w http.ResponseWriter, r *http.Request, user string, o catalog.Object) {
	m, err := h.cat.MediaOf(r.Context(), user, o.Bucket, o.Key)
	if err != nil || m.MotionPhoto == nil || m.SHA256 != o.SHA256 {
		apiError(w, http.StatusNotFound, "no motion part in "+o.Bucket+"/"+o.Key)
		return
	}
	f, fo, err := h.gw.Open(r.Context(), user, o.Bucket, o.Key)
	if err != nil {
		apiError(w, statusFor(err), "no file "+o.Bucket+"/"+o.Key)
		return
	}
	defer f.Close()
	mp := m.MotionPhoto
	if fo.Size != o.Size || mp.Offset < 0 || mp.Offset+mp.Length > fo.Size {
		apiError(w, http.StatusNotFound, "no motion part in "+o.Bucket+"/"+o.Key)
		return
	}
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("ETag", `"`+o.SHA256+`-motion"`)
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; media-src 'self'; sandbox")
	http.ServeContent(w, r, "", fo.ModTime(), io.NewSectionReader(f, mp.Offset, mp.Length))
}

// putObject serves PUT /api/v1/objects/{bucket}/{key...}: an upload
// through the gateway (the write path of WebDAV and S3), its parent
// folders made; the bucket must exist. An existing file is replaced
// (its content kept in the trash as the gateway does) only with
// ?overwrite=1, else 409.
func (h *Handler) putObject(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	bucket, key := r.PathValue("bucket"), r.PathValue("key")
	if _, err := h.cat.GetBucket(ctx, user, bucket); err != nil || bucket == catalog.TrashBucket {
		apiError(w, http.StatusNotFound, "no bucket "+bucket)
		return
	}
	in := gateway.PutInput{User: user, Bucket: bucket, Key: key, Body: http.MaxBytesReader(w, r.Body, h.cfg.MaxUpload),
		ContentType: r.Header.Get("Content-Type"), MakeParents: true, Size: max(r.ContentLength, 0)}
	if in.ContentType == "application/octet-stream" {
		in.ContentType = "" // guessed from the name, then sniffed
	}
	if ms, err := strconv.ParseInt(r.Header.Get("X-Shoebox-Mtime"), 10, 64); err == nil && ms > 0 {
		in.ModTime = time.UnixMilli(ms)
	}
	if r.URL.Query().Get("overwrite") == "" {
		in.Check = func(cur *catalog.Object) error {
			if cur != nil {
				return fmt.Errorf("%s/%s exists: %w", bucket, key, gateway.ErrExists)
			}
			return nil
		}
	}
	o, err := h.gw.Put(ctx, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, Object{Bucket: bucket, Key: o.Key, Size: o.Size, SHA256: o.SHA256, ETag: o.ETag(),
		ContentType: o.ContentType, Modified: o.ModTime().UTC().Format(time.RFC3339Nano)})
}

// deleteObject serves DELETE /api/v1/objects/{bucket}/{key...}: as a
// WebDAV DELETE, a photo or video goes to the trash (when the server
// keeps one).
func (h *Handler) deleteObject(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	bucket, key := r.PathValue("bucket"), r.PathValue("key")
	if _, err := h.file(ctx, bucket, key); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.gw.Remove(ctx, user, bucket, key); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Bucket is one of GET /api/v1/buckets.
type Bucket struct {
	Name    string `json:"name"`
	Created string `json:"created"`
}

func (h *Handler) buckets(w http.ResponseWriter, r *http.Request) {
	bs, err := h.gw.Buckets(r.Context(), auth.User(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []Bucket{}
	for _, b := range bs {
		out = append(out, Bucket{Name: b.Name, Created: b.Created.UTC().Format(time.RFC3339)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"buckets": out})
}
