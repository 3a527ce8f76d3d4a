package enrich_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/enrich/faces"
	"shoebox/gateway"
	"shoebox/gateway/memfs"
)

// faceModels returns the face models from $SHOEBOX_FACE_MODELS or the
// cache `shoebox models install` tests fill; it skips (fails under CI)
// when there are none.
func faceModels(t *testing.T) *faces.Models {
	t.Helper()
	dir := os.Getenv("SHOEBOX_FACE_MODELS")
	if dir == "" {
		c, _ := os.UserCacheDir()
		dir = filepath.Join(c, "shoebox", "face-api-1.7.15")
		if err := faces.Install(context.Background(), "", dir, nil); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("face models: %v", err)
			}
			t.Skipf("face models: %v", err)
		}
	}
	m, err := faces.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGroupPeople enriches the shared face photos with faces and groups
// them, printing pairwise precision, recall and F1 against the identities
// in the file names for a few thresholds.
func TestGroupPeople(t *testing.T) {
	models := faceModels(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	gw := gateway.New(memfs.New(), cat, gateway.Options{Logger: quiet})
	ctx := context.Background()
	gw.MakeBucket(ctx, "u", "f")
	ds, _ := enrich.NewDirStore(t.TempDir())
	ts := enrich.NewThumbStore(ds)
	files, _ := filepath.Glob("../../shared/testdata/faces/images/*.jpg")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if _, err := gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "f", Key: filepath.Base(f), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	pool := enrich.NewPool(gw, enrich.Options{Workers: 2, Idle: 20 * time.Millisecond, Logger: quiet,
		Extractors: []enrich.Extractor{enrich.Metadata{Thumbs: ts, Faces: models}}})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { pool.Run(pctx); close(done) }()
	for {
		q, _ := cat.Queue(ctx, time.Now())
		if q.Pending+q.Running == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	id := func(n string) string { return strings.TrimRight(strings.TrimSuffix(n, ".jpg"), "0123456789") }
	for _, th := range []float64{0.6, 0.7, 0.8, 0.85, 0.9, enrich.DefaultPeopleThreshold} {
		if _, err := enrich.GroupPeople(ctx, cat, "u", enrich.PeopleOptions{Threshold: th}); err != nil {
			t.Fatal(err)
		}
		people, _ := cat.People(ctx, "u")
		tp, fp := 0, 0
		var desc []string
		for _, p := range people {
			var names []string
			cat.PersonPhotos(ctx, "u", p.ID, func(o catalog.Object) error {
				if !strings.HasPrefix(o.Key, "pristin") {
					names = append(names, o.Key)
				}
				return nil
			})
			slices.Sort(names)
			desc = append(desc, strings.Join(names, "+"))
			for i := range names {
				for j := i + 1; j < len(names); j++ {
					if id(names[i]) == id(names[j]) {
						tp++
					} else {
						fp++
					}
				}
			}
		}
		prec := float64(tp) / float64(max(1, tp+fp))
		rec := float64(tp) / 16
		f1 := 0.0
		if prec+rec > 0 {
			f1 = 2 * prec * rec / (prec + rec)
		}
		t.Logf("threshold %.2f: precision %.2f recall %.2f F1 %.2f %v", th, prec, rec, f1, desc)
		if th == enrich.DefaultPeopleThreshold && (tp+fp == 0 || prec < 0.5) {
			t.Errorf("default threshold: precision %.2f; want at least 0.5", prec)
		}
	}
}
