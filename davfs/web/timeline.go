package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"shoebox/catalog"
	"shoebox/gateway/auth"
)

// Item is one photo or video as the timeline, albums, people and
// duplicates list them.
type Item struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Name   string `json:"name"`
	// Date is the local date and time the camera showed
	// ("2019-06-12T14:03:00"), Day its date; both "" when unknown.
	Date      string  `json:"date,omitempty"`
	Day       string  `json:"day,omitempty"`
	Kind      string  `json:"kind"` // photo or video
	Size      int64   `json:"size"`
	Width     int     `json:"width,omitempty"`
	Height    int     `json:"height,omitempty"`
	DurationS float64 `json:"duration_s,omitempty"`
	// Thumbnail is the small thumbnail's URL (relative to the API root's
	// parent, as the app's page is: "api/v1/objects/..."); it names the
	// content, so it may be cached for good.
	Thumbnail string `json:"thumbnail"`
	// Place is where it was taken ("Tokyo, Japan"), when known.
	Place string `json:"place,omitempty"`
	// People names the persons recognised in it.
	People []string `json:"people,omitempty"`
}

// urlPathEscape escapes each segment of a path.
func urlPathEscape(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func objectURL(bucket, key string) string {
	return "api/v1/objects/" + url.PathEscape(bucket) + "/" + urlPathEscape(key)
}

func thumbURL(o catalog.Object) string {
	u := objectURL(o.Bucket, o.Key) + "/thumbnail?size=small"
	if len(o.SHA256) >= 16 {
		u += "&v=" + o.SHA256[:16]
	}
	return u
}

func itemOf(o catalog.Object, m catalog.Media, names map[string]string) Item {
	it := Item{Bucket: o.Bucket, Key: o.Key, Name: path.Base(o.Key), Date: m.TakenLocal, Day: m.Day(), Kind: m.Kind,
		Size: o.Size, Width: m.Width, Height: m.Height, DurationS: m.DurationS}
	if m.ThumbnailState == "" && (m.Kind == "photo" || m.Kind == "video") {
		it.Thumbnail = thumbURL(o)
	}
	if p := m.Place; p != nil {
		var parts []string
		for _, v := range []string{p.City, p.Country} {
			if v != "" {
				parts = append(parts, v)
			}
		}
		it.Place = strings.Join(parts, ", ")
	}
	for _, f := range m.Faces {
		if n := names[f.Person]; n != "" && !slices.Contains(it.People, n) {
			it.People = append(it.People, n)
		}
	}
	return it
}

// order compares two items in the timeline's order: capture time, newest
// first, then bucket and key descending (the reverse of the capture-order
// index, as catalog.Search lists it).
func order(a, b Item) int {
	return -cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.Bucket, b.Bucket), cmp.Compare(a.Key, b.Key))
}

// Page is GET /api/v1/timeline's answer.
type Page struct {
	Items []Item `json:"items"`
	// Next is the cursor of the following page; "" at the end.
	Next string `json:"next,omitempty"`
}

const (
	defaultLimit = 120
	maxLimit     = 1000
)

var errBadCursor = errors.New("bad cursor")

// TimelinePage reads one page of user's photos and videos newest first
// by capture time (catalog.Search with no filter but the date): after
// the cursor after (a Page's Next; "" for the first page), or, when from
// is set, starting with the newest photo not after from (a year, month or
// day: the scrubber's jump). It then reads each hit's row and record
// (catalog.Files), in one snapshot.
func (h *Handler) TimelinePage(ctx context.Context, user, after, from string, limit int) (Page, error) {
	q := catalog.Query{After: after, Limit: limit}
	if after == "" {
		q.To = from
	}
	hits, next, err := h.cat.Search(ctx, user, q)
	if errors.Is(err, catalog.ErrBadQuery) {
		return Page{}, fmt.Errorf("%w: %w", errBadCursor, err)
	}
	if err != nil {
		return Page{}, fmt.Errorf("timeline of %s: %w", user, err)
	}
	names, err := h.personNames(ctx, user)
	if err != nil {
		return Page{}, err
	}
	refs := make([]catalog.Ref, len(hits))
	for i, hit := range hits {
		refs[i] = catalog.Ref{Bucket: hit.Bucket, Key: hit.Key}
	}
	fs, err := h.cat.Files(ctx, user, refs)
	if err != nil {
		return Page{}, fmt.Errorf("timeline of %s: %w", user, err)
	}
	page := Page{Items: make([]Item, 0, len(fs)), Next: next}
	for _, f := range fs {
		page.Items = append(page.Items, itemOf(f.Object, f.Media, names))
	}
	return page, nil
}

func (h *Handler) personNames(ctx context.Context, user string) (map[string]string, error) {
	ps, err := h.cat.People(ctx, user)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ps))
	for _, p := range ps {
		if p.Name != "" && !p.Hidden {
			names[p.ID] = p.Name
		}
	}
	return names, nil
}

// timeline serves GET /api/v1/timeline?cursor=&limit=&from=.
func (h *Handler) timeline(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			apiError(w, http.StatusBadRequest, "limit must be 1 to "+strconv.Itoa(maxLimit))
			return
		}
		limit = n
	}
	from := q.Get("from")
	if from != "" && !catalog.IsDatePrefix(from) {
		apiError(w, http.StatusBadRequest, "from must be YYYY, YYYY-MM or YYYY-MM-DD")
		return
	}
	page, err := h.TimelinePage(r.Context(), auth.User(r.Context()), q.Get("cursor"), from, limit)
	if err != nil {
		if errors.Is(err, errBadCursor) {
			apiError(w, http.StatusBadRequest, "bad cursor: give back the next of a page")
			return
		}
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// Month is one of GET /api/v1/timeline/months: a month with photos and
// how many days of it have some.
type Month struct {
	Month string `json:"month"` // 2019-06
	Days  int    `json:"days"`
}

// months serves GET /api/v1/timeline/months, newest first, for the
// scrubber: one seek per day with photos (catalog.Days).
func (h *Handler) months(w http.ResponseWriter, r *http.Request) {
	days, err := h.cat.Days(r.Context(), auth.User(r.Context()), "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []Month{}
	for i := len(days) - 1; i >= 0; i-- {
		m := days[i][:7]
		if len(out) == 0 || out[len(out)-1].Month != m {
			out = append(out, Month{Month: m})
		}
		out[len(out)-1].Days++
	}
	writeJSON(w, http.StatusOK, map[string]any{"months": out})
}
