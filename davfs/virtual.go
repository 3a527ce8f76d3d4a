package davfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/virtualdirs"
)

// The virtual folders (/by-date, /by-camera, /by-person, /duplicates,
// /albums, /trash) are shown beside the buckets. Their files are the originals:
// GET, HEAD and PROPFIND answer with the original's bytes, size and ETag.
// What they accept besides reading:
//
//	DELETE /duplicates/G/F       deletes that copy (the original file)
//	MKCOL  /albums/A             creates an album
//	COPY or MOVE F /albums/A/F   adds a reference to F's photo (never a copy)
//	PUT    /albums/A/F           adds the library photo with the same bytes
//	DELETE /albums/A/F           removes the reference only
//	MOVE   /albums/A /albums/B   renames the album
//	DELETE /albums/A             removes the album, never its photos
//	MKCOL  /search/Q             saves the search Q (catalog.ParseQuery):
//	                             the folder lists what it finds, always current
//	DELETE /search/Q             forgets the search, never its photos
//	MOVE   /by-person/P /by-person/N   names person P N, or merges P into N
//	MOVE   /by-person/P/F /by-person/Q/F  says F's face is Q, not P (every copy of F)
//	MKCOL  /by-person/N          makes a person named N, empty until a photo goes in
//	COPY or MOVE F /by-person/N/F  says F shows N (F from a bucket or another virtual folder)
//	DELETE /by-person/P/F        says F is not P (every copy of F; the photos stay)
//	DELETE /by-person/P          forgets the grouping (never photos)
//	MOVE   /trash/F DEST         restores F (a file or a folder) to DEST
//	DELETE /trash/F              deletes F for good
//
// Everything else answers 403 with a body that says why.

var errVirtualReadOnly = errors.New("this is a virtual folder computed from your library: it is read-only")

// vpath is the path of a virtual resource under /, without the slash.
func (r resource) vpath() string { return strings.TrimPrefix(r.path, "/") }

// album returns the album a resource is in (or is), and whether it is
// the album folder itself.
func (r resource) album() (name, file string, ok bool) {
	if r.bucket != "albums" || r.key == "" {
		return "", "", false
	}
	name, file, _ = strings.Cut(r.key, "/")
	if strings.Contains(file, "/") {
		return "", "", false
	}
	return name, file, true
}

func entryObject(e virtualdirs.Entry) catalog.Object {
	if e.Dir && e.Object.Key == "" {
		return catalog.Object{Key: e.Name + "/", ModNs: e.ModTime.UnixNano()}
	}
	o := e.Object
	o.ModNs = e.ModTime.UnixNano()
	return o
}

// ventry returns the entry at a virtual path; missing is gateway.ErrNotFound.
func (h *Handler) ventry(ctx context.Context, user string, res resource) (virtualdirs.Entry, error) {
	e, err := h.cfg.Virtual.Stat(ctx, user, res.vpath())
	if errors.Is(err, virtualdirs.ErrNotFound) {
		err = fmt.Errorf("%s: %w", res.path, gateway.ErrNotFound)
	}
	return e, err
}

func (h *Handler) vstat(ctx context.Context, user string, res resource) (catalog.Object, error) {
	e, err := h.ventry(ctx, user, res)
	if err != nil {
		return catalog.Object{}, err
	}
	return entryObject(e), nil
}

func (h *Handler) vchildren(ctx context.Context, user string, res resource, fn func(resource, catalog.Object) error) error {
	err := h.cfg.Virtual.List(ctx, user, res.vpath(), func(e virtualdirs.Entry) error {
		c := resource{path: res.path + "/" + e.Name, bucket: res.bucket, key: strings.TrimPrefix(res.key+"/"+e.Name, "/"), virtual: true}
		return fn(c, entryObject(e))
	})
	if errors.Is(err, virtualdirs.ErrNotFound) {
		return fmt.Errorf("%s: %w", res.path, gateway.ErrNotFound)
	}
	return err
}

// vget serves a virtual file: the original's bytes (or a file made by the
// tree, like a person folder's cover).
func (h *Handler) vget(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	e, err := h.ventry(r.Context(), user, res)
	if err != nil {
		return statusFor(err), err
	}
	if e.Data != nil {
		w.Header().Set("ETag", e.Object.ETag())
		w.Header().Set("Content-Type", e.Object.ContentType)
		http.ServeContent(w, r, e.Name, e.ModTime, bytes.NewReader(e.Data))
		return 0, nil
	}
	if o := entryObject(e); o.IsDir() {
		return h.listHTML(w, r, user, res)
	}
	f, orig, err := h.gw.Open(r.Context(), user, e.Object.Bucket, e.Object.Key)
	if err != nil {
		return statusFor(err), err
	}
	defer f.Close()
	w.Header().Set("ETag", orig.ETag())
	if orig.ContentType != "" {
		w.Header().Set("Content-Type", orig.ContentType)
	}
	// Last-Modified is the entry's time, as PROPFIND gives it (the
	// capture time: see virtualdirs).
	http.ServeContent(w, r, path.Base(res.path), e.ModTime, f)
	return 0, nil
}

