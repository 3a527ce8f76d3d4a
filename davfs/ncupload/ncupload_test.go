package ncupload

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
	"shoebox/gateway/localfs"
)

// newTest serves alice's uploads from dir over a gateway with a bucket b.
func newTest(t *testing.T, dir string) (*Server, *gateway.Gateway, func(method, p, body string, hdr ...string) *httptest.ResponseRecorder) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	be, err := localfs.New(t.TempDir(), localfs.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	gw := gateway.New(be, cat, gateway.Options{Logger: quiet})
	if err := gw.MakeBucket(context.Background(), "alice", "b"); err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), gw, Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Uploads()
	do := func(method, p, body string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, p, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), "alice")))
		return w
	}
	return s, gw, do
}

func wantCode(t *testing.T, w *httptest.ResponseRecorder, what string, code int) {
	t.Helper()
	if w.Code != code {
		t.Fatalf("%s: %d %s; want %d", what, w.Code, w.Body, code)
	}
}

// TestChunkOrder: chunks assemble in numeric order, not by name.
func TestChunkOrder(t *testing.T) {
	_, gw, do := newTest(t, t.TempDir())
	u := UploadsPrefix + "alice/x"
	wantCode(t, do("MKCOL", u, ""), "MKCOL", 201)
	for _, c := range [][2]string{{"10", "c"}, {"2", "b"}, {"1", "a"}} {
		wantCode(t, do("PUT", u+"/"+c[0], c[1]), "PUT", 201)
	}
	wantCode(t, do("PUT", u+"/.hidden", "x"), "PUT of a chunk not numbered", 400)
	// v1 names: byte ranges, zero-padded.
	v1 := UploadsPrefix + "alice/v1"
	wantCode(t, do("MKCOL", v1, ""), "MKCOL", 201)
	wantCode(t, do("PUT", v1+"/000000000000003-000000000000004", "de"), "PUT", 201)
	wantCode(t, do("PUT", v1+"/000000000000000-000000000000002", "abc"), "PUT", 201)
	wantCode(t, do("MOVE", v1+"/.file", "", "Destination", "http://h"+FilesPrefix+"alice/b/g.txt"), "MOVE", 201)
	if g, _, err := gw.Open(context.Background(), "alice", "b", "g.txt"); err != nil {
		t.Fatal(err)
	} else if got, _ := io.ReadAll(g); string(got) != "abcde" {
		g.Close()
		t.Errorf("assembled %q; want abcde", got)
	} else {
		g.Close()
	}
	wantCode(t, do("MOVE", u+"/.file", "", "Destination", "http://h"+FilesPrefix+"alice/b/f.txt", "OC-Total-Length", "3"), "MOVE", 201)
	f, _, err := gw.Open(context.Background(), "alice", "b", "f.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, _ := io.ReadAll(f); string(got) != "abc" {
		t.Errorf("assembled %q; want abc", got)
	}
	// Another user's path, or none logged in.
	r := httptest.NewRequest("PROPFIND", UploadsPrefix+"bob/", nil)
	w := httptest.NewRecorder()
	(&Server{}).Uploads().ServeHTTP(w, r)
	wantCode(t, w, "PROPFIND without a user", 401)
	wantCode(t, do("MKCOL", UploadsPrefix+"bob/y", ""), "MKCOL as another user", 403)
}

// TestExpiry: a transfer with no chunk for the expiry goes at the next
// sweep; what a crash left half made goes at start-up; the rest stays.
func TestExpiry(t *testing.T) {
	dir := t.TempDir()
	s, _, do := newTest(t, dir)
	wantCode(t, do("MKCOL", UploadsPrefix+"alice/old", ""), "MKCOL", 201)
	wantCode(t, do("PUT", UploadsPrefix+"alice/old/1", "abc"), "PUT", 201)
	wantCode(t, do("MKCOL", UploadsPrefix+"alice/new", ""), "MKCOL", 201)
	wantCode(t, do("PUT", UploadsPrefix+"alice/new/1", "abc"), "PUT", 201)
	old := filepath.Join(dir, tid("alice", "old"))
	past := time.Now().Add(-DefaultExpiry - time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	if kept, err := s.Sweep(context.Background()); err != nil || kept != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 kept", kept, err)
	}
	wantCode(t, do("PROPFIND", UploadsPrefix+"alice/old", "", "Depth", "1"), "PROPFIND an expired upload", 404)
	w := do("PROPFIND", UploadsPrefix+"alice/new", "", "Depth", "1")
	wantCode(t, w, "PROPFIND a live upload", 207)
	if !strings.Contains(w.Body.String(), "/alice/new/1<") {
		t.Errorf("PROPFIND lacks chunk 1:\n%s", w.Body)
	}

	// A crash's leftovers: a temp chunk, a folder without its record, a
	// stray file. A new server removes them and keeps the transfer.
	newDir := filepath.Join(dir, tid("alice", "new"))
	os.WriteFile(filepath.Join(newDir, ".tmp-chunk-1"), []byte("x"), 0o600)
	os.Mkdir(filepath.Join(dir, strings.Repeat("a", 32)), 0o750)
	os.WriteFile(filepath.Join(dir, "stray"), nil, 0o600)
	_, _, do2 := newTest(t, dir)
	wantCode(t, do2("PROPFIND", UploadsPrefix+"alice/new", "", "Depth", "1"), "PROPFIND after a restart", 207)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != tid("alice", "new") {
		t.Errorf("after start-up the directory holds %v; want only the live transfer", ents)
	}
	if _, err := os.Stat(filepath.Join(newDir, ".tmp-chunk-1")); err == nil {
		t.Error("a temp chunk survived start-up")
	}
}
