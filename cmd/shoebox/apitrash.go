package main

import (
	"errors"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
)

// apiTrashItem is one entry of GET /api/v1/trash: what /dav/trash lists,
// with where it was and when it was deleted (the WebDAV properties
// sb:original-location and sb:deleted-at).
type apiTrashItem struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	OriginalLocation string `json:"original_location"` // bucket/key
	DeletedAt        string `json:"deleted_at"`        // RFC 3339, UTC
	Dir              bool   `json:"dir,omitempty"`
	// Version: the content an overwrite replaced (deleted_at: when).
	Version bool  `json:"version,omitempty"`
	Size    int64 `json:"size"`
}

// apiTrash serves GET /api/v1/trash: the user's trash, newest first.
func apiTrash(mux *http.ServeMux, gw *gateway.Gateway) {
	mux.HandleFunc("GET /api/v1/trash", func(w http.ResponseWriter, r *http.Request) {
		ctx, user := r.Context(), auth.User(r.Context())
		var ids []catalog.TrashItem
		if err := gw.Catalog().Trash(ctx, user, func(it catalog.TrashItem) error { ids = append(ids, it); return nil }); err != nil {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
		out := []apiTrashItem{}
		for _, it := range ids {
			it, o, err := gw.TrashItem(ctx, user, it.ID)
			if errors.Is(err, gateway.ErrNotInTrash) {
				continue // purged meanwhile
			} else if err != nil {
				apiError(w, http.StatusInternalServerError, err.Error())
				return
			}
			key := strings.TrimSuffix(it.Key, "/")
			out = append(out, apiTrashItem{ID: it.ID, Name: path.Base(key), OriginalLocation: it.Bucket + "/" + key,
				DeletedAt: time.Unix(0, it.DeletedNs).UTC().Format(time.RFC3339), Dir: strings.HasSuffix(it.Key, "/"),
				Version: it.Version, Size: o.Size})
		}
		slices.SortStableFunc(out, func(a, b apiTrashItem) int { return strings.Compare(b.DeletedAt, a.DeletedAt) })
		writeJSON(w, http.StatusOK, map[string]any{"items": out})
	})
}