// readOnly answers a write the virtual folders do not take.
func readOnly(w http.ResponseWriter, what string) (int, error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "403 Forbidden: %s here. %s\n", what, "The virtual folders (by-date, by-camera, by-person, duplicates) show your library; "+
		"change it in your buckets. Albums take MKCOL, COPY/MOVE of photos into them, DELETE, and MOVE to rename; "+
		"person folders take MKCOL (a new person), MOVE to rename or merge, COPY/MOVE of photos into them, and DELETE; "+
		"/search takes MKCOL of a search (its name is the query) and DELETE.")
	return 0, nil
}

func (h *Handler) vput(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	name, file, ok := res.album()
	if !ok || file == "" {
		return readOnly(w, "files cannot be written")
	}
	// PUT of bytes the library already has adds that photo to the album.
	hs := sha256.New()
	if _, err := io.Copy(hs, http.MaxBytesReader(w, r.Body, h.maxUpload())); err != nil {
		return http.StatusBadRequest, err
	}
	sum := hex.EncodeToString(hs.Sum(nil))
	o, err := h.gw.Catalog().FindBySHA(r.Context(), user, sum)
	if err != nil {
		return readOnly(w, "an album holds photos of your library, and these bytes are not one of them (upload the photo to a bucket first)")
	}
	if err := h.gw.Catalog().AddFileToAlbum(r.Context(), user, name, o); err != nil {
		return statusFor(err), err
	}
	w.WriteHeader(http.StatusCreated)
	return 0, nil
}

func (h *Handler) maxUpload() int64 {
	if h.cfg.MaxUpload > 0 {
		return h.cfg.MaxUpload
	}
	return 1 << 40
}

func (h *Handler) vmkcol(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	if res.bucket == "by-person" && res.key != "" && !strings.Contains(res.key, "/") {
		return h.mkPerson(w, r, user, res.key)
	}
	if res.bucket == "search" && res.key != "" && !strings.Contains(res.key, "/") {
		if err := gateway.CheckKey(res.key); err != nil {
			return http.StatusBadRequest, err
		}
		err := h.gw.Catalog().SaveSearch(r.Context(), user, res.key, time.Now().UnixNano())
		if errors.Is(err, catalog.ErrExists) {
			return http.StatusMethodNotAllowed, err
		}
		if err != nil {
			return statusFor(err), err
		}
		w.WriteHeader(http.StatusCreated)
		return 0, nil
	}
	name, file, ok := res.album()
	if !ok || file != "" {
		return readOnly(w, "folders cannot be made")
	}
	if err := gateway.CheckKey(name); err != nil {
		return http.StatusBadRequest, err
	}
	err := h.gw.Catalog().CreateAlbum(r.Context(), user, name, time.Now().UnixNano())
	if errors.Is(err, catalog.ErrExists) {
		return http.StatusMethodNotAllowed, err
	}
	if err != nil {
		return statusFor(err), err
	}
	w.WriteHeader(http.StatusCreated)
	return 0, nil
}

func (h *Handler) vdelete(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	ctx := r.Context()
	o, err := h.vstat(ctx, user, res)
	if err != nil {
		return statusFor(err), err
	}
	switch name, file, isAlbum := res.album(); {
	case isAlbum && file == "":
		err = h.gw.Catalog().DeleteAlbum(ctx, user, name)
	case isAlbum:
		err = h.gw.Catalog().AlbumRemove(ctx, user, name, o.SHA256)
	case res.bucket == "search" && res.key != "" && !strings.Contains(res.key, "/"):
		err = h.gw.Catalog().DeleteSearch(ctx, user, res.key)
	case res.bucket == "duplicates" && !o.IsDir():
		// Deduplication with a file manager: this copy goes (to the trash).
		err = h.gw.Remove(ctx, user, o.Bucket, o.Key)
	case res.bucket == "by-person" && res.key != "" && path.Base(res.key) == virtualdirs.CoverName:
		return readOnly(w, "the folder picture is made from the person's best face")
	case res.bucket == "by-person" && res.key != "" && h.cfg.People == nil:
		return readOnly(w, errPeopleReadOnly.Error())
	case res.bucket == "by-person" && res.key != "":
		err = h.deleteInPerson(ctx, user, res, o)
	case res.bucket == "trash" && res.key != "" && !strings.Contains(res.key, "/"):
		err = h.gw.Purge(ctx, user, strings.TrimSuffix(o.Key, "/"))
	case res.bucket == "trash" && res.key != "":
		err = h.gw.Remove(ctx, user, o.Bucket, o.Key) // inside a deleted folder
	default:
		return readOnly(w, "nothing can be deleted")
	}
	if err != nil {
		return statusFor(err), err
	}
	h.locks.Moved(user, res.path)
	w.WriteHeader(http.StatusNoContent)
	return 0, nil
}

