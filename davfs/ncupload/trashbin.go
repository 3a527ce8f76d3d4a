package ncupload

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
)

// trashName is the name of a trash item in the trash bin: its file name,
// ".d", its trash id (Nextcloud's names end in ".d<deletion time>"; the
// clients show nc:trashbin-filename and use the name only in hrefs).
func trashName(it catalog.TrashItem) string {
	return path.Base(strings.TrimSuffix(it.Key, "/")) + ".d" + it.ID
}

// trashID is the trash id in a trash bin name.
func trashID(name string) (string, error) {
	i := strings.LastIndex(name, ".d")
	if i < 0 {
		return "", fail(http.StatusNotFound, "%s is not in the trash bin", name)
	}
	return name[i+2:], nil
}

// items lists the user's trash items of one kind (deleted, or versions),
// with the rows of their bytes.
func (s *Server) items(ctx context.Context, user string, versions bool, fn func(catalog.TrashItem, catalog.Object) error) error {
	var its []catalog.TrashItem
	err := s.gw.Catalog().Trash(ctx, user, func(it catalog.TrashItem) error {
		if it.Version == versions {
			its = append(its, it)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list the trash of %s: %w", user, err)
	}
	for _, it := range its {
		it, o, err := s.gw.TrashItem(ctx, user, it.ID)
		if errors.Is(err, gateway.ErrNotInTrash) { // purged meanwhile
			continue
		} else if err != nil {
			return err
		}
		if err := fn(it, o); err != nil {
			return err
		}
	}
	return nil
}

// item returns the user's trash item id of the kind asked.
func (s *Server) item(ctx context.Context, user, id string, version bool) (catalog.TrashItem, catalog.Object, error) {
	it, o, err := s.gw.TrashItem(ctx, user, id)
	if err == nil && it.Version != version {
		err = fmt.Errorf("%s: %w", id, gateway.ErrNotInTrash)
	}
	return it, o, err
}

// listRoot answers a PROPFIND of prefix/USER/: the collection and, at
// depth 1, its fixed child collections.
func (s *Server) listRoot(w http.ResponseWriter, r *request, prefix string, children ...string) {
	rs := []response{{href: s.href(prefix, r.user) + "/", props: []prop{collection(), text("d", "displayname", r.user)}}}
	if depth(r.Request) == 1 {
		for _, n := range children {
			rs = append(rs, response{href: s.href(prefix, r.user, n) + "/", props: []prop{collection(), text("d", "displayname", n)}})
		}
	}
	writeMultistatus(w, rs)
}

// trashbin serves /remote.php/dav/trashbin/USER/…
func (s *Server) trashbin(w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	segs := r.segs
	switch {
	case len(segs) == 0 && r.Method == "PROPFIND":
		s.listRoot(w, r, TrashbinPrefix, "trash", "restore")
		return nil
	case len(segs) == 1 && segs[0] == "restore" && r.Method == "PROPFIND":
		writeMultistatus(w, []response{{href: s.href(TrashbinPrefix, r.user, "restore") + "/", props: []prop{collection()}}})
		return nil
	case len(segs) == 1 && segs[0] == "trash":
		switch r.Method {
		case "PROPFIND":
			rs := []response{{href: s.href(TrashbinPrefix, r.user, "trash") + "/", props: []prop{collection(), text("d", "displayname", "trash")}}}
			if depth(r.Request) == 1 {
				err := s.items(ctx, r.user, false, func(it catalog.TrashItem, o catalog.Object) error {
					rs = append(rs, s.trashResponse(it, o, r.user))
					return nil
				})
				if err != nil {
					return err
				}
			}
			writeMultistatus(w, rs)
			return nil
		case http.MethodDelete:
			n := 0
			err := s.items(ctx, r.user, false, func(it catalog.TrashItem, _ catalog.Object) error {
				if err := s.gw.Purge(ctx, r.user, it.ID); err != nil && !errors.Is(err, gateway.ErrNotInTrash) {
					return fmt.Errorf("empty the trash bin: %w", err)
				}
				n++
				return nil
			})
			if err != nil {
				return err
			}
			s.log.Info("trash bin emptied", "user", r.user, "items", n)
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	case len(segs) >= 2 && segs[0] == "trash":
		id, err := trashID(segs[1])
		if err != nil {
			return err
		}
		it, o, err := s.item(ctx, r.user, id, false)
		if err != nil {
			return err
		}
		if len(segs) > 2 {
			return fail(http.StatusNotFound, "%s: the trash bin shows deleted folders whole", r.URL.Path)
		}
		switch r.Method {
		case "PROPFIND":
			writeMultistatus(w, []response{s.trashResponse(it, o, r.user)})
			return nil
		case http.MethodGet, http.MethodHead:
			return s.serveContent(w, r, o, it.Key)
		case http.MethodDelete:
			if err := s.gw.Purge(ctx, r.user, id); err != nil {
				return err
			}
			s.log.Info("purged from the trash bin", "user", r.user, "bucket", it.Bucket, "key", it.Key, "id", id)
			w.WriteHeader(http.StatusNoContent)
			return nil
		case "MOVE":
			dst, err := s.destination(r, TrashbinPrefix)
			if err != nil {
				return err
			}
			if len(dst) != 2 || dst[0] != "restore" {
				return fail(http.StatusForbidden, "trash items are restored by a MOVE to %s%s/restore/NAME", TrashbinPrefix, r.user)
			}
			if err := s.gw.Restore(ctx, r.user, id, "", ""); err != nil {
				return err
			}
			w.WriteHeader(http.StatusCreated)
			return nil
		}
	}
	return fail(http.StatusMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path)
}

func (s *Server) trashResponse(it catalog.TrashItem, o catalog.Object, user string) response {
	name := trashName(it)
	href := s.href(TrashbinPrefix, user, "trash", name)
	if o.IsDir() {
		href += "/"
	}
	ps := append(objectProps(o, name),
		text("nc", "trashbin-filename", path.Base(strings.TrimSuffix(it.Key, "/"))),
		text("nc", "trashbin-original-location", it.Bucket+"/"+strings.TrimSuffix(it.Key, "/")),
		text("nc", "trashbin-deletion-time", strconv.FormatInt(it.DeletedNs/int64(time.Second), 10)),
		text("oc", "fileid", it.ID))
	return response{href: href, props: ps}
}

// serveContent answers GET of a trash item's bytes.
func (s *Server) serveContent(w http.ResponseWriter, r *request, o catalog.Object, key string) error {
	if o.IsDir() {
		return fail(http.StatusMethodNotAllowed, "%s is a folder", key)
	}
	f, o, err := s.gw.Open(r.Context(), r.user, gateway.TrashBucket, o.Key)
	if err != nil {
		return err
	}
	defer f.Close()
	if o.ContentType != "" {
		w.Header().Set("Content-Type", o.ContentType)
	}
	w.Header().Set("ETag", o.ETag())
	http.ServeContent(w, r.Request, path.Base(key), o.ModTime(), f)
	return nil
}

// versions serves /remote.php/dav/versions/USER/…
func (s *Server) versions(w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	segs := r.segs
	switch {
	case len(segs) == 0 && r.Method == "PROPFIND":
		s.listRoot(w, r, VersionsPrefix, "versions", "restore")
		return nil
	case len(segs) == 1 && (segs[0] == "versions" || segs[0] == "restore") && r.Method == "PROPFIND":
		writeMultistatus(w, []response{{href: s.href(VersionsPrefix, r.user, segs[0]) + "/", props: []prop{collection()}}})
		return nil
	case len(segs) == 2 && segs[0] == "versions" && r.Method == "PROPFIND":
		fileid := segs[1]
		rs := []response{{href: s.href(VersionsPrefix, r.user, "versions", fileid) + "/", props: []prop{collection(), text("d", "displayname", fileid)}}}
		if depth(r.Request) == 1 {
			err := s.fileVersions(ctx, r.user, fileid, func(it catalog.TrashItem, o catalog.Object) error {
				rs = append(rs, s.versionResponse(it, o, r.user, fileid))
				return nil
			})
			if err != nil {
				return err
			}
		}
		writeMultistatus(w, rs)
		return nil
	case len(segs) == 3 && segs[0] == "versions":
		fileid, id := segs[1], segs[2]
		it, o, err := s.item(ctx, r.user, id, true)
		if err != nil {
			return err
		}
		if fid, err := s.fileID(ctx, r.user, it.Bucket, it.Key); err != nil {
			return err
		} else if fid != fileid {
			return fail(http.StatusNotFound, "%s is not a version of file %s", id, fileid)
		}
		switch r.Method {
		case "PROPFIND":
			writeMultistatus(w, []response{s.versionResponse(it, o, r.user, fileid)})
			return nil
		case http.MethodGet, http.MethodHead:
			return s.serveContent(w, r, o, it.Key)
		case http.MethodDelete:
			if err := s.gw.Purge(ctx, r.user, id); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		case "MOVE":
			dst, err := s.destination(r, VersionsPrefix)
			if err != nil {
				return err
			}
			if len(dst) != 2 || dst[0] != "restore" {
				return fail(http.StatusForbidden, "versions are restored by a MOVE to %s%s/restore/target", VersionsPrefix, r.user)
			}
			// The current content becomes a version in turn (the gateway
			// keeps what a MOVE replaces).
			if err := s.gw.Restore(ctx, r.user, id, "", ""); err != nil {
				return err
			}
			s.log.Info("version restored", "user", r.user, "bucket", it.Bucket, "key", it.Key, "id", id)
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	return fail(http.StatusMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path)
}

// fileVersions calls fn for the versions of the file fileid, oldest
// first.
func (s *Server) fileVersions(ctx context.Context, user, fileid string, fn func(catalog.TrashItem, catalog.Object) error) error {
	ids := map[[2]string]string{} // bucket, key → file id
	return s.items(ctx, user, true, func(it catalog.TrashItem, o catalog.Object) error {
		k := [2]string{it.Bucket, it.Key}
		fid, ok := ids[k]
		if !ok {
			var err error
			if fid, err = s.fileID(ctx, user, it.Bucket, it.Key); err != nil {
				return err
			}
			ids[k] = fid
		}
		if fid != fileid {
			return nil
		}
		return fn(it, o)
	})
}

func (s *Server) versionResponse(it catalog.TrashItem, o catalog.Object, user, fileid string) response {
	ps := append(objectProps(o, it.ID),
		text("nc", "version-label", ""),
		text("nc", "version-author", user))
	return response{href: s.href(VersionsPrefix, user, "versions", fileid, it.ID), props: ps}
}
