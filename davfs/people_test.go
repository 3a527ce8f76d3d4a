package davfs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"shoebox/catalog"
	"shoebox/davfs"
	"shoebox/gateway"
	"shoebox/gateway/auth"
	"shoebox/gateway/memfs"
	"shoebox/virtualdirs"
)

// recorder is a davfs.People that records the edits it is asked for.
type recorder struct {
	calls []string
	err   error
}

func (r *recorder) do(format string, args ...any) error {
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
	return r.err
}

func (r *recorder) Rename(ctx context.Context, user, id, name string) error {
	return r.do("rename %s %s %q", user, id, name)
}

func (r *recorder) Merge(ctx context.Context, user, from, into string) error {
	return r.do("merge %s %s into %s", user, from, into)
}

func (r *recorder) Reassign(ctx context.Context, user, bucket, key, from, to string) error {
	return r.do("reassign %s %s/%s from %s to %s", user, bucket, key, from, to)
}

func (r *recorder) Reject(ctx context.Context, user, id, bucket, key string) error {
	return r.do("reject %s %s/%s from %s", user, bucket, key, id)
}

func (r *recorder) Hide(ctx context.Context, user, id string) error {
	return r.do("hide %s %s", user, id)
}

func (r *recorder) Create(ctx context.Context, user, name string) (string, error) {
	return "p000009", r.do("create %s %q", user, name)
}

func (r *recorder) Assign(ctx context.Context, user, bucket, key, to string) error {
	return r.do("assign %s %s/%s to %s", user, bucket, key, to)
}

var _ davfs.People = (*recorder)(nil)

// personLibrary makes a catalog where user u has two persons, "Person 1"
// (a.jpg, b.jpg in bucket f) and "Person 2" (c.jpg, d.jpg).
func personLibrary(t *testing.T) (*gateway.Gateway, *catalog.Catalog) {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	gw := gateway.New(memfs.New(), cat, gateway.Options{Logger: quiet})
	if err := gw.MakeBucket(ctx, "u", "f"); err != nil {
		t.Fatal(err)
	}
	persons := map[string][]string{}
	for i, key := range []string{"a.jpg", "b.jpg", "c.jpg", "d.jpg"} {
		o, err := gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "f", Key: key, Body: strings.NewReader("photo " + key)})
		if err != nil {
			t.Fatal(err)
		}
		j, err := cat.JobOf(ctx, "u", "f", key)
		if err != nil {
			t.Fatal(err)
		}
		m := catalog.Media{Kind: "photo", SHA256: o.SHA256, Faces: []catalog.Face{{Box: [4]float64{0, 0, 1, 1}, Detector: "tiny416a"}}}
		if err := cat.CompleteJob(ctx, j, m); err != nil {
			t.Fatal(err)
		}
		p := fmt.Sprint(1 + i/2)
		persons[p] = append(persons[p], key)
	}
	for _, p := range []string{"1", "2"} {
		ps := catalog.Person{Faces: 2}
		if err := cat.PutPerson(ctx, "u", &ps); err != nil {
			t.Fatal(err)
		}
		for _, key := range persons[p] {
			if err := cat.SetFacePersons(ctx, "u", "f", key, []string{ps.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return gw, cat
}

// TestPersonEditsGoToPeople: the edits made in /by-person are handed to
// Config.People, by person id, and nothing else writes persons; without
// People the folders are read-only.
func TestPersonEditsGoToPeople(t *testing.T) {
	gw, cat := personLibrary(t)
	tree := virtualdirs.New(cat, virtualdirs.Options{MinPhotos: 2})
	tests := []struct {
		name         string
		method, path string
		dest         string
		err          error // the People's answer
		want         string
		status       int
	}{
		{"rename", "MOVE", "/dav/by-person/Person%201/", "/dav/by-person/Alice/", nil, `rename u p000001 "Alice"`, 201},
		{"merge", "MOVE", "/dav/by-person/Person%201/", "/dav/by-person/Person%202/", nil, "merge u p000001 into p000002", 201},
		{"reassign", "MOVE", "/dav/by-person/Person%201/a.jpg", "/dav/by-person/Person%202/a.jpg", nil, "reassign u f/a.jpg from p000001 to p000002", 201},
		{"not this person", "DELETE", "/dav/by-person/Person%202/d.jpg", "", nil, "reject u f/d.jpg from p000002", 204},
		{"forget", "DELETE", "/dav/by-person/Person%202/", "", nil, "hide u p000002", 204},
		{"create", "MKCOL", "/dav/by-person/Bob/", "", nil, `create u "Bob"`, 201},
		{"assign from a bucket", "COPY", "/dav/f/c.jpg", "/dav/by-person/Person%201/c.jpg", nil, "assign u f/c.jpg to p000001", 201},
		{"assign ambiguous", "MOVE", "/dav/f/c.jpg", "/dav/by-person/Person%201/c.jpg", fmt.Errorf("f/c.jpg: %w", catalog.ErrAmbiguousFace), "assign u f/c.jpg to p000001", 409},
		{"person gone meanwhile", "MOVE", "/dav/by-person/Person%201/", "/dav/by-person/Person%202/", fmt.Errorf("person p000001: %w", catalog.ErrNotFound), "merge u p000001 into p000002", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, withPeople := range []bool{true, false} {
				rec := &recorder{err: tt.err}
				cfg := davfs.Config{Prefix: "/dav", Virtual: tree}
				if withPeople {
					cfg.People = rec
				}
				h := davfs.NewHandler(gw, cfg)
				r := httptest.NewRequest(tt.method, tt.path, nil)
				if tt.dest != "" {
					r.Header.Set("Destination", "http://"+r.Host+tt.dest)
				}
				r = r.WithContext(auth.WithUser(r.Context(), "u"))
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if !withPeople {
					if w.Code != http.StatusForbidden {
						t.Errorf("without People: %s %s: got %d %s; want 403", tt.method, tt.path, w.Code, w.Body)
					}
					continue
				}
				if got := strings.Join(rec.calls, "; "); got != tt.want || w.Code != tt.status {
					t.Errorf("%s %s: got %d, calls %q; want %d, %q", tt.method, tt.path, w.Code, got, tt.status, tt.want)
				}
			}
		})
	}
	// The catalog's persons are untouched by the handler itself.
	ps, err := cat.People(context.Background(), "u")
	if err != nil || len(ps) != 2 || ps[0].Name != "" || ps[0].Hidden || ps[1].Hidden || len(ps[0].Rejected)+len(ps[1].Rejected) > 0 {
		t.Errorf("persons after the edits: %+v, %v; want both as they were", ps, err)
	}
}