// vcopyMove handles COPY and MOVE that involve a virtual folder: src's
// object so is already known.
func (h *Handler) vcopyMove(w http.ResponseWriter, r *http.Request, user string, src, dst resource, so catalog.Object, move bool) (int, error) {
	ctx := r.Context()
	cat := h.gw.Catalog()
	var err error
	sName, sFile, sAlbum := src.album()
	dName, dFile, dAlbum := dst.album()
	switch {
	case move && sAlbum && sFile == "" && dAlbum && dFile == "":
		if err := cat.RenameAlbum(ctx, user, sName, dName); err != nil {
			if errors.Is(err, catalog.ErrExists) {
				return http.StatusPreconditionFailed, err
			}
			return statusFor(err), err
		}
		h.locks.Moved(user, src.path)
		w.WriteHeader(http.StatusCreated)
		return 0, nil
	case dAlbum && dFile != "" && !so.IsDir():
		if so.SHA256 == "" {
			return readOnly(w, "only files of your library can go into an album")
		}
		if err := cat.AddFileToAlbum(ctx, user, dName, so); err != nil {
			return statusFor(err), err
		}
		if move && sAlbum && sName != dName {
			// From one album to another: the reference moves.
			if err := cat.AlbumRemove(ctx, user, sName, so.SHA256); err != nil {
				return statusFor(err), err
			}
		}
		w.WriteHeader(http.StatusCreated)
		return 0, nil
	case move && src.bucket == "by-person" && dst.bucket == "by-person":
		status, err := h.movePerson(ctx, user, src, dst, so)
		if status == 0 && err == nil {
			h.locks.Moved(user, src.path)
			w.WriteHeader(http.StatusCreated)
			return 0, nil
		}
		if status == http.StatusForbidden {
			return readOnly(w, err.Error())
		}
		return status, err
	case src.bucket != "by-person" && src.bucket != "trash" && dst.bucket == "by-person" && !so.IsDir():
		// A photo put into a person folder from elsewhere: its face is
		// that person's (nothing is copied or moved).
		status, err := h.intoPerson(ctx, user, dst, so)
		if status == http.StatusForbidden {
			return readOnly(w, err.Error())
		}
		if err != nil {
			return status, err
		}
		w.WriteHeader(http.StatusCreated)
		return 0, nil
	case move && src.bucket == "trash" && src.key != "" && !dst.virtual:
		// Out of the trash: restored to the destination.
		key := dst.key
		if so.IsDir() {
			key += "/"
		}
		if !strings.Contains(src.key, "/") {
			err = h.gw.Restore(ctx, user, strings.TrimSuffix(so.Key, "/"), dst.bucket, key)
		} else {
			err = h.gw.Move(ctx, user, so.Bucket, so.Key, dst.bucket, key)
		}
		if err != nil {
			return statusFor(err), err
		}
		h.locks.Moved(user, src.path)
		w.WriteHeader(http.StatusCreated)
		return 0, nil
	case !move && src.virtual && !dst.virtual && !so.IsDir():
		// Copying a virtual file out: a copy of the original.
		if err := h.gw.Copy(ctx, user, so.Bucket, so.Key, dst.bucket, dst.key); err != nil {
			return statusFor(err), err
		}
		w.WriteHeader(http.StatusCreated)
		return 0, nil
	}
	return readOnly(w, "this copy or move is not possible")
}

// People applies the user's corrections made in /by-person. It is the
// owner of people state (enrich.People, injected by the server), which
// serializes them with the grouping passes: Handler never writes persons
// itself. Ids are catalog.Person ids. A person or photo that is not there
// (gone since the folder was listed: merged, or forgotten by a pass) is an
// error wrapping catalog.ErrNotFound.
type People interface {
	// Rename names person id.
	Rename(ctx context.Context, user, id, name string) error
	// Merge makes person from part of person into, for good.
	Merge(ctx context.Context, user, from, into string) error
	// Reassign says the photo bucket/key is of person to, not of from.
	Reassign(ctx context.Context, user, bucket, key, from, to string) error
	// Reject says the photo bucket/key is not of person id.
	Reject(ctx context.Context, user, id, bucket, key string) error
	// Hide forgets person id's folder (never photos).
	Hide(ctx context.Context, user, id string) error
	// Create makes a person named name with no photo yet and returns its
	// id; a name taken is an error wrapping catalog.ErrExists.
	Create(ctx context.Context, user, name string) (string, error)
	// Assign says the photo bucket/key shows person to (which face: see
	// enrich.People.Assign); an error wrapping catalog.ErrAmbiguousFace
	// when it cannot be told.
	Assign(ctx context.Context, user, bucket, key, to string) error
}

