package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
	"shoebox/virtualdirs"
)

// Albums, people, duplicates and the trash: each route calls the owner the
// virtual folders use (the catalog's album rows as /albums does,
// enrich.People as /by-person does, the gateway as /duplicates and /trash
// do), and lists what virtualdirs lists, so the app and the folders show
// one library.

// readJSON decodes a small JSON body into v.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "the JSON body could not be read: "+err.Error())
		return false
	}
	return true
}

// itemsOf lists the files of a virtual folder as items, with their media.
func (h *Handler) itemsOf(r *http.Request, vpath string) ([]Item, error) {
	ctx, user := r.Context(), auth.User(r.Context())
	names, err := h.personNames(ctx, user)
	if err != nil {
		return nil, err
	}
	out := []Item{}
	err = h.cfg.Virtual.List(ctx, user, vpath, func(e virtualdirs.Entry) error {
		if e.Dir || e.Data != nil || e.Object.Bucket == "" {
			return nil
		}
		m, _ := h.cat.MediaOf(ctx, user, e.Object.Bucket, e.Object.Key)
		out = append(out, itemOf(e.Object, m, names))
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Item) int { return order(a, b) })
	return out, nil
}

// Album is one of GET /api/v1/albums.
type Album struct {
	Name    string `json:"name"`
	Created string `json:"created"`
	Cover   string `json:"cover,omitempty"` // a thumbnail URL
	Count   int    `json:"count"`
}

func (h *Handler) albums(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	all, err := h.cat.Albums(ctx, user)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []Album{}
	for name, ns := range all {
		a := Album{Name: name, Created: time.Unix(0, ns).UTC().Format(time.RFC3339)}
		h.cat.AlbumMembers(ctx, user, name, func(o catalog.Object) error {
			if a.Count++; a.Cover == "" {
				a.Cover = thumbURL(o)
			}
			return nil
		})
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Album) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, map[string]any{"albums": out})
}

// albumsOf names the albums holding the content sha.
func (h *Handler) albumsOf(ctx context.Context, user, sha string) ([]string, error) {
	all, err := h.cat.Albums(ctx, user)
	if err != nil {
		return nil, err
	}
	var out []string
	for name := range all {
		h.cat.AlbumMembers(ctx, user, name, func(o catalog.Object) error {
			if o.SHA256 == sha {
				out = append(out, name)
				return errStop
			}
			return nil
		})
	}
	slices.Sort(out)
	return out, nil
}

var errStop = errors.New("stop")

func checkAlbumName(name string) error {
	if name == "" || strings.Contains(name, "/") || gateway.CheckKey(name) != nil {
		return fmt.Errorf("album name %q: %w", name, gateway.ErrBadPath)
	}
	return nil
}

func (h *Handler) createAlbum(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if err := checkAlbumName(in.Name); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.cat.CreateAlbum(r.Context(), auth.User(r.Context()), in.Name, time.Now().UnixNano()); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, Album{Name: in.Name})
}

func (h *Handler) album(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := checkAlbumName(name); err != nil {
		h.fail(w, r, err)
		return
	}
	items, err := h.itemsOf(r, "albums/"+name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "items": items})
}

func (h *Handler) renameAlbum(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if err := checkAlbumName(in.Name); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.cat.RenameAlbum(r.Context(), auth.User(r.Context()), r.PathValue("name"), in.Name); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Album{Name: in.Name})
}

func (h *Handler) deleteAlbum(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	name := r.PathValue("name")
	if _, ok := h.albumExists(ctx, user, name); !ok {
		apiError(w, http.StatusNotFound, "no album "+name)
		return
	}
	if err := h.cat.DeleteAlbum(ctx, user, name); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) albumExists(ctx context.Context, user, name string) (int64, bool) {
	all, err := h.cat.Albums(ctx, user)
	ns, ok := all[name]
	return ns, err == nil && ok
}

