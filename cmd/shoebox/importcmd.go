package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
)

// importCmd is `shoebox import --user U --bucket B DIR`: it brings a
// folder in through the gateway (so every file is cataloged and queued for
// enrichment, like an upload), keeping the folder's layout and the files'
// modification times. A file already at the same path with the same bytes
// (SHA-256) is skipped, so an interrupted import resumes where it stopped;
// copies of one photo at several paths are all imported, as they were. The server must be stopped (the catalog is a single-writer
// database); the jobs it queues run when it starts.
func importCmd(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("import", flag.ContinueOnError)
	user := fset.String("user", "", "the user who will own the files (required)")
	bucket := fset.String("bucket", "", "the bucket to import into; created when missing (required)")
	prefix := fset.String("prefix", "", "a folder inside the bucket to import into")
	quiet := fset.Bool("quiet", false, "no progress bar")
	cfg, err := parseConfig(fset, args, cmdSpec{usage: "shoebox import --user USER --bucket BUCKET [--prefix FOLDER] DIR [flags]",
		about: "Brings the folder DIR in: every file is cataloged and queued for enrichment, as an upload is. Files already there with the same bytes are skipped, so an interrupted import resumes. The server must be stopped.", uses: gStore})
	if err != nil {
		return err
	}
	dir := fset.Arg(0)
	if *user == "" || *bucket == "" || dir == "" || fset.NArg() != 1 {
		return errors.New("usage: shoebox import --user USER --bucket BUCKET [--prefix FOLDER] DIR")
	}
	st, err := openStore(cfg, newLogger(cfg))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.cat.GetUser(ctx, *user); err != nil {
		return fmt.Errorf("user %q: %w", *user, err)
	}
	if _, err := st.cat.GetBucket(ctx, *user, *bucket); errors.Is(err, catalog.ErrNotFound) {
		if err := st.gw.CreateBucket(ctx, *user, *bucket); err != nil {
			return fmt.Errorf("create bucket %s: %w", *bucket, err)
		}
		fmt.Fprintf(os.Stderr, "created bucket %s\n", *bucket)
	} else if err != nil {
		return err
	}

	type file struct {
		path, key string
		size      int64
		mod       time.Time
	}
	var files []file
	var total int64
	pfx := strings.Trim(*prefix, "/")
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(os.Stderr, "skipping %s: %v\n", p, err)
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && (strings.HasPrefix(name, ".") || name == "@eaDir") {
				return fs.SkipDir // .git, .thumbnails, Synology's @eaDir
			}
			return nil
		}
		if !d.Type().IsRegular() || junk(name) {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := path.Join(pfx, filepath.ToSlash(rel))
		if err := gateway.CheckKey(key); err != nil {
			fmt.Fprintf(os.Stderr, "skipping %s: %v\n", p, err)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		files = append(files, file{p, key, info.Size(), info.ModTime()})
		total += info.Size()
		return nil
	})
	if err != nil {
		return err
	}

	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(os.Stderr), progressbar.OptionShowBytes(true), progressbar.OptionShowCount(),
		progressbar.OptionSetDescription("importing"), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetVisibility(!*quiet), progressbar.OptionClearOnFinish())
	var imported, skipped, failed int
	var bytesIn int64
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("import interrupted (run it again to resume): %w", err)
		}
		// Resume: a file already at the same path with the same content
		// is skipped. A copy of it elsewhere is not: the layout is kept.
		var err error
		if o, serr := st.gw.Stat(ctx, *user, *bucket, f.key); serr == nil && !o.IsDir() && o.Size == f.size {
			var sum string
			if sum, err = fileSHA256(f.path); err == nil && sum == o.SHA256 {
				skipped++
				bar.Add64(f.size)
				continue
			}
		}
		if err == nil {
			err = importFile(ctx, st.gw, *user, *bucket, f.key, f.path, f.mod)
		}
		bar.Add64(f.size)
		if err != nil {
			failed++
			bar.Clear()
			fmt.Fprintf(os.Stderr, "failed %s: %v\n", f.path, err)
			continue
		}
		imported++
		bytesIn += f.size
	}
	bar.Finish()
	q, _ := st.cat.Queue(ctx, time.Now())
	fmt.Printf("imported %d files (%s), skipped %d already there, %d failed; %d waiting for enrichment (done when the server runs)\n",
		imported, humanBytes(bytesIn), skipped, failed, q.Pending)
	if failed > 0 {
		return fmt.Errorf("%d files were not imported", failed)
	}
	return nil
}

