package enrich_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
	"shoebox/gateway/memfs"
)

const mediaDir = "../../shared/testdata/media"

// manifestEntry is one file of ../shared/testdata/media/manifest.json.
type manifestEntry map[string]any

type manifest struct {
	Files              map[string]manifestEntry `json:"files"`
	ExactDuplicates    [][]string               `json:"exact_duplicates"`
	NearDuplicateGroup [][]string               `json:"near_duplicate_groups"`
	NotDuplicates      [][]string               `json:"not_duplicates"`
}

func readManifest(t testing.TB) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(mediaDir, "manifest.json"))
	if err != nil {
		t.Fatalf("the shared test media are needed: %v", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// library is a gateway over memory with a running pool.
type library struct {
	gw     *gateway.Gateway
	cat    *catalog.Catalog
	thumbs *enrich.ThumbStore
}

func newLibrary(t *testing.T) (*library, context.Context) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	var pool *enrich.Pool
	wake := hookFunc(func(ctx context.Context, ev gateway.Event) error { return pool.Committed(ctx, ev) })
	gw := gateway.New(memfs.New(), cat, gateway.Options{Logger: quiet, Hooks: []gateway.Hook{wake}})
	ds, err := enrich.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ts := enrich.NewThumbStore(ds)
	ctx, cancel := context.WithCancel(context.Background())
	pool = enrich.NewPool(gw, enrich.Options{Workers: 2, Idle: 20 * time.Millisecond, Logger: quiet,
		Extractors: []enrich.Extractor{enrich.Metadata{Thumbs: ts}}})
	done := make(chan struct{})
	go func() { pool.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := gw.MakeBucket(ctx, "u", "b"); err != nil {
		t.Fatal(err)
	}
	return &library{gw: gw, cat: cat, thumbs: ts}, ctx
}

func (l *library) drain(t *testing.T, ctx context.Context) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		q, _ := l.cat.Queue(ctx, time.Now())
		if q.Pending == 0 && q.Running == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained: %+v", q)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The client's modification time for the files (no_date_at_all.jpg is
// dated by it).
var clientMtime = time.Date(2021, 5, 5, 12, 0, 0, 0, time.UTC)

func TestManifestMedia(t *testing.T) {
	man := readManifest(t)
	lib, ctx := newLibrary(t)
	ents, err := os.ReadDir(mediaDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(mediaDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lib.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "b", Key: "in/" + e.Name(), Body: bytes.NewReader(b), ModTime: clientMtime, MakeParents: true}); err != nil {
			t.Fatal(err)
		}
	}
	lib.drain(t, ctx)
	hashes := map[string]uint64{}
	for name, want := range man.Files {
		t.Run(name, func(t *testing.T) {
			key := "in/" + name
			m, merr := lib.cat.MediaOf(ctx, "u", "b", key)
			j, jerr := lib.cat.JobOf(ctx, "u", "b", key)
			if h, ok := want["hostile"]; ok {
				if jerr != nil || !j.Failed || j.Err == "" {
					t.Errorf("job = %+v, %v; want failed with an error (%v)", j, jerr, h)
				}
				t.Logf("error: %s", j.Err)
				if name == "garbage.jpg" && m.Kind != "other" {
					t.Errorf("kind = %q; want other", m.Kind)
				}
				// Pixels that cannot be decoded cost only the thumbnails.
				if name == "truncated.jpg" && (m.Make != "Canon" || m.TakenLocal != "2019-06-12T14:03:22" || m.Width == 0) {
					t.Errorf("truncated.jpg media = %+v; want its EXIF fields", m)
				}
				return
			}
			if jerr == nil {
				t.Errorf("job not done: %+v", j)
			}
			if merr != nil {
				t.Fatalf("no media record: %v", merr)
			}
			CheckManifest(t, m, want)
			if m.Kind == "photo" {
				checkThumbs(t, lib, ctx, key, m, want)
			}
		})
	}
	for _, e := range ents {
		if m, err := lib.cat.MediaOf(ctx, "u", "b", "in/"+e.Name()); err == nil && m.PHash != "" {
			hashes[e.Name()] = parseHash(t, m.PHash)
		}
	}
	for a, ha := range hashes {
		for b, hb := range hashes {
			if a < b {
				t.Logf("distance %s ~ %s = %d", a, b, enrich.Distance(ha, hb))
			}
		}
	}
	for _, g := range man.NearDuplicateGroup {
		for _, a := range g {
			for _, b := range g {
				if d := enrich.Distance(hashes[a], hashes[b]); d > enrich.NearDistance {
					t.Errorf("phash distance %s ~ %s = %d; want <= %d", a, b, d, enrich.NearDistance)
				}
			}
		}
	}
	for _, g := range man.NotDuplicates {
		if d := enrich.Distance(hashes[g[0]], hashes[g[1]]); d <= enrich.NearDistance {
			t.Errorf("phash distance %s ~ %s = %d; want > %d", g[0], g[1], d, enrich.NearDistance)
		}
	}
	// Every photo outside the group is far from it.
	group := map[string]bool{}
	for _, n := range man.NearDuplicateGroup[0] {
		group[n] = true
	}
	for a, ha := range hashes {
		if group[a] {
			continue
		}
		if d := enrich.Distance(ha, hashes["beach_original.jpg"]); d <= enrich.NearDistance {
			t.Errorf("phash distance %s ~ beach_original.jpg = %d; want > %d", a, d, enrich.NearDistance)
		}
	}
}

// CheckManifest compares a media record with a manifest entry.
func CheckManifest(t *testing.T, m catalog.Media, want manifestEntry) {
	t.Helper()
	str := map[string]string{"taken_local": m.TakenLocal, "offset": m.Offset, "make": m.Make, "model": m.Model,
		"lens": m.Lens, "date_source": m.DateSource, "kind": m.Kind, "taken_utc": m.TakenUTC}
	num := map[string]float64{"width": float64(m.Width), "height": float64(m.Height),
		"orientation": float64(m.Orientation), "duration_s": m.DurationS}
	for k, w := range want {
		switch k {
		case "note", "stored_width", "stored_height":
		case "date_folder":
			if !strings.HasPrefix(m.TakenLocal, w.(string)) {
				t.Errorf("taken_local = %q; want the day %s", m.TakenLocal, w)
			}
		case "lat", "lon":
			got := m.Lat
			if k == "lon" {
				got = m.Lon
			}
			if got == nil || math.Abs(*got-w.(float64)) > 1e-5 {
				t.Errorf("%s = %v; want %v", k, deref(got), w)
			}
		default:
			if s, ok := str[k]; ok {
				if s != w.(string) {
					t.Errorf("%s = %q; want %q", k, s, w)
				}
			} else if n, ok := num[k]; ok {
				if math.Abs(n-w.(float64)) > 1e-3 {
					t.Errorf("%s = %v; want %v", k, n, w)
				}
			} else {
				t.Errorf("manifest field %q is not checked", k)
			}
		}
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// checkThumbs checks both thumbnails: JPEGs of the right size, in the
// displayed orientation; it returns the photo's perceptual hash.
func checkThumbs(t *testing.T, lib *library, ctx context.Context, key string, m catalog.Media, want manifestEntry) {
	t.Helper()
	o, err := lib.gw.Stat(ctx, "u", "b", key)
	if err != nil {
		t.Fatal(err)
	}
	for size, long := range map[string]int{"small": enrich.SmallSize, "preview": enrich.PreviewSize} {
		b, _, err := lib.thumbs.Get(ctx, o.SHA256, size)
		if size == "preview" && enrich.PreviewIsOriginal(m) {
			if err == nil {
				t.Errorf("a preview is stored; the original (%dx%d) is the preview", m.Width, m.Height)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s thumbnail: %v", size, err)
			continue
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s thumbnail is not a JPEG: %v", size, err)
			continue
		}
		wantLong := min(long, max(m.Width, m.Height))
		if got := max(cfg.Width, cfg.Height); got != wantLong {
			t.Errorf("%s thumbnail is %dx%d; want a long side of %d", size, cfg.Width, cfg.Height, wantLong)
		}
		if (cfg.Width > cfg.Height) != (m.Width > m.Height) {
			t.Errorf("%s thumbnail is %dx%d; the photo is shown %dx%d", size, cfg.Width, cfg.Height, m.Width, m.Height)
		}
	}
	parseHash(t, m.PHash)
}

func parseHash(t *testing.T, s string) uint64 {
	t.Helper()
	h, err := strconv.ParseUint(s, 16, 64)
	if err != nil || len(s) != 16 {
		t.Errorf("phash = %q; want 16 hex digits", s)
	}
	return h
}

type hookFunc func(ctx context.Context, ev gateway.Event) error

func (f hookFunc) Committed(ctx context.Context, ev gateway.Event) error { return f(ctx, ev) }

// TestLateSidecar: a Takeout sidecar that arrives after its photo re-dates
// the photo.
func TestLateSidecar(t *testing.T) {
	lib, ctx := newLibrary(t)
	b, err := os.ReadFile(filepath.Join(mediaDir, "no_date_at_all.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lib.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "b", Key: "IMG_7(1).jpg", Body: bytes.NewReader(b)}); err != nil {
		t.Fatal(err)
	}
	lib.drain(t, ctx)
	if m, _ := lib.cat.MediaOf(ctx, "u", "b", "IMG_7(1).jpg"); m.DateSource != "upload" {
		t.Fatalf("before the sidecar: %+v", m)
	}
	js := `{"photoTakenTime":{"timestamp":"1404205200"},"geoData":{"latitude":51.5,"longitude":-0.12}}`
	if _, err := lib.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "b", Key: "IMG_7.jpg(1).json", Body: strings.NewReader(js)}); err != nil {
		t.Fatal(err)
	}
	lib.drain(t, ctx)
	m, _ := lib.cat.MediaOf(ctx, "u", "b", "IMG_7(1).jpg")
	if m.DateSource != "takeout-json" || m.TakenUTC != "2014-07-01T09:00:00Z" || m.Lat == nil || *m.Lat != 51.5 {
		t.Errorf("after the sidecar: %+v; want dated and placed by it", m)
	}
}
