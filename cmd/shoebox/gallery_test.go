package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoebox/davfs/web"
)

// The JSON API's types, as the tests decode them (the API lives in
// davfs/web).
type (
	apiObject    = web.Object
	apiStatus    = web.Status
	apiTrashItem = web.TrashEntry
	apiSearch    = web.SearchPage
	apiHit       = web.SearchHit
)

// putMedia uploads files of ../shared/testdata/media into bucket over
// WebDAV as user (the bucket is made first).
func (s *server) putMedia(t *testing.T, user, pw, bucket string, names ...string) {
	t.Helper()
	resp, body := s.doAs(user, pw, "MKCOL", "/dav/"+bucket, nil)
	if resp.StatusCode != 201 && resp.StatusCode != 405 {
		t.Fatalf("MKCOL %s: %d %s", bucket, resp.StatusCode, body)
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", "media", n))
		if err != nil {
			t.Fatal(err)
		}
		resp, body := s.doAs(user, pw, "PUT", "/dav/"+bucket+"/"+url.PathEscape(n), strings.NewReader(string(b)))
		if resp.StatusCode != 201 && resp.StatusCode != 204 {
			t.Fatalf("PUT %s: %d %s", n, resp.StatusCode, body)
		}
	}
}

func decodeJSON(t testing.TB, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %.300s: %v", body, err)
	}
}

// browserish is a client with a cookie jar, as the app is.
type browserish struct {
	t    *testing.T
	s    *server
	c    *http.Client
	csrf string
}

func newBrowserish(t *testing.T, s *server) *browserish {
	jar, _ := cookiejar.New(nil)
	return &browserish{t: t, s: s, c: &http.Client{Jar: jar, Transport: s.client.Transport}}
}

func (b *browserish) do(method, p, body string, hdr ...string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.s.url(p), strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("X-Shoebox-App", "1")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, p, err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(out)
}

