package s3api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		host, path string
		want       Target
		ok         bool
	}{
		{"s3.test", "/", Target{}, true},
		{"s3.test", "/b", Target{Bucket: "b"}, true},
		{"s3.test", "/b/", Target{Bucket: "b"}, true},
		{"s3.test", "/b/k/x.txt", Target{Bucket: "b", Key: "k/x.txt"}, true},
		{"s3.test", "/b//k", Target{Bucket: "b", Key: "/k"}, true},
		{"s3.test", "//b/k", Target{Key: "b/k"}, false},
		{"b.s3.test", "/", Target{Bucket: "b", VirtualHost: true}, true},
		{"B.S3.test:9000", "/other/k", Target{Bucket: "b", Key: "other/k", VirtualHost: true}, true},
		{"b.s3.test", "//k", Target{Bucket: "b", Key: "/k", VirtualHost: true}, true},
		{"b.other.test", "/x/k", Target{Bucket: "x", Key: "k"}, true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "http://h"+tt.path, nil)
		r.Host = tt.host
		got, ok := resolve(r, "s3.test")
		if got != tt.want || ok != tt.ok {
			t.Errorf("resolve(Host %s, %s): got %+v, %v; want %+v, %v", tt.host, tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

// TestServeTarget: what is served is the Target: a virtual-host request is
// rewritten path-style from it, and a path that would read as another
// bucket or key is refused before any handler sees it.
func TestServeTarget(t *testing.T) {
	tests := []struct {
		path   string
		target Target
		served string // "" when refused
	}{
		{"/k/x", Target{Bucket: "b", Key: "k/x", VirtualHost: true}, "/b/k/x"},
		{"/", Target{Bucket: "b", VirtualHost: true}, "/b/"},
		{"/b/k", Target{Bucket: "b", Key: "k"}, "/b/k"},
		{"/pub/k", Target{Bucket: "priv", Key: "pub/k"}, ""},
		{"//b/k", Target{Key: "b/k"}, ""},
	}
	for _, tt := range tests {
		var served string
		h := serveTarget(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served = r.URL.Path }))
		r := httptest.NewRequest(http.MethodGet, "http://h"+tt.path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r.WithContext(withTarget(r.Context(), tt.target)))
		if served != tt.served || (tt.served == "" && rec.Code != http.StatusBadRequest) {
			t.Errorf("serveTarget(%s, %+v): served %q, status %d; want served %q (400 when refused)", tt.path, tt.target, served, rec.Code, tt.served)
		}
	}
}