// mkPerson makes a person folder: a person named name, empty until a
// photo is moved into it (a split of a mixed person starts so).
func (h *Handler) mkPerson(w http.ResponseWriter, r *http.Request, user, name string) (int, error) {
	if h.cfg.People == nil {
		return readOnly(w, errPeopleReadOnly.Error())
	}
	if err := gateway.CheckKey(name); err != nil || name == virtualdirs.CoverName {
		return http.StatusBadRequest, fmt.Errorf("person name %q: %w", name, err)
	}
	if _, err := h.cfg.Virtual.Person(r.Context(), user, name); err == nil {
		return http.StatusMethodNotAllowed, fmt.Errorf("person folder %q exists", name)
	}
	if _, err := h.cfg.People.Create(r.Context(), user, name); err != nil {
		if errors.Is(err, catalog.ErrExists) {
			return http.StatusMethodNotAllowed, err
		}
		return statusFor(err), err
	}
	w.WriteHeader(http.StatusCreated)
	return 0, nil
}

// intoPerson: a photo copied or moved into a person folder from outside
// /by-person shows that person.
func (h *Handler) intoPerson(ctx context.Context, user string, dst resource, so catalog.Object) (int, error) {
	dp, dFile, _ := strings.Cut(dst.key, "/")
	if dp == "" || dFile == "" || strings.Contains(dFile, "/") {
		return http.StatusForbidden, errors.New("photos go into a person folder, not deeper")
	}
	if h.cfg.People == nil {
		return http.StatusForbidden, errPeopleReadOnly
	}
	if so.SHA256 == "" || so.Bucket == "" {
		return http.StatusForbidden, errors.New("only photos of your library can go into a person folder")
	}
	to, err := h.cfg.Virtual.Person(ctx, user, dp)
	if err != nil {
		return http.StatusConflict, fmt.Errorf("no person folder %q", dp)
	}
	if err := h.cfg.People.Assign(ctx, user, so.Bucket, so.Key, to.ID); err != nil {
		if errors.Is(err, catalog.ErrAmbiguousFace) {
			return http.StatusConflict, err
		}
		return statusFor(err), err
	}
	return 0, nil
}

var errPeopleReadOnly = errors.New("person folders cannot be changed on this server")

// movePerson: renaming a person folder names the person; moving it onto
// another merges them; moving a photo from one person's folder to
// another's reassigns its face. The folder names are resolved to persons
// here; the change itself is People's.
func (h *Handler) movePerson(ctx context.Context, user string, src, dst resource, so catalog.Object) (int, error) {
	sp, sFile, _ := strings.Cut(src.key, "/")
	dp, dFile, _ := strings.Cut(dst.key, "/")
	if sp == "" || dp == "" || strings.Contains(sFile, "/") || strings.Contains(dFile, "/") || (sFile == "") != (dFile == "") {
		return http.StatusForbidden, errors.New("person folders are renamed or merged, and photos moved between them")
	}
	if h.cfg.People == nil {
		return http.StatusForbidden, errPeopleReadOnly
	}
	from, err := h.cfg.Virtual.Person(ctx, user, sp)
	if err != nil {
		return http.StatusNotFound, err
	}
	to, terr := h.cfg.Virtual.Person(ctx, user, dp)
	switch {
	case sFile == "" && terr != nil: // a new name
		err = h.cfg.People.Rename(ctx, user, from.ID, dp)
	case sFile == "" && to.ID == from.ID:
		return http.StatusForbidden, errors.New("source and destination are the same person")
	case sFile == "":
		err = h.cfg.People.Merge(ctx, user, from.ID, to.ID)
	case terr != nil:
		return http.StatusConflict, fmt.Errorf("no person folder %q", dp)
	default: // one photo to another person
		err = h.cfg.People.Reassign(ctx, user, so.Bucket, so.Key, from.ID, to.ID)
	}
	if err != nil {
		return statusFor(err), err
	}
	return 0, nil
}

// deleteInPerson: deleting a photo in a person folder means "not this
// person" (the photo stays); deleting the folder forgets the grouping.
func (h *Handler) deleteInPerson(ctx context.Context, user string, res resource, o catalog.Object) error {
	label, file, _ := strings.Cut(res.key, "/")
	p, err := h.cfg.Virtual.Person(ctx, user, label)
	if err != nil {
		return fmt.Errorf("%s: %w", res.path, gateway.ErrNotFound)
	}
	if file == "" {
		return h.cfg.People.Hide(ctx, user, p.ID)
	}
	return h.cfg.People.Reject(ctx, user, p.ID, o.Bucket, o.Key)
}