func (b *browserish) signIn(user, pw string) *http.Response {
	b.t.Helper()
	resp, body := b.do("POST", "/api/v1/session", url.Values{"user": {user}, "password": {pw}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded")
	if resp.StatusCode == 200 {
		var si struct{ User, CSRF string }
		decodeJSON(b.t, body, &si)
		b.csrf = si.CSRF
	}
	return resp
}

// TestGallerySession: sign-in with the user's password makes a session
// cookie (HttpOnly, SameSite=Strict, random); changes with the cookie need
// the CSRF token; Basic changes from another site's page are refused, from
// scripts accepted; failed sign-ins are slowed down like the other
// protocols; sign-out ends the session; every answer has a strict CSP.
func TestGallerySession(t *testing.T) {
	s := startServer(t)
	b := newBrowserish(t, s)

	resp, body := b.do("GET", "/", "")
	want(t, resp, body, 200)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP of / = %q; want scripts from self only, nothing inline", csp)
	}
	if !strings.Contains(body, `src="app/app.js"`) || strings.Contains(body, "<script>") {
		t.Errorf("page has inline script or lacks app.js:\n%s", body)
	}
	resp, body = b.do("GET", "/app/app.js", "")
	want(t, resp, body, 200)
	if strings.Contains(body, "innerHTML") || strings.Contains(body, "eval(") {
		t.Errorf("app.js uses innerHTML or eval")
	}

	// Not signed in: the app learns it without a failed request; the API
	// refuses it without a Basic challenge (no browser dialog).
	resp, body = b.do("GET", "/api/v1/session", "")
	want(t, resp, body, 200)
	if strings.Contains(body, "admin") {
		t.Errorf("session before sign-in = %s", body)
	}
	resp, body = b.do("GET", "/api/v1/timeline", "")
	want(t, resp, body, 401)
	if resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("the app's 401 carries a Basic challenge")
	}

	if resp := b.signIn("admin", "wrong"); resp.StatusCode != 401 {
		t.Fatalf("sign-in with a wrong password: %d; want 401", resp.StatusCode)
	}
	resp = b.signIn("admin", adminPW)
	if resp.StatusCode != 200 || b.csrf == "" {
		t.Fatalf("sign-in: %d, csrf %q", resp.StatusCode, b.csrf)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == web.CookieName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || len(cookie.Value) < 40 || cookie.Secure {
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Strict, a long random value, not Secure over http", cookie)
	}
	resp, body = b.do("GET", "/api/v1/session", "")
	want(t, resp, body, 200)
	if !strings.Contains(body, `"user": "admin"`) || !strings.Contains(body, b.csrf) {
		t.Errorf("session = %s", body)
	}
	s.mkcol("/dav/photos")

	// Changes with the cookie: refused without the token or with a wrong one.
	album := `{"name":"Trip"}`
	for _, tok := range []string{"", "wrong", b.csrf[:len(b.csrf)-1]} {
		var hdr []string
		if tok != "" {
			hdr = []string{"X-CSRF-Token", tok}
		}
		resp, body = b.do("POST", "/api/v1/albums", album, hdr...)
		want(t, resp, body, 403)
	}
	resp, body = b.do("PUT", "/api/v1/objects/photos/a.jpg", "x")
	want(t, resp, body, 403)
	resp, body = b.do("DELETE", "/api/v1/session", "")
	want(t, resp, body, 403)
	resp, body = b.do("POST", "/api/v1/albums", album, "X-CSRF-Token", b.csrf)
	want(t, resp, body, 201)

	// Basic: a script's change goes through; one from another site's
	// page (a browser replaying remembered credentials) does not.
	resp, body = s.do("POST", "/api/v1/albums", strings.NewReader(`{"name":"Evil"}`), "Origin", "http://evil.example")
	want(t, resp, body, 403)
	resp, body = s.do("POST", "/api/v1/albums", strings.NewReader(`{"name":"Evil"}`), "Sec-Fetch-Site", "cross-site")
	want(t, resp, body, 403)
	resp, body = s.do("POST", "/api/v1/albums", strings.NewReader(`{"name":"Script"}`))
	want(t, resp, body, 201)
	resp, body = s.do("GET", "/api/v1/albums", nil)
	want(t, resp, body, 200)
	if strings.Contains(body, "Evil") || !strings.Contains(body, "Trip") || !strings.Contains(body, "Script") {
		t.Errorf("albums = %s; want Trip and Script, not Evil", body)
	}
	// A sign-in posted from another site's page is refused (login CSRF).
	other := newBrowserish(t, s)
	resp, body = other.do("POST", "/api/v1/session", url.Values{"user": {"admin"}, "password": {adminPW}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", "http://evil.example")
	want(t, resp, body, 403)

	// Sign-out: the cookie no longer works.
	resp, body = b.do("DELETE", "/api/v1/session", "", "X-CSRF-Token", b.csrf)
	want(t, resp, body, 204)
	req, _ := http.NewRequest("GET", s.url("/api/v1/timeline"), nil)
	req.Header.Set("X-Shoebox-App", "1")
	req.AddCookie(cookie)
	r2, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 401 {
		t.Errorf("old session cookie after sign-out: %d; want 401", r2.StatusCode)
	}

	// Failed sign-ins are slowed down by the shared limiter (5 per address).
	var last *http.Response
	for range 7 {
		last = other.signIn("admin", "nope")
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" {
		t.Errorf("7th failed sign-in: %d (Retry-After %q); want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
	}
}

// TestGalleryIsolation: every API route refuses another user's items, by
// name, even where the other user has a bucket of the same name; and the
// lists show a user only their own.
func TestGalleryIsolation(t *testing.T) {
	s := startServer(t)
	s.putMedia(t, "admin", adminPW, "photos", "canon_eos.jpg", "beach_original.jpg", "beach_original (copy).jpg", "forest.jpg")
	s.mkcol("/dav/adminonly")
	if out, err := runCLI(t, "bob-password\n", "user", "add", "bob", "--password-stdin", "--data", s.data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	s.putMedia(t, "bob", "bob-password", "photos", "iphone_tokyo.jpg")
	s.waitQueue(t, 3*time.Minute)
	waitUntil(t, 3*time.Minute, "bob's photo enriched", func() bool {
		_, body := s.doAs("bob", "bob-password", "GET", "/api/v1/status", nil)
		var st apiStatus
		decodeJSON(t, body, &st)
		return st.Photos == 1 && st.Queue.Pending == 0 && st.Queue.Running == 0
	})
	resp, body := s.do("POST", "/api/v1/albums", strings.NewReader(`{"name":"Trip"}`))
	want(t, resp, body, 201)
	resp, body = s.do("POST", "/api/v1/albums/Trip/items", strings.NewReader(`{"bucket":"photos","key":"canon_eos.jpg"}`))
	want(t, resp, body, 204)
	resp, body = s.do("DELETE", "/api/v1/objects/photos/forest.jpg", nil)
	want(t, resp, body, 204)
	resp, body = s.do("GET", "/api/v1/trash", nil)
	want(t, resp, body, 200)
	var tr struct{ Items []web.TrashEntry }
	decodeJSON(t, body, &tr)
	if len(tr.Items) != 1 || tr.Items[0].Key != "forest.jpg" || tr.Items[0].Purge == "" {
		t.Fatalf("admin's trash = %s", body)
	}
	tid := tr.Items[0].ID

	bob := newBrowserish(t, s)
	if resp := bob.signIn("bob", "bob-password"); resp.StatusCode != 200 {
		t.Fatalf("bob signs in: %d", resp.StatusCode)
	}
	csrf := []string{"X-CSRF-Token", bob.csrf}
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/v1/objects/photos/canon_eos.jpg", ""},
		{"GET", "/api/v1/objects/photos/canon_eos.jpg/thumbnail?size=small", ""},
		{"GET", "/api/v1/objects/photos/canon_eos.jpg/thumbnail?size=preview", ""},
		{"GET", "/api/v1/objects/adminonly/", ""},
		{"GET", "/api/v1/files/photos/canon_eos.jpg", ""},
		{"GET", "/api/v1/files/photos/canon_eos.jpg?download=1", ""},
		{"DELETE", "/api/v1/objects/photos/canon_eos.jpg", ""},
		{"PUT", "/api/v1/objects/adminonly/x.jpg", "bytes"},
		{"PUT", "/api/v1/objects/.trash/" + tid, "bytes"},
		{"GET", "/api/v1/files/.trash/" + tid, ""},
		{"GET", "/api/v1/albums/Trip", ""},
		{"PATCH", "/api/v1/albums/Trip", `{"name":"Mine"}`},
		{"DELETE", "/api/v1/albums/Trip", ""},
		{"POST", "/api/v1/albums/Trip/items", `{"bucket":"photos","key":"iphone_tokyo.jpg"}`},
		{"DELETE", "/api/v1/albums/Trip/items/photos/canon_eos.jpg", ""},
		{"GET", "/api/v1/trash/" + tid + "/thumbnail", ""},
		{"POST", "/api/v1/trash/" + tid + "/restore", ""},
		{"DELETE", "/api/v1/trash/" + tid, ""},
		{"POST", "/api/v1/duplicates/keep", `{"bucket":"photos","key":"beach_original.jpg"}`},
		{"GET", "/api/v1/people/p1", ""},
		{"GET", "/api/v1/people/p1/cover", ""},
		{"PATCH", "/api/v1/people/p1", `{"name":"Eve"}`},
		{"POST", "/api/v1/people/p1/hide", ""},
		{"GET", "/api/v1/places/France", ""}, // admin's canon_eos.jpg was taken in Paris
	} {
		resp, body := bob.do(tc.method, tc.path, tc.body, csrf...)
		if resp.StatusCode != 404 && resp.StatusCode != 403 {
			t.Errorf("bob %s %s: %d %.200s; want 404 (or 403)", tc.method, tc.path, resp.StatusCode, body)
		}
		// The same over Basic.
		resp, body = s.doAs("bob", "bob-password", tc.method, tc.path, strings.NewReader(tc.body))
		if resp.StatusCode != 404 && resp.StatusCode != 403 {
			t.Errorf("bob (Basic) %s %s: %d %.200s; want 404 (or 403)", tc.method, tc.path, resp.StatusCode, body)
		}
	}
	// Bob's lists hold only his.
	for p, notWant := range map[string]string{
		"/api/v1/timeline": "canon_eos", "/api/v1/albums": "Trip", "/api/v1/trash": "forest",
		"/api/v1/duplicates": "beach", "/api/v1/buckets": "adminonly", "/api/v1/timeline/months": "2019-06",
		"/api/v1/search?q=canon": "canon_eos", "/api/v1/places": "France",
	} {
		resp, body := bob.do("GET", p, "")
		want(t, resp, body, 200)
		if strings.Contains(body, notWant) {
			t.Errorf("bob's %s shows admin's %s: %.300s", p, notWant, body)
		}
	}
	// Another user's album is no album.
	resp, body = bob.do("GET", "/api/v1/search?album=Trip", "")
	if resp.StatusCode != 400 || strings.Contains(body, "canon_eos") {
		t.Errorf("bob searches admin's album: %d %.200s; want 400 (no such album)", resp.StatusCode, body)
	}
	resp, body = bob.do("GET", "/api/v1/timeline", "")
	if !strings.Contains(body, "iphone_tokyo.jpg") {
		t.Errorf("bob's timeline lacks his photo: %.300s", body)
	}
	// Admin's things are untouched.
	resp, body = s.do("GET", "/api/v1/albums/Trip", nil)
	want(t, resp, body, 200)
	if !strings.Contains(body, "canon_eos.jpg") {
		t.Errorf("admin's album lost its photo: %s", body)
	}
	resp, body = s.do("GET", "/api/v1/trash", nil)
	if !strings.Contains(body, tid) {
		t.Errorf("admin's trash lost %s: %s", tid, body)
	}
	s.get("/dav/photos/canon_eos.jpg")
	s.get("/dav/photos/beach_original%20(copy).jpg")
}

// TestGalleryTimelinePaging: the timeline pages through every photo, newest
// first, by cursor, with no photo twice or missing, whatever the page
// size; from= starts at a month.
func TestGalleryTimelinePaging(t *testing.T) {
	s := startServer(t)
	names := []string{"IMG-20170315-WA0003.jpg", "IMG_20180704_101500.jpg", "PXL_20230115_083000123.jpg", "beach_original.jpg",
		"beach_original (copy).jpg", "beach_resized.jpg", "canon_eos.jpg", "forest.jpg", "iphone_tokyo.jpg", "takeout_photo.jpg"}
	s.putMedia(t, "admin", adminPW, "photos", names...)
	s.waitQueue(t, 3*time.Minute)
	all := func(limit int, from string) []web.Item {
		var out []web.Item
		cur := ""
		for range 100 {
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if cur != "" {
				q.Set("cursor", cur)
			} else if from != "" {
				q.Set("from", from)
			}
			resp, body := s.do("GET", "/api/v1/timeline?"+q.Encode(), nil)
			want(t, resp, body, 200)
			var p web.Page
			decodeJSON(t, body, &p)
			if len(p.Items) > limit {
				t.Fatalf("page of %d items; limit %d", len(p.Items), limit)
			}
			out = append(out, p.Items...)
			if p.Next == "" {
				return out
			}
			cur = p.Next
		}
		t.Fatal("no end of the timeline after 100 pages")
		return nil
	}
	ref := all(1000, "")
	if len(ref) != len(names) {
		t.Fatalf("timeline has %d items; want %d", len(ref), len(names))
	}
	for i := 1; i < len(ref); i++ {
		a, b := ref[i-1], ref[i]
		if a.Day < b.Day || (a.Day == b.Day && a.Date < b.Date) {
			t.Errorf("timeline out of order: %s (%s) before %s (%s)", a.Key, a.Date, b.Key, b.Date)
		}
		if a.Thumbnail == "" || !strings.Contains(a.Thumbnail, "&v=") {
			t.Errorf("%s thumbnail URL = %q", a.Key, a.Thumbnail)
		}
	}
	for _, limit := range []int{1, 2, 3, 7} {
		got := all(limit, "")
		if len(got) != len(ref) {
			t.Fatalf("limit %d: %d items; want %d", limit, len(got), len(ref))
		}
		for i := range got {
			if got[i].Bucket != ref[i].Bucket || got[i].Key != ref[i].Key {
				t.Errorf("limit %d: item %d = %s; want %s", limit, i, got[i].Key, ref[i].Key)
			}
		}
	}
	from := all(2, "2019-06")
	for _, it := range from {
		if it.Day > "2019-06-30" {
			t.Errorf("from=2019-06 gives %s of %s", it.Key, it.Day)
		}
	}
	if len(from) == 0 || len(from) == len(ref) {
		t.Errorf("from=2019-06 gives %d of %d items", len(from), len(ref))
	}
	// The thumbnail is cached for good, and revalidates by ETag.
	resp, body := s.do("GET", "/"+ref[0].Thumbnail, nil)
	want(t, resp, body, 200)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("thumbnail Cache-Control = %q", cc)
	}
	resp, body = s.do("GET", "/"+ref[0].Thumbnail, nil, "If-None-Match", resp.Header.Get("ETag"))
	want(t, resp, body, 304)
	resp, body = s.do("GET", "/api/v1/timeline?cursor=garbage", nil)
	want(t, resp, body, 400)

	// The original, with Range (video seeking), and as a download.
	resp, body = s.do("GET", "/api/v1/files/photos/canon_eos.jpg", nil, "Range", "bytes=2-5")
	want(t, resp, body, 206)
	if orig := s.get("/dav/photos/canon_eos.jpg"); body != orig[2:6] {
		t.Errorf("Range 2-5 = %q; want %q", body, orig[2:6])
	}
	resp, body = s.do("GET", "/api/v1/files/photos/canon_eos.jpg?download=1", nil)
	want(t, resp, body, 200)
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("download Content-Disposition = %q", cd)
	}
	// The plain listing of /dav/ folders: parent, sizes, dates,
	// thumbnails (through the API), no script.
	resp, body = s.do("GET", "/dav/photos/", nil)
	want(t, resp, body, 200)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("listing CSP = %q", csp)
	}
	for _, w := range []string{`href="/dav/">../</a>`, `href="/dav/photos/canon_eos.jpg">canon_eos.jpg</a>`, "/api/v1/objects/photos/canon_eos.jpg/thumbnail?size=small&amp;v="} {
		if !strings.Contains(body, w) {
			t.Errorf("listing of /dav/photos/ lacks %s:\n%.2000s", w, body)
		}
	}
	if i := strings.Index(body, "/api/v1/objects/photos/canon_eos.jpg/thumbnail"); i >= 0 {
		u := strings.ReplaceAll(body[i:i+strings.Index(body[i:], `"`)], "&amp;", "&")
		resp, b := s.do("GET", u, nil)
		want(t, resp, b, 200)
	}
	// An upload does not replace a file unless asked.
	resp, body = s.do("PUT", "/api/v1/objects/photos/new/deep/x.png", strings.NewReader(string(pngBytes(t, 5, 5))))
	want(t, resp, body, 201)
	resp, body = s.do("PUT", "/api/v1/objects/photos/new/deep/x.png", strings.NewReader("other"))
	want(t, resp, body, 409)
	resp, body = s.do("PUT", "/api/v1/objects/photos/new/deep/x.png?overwrite=1", strings.NewReader("other"))
	want(t, resp, body, 201)
	if got := s.get("/dav/photos/new/deep/x.png"); got != "other" {
		t.Errorf("after overwrite: %q", got)
	}
}

// TestDuplicatesPaging: GET /api/v1/duplicates gives its groups a page at
// a time, in name order, each once, following "next".
func TestDuplicatesPaging(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/dups")
	for i, f := range []string{"canon_eos.jpg", "forest.jpg", "iphone_tokyo.jpg"} { // unlike each other
		img := string(mustRead(t, filepath.Join(sharedMedia, f)))
		s.put(fmt.Sprintf("/dav/dups/p%d.jpg", i), img)
		s.put(fmt.Sprintf("/dav/dups/p%d copy.jpg", i), img)
	}
	s.waitQueue(t, 3*time.Minute)
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		p := "/api/v1/duplicates?limit=1"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		resp, body := s.do("GET", p, nil)
		want(t, resp, body, 200)
		var j struct {
			Groups []struct {
				Name  string `json:"name"`
				Items []any  `json:"items"`
			} `json:"groups"`
			Next string `json:"next"`
		}
		if err := json.Unmarshal([]byte(body), &j); err != nil {
			t.Fatal(err)
		}
		if len(j.Groups) != 1 || len(j.Groups[0].Items) != 2 {
			t.Fatalf("page %d: %s; want one group of two", page, body)
		}
		seen = append(seen, j.Groups[0].Name)
		if j.Next == "" {
			break
		}
		cursor = j.Next
		if page > 3 {
			t.Fatalf("pages never end: %q", seen)
		}
	}
	if len(seen) != 3 || !slices.IsSorted(seen) {
		t.Errorf("groups by page: %q; want 3 in name order", seen)
	}
	if resp, body := s.do("GET", "/api/v1/duplicates?limit=0", nil); resp.StatusCode != 400 {
		t.Errorf("limit=0: %d %s", resp.StatusCode, body)
	}
}