func importFile(ctx context.Context, gw *gateway.Gateway, user, bucket, key, p string, mod time.Time) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = gw.Put(ctx, gateway.PutInput{User: user, Bucket: bucket, Key: key, Body: f, ModTime: mod, MakeParents: true})
	return err
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// junk names the files operating systems leave in photo folders.
func junk(name string) bool {
	return strings.HasPrefix(name, "._") || name == ".DS_Store" || strings.EqualFold(name, "Thumbs.db") || strings.EqualFold(name, "desktop.ini")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// regroupAll groups every user's faces into persons again (after
// reindex dropped which face is whose): the persons and the user's
// corrections are primary data and come back as they were.
func regroupAll(ctx context.Context, st *store, cfg Config, lg *slog.Logger) error {
	users, err := st.cat.Users(ctx)
	if err != nil {
		return fmt.Errorf("regroup people: %w", err)
	}
	people := enrich.NewPeople(st.cat, peopleOptions(cfg))
	for _, u := range users {
		n, err := people.Group(ctx, u.Name)
		if err != nil {
			return fmt.Errorf("regroup people of %s: %w", u.Name, err)
		}
		lg.Info("grouped faces into people", "user", u.Name, "people", n)
	}
	return nil
}

// reindexCmd is `shoebox reindex`: it drops the derived data (media
// records, thumbnails) and enriches every file again, showing progress.
// The server must be stopped.
func reindexCmd(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("reindex", flag.ContinueOnError)
	quiet := fset.Bool("quiet", false, "no progress bar")
	cfg, err := parseConfig(fset, args, cmdSpec{usage: "shoebox reindex [--quiet] [flags]",
		about: "Drops the derived data (media records, thumbnails) and enriches every file again. The server must be stopped.", uses: gStore | gEnrich | gModels})
	if err != nil {
		return err
	}
	lg := newLogger(cfg)
	var pool *enrich.Pool
	st, err := openStore(cfg, lg, wakeHook(&pool))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.gw.Reconcile(ctx); err != nil {
		return err
	}
	if err := st.thumbs.Reset(ctx); err != nil {
		return fmt.Errorf("clear thumbnails: %w", err)
	}
	n := 0
	if err := st.cat.RequeueAll(ctx, func(i int) { n = i }); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "reindexing %d files\n", n)
	pool = enrich.NewPool(st.gw, enrich.Options{Workers: cfg.Workers, Logger: lg,
		Extractors: []enrich.Extractor{enrich.Metadata{Thumbs: st.thumbs, Faces: loadFaceModels(cfg, lg), WantFaces: true, FaceDetector: faceDetector(cfg)},
			enrich.Places{Index: loadPlaces(lg)}}})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { pool.Run(pctx); close(done) }()
	defer func() { cancel(); <-done }()
	bar := progressbar.NewOptions(n, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionShowCount(),
		progressbar.OptionSetDescription("enriching"), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetVisibility(!*quiet), progressbar.OptionClearOnFinish())
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		q, err := st.cat.Queue(ctx, time.Now())
		if err != nil {
			return err
		}
		bar.Set(n - q.Pending - q.Running)
		if q.Pending == 0 && q.Running == 0 {
			bar.Finish()
			fmt.Printf("reindexed %d files, %d failed (see `GET /api/v1/objects/...` for each error)\n", n, q.Failed)
			return regroupAll(ctx, st, cfg, lg)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("reindex interrupted; the rest is enriched when the server runs: %w", ctx.Err())
		case <-tick.C:
		}
	}
}
