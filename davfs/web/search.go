package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"shoebox/catalog"
	"shoebox/gateway/auth"
)

// GET /api/v1/search: the user's photos and videos matching every filter
// given, newest first (catalog.Search), one page at a time:
//
//	from, to     capture date bounds, inclusive: 2019, 2019-06 or 2019-06-12
//	camera, lens exact names, as /by-camera shows cameras
//	person       a person's id or name (repeat for several: all of them)
//	album        an album's name
//	kind         photo or video
//	duplicates   1: only files with an exact or near duplicate
//	near         LAT,LON,KM: taken within KM of a point
//	country      a country as /by-place names it, or its ISO code (FR)
//	city         a city as /by-place names it
//	tag          a keyword (repeat for several: all of them)
//	rating       1-5: rated at least that
//	q            free text: file-name words, cameras, lenses, people,
//	             places, tags
//	cursor       the "next" of the previous page
//	limit        page size, 1-1000 (100)
//
// The answer is {"items": [{bucket, key, taken, kind}], "next": cursor};
// "next" is absent after the last page.

// SearchHit is one item of GET /api/v1/search.
type SearchHit struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Taken  string `json:"taken"`
	Kind   string `json:"kind"`
}

// SearchPage is GET /api/v1/search's answer.
type SearchPage struct {
	Items []SearchHit `json:"items"`
	Next  string      `json:"next,omitempty"`
}

// parseSearch reads a search from the query string.
func parseSearch(v url.Values) (catalog.Query, error) {
	q := catalog.Query{
		From: v.Get("from"), To: v.Get("to"), Camera: v.Get("camera"), Lens: v.Get("lens"),
		Persons: v["person"], Album: v.Get("album"), Kind: v.Get("kind"), Text: v.Get("q"),
		Country: v.Get("country"), City: v.Get("city"), Tags: v["tag"],
		After: v.Get("cursor"),
	}
	if s := v.Get("rating"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 5 {
			return q, errors.New("rating must be 1 to 5, not " + strconv.Quote(s))
		}
		q.MinRating = n
	}
	for _, d := range []struct{ name, val string }{{"from", q.From}, {"to", q.To}} {
		if d.val != "" && !catalog.IsDatePrefix(d.val) {
			return q, errors.New(d.name + " must be a date: 2019, 2019-06 or 2019-06-12, not " + strconv.Quote(d.val))
		}
	}
	switch v.Get("duplicates") {
	case "", "0", "false":
	case "1", "true":
		q.Duplicates = true
	default:
		return q, errors.New("duplicates must be 1 or 0, not " + strconv.Quote(v.Get("duplicates")))
	}
	if s := v.Get("near"); s != "" {
		parts := strings.Split(s, ",")
		var f [3]float64
		ok := len(parts) == 3
		for i := 0; ok && i < 3; i++ {
			var err error
			f[i], err = strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
			ok = err == nil
		}
		if !ok {
			return q, errors.New("near must be LAT,LON,KM (e.g. 38.72,-9.14,5), not " + strconv.Quote(s))
		}
		q.Near = &catalog.Near{Lat: f[0], Lon: f[1], RadiusKm: f[2]}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return q, errors.New("limit must be 1 to 1000, not " + strconv.Quote(s))
		}
		q.Limit = n
	}
	return q, nil
}

// search serves GET /api/v1/search.
func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	q, err := parseSearch(r.URL.Query())
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	hits, next, err := h.cat.Search(r.Context(), auth.User(r.Context()), q)
	if errors.Is(err, catalog.ErrBadQuery) {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		apiError(w, http.StatusInternalServerError, "search: "+err.Error())
		return
	}
	out := SearchPage{Items: make([]SearchHit, 0, len(hits)), Next: next}
	for _, h := range hits {
		out.Items = append(out.Items, SearchHit{Bucket: h.Bucket, Key: h.Key, Taken: h.When, Kind: h.Kind})
	}
	writeJSON(w, http.StatusOK, out)
}
