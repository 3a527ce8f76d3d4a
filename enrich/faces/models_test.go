package faces

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type tarEntry struct {
	name string
	typ  byte
	body string
}

func makeTgz(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: int64(len(e.body))}
		if typ != tar.TypeReg {
			h.Size = 0
			h.Linkname = "/etc/passwd"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func sri(b []byte) string {
	s := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(s[:])
}

func modelEntries() []tarEntry {
	es := []tarEntry{{name: "package/package.json", body: "{}"}, {name: "package/model/", typ: tar.TypeDir}}
	for _, m := range append(RequiredModels, ModelSSDMobilenetV1) {
		es = append(es, tarEntry{name: "package/model/" + m + "-weights_manifest.json", body: "[]"},
			tarEntry{name: "package/model/" + m + ".bin", body: "x"})
	}
	return es
}

// fakeRegistry serves the version document and the tarball; integrity is
// what the document claims.
func fakeRegistry(t *testing.T, tgz []byte, integrity string) *httptest.Server {
	return fakeRegistryDocs(t, tgz, integrity, true)
}

// fakeRegistryDocs optionally serves only the package document (no
// per-version endpoint).
func fakeRegistryDocs(t *testing.T, tgz []byte, integrity string, versionDoc bool) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case "/@vladmandic%2fface-api/" + PackageVersion:
			if !versionDoc {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, `{"dist":{"tarball":%q,"integrity":%q}}`, srv.URL+"/face-api.tgz", integrity)
		case "/@vladmandic%2fface-api":
			fmt.Fprintf(w, `{"versions":{"1.0.0":{},%q:{"dist":{"tarball":%q,"integrity":%q}}}}`, PackageVersion, srv.URL+"/face-api.tgz", integrity)
		case "/face-api.tgz":
			w.Write(tgz)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestInstall(t *testing.T) {
	ctx := context.Background()
	tgz := makeTgz(t, modelEntries())
	srv := fakeRegistry(t, tgz, sri(tgz))
	dir := filepath.Join(t.TempDir(), "models")
	if err := install(ctx, srv.URL, dir, srv.Client(), sri(tgz)); err != nil {
		t.Fatal(err)
	}
	if err := Find(dir); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 8 {
		t.Errorf("%d files installed, want 8", len(ents))
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
		t.Error("non-model file installed")
	}
	// A registry without the per-version document.
	srv2 := fakeRegistryDocs(t, tgz, sri(tgz), false)
	dir2 := filepath.Join(t.TempDir(), "models")
	if err := install(ctx, srv2.URL, dir2, srv2.Client(), sri(tgz)); err != nil {
		t.Fatalf("package-document fallback: %v", err)
	}
	// Already installed: no network needed.
	if err := install(ctx, "http://127.0.0.1:1", dir, nil, sri(tgz)); err != nil {
		t.Errorf("reinstall: %v", err)
	}
}

func TestInstallRejects(t *testing.T) {
	ctx := context.Background()
	good := makeTgz(t, modelEntries())
	for _, c := range []struct {
		name      string
		tgz       []byte
		claimed   string // integrity in the registry document
		pinned    string
		errSubstr string
	}{
		{"pin mismatch", good, sri(good), sri([]byte("other")), "differs from pinned"},
		{"corrupt tarball", append(append([]byte(nil), good...), 0), sri(good), sri(good), "integrity mismatch"},
		{"traversal", makeTgz(t, append(modelEntries(), tarEntry{name: "package/model/../../evil", body: "x"})), "", "", "refusing"},
		{"nested", makeTgz(t, append(modelEntries(), tarEntry{name: "package/model/sub/x.bin", body: "x"})), "", "", "refusing"},
		{"symlink", makeTgz(t, append(modelEntries(), tarEntry{name: "package/model/link", typ: tar.TypeSymlink})), "", "", "refusing"},
		{"incomplete", makeTgz(t, modelEntries()[:4]), "", "", "missing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.claimed == "" {
				c.claimed, c.pinned = sri(c.tgz), sri(c.tgz)
			}
			srv := fakeRegistry(t, c.tgz, c.claimed)
			parent := t.TempDir()
			dir := filepath.Join(parent, "models")
			err := install(ctx, srv.URL+"/", dir, srv.Client(), c.pinned)
			if err == nil || !strings.Contains(err.Error(), c.errSubstr) {
				t.Fatalf("err = %v, want %q", err, c.errSubstr)
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 0 {
				t.Errorf("left behind %v", ents)
			}
			if _, err := os.Stat(filepath.Join(parent, "..", "evil")); err == nil {
				t.Error("traversal wrote outside dir")
			}
		})
	}
}

func TestFindReportsMissing(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ModelTinyFaceDetector+".bin"), []byte("x"), 0o644)
	err := Find(dir)
	if err == nil {
		t.Fatal("Find succeeded on an empty dir")
	}
	for _, want := range []string{ModelTinyFaceDetector + "-weights_manifest.json", ModelLandmark68 + ".bin", ModelRecognition + "-weights_manifest.json"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), ModelTinyFaceDetector+".bin,") {
		t.Errorf("error names a present file: %v", err)
	}
}
