package main

import (
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ncSearchBody is a SEARCH as the Nextcloud Android app sends it for its
// media view: photos and videos below a scope, newest first, paged.
func ncSearchBody(scope string, first int) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<d:searchrequest xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns" xmlns:ns="http://nextcloud.com/ns">
 <d:basicsearch>
  <d:select><d:prop><oc:fileid/><d:displayname/><d:getcontenttype/><d:getlastmodified/><d:getetag/><oc:permissions/><nc:has-preview/></d:prop></d:select>
  <d:from><d:scope><d:href>` + scope + `</d:href><d:depth>infinity</d:depth></d:scope></d:from>
  <d:where><d:and>
   <d:or>
    <d:like><d:prop><d:getcontenttype/></d:prop><d:literal>image/%</d:literal></d:like>
    <d:like><d:prop><d:getcontenttype/></d:prop><d:literal>video/%</d:literal></d:like>
   </d:or>
   <d:lte><d:prop><d:getlastmodified/></d:prop><d:literal>2000000000</d:literal></d:lte>
  </d:and></d:where>
  <d:orderby><d:order><d:prop><d:getlastmodified/></d:prop><d:descending/></d:order></d:orderby>
  <d:limit><d:nresults>2</d:nresults><ns:firstresult>` + strconv.Itoa(first) + `</ns:firstresult></d:limit>
 </d:basicsearch>
</d:searchrequest>`
}

// TestNextcloudSearch: the apps' media SEARCH, sent with curl, answers the
// user's photos and videos newest first, paged, with the properties
// asked for; another user's scope is forbidden.
func TestNextcloudSearch(t *testing.T) {
	curl := needTool(t, "curl")
	s := startServer(t)
	s.mkcol("/dav/photos")
	s.mkcol("/dav/photos/2019")
	s.put("/dav/photos/old.jpg", "a", "X-OC-Mtime", "1500000000", "Content-Type", "image/jpeg")
	s.put("/dav/photos/2019/clip.mp4", "b", "X-OC-Mtime", "1600000000", "Content-Type", "video/mp4")
	s.put("/dav/photos/notes.txt", "c", "X-OC-Mtime", "1700000000", "Content-Type", "text/plain")
	s.put("/dav/photos/new.jpg", "d", "X-OC-Mtime", "1650000000", "Content-Type", "image/jpeg")
	search := func(scope string, first int) (string, string) {
		t.Helper()
		out, err := exec.Command(curl, "-s", "-u", "admin:"+adminPW, "-X", "SEARCH", "-H", "Content-Type: text/xml",
			"-w", "\n%{http_code}", "--data-binary", ncSearchBody(scope, first), s.url("/remote.php/dav/")).CombinedOutput()
		if err != nil {
			t.Fatalf("curl: %v\n%s", err, out)
		}
		body, code, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if i := strings.LastIndex(string(out), "\n"); i >= 0 {
			body, code = string(out[:i]), string(out[i+1:])
		}
		return code, body
	}
	hrefs := regexp.MustCompile(`<D:href>([^<]*)</D:href>`)
	page := func(body string) []string {
		var out []string
		for _, m := range hrefs.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	code, body := search("/files/admin/photos", 0)
	if code != "207" {
		t.Fatalf("SEARCH: %s\n%s", code, body)
	}
	if got, want := page(body), []string{"/remote.php/dav/files/admin/photos/new.jpg", "/remote.php/dav/files/admin/photos/2019/clip.mp4"}; !slices.Equal(got, want) {
		t.Errorf("first page: %q; want %q\n%s", got, want, body)
	}
	for _, p := range []string{"<D:getcontenttype>image/jpeg</D:getcontenttype>", "<D:getcontenttype>video/mp4</D:getcontenttype>", "<fileid ", "<D:displayname>new.jpg</D:displayname>", "<D:getetag>", "GDNVW", ">true</has-preview>", "<D:getlastmodified>Fri, 15 Apr 2022 05:20:00 GMT<"} {
		if !strings.Contains(body, p) {
			t.Errorf("first page lacks %q:\n%s", p, body)
		}
	}
	code, body = search("/files/admin/photos", 2)
	if got, want := page(body), []string{"/remote.php/dav/files/admin/photos/old.jpg"}; code != "207" || !slices.Equal(got, want) {
		t.Errorf("second page: %s %q; want %q\n%s", code, got, want, body)
	}
	code, body = search("/files/admin", 0)
	if got := page(body); code != "207" || len(got) != 2 || !strings.HasSuffix(got[0], "/photos/new.jpg") {
		t.Errorf("user-wide: %s %q\n%s", code, got, body)
	}
	if code, body := search("/files/bob/photos", 0); code != "403" {
		t.Errorf("another user's scope: %s; want 403\n%s", code, body)
	}
}