// albumAdd serves POST /api/v1/albums/{name}/items {"bucket","key"} or
// {"items":[{"bucket","key"},...]}: adds photos by content, as a COPY into
// /albums does.
func (h *Handler) albumAdd(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	name := r.PathValue("name")
	var in struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
		Items  []struct {
			Bucket string `json:"bucket"`
			Key    string `json:"key"`
		} `json:"items"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Bucket != "" {
		in.Items = append(in.Items, struct {
			Bucket string `json:"bucket"`
			Key    string `json:"key"`
		}{in.Bucket, in.Key})
	}
	if _, ok := h.albumExists(ctx, user, name); !ok {
		apiError(w, http.StatusNotFound, "no album "+name)
		return
	}
	for _, ref := range in.Items {
		o, err := h.file(ctx, ref.Bucket, ref.Key)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if o.SHA256 == "" {
			apiError(w, http.StatusConflict, "only files of your library can go into an album")
			return
		}
		if err := h.cat.AlbumAdd(ctx, user, name, o.SHA256); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// albumRemove serves DELETE /api/v1/albums/{name}/items/{bucket}/{key...}:
// the reference goes, never the photo.
func (h *Handler) albumRemove(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	name := r.PathValue("name")
	if _, ok := h.albumExists(ctx, user, name); !ok {
		apiError(w, http.StatusNotFound, "no album "+name)
		return
	}
	o, err := h.file(ctx, r.PathValue("bucket"), r.PathValue("key"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.cat.AlbumRemove(ctx, user, name, o.SHA256); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Person is one of GET /api/v1/people: a person folder of /by-person.
type Person struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Label  string `json:"label"` // the folder's name
	Photos int    `json:"faces"`
	Cover  string `json:"cover"`
}

// peopleByID maps person ids to their folder labels, as /by-person
// lists them.
func (h *Handler) peopleByID(r *http.Request) (map[string]Person, []string, error) {
	ctx, user := r.Context(), auth.User(r.Context())
	var labels []string
	err := h.cfg.Virtual.List(ctx, user, "by-person", func(e virtualdirs.Entry) error {
		labels = append(labels, e.Name)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	out := map[string]Person{}
	var order []string
	for _, l := range labels {
		p, err := h.cfg.Virtual.Person(ctx, user, l)
		if err != nil {
			continue
		}
		out[p.ID] = Person{ID: p.ID, Name: p.Name, Label: l, Photos: p.Faces, Cover: "api/v1/people/" + p.ID + "/cover"}
		order = append(order, p.ID)
	}
	return out, order, nil
}

func (h *Handler) people(w http.ResponseWriter, r *http.Request) {
	ps, ids, err := h.peopleByID(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []Person{}
	for _, id := range ids {
		out = append(out, ps[id])
	}
	writeJSON(w, http.StatusOK, map[string]any{"people": out, "editable": h.cfg.People != nil})
}

// personOf returns the person {id} of the request, if it has a folder.
func (h *Handler) personOf(w http.ResponseWriter, r *http.Request) (Person, bool) {
	ps, _, err := h.peopleByID(r)
	if err != nil {
		h.fail(w, r, err)
		return Person{}, false
	}
	p, ok := ps[r.PathValue("id")]
	if !ok {
		apiError(w, http.StatusNotFound, "no person "+r.PathValue("id"))
	}
	return p, ok
}

func (h *Handler) person(w http.ResponseWriter, r *http.Request) {
	p, ok := h.personOf(w, r)
	if !ok {
		return
	}
	items, err := h.itemsOf(r, "by-person/"+p.Label)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"person": p, "items": items})
}

func (h *Handler) personCover(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	if _, ok := h.personOf(w, r); !ok {
		return
	}
	p, err := h.cat.GetPerson(ctx, user, r.PathValue("id"))
	if err != nil || h.cfg.Cover == nil {
		apiError(w, http.StatusNotFound, "no cover")
		return
	}
	b, err := h.cfg.Cover(ctx, user, p)
	if err != nil {
		apiError(w, http.StatusNotFound, "no cover: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Write(b)
}

// editPerson runs an edit of person {id} through People.
func (h *Handler) editPerson(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, user string, p Person) error) {
	if h.cfg.People == nil {
		apiError(w, http.StatusForbidden, "persons cannot be changed on this server")
		return
	}
	p, ok := h.personOf(w, r)
	if !ok {
		return
	}
	if err := fn(r.Context(), auth.User(r.Context()), p); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// renamePerson serves PATCH /api/v1/people/{id} {"name"}: names the
// person, or, when another person has that name, merges into them (as a
// MOVE of the folder onto another does).
func (h *Handler) renamePerson(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || strings.ContainsAny(in.Name, "/|") || gateway.CheckKey(in.Name) != nil {
		apiError(w, http.StatusBadRequest, "a person's name cannot be empty or hold / or |")
		return
	}
	h.editPerson(w, r, func(ctx context.Context, user string, p Person) error {
		if to, err := h.cfg.Virtual.Person(ctx, user, in.Name); err == nil && to.ID != p.ID {
			return h.cfg.People.Merge(ctx, user, p.ID, to.ID)
		}
		return h.cfg.People.Rename(ctx, user, p.ID, in.Name)
	})
}

func (h *Handler) mergePerson(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Into string `json:"into"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	h.editPerson(w, r, func(ctx context.Context, user string, p Person) error {
		if _, err := h.cat.GetPerson(ctx, user, in.Into); err != nil || in.Into == p.ID {
			return fmt.Errorf("merge into person %q: %w", in.Into, catalog.ErrNotFound)
		}
		return h.cfg.People.Merge(ctx, user, p.ID, in.Into)
	})
}

