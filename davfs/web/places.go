package web

import (
	"net/http"

	"shoebox/gateway/auth"
)

// Places and tags, as /by-place and /by-tag list them: the country
// folders (catalog.Countries), a country's city folders
// (catalog.Cities), and the tags (catalog.Tags). The photos of a place or
// a tag are a search (GET /api/v1/search?country=&city= or ?tag=), so
// they page newest first like every other list of photos.
//
//	GET /api/v1/places              {"countries": ["France", "Japan"]}
//	GET /api/v1/places/{country}    {"country": "Japan", "cities": ["Tokyo"]}
//	GET /api/v1/tags                {"tags": ["beach", "family"]}

// places serves GET /api/v1/places.
func (h *Handler) places(w http.ResponseWriter, r *http.Request) {
	cs, err := h.cat.Countries(r.Context(), auth.User(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"countries": nonNil(cs)})
}

// cities serves GET /api/v1/places/{country}; 404 for a country with no
// photos.
func (h *Handler) cities(w http.ResponseWriter, r *http.Request) {
	country := r.PathValue("country")
	cs, err := h.cat.Cities(r.Context(), auth.User(r.Context()), country)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(cs) == 0 {
		apiError(w, http.StatusNotFound, "no photos in "+country)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"country": country, "cities": cs})
}

// tags serves GET /api/v1/tags.
func (h *Handler) tags(w http.ResponseWriter, r *http.Request) {
	ts, err := h.cat.Tags(r.Context(), auth.User(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tags": nonNil(ts)})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
