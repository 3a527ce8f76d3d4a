package main

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// curlResult is what curl got: the status, the headers and the body.
type curlResult struct {
	status int
	header http.Header
	body   string
}

// curl sends a request with curl as admin; data, when not "", is a file
// sent as the body (--data-binary @data).
func (s *server) curl(t *testing.T, method, p, data string, hdr ...string) curlResult {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-sS", "-k", "-u", "admin:" + adminPW, "-X", method, "-o", filepath.Join(dir, "body"), "-D", filepath.Join(dir, "head"), "-w", "%{http_code}"}
	for i := 0; i+1 < len(hdr); i += 2 {
		args = append(args, "-H", hdr[i]+": "+hdr[i+1])
	}
	if data != "" {
		args = append(args, "--data-binary", "@"+data)
	}
	args = append(args, s.url(p))
	out, err := exec.Command(needTool(t, "curl"), args...).Output()
	if err != nil {
		t.Fatalf("curl %s %s: %v", method, p, err)
	}
	res := curlResult{header: http.Header{}}
	res.status, _ = strconv.Atoi(strings.TrimSpace(string(out)))
	head, _ := os.ReadFile(filepath.Join(dir, "head"))
	for _, l := range strings.Split(string(head), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			res.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	body, _ := os.ReadFile(filepath.Join(dir, "body"))
	res.body = string(body)
	return res
}

func (r curlResult) want(t *testing.T, what string, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d; want %d; body: %.400s", what, r.status, status, r.body)
	}
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestNextcloudChunkedUpload drives chunked upload v2 by hand with curl,
// as the Nextcloud clients do: a 40 MiB file in four chunks with a
// restart of the server between them, then abort, a wrong total length,
// a checksum mismatch and a failed If-None-Match, none of which store
// anything.
func TestNextcloudChunkedUpload(t *testing.T) {
	needTool(t, "curl")
	s := startServer(t)
	s.mkcol("/dav/bkt")
	const chunk = 10 << 20
	big := make([]byte, 4*chunk)
	rng := rand.NewChaCha8([32]byte{17})
	rng.Read(big)
	var chunks []string
	for i := 0; i < 4; i++ {
		chunks = append(chunks, writeTemp(t, big[i*chunk:(i+1)*chunk]))
	}
	total := strconv.Itoa(len(big))
	sum := sha1.Sum(big)
	up := "/remote.php/dav/uploads/admin/web-file-upload-1234"
	dest := func(p string) string { return s.url("/remote.php/dav/files/admin/" + p) }

	s.curl(t, "MKCOL", up, "", "Destination", dest("bkt/big.bin"), "OC-Total-Length", total).want(t, "MKCOL", 201)
	s.curl(t, "MKCOL", up, "", "Destination", dest("bkt/big.bin")).want(t, "MKCOL again", 405)
	for i := 0; i < 2; i++ {
		s.curl(t, "PUT", up+"/"+strconv.Itoa(i+1), chunks[i], "Destination", dest("bkt/big.bin"), "OC-Total-Length", total).want(t, "PUT chunk", 201)
	}
	// A restart between chunks loses none that were acknowledged (the
	// listener's address changes: dest and s.url follow it).
	s.stop()
	s.start()
	r := s.curl(t, "PROPFIND", up, "", "Depth", "1")
	r.want(t, "PROPFIND the upload", 207)
	for _, w := range []string{up + "/1<", up + "/2<", "<d:getcontentlength>" + strconv.Itoa(chunk) + "<"} {
		if !strings.Contains(r.body, w) {
			t.Fatalf("PROPFIND of the upload after a restart lacks %q:\n%s", w, r.body)
		}
	}
	for i := 2; i < 4; i++ {
		s.curl(t, "PUT", up+"/"+strconv.Itoa(i+1), chunks[i], "Destination", dest("bkt/big.bin"), "OC-Total-Length", total).want(t, "PUT chunk", 201)
	}
	r = s.curl(t, "MOVE", up+"/.file", "", "Destination", dest("bkt/big.bin"), "OC-Total-Length", total,
		"X-OC-Mtime", "1600000000", "OC-Checksum", "SHA1:"+hex.EncodeToString(sum[:]))
	r.want(t, "MOVE .file", 201)
	if r.header.Get("OC-FileId") == "" || r.header.Get("OC-ETag") == "" || r.header.Get("ETag") == "" || r.header.Get("X-OC-MTime") != "accepted" {
		t.Errorf("MOVE .file answered headers %v; want OC-FileId, OC-ETag, ETag and X-OC-MTime: accepted", r.header)
	}
	resp, err := s.client.Do(mustReq(t, "GET", s.url("/dav/bkt/big.bin")))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, _ := io.Copy(h, resp.Body)
	resp.Body.Close()
	if wantSum := sha256.Sum256(big); n != int64(len(big)) || !bytes.Equal(h.Sum(nil), wantSum[:]) {
		t.Fatalf("GET /dav/bkt/big.bin: %d bytes, not the %d uploaded in chunks", n, len(big))
	}
	if lm := resp.Header.Get("Last-Modified"); lm != time.Unix(1600000000, 0).UTC().Format(http.TimeFormat) {
		t.Errorf("Last-Modified %q; want X-OC-Mtime's 2020-09-13", lm)
	}
	s.curl(t, "PROPFIND", up, "", "Depth", "1").want(t, "PROPFIND a completed upload", 404)

	small := func(id string, parts ...string) string {
		u := "/remote.php/dav/uploads/admin/" + id
		s.curl(t, "MKCOL", u, "").want(t, "MKCOL "+id, 201)
		for i, p := range parts {
			s.curl(t, "PUT", u+"/"+strconv.Itoa(i+1), writeTemp(t, []byte(p))).want(t, "PUT "+id, 201)
		}
		return u
	}
	notStored := func(p string) {
		t.Helper()
		if resp, body := s.do("GET", "/dav/"+p, nil); resp.StatusCode != 404 {
			t.Errorf("GET /dav/%s: %d %q; want 404 (nothing stored)", p, resp.StatusCode, body)
		}
	}

	// Abort: the chunks go.
	u := small("abort", "hello ", "world")
	s.curl(t, "DELETE", u, "").want(t, "DELETE the upload", 204)
	s.curl(t, "PROPFIND", u, "", "Depth", "1").want(t, "PROPFIND an aborted upload", 404)
	s.curl(t, "MOVE", u+"/.file", "", "Destination", dest("bkt/aborted.txt")).want(t, "MOVE of an aborted upload", 404)
	notStored("bkt/aborted.txt")

	// A wrong total length is refused.
	u = small("wrong", "hello ", "world")
	s.curl(t, "MOVE", u+"/.file", "", "Destination", dest("bkt/wrong.txt"), "OC-Total-Length", "12").want(t, "MOVE with a wrong OC-Total-Length", 400)
	notStored("bkt/wrong.txt")
	s.curl(t, "DELETE", u, "").want(t, "DELETE the refused upload", 204)

	// A checksum mismatch is refused; the chunks stay for a retry.
	u = small("sum", "hello ", "world")
	s.curl(t, "MOVE", u+"/.file", "", "Destination", dest("bkt/sum.txt"), "OC-Checksum", "SHA1:"+strings.Repeat("0", 40)).want(t, "MOVE with a wrong checksum", 400)
	notStored("bkt/sum.txt")
	md := md5.Sum([]byte("hello world"))
	s.curl(t, "MOVE", u+"/.file", "", "Destination", dest("bkt/sum.txt"), "OC-Total-Length", "11", "OC-Checksum", "MD5:"+hex.EncodeToString(md[:])).want(t, "MOVE with the right checksum", 201)
	if got := s.get("/dav/bkt/sum.txt"); got != "hello world" {
		t.Errorf("bkt/sum.txt = %q", got)
	}

	// If-None-Match: * on a file that exists is refused and changes nothing.
	u = small("inm", "other")
	s.curl(t, "MOVE", u+"/.file", "", "Destination", dest("bkt/sum.txt"), "If-None-Match", "*").want(t, "MOVE with If-None-Match: *", 412)
	if got := s.get("/dav/bkt/sum.txt"); got != "hello world" {
		t.Errorf("bkt/sum.txt after a refused MOVE = %q", got)
	}
	// Another user's uploads are not reachable.
	s.curl(t, "PROPFIND", "/remote.php/dav/uploads/bob/inm", "", "Depth", "1").want(t, "PROPFIND another user's upload", 403)

	s.curl(t, "DELETE", u, "").want(t, "DELETE the upload", 204)
	if ents, _ := os.ReadDir(filepath.Join(s.data, "uploads")); len(ents) != 0 {
		t.Errorf("uploads/ holds %d entries once every transfer is done: %v", len(ents), ents[0].Name())
	}
}

func mustReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", adminPW)
	return req
}