func (h *Handler) rejectPerson(w http.ResponseWriter, r *http.Request) {
	var in catalog.Ref
	var body struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	in = catalog.Ref{Bucket: body.Bucket, Key: body.Key}
	h.editPerson(w, r, func(ctx context.Context, user string, p Person) error {
		if _, err := h.file(ctx, in.Bucket, in.Key); err != nil {
			return err
		}
		return h.cfg.People.Reject(ctx, user, p.ID, in.Bucket, in.Key)
	})
}

func (h *Handler) hidePerson(w http.ResponseWriter, r *http.Request) {
	h.editPerson(w, r, func(ctx context.Context, user string, p Person) error {
		return h.cfg.People.Hide(ctx, user, p.ID)
	})
}

// DuplicateGroup is one of GET /api/v1/duplicates: a /duplicates folder.
// The groups come a page at a time in name order (limit, 20 by default;
// cursor: the "next" of the previous page), each opened.
type DuplicateGroup struct {
	Name  string `json:"name"`
	Items []Item `json:"items"`
}

func (h *Handler) duplicates(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	limit := 20
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			apiError(w, http.StatusBadRequest, "limit must be 1 to 200, not "+strconv.Quote(s))
			return
		}
		limit = n
	}
	after := r.URL.Query().Get("cursor") // the last group name already given
	var names []string
	more := false
	if err := h.cfg.Virtual.List(ctx, user, "duplicates", func(e virtualdirs.Entry) error {
		if after != "" && e.Name <= after {
			return nil
		}
		if len(names) == limit {
			more = true
			return errPageFull
		}
		names = append(names, e.Name)
		return nil
	}); err != nil && !errors.Is(err, errPageFull) {
		h.fail(w, r, err)
		return
	}
	out := []DuplicateGroup{}
	for _, n := range names {
		items, err := h.itemsOf(r, "duplicates/"+n)
		if err != nil {
			continue // resolved meanwhile
		}
		out = append(out, DuplicateGroup{Name: n, Items: items})
	}
	page := map[string]any{"groups": out}
	if more {
		page["next"] = names[len(names)-1]
	}
	writeJSON(w, http.StatusOK, page)
}

// errPageFull stops a listing once a page has what it needs.
var errPageFull = errors.New("page full")

// keepDuplicate serves POST /api/v1/duplicates/keep {"bucket","key"}:
// every other copy of that file's duplicate group goes to the trash, as a
// DELETE in its /duplicates folder does.
func (h *Handler) keepDuplicate(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	var in struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if _, err := h.file(ctx, in.Bucket, in.Key); err != nil {
		h.fail(w, r, err)
		return
	}
	gid, err := h.cat.GroupOf(ctx, user, in.Bucket, in.Key)
	if err != nil || gid == "" {
		apiError(w, http.StatusNotFound, in.Bucket+"/"+in.Key+" has no duplicates")
		return
	}
	var others []catalog.Object
	if err := h.cat.GroupMembers(ctx, user, gid, func(o catalog.Object) error {
		if o.Bucket != in.Bucket || o.Key != in.Key {
			others = append(others, o)
		}
		return nil
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	trashed := []string{}
	for _, o := range others {
		if err := h.gw.Remove(ctx, user, o.Bucket, o.Key); err != nil && !errors.Is(err, gateway.ErrNotFound) {
			h.fail(w, r, err)
			return
		}
		trashed = append(trashed, o.Bucket+"/"+o.Key)
	}
	writeJSON(w, http.StatusOK, map[string]any{"trashed": trashed})
}

// TrashEntry is one of GET /api/v1/trash: what /dav/trash lists, with
// where it was and when it was deleted (the WebDAV properties
// sb:original-location and sb:deleted-at), and when it goes for good.
type TrashEntry struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	OriginalLocation string `json:"original_location"` // bucket/key
	DeletedAt        string `json:"deleted_at"`        // RFC 3339, UTC
	Dir              bool   `json:"dir,omitempty"`
	// Version: the content an overwrite replaced (deleted_at: when).
	Version bool  `json:"version,omitempty"`
	Size    int64 `json:"size"`
	// Bucket and Key are where it was (Key without a folder's '/').
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Purge is when it goes for good ("" when the trash is kept forever).
	Purge     string `json:"purge,omitempty"`
	Thumbnail string `json:"thumbnail,omitempty"`
}

func (h *Handler) trash(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	keep := h.gw.TrashRetention()
	out := []TrashEntry{}
	err := h.cat.Trash(ctx, user, func(t catalog.TrashItem) error {
		_, o, err := h.gw.TrashItem(ctx, user, t.ID)
		if err != nil {
			return nil // purged meanwhile
		}
		key := strings.TrimSuffix(t.Key, "/")
		e := TrashEntry{ID: t.ID, Name: path.Base(key), OriginalLocation: t.Bucket + "/" + key, Bucket: t.Bucket, Key: key,
			Dir: strings.HasSuffix(t.Key, "/"), Version: t.Version, Size: o.Size, DeletedAt: time.Unix(0, t.DeletedNs).UTC().Format(time.RFC3339)}
		if keep > 0 {
			e.Purge = time.Unix(0, t.DeletedNs).Add(keep).UTC().Format(time.RFC3339)
		}
		if !o.IsDir() && len(o.SHA256) >= 16 {
			e.Thumbnail = "api/v1/trash/" + t.ID + "/thumbnail?v=" + o.SHA256[:16]
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	slices.SortStableFunc(out, func(a, b TrashEntry) int { return strings.Compare(b.DeletedAt, a.DeletedAt) })
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (h *Handler) trashThumbnail(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	_, o, err := h.gw.TrashItem(ctx, user, r.PathValue("id"))
	if err != nil || o.IsDir() {
		apiError(w, http.StatusNotFound, "no such item in the trash")
		return
	}
	o.Bucket = catalog.TrashBucket
	h.serveThumbnail(w, r, user, o)
}

// restore serves POST /api/v1/trash/{id}/restore: back to where it was.
func (h *Handler) restore(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), auth.User(r.Context())
	t, _, err := h.gw.TrashItem(ctx, user, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.gw.Restore(ctx, user, t.ID, "", ""); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"bucket": t.Bucket, "key": t.Key})
}

// purge serves DELETE /api/v1/trash/{id}: gone for good.
func (h *Handler) purge(w http.ResponseWriter, r *http.Request) {
	if err := h.gw.Purge(r.Context(), auth.User(r.Context()), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