var ncHrefRE = regexp.MustCompile(`<d:href>([^<]+)</d:href>`)

// ncItems returns the hrefs a PROPFIND of p lists below it.
func (s *server) ncItems(t *testing.T, p string) ([]string, string) {
	t.Helper()
	r := s.curl(t, "PROPFIND", p, "", "Depth", "1")
	r.want(t, "PROPFIND "+p, 207)
	var out []string
	for i, m := range ncHrefRE.FindAllStringSubmatch(r.body, -1) {
		if i > 0 {
			out = append(out, m[1])
		}
	}
	return out, r.body
}

// TestNextcloudTrashbinAndVersions: the trash bin lists deleted photos
// with their original location and deletion time, restores them by MOVE
// and purges them by DELETE; the versions endpoint lists what an
// overwrite replaced and restores it by MOVE.
func TestNextcloudTrashbinAndVersions(t *testing.T) {
	needTool(t, "curl")
	s := startServer(t)
	s.mkcol("/dav/bkt")
	photo := string(mustRead(t, filepath.Join(sharedMedia, "canon_eos.jpg")))
	trash := "/remote.php/dav/trashbin/admin/trash/"
	s.put("/dav/bkt/p.jpg", photo)
	before := time.Now().Unix()
	resp, body := s.do("DELETE", "/dav/bkt/p.jpg", nil)
	want(t, resp, body, 204)
	items, list := s.ncItems(t, trash)
	if len(items) != 1 {
		t.Fatalf("trash bin lists %q; want p.jpg", items)
	}
	for _, w := range []string{"<nc:trashbin-filename>p.jpg<", "<nc:trashbin-original-location>bkt/p.jpg<", "<d:getcontentlength>" + strconv.Itoa(len(photo)) + "<"} {
		if !strings.Contains(list, w) {
			t.Errorf("trash bin listing lacks %q:\n%s", w, list)
		}
	}
	if m := regexp.MustCompile(`<nc:trashbin-deletion-time>(\d+)<`).FindStringSubmatch(list); m == nil {
		t.Errorf("no deletion time in\n%s", list)
	} else if d, _ := strconv.ParseInt(m[1], 10, 64); d < before-1 || d > time.Now().Unix()+1 {
		t.Errorf("deletion time %d; want about %d", d, before)
	}
	s.curl(t, "MOVE", items[0], "", "Destination", s.url("/remote.php/dav/trashbin/admin/restore/p.jpg")).want(t, "MOVE to restore", 201)
	if got := s.get("/dav/bkt/p.jpg"); got != photo {
		t.Fatalf("restored p.jpg has %d bytes; want %d", len(got), len(photo))
	}
	if items, _ := s.ncItems(t, trash); len(items) != 0 {
		t.Fatalf("trash bin after the restore lists %q", items)
	}

	// DELETE of an item purges it; DELETE of trash/ empties the bin.
	resp, body = s.do("DELETE", "/dav/bkt/p.jpg", nil)
	want(t, resp, body, 204)
	items, _ = s.ncItems(t, trash)
	if len(items) != 1 {
		t.Fatalf("trash bin lists %q; want p.jpg", items)
	}
	s.curl(t, "DELETE", items[0], "").want(t, "DELETE a trash item", 204)
	if items, _ := s.ncItems(t, trash); len(items) != 0 {
		t.Fatalf("trash bin after a purge lists %q", items)
	}
	for _, n := range []string{"q.jpg", "r.jpg"} {
		s.put("/dav/bkt/"+n, photo)
		resp, body = s.do("DELETE", "/dav/bkt/"+n, nil)
		want(t, resp, body, 204)
	}
	if items, _ := s.ncItems(t, trash); len(items) != 2 {
		t.Fatalf("trash bin lists %q; want q.jpg and r.jpg", items)
	}
	s.curl(t, "DELETE", trash, "").want(t, "DELETE trash/", 204)
	if items, _ := s.ncItems(t, trash); len(items) != 0 {
		t.Fatalf("trash bin after emptying lists %q", items)
	}
	if names := s.names(t, "/dav/trash/"); len(names) != 0 {
		t.Fatalf("/dav/trash/ after emptying the trash bin lists %q", names)
	}

	// Versions: the file id from a chunked upload names the file.
	up := "/remote.php/dav/uploads/admin/v1"
	s.curl(t, "MKCOL", up, "").want(t, "MKCOL", 201)
	s.curl(t, "PUT", up+"/1", writeTemp(t, []byte(photo))).want(t, "PUT chunk", 201)
	r := s.curl(t, "MOVE", up+"/.file", "", "Destination", s.url("/remote.php/dav/files/admin/bkt/v.jpg"))
	r.want(t, "MOVE .file", 201)
	fid := r.header.Get("OC-FileId")
	s.put("/dav/bkt/v.jpg", "a broken upload")
	versions := "/remote.php/dav/versions/admin/versions/" + fid + "/"
	vs, _ := s.ncItems(t, versions)
	if len(vs) != 1 {
		t.Fatalf("versions of v.jpg: %q; want one", vs)
	}
	if items, _ := s.ncItems(t, trash); len(items) != 0 {
		t.Errorf("the trash bin lists versions: %q", items)
	}
	resp, err := s.client.Do(mustReq(t, "GET", s.url(vs[0])))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != photo {
		t.Errorf("GET of the version: %d bytes; want %d", len(got), len(photo))
	}
	s.curl(t, "MOVE", vs[0], "", "Destination", s.url("/remote.php/dav/versions/admin/restore/target")).want(t, "MOVE version to restore", 204)
	if got := s.get("/dav/bkt/v.jpg"); got != photo {
		t.Fatalf("v.jpg after restoring its version: %d bytes; want %d", len(got), len(photo))
	}
	vs, _ = s.ncItems(t, versions)
	if len(vs) != 1 {
		t.Fatalf("versions of v.jpg after a restore: %q; want the content it replaced", vs)
	}
	if got := s.get(vs[0]); got != "a broken upload" {
		t.Errorf("the version kept by the restore holds %q", got)
	}
}
