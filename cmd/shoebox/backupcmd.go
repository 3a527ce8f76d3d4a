package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"shoebox/gateway/syncfile"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"shoebox/catalog"
	"shoebox/catalog/backup"
)

// Backups (package backup has the file format). `shoebox backup` writes
// one: with no server running it opens the catalog itself; while a server
// holds it, the server streams the backup over its admin socket (admin.go)
// and keeps serving. `shoebox restore` loads one (or a chain) into a data
// directory with no catalog, and leaves a marker (restoredMarker) the next
// `serve` sees: it reconciles with the originals as at every start, then
// queues again the photos whose thumbnails are missing (the backup holds
// the catalog, not <data>/derived).

const backupUsage = "usage: shoebox backup --to FILE|-|s3://BUCKET/KEY [--since VERSION] [--no-secret]"
const restoreUsage = "usage: shoebox restore [--force] FILE|-|s3://BUCKET/KEY [INCREMENT ...]"

// restoredMarker is the file restore leaves in the data directory.
func restoredMarker(data string) string { return filepath.Join(data, "restored.json") }

// backupCmd dispatches `backup` and `restore`.
func backupCmd(ctx context.Context, args []string) error {
	if args[0] == "restore" {
		return restoreCmd(ctx, args[1:])
	}
	fset := flag.NewFlagSet("backup", flag.ContinueOnError)
	to := fset.String("to", "", "where to write the backup: a file (written whole, then renamed into place), - for standard output, or s3://BUCKET/KEY (streamed; s3://BUCKET/PREFIX/ names it by the time; reached with the upstream-* settings or AWS_* variables)")
	since := fset.Uint64("since", 0, "incremental: only what changed since this catalog version (printed by the previous backup)")
	noSecret := fset.Bool("no-secret", false, "leave secret.key out of the backup (S3 keys then need it restored apart)")
	cfg, err := parseConfig(fset, args[1:], cmdSpec{usage: "shoebox backup --to FILE|-|s3://BUCKET/KEY [--since VERSION] [--no-secret] [flags]",
		about: "Backs up the catalog (and secret.key) into one file, the server running or not. The originals are files: back them up with any tool.", uses: gStore})
	if err != nil {
		return err
	}
	if *to == "" || fset.NArg() != 0 {
		return errors.New(backupUsage)
	}
	loc, isS3, err := parseS3URL(*to)
	if err != nil {
		return fmt.Errorf("--to %w", err)
	}
	var tr backup.Trailer
	var m backup.Manifest
	if isS3 {
		if loc.isFolder() {
			loc.key += backupName(time.Now())
		}
		o, err := backupObjects(ctx, cfg, loc.bucket, "")
		if err != nil {
			return err
		}
		if _, err := putStream(ctx, o, loc.key, func(w io.Writer) (err error) {
			tr, m, err = backupTo(ctx, cfg, w, *since, !*noSecret)
			return err
		}); err != nil {
			return err
		}
		*to = loc.String()
	} else {
		out, err := openOutput(*to)
		if err != nil {
			return err
		}
		defer out.abort()
		tr, m, err = backupTo(ctx, cfg, out, *since, !*noSecret)
		if err != nil {
			return err
		}
		if err := out.commit(); err != nil {
			return err
		}
	}
	kind := "full backup"
	if m.Since > 0 {
		kind = fmt.Sprintf("incremental backup since version %d", m.Since)
	}
	secret := "secret.key included (keep this file private)"
	if !m.Secret {
		secret = "secret.key NOT included"
	}
	fmt.Fprintf(os.Stderr, "%s of the catalog, %d bytes, to %s; %s; next incremental: --since %d\n", kind, tr.CatalogBytes, *to, secret, tr.Next)
	return nil
}

// backupTo writes a backup of cfg.Data's catalog to w: itself when no
// server runs, else through the server.
func backupTo(ctx context.Context, cfg Config, w io.Writer, since uint64, withSecret bool) (backup.Trailer, backup.Manifest, error) {
	dir := filepath.Join(cfg.Data, "catalog")
	if _, err := os.Stat(dir); err != nil {
		return backup.Trailer{}, backup.Manifest{}, fmt.Errorf("no catalog to back up in %s: %w", cfg.Data, err)
	}
	cat, err := catalog.Open(dir, catalog.Options{SyncWrites: !cfg.NoFsync, Logger: newLogger(cfg)})
	if errors.Is(err, catalog.ErrLocked) {
		return backupFromServer(ctx, cfg.Data, w, since, withSecret)
	}
	if err != nil {
		return backup.Trailer{}, backup.Manifest{}, err
	}
	defer cat.Close()
	return writeBackup(ctx, w, cat, cfg, since, withSecret)
}

// writeBackup writes a backup of cat, with the data directory's
// secret.key when withSecret and there is one.
func writeBackup(ctx context.Context, w io.Writer, cat *catalog.Catalog, cfg Config, since uint64, withSecret bool) (backup.Trailer, backup.Manifest, error) {
	m := backup.Manifest{Since: since}
	if cfg.UpstreamBucket != "" {
		m.Upstream = strings.TrimSuffix(cfg.UpstreamEndpoint+"/"+cfg.UpstreamBucket+"/"+cfg.UpstreamPrefix, "/")
	}
	var secret []byte
	if withSecret {
		b, err := os.ReadFile(secretKeyFile(cfg))
		switch {
		case err == nil:
			secret, m.Secret = b, true
		case !errors.Is(err, fs.ErrNotExist):
			return backup.Trailer{}, m, fmt.Errorf("read %s for the backup: %w", secretKeyFile(cfg), err)
		}
	}
	tr, err := backup.Write(ctx, w, cat, m, secret)
	return tr, m, err
}

type backupRequest struct {
	Since  uint64 `json:"since"`
	Secret bool   `json:"secret"`
}

// backupFromServer asks the server holding data for a backup over its
// admin socket and copies it to w, checking it whole on the way.
func backupFromServer(ctx context.Context, data string, w io.Writer, since uint64, withSecret bool) (backup.Trailer, backup.Manifest, error) {
	body, _ := json.Marshal(backupRequest{Since: since, Secret: withSecret})
	cli := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", adminSocket(data))
	}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://shoebox/v1/backup", bytes.NewReader(body))
	if err != nil {
		return backup.Trailer{}, backup.Manifest{}, err
	}
	resp, err := cli.Do(req)
	if err != nil {
		return backup.Trailer{}, backup.Manifest{}, fmt.Errorf("the data directory %s is held by a running server, and its admin socket does not answer: %w", data, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return backup.Trailer{}, backup.Manifest{}, fmt.Errorf("the server refused the backup: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	// Every byte read from the body goes to w once; reading it as a
	// backup checks that it came whole.
	tee := io.TeeReader(resp.Body, w)
	rd, err := backup.Open(tee)
	if err != nil {
		return backup.Trailer{}, backup.Manifest{}, fmt.Errorf("backup from the server: %w (see the server's log)", err)
	}
	tr, err := rd.Finish()
	if err != nil {
		return backup.Trailer{}, rd.Manifest, fmt.Errorf("backup from the server: %w (see the server's log)", err)
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return backup.Trailer{}, rd.Manifest, fmt.Errorf("backup from the server: %w", err)
	}
	return tr, rd.Manifest, nil
}

// serveBackup answers POST /v1/backup on the admin socket: it streams a
// backup of the running server's catalog. Small files acknowledged from
// the journal are flushed in place first, so the originals on disk hold
// every file the backup names.
func serveBackup(st *store, cfg Config, lg *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req backupRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<10)).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := st.gw.Flush(r.Context()); err != nil {
			lg.Error("backup: flush small files", "err", err)
			http.Error(w, "flush small files before the backup: "+err.Error(), http.StatusInternalServerError)
			return
		}
		start := time.Now()
		w.Header().Set("Content-Type", "application/octet-stream")
		tr, m, err := writeBackup(r.Context(), w, st.cat, cfg, req.Since, req.Secret)
		if err != nil {
			lg.Error("backup over the admin socket failed", "since", req.Since, "err", err)
			panic(http.ErrAbortHandler) // the client sees a cut stream, never a whole-looking one
		}
		lg.Info("backup over the admin socket", "since", m.Since, "next", tr.Next, "catalog_bytes", tr.CatalogBytes,
			"secret_key_included", m.Secret, "took", time.Since(start).Round(time.Millisecond))
	}
}

// output is where a backup goes: standard output, or a file written
// under a temporary name beside it, synced and renamed into place by
// commit (abort removes it).
type output struct {
	io.Writer
	f    *os.File
	path string
	done bool
}

func openOutput(to string) (*output, error) {
	if to == "-" {
		return &output{Writer: os.Stdout}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("backup file %s: %w", to, err)
	}
	return &output{Writer: f, f: f, path: to}, nil
}

func (o *output) commit() error {
	if o.f == nil {
		return nil
	}
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("backup file %s: sync: %w", o.path, err)
	}
	if err := o.f.Close(); err != nil {
		return fmt.Errorf("backup file %s: %w", o.path, err)
	}
	if err := os.Rename(o.f.Name(), o.path); err != nil {
		return fmt.Errorf("backup file %s: %w", o.path, err)
	}
	o.done = true
	return syncfile.SyncDir(filepath.Dir(o.path))
}

func (o *output) abort() {
	if o.f != nil && !o.done {
		o.f.Close()
		os.Remove(o.f.Name())
	}
}

// restoreCmd loads a backup, or a full backup and its increments in
// order, into cfg.Data.
func restoreCmd(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("restore", flag.ContinueOnError)
	force := fset.Bool("force", false, "restore into a data directory that is not empty: its catalog is moved aside (catalog.replaced-TIME) and replaced, its originals and thumbnails stay")
	cfg, err := parseConfig(fset, args, cmdSpec{usage: "shoebox restore [--force] FILE|- [INCREMENT ...] [flags]",
		about: "Restores a backup (a full one, then its increments in order) into the data directory, which it creates; the server must be stopped. s3://BUCKET/PREFIX/ restores the newest backup under it.", uses: gStore})
	if err != nil {
		return err
	}
	files := fset.Args()
	if len(files) == 0 || (slices.Contains(files, "-") && len(files) > 1) {
		return errors.New(restoreUsage)
	}
	lg := newLogger(cfg)
	data := cfg.Data
	ents, err := os.ReadDir(data)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("data directory %s: %w", data, err)
	}
	if len(ents) > 0 && !*force {
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return fmt.Errorf("the data directory %s is not empty (%s): restore into a new one, or pass --force to replace its catalog (kept aside as catalog.replaced-TIME) and keep its originals", data, strings.Join(names, ", "))
	}
	if err := os.MkdirAll(data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	catDir := filepath.Join(data, "catalog")
	if _, err := os.Stat(catDir); err == nil {
		// Held by a server? Opening it says so.
		c, err := catalog.Open(catDir, catalog.Options{Logger: lg})
		if errors.Is(err, catalog.ErrLocked) {
			return fmt.Errorf("the data directory %s is held by a running shoebox server; stop it before restoring: %w", data, err)
		}
		if err == nil {
			c.Close()
		}
	}
	tmp := filepath.Join(data, "catalog.restoring")
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove an earlier restore's leftovers: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	var first, last backup.Manifest
	var secret []byte
	var next uint64
	for i, name := range files {
		m, s, tr, err := restoreOne(ctx, cfg, tmp, name, lg)
		if err != nil {
			return err
		}
		if i == 0 && m.Since != 0 {
			return fmt.Errorf("%s is an incremental backup (since version %d): restore the full backup first, then its increments in order", name, m.Since)
		}
		if i > 0 && m.Since != next {
			return fmt.Errorf("%s follows version %d, and the backups before it end at %d: give the increments in the order they were taken, none missing", name, m.Since, next)
		}
		if i == 0 {
			first = m
		}
		last = m
		if s != nil {
			secret = s
		}
		next = tr.Next
	}
	if _, err := os.Stat(catDir); err == nil {
		aside := filepath.Join(data, "catalog.replaced-"+time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(catDir, aside); err != nil {
			return fmt.Errorf("move the old catalog aside: %w", err)
		}
		fmt.Fprintf(os.Stderr, "the catalog that was there is in %s: remove it once the restored server is fine\n", aside)
	}
	if err := os.Rename(tmp, catDir); err != nil {
		return fmt.Errorf("put the restored catalog in place: %w", err)
	}
	ok = true
	if secret != nil {
		if err := writeFileAtomic(secretKeyFile(cfg), secret, 0o600); err != nil {
			return err
		}
	}
	mark, _ := json.Marshal(map[string]any{"restored": time.Now().UTC(), "backup_created": first.Created, "last_created": last.Created, "backups": files, "next": next})
	if err := writeFileAtomic(restoredMarker(data), mark, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "restored the catalog of %s from %d backup file(s) into %s; next incremental: --since %d\n", first.Created.Format(time.RFC3339), len(files), data, next)
	switch {
	case secret != nil:
		fmt.Fprintln(os.Stderr, "secret.key restored: S3 access keys work as before")
	default:
		if _, err := os.Stat(secretKeyFile(cfg)); err != nil {
			fmt.Fprintf(os.Stderr, "the backup holds no secret.key: put the original in %s, or S3 access keys must be created again\n", secretKeyFile(cfg))
		}
	}
	fmt.Fprintf(os.Stderr, "put the originals in %s (or point --upstream-* at their bucket) and start `shoebox serve`: it catalogs files added since the backup, drops rows of files gone, and makes missing thumbnails again\n", filepath.Join(data, "objects"))
	return nil
}

// restoreOne loads one backup (a file, - for standard input, or an s3://
// object or prefix) into the catalog directory dir and checks it whole.
func restoreOne(ctx context.Context, cfg Config, dir, name string, lg *slog.Logger) (backup.Manifest, []byte, backup.Trailer, error) {
	r, name, err := openBackupSource(ctx, cfg, name)
	if err != nil {
		return backup.Manifest{}, nil, backup.Trailer{}, err
	}
	defer r.Close()
	if strings.HasPrefix(name, "s3://") {
		fmt.Fprintf(os.Stderr, "restoring %s\n", name)
	}
	rd, err := backup.Open(r)
	if err != nil {
		return backup.Manifest{}, nil, backup.Trailer{}, fmt.Errorf("restore %s: %w", name, err)
	}
	if err := catalog.Restore(ctx, dir, rd.Catalog(), lg); err != nil {
		return rd.Manifest, nil, backup.Trailer{}, fmt.Errorf("restore %s: %w", name, err)
	}
	tr, err := rd.Finish()
	if err != nil {
		return rd.Manifest, nil, backup.Trailer{}, fmt.Errorf("restore %s: %w", name, err)
	}
	return rd.Manifest, rd.Secret, tr, nil
}

// writeFileAtomic writes a file through a temporary one, synced and
// renamed, and syncs its folder.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	if err := syncfile.WriteFile(path, b, mode); err != nil {
		return err
	}
	return syncfile.SyncDir(filepath.Dir(path))
}

// afterRestore runs at start-up after a restore (the marker is there):
// photos whose thumbnails are missing (the backup holds the catalog, not
// <data>/derived) are queued for enrichment again, and the marker goes.
// It returns how many were queued.
func afterRestore(ctx context.Context, data string, st *store, lg *slog.Logger) (int, error) {
	mark := restoredMarker(data)
	if _, err := os.Stat(mark); err != nil {
		return 0, nil
	}
	n, err := st.cat.RequeueMediaWhere(ctx, func(user, bucket, key string, m catalog.Media) bool {
		if m.PHash == "" || len(m.SHA256) != 64 { // no thumbnails were made for it
			return false
		}
		_, _, err := st.thumbs.Get(ctx, m.SHA256, "small")
		return errors.Is(err, fs.ErrNotExist)
	})
	if err != nil {
		return 0, fmt.Errorf("after the restore: %w", err)
	}
	if err := os.Remove(mark); err != nil {
		return n, fmt.Errorf("after the restore: %w", err)
	}
	lg.Info("first start after a restore: queued the photos whose thumbnails are missing", "photos", n)
	return n, nil
}

// ---- scheduled backups ----

// backupMetrics count the server's scheduled backups.
type backupMetrics struct {
	runs        *prometheus.CounterVec
	lastSuccess prometheus.Gauge
	lastBytes   prometheus.Gauge
}

func newBackupMetrics(reg prometheus.Registerer) *backupMetrics {
	m := &backupMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shoebox_backups_total",
			Help: "Scheduled catalog backups by result (ok, error)."}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "shoebox_backup_last_success_timestamp_seconds",
			Help: "When the last scheduled backup was written (Unix seconds)."}),
		lastBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "shoebox_backup_last_catalog_bytes",
			Help: "The catalog's size in the last scheduled backup."}),
	}
	reg.MustRegister(m.runs, m.lastSuccess, m.lastBytes)
	return m
}

const (
	backupPrefix = "shoebox-backup-"
	backupSuffix = ".sbk"
)

// runScheduledBackups writes a full backup every cfg.BackupEvery until
// ctx ends into backup_to (a folder, an s3:// prefix, or the upstream
// bucket) or backup_dir, keeping the newest cfg.BackupKeep.
func runScheduledBackups(ctx context.Context, cfg Config, st *store, m *backupMetrics, lg *slog.Logger) {
	sink, err := newBackupSink(ctx, cfg, lg)
	if err != nil {
		lg.Error("scheduled backups are off", "err", err)
		return
	}
	lg = lg.With("backup_to", sink.String())
	lg.Info("scheduled backups", "every", cfg.BackupEvery, "keep", cfg.BackupKeep)
	t := time.NewTicker(cfg.BackupEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		name, tr, err := scheduledBackup(ctx, cfg, st, sink)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			m.runs.WithLabelValues("error").Inc()
			lg.Error("scheduled backup failed", "err", err)
			continue
		}
		m.runs.WithLabelValues("ok").Inc()
		m.lastSuccess.SetToCurrentTime()
		m.lastBytes.Set(float64(tr.CatalogBytes))
		removed, err := pruneBackups(ctx, sink, cfg.BackupKeep)
		if err != nil {
			lg.Error("prune old backups", "err", err)
		}
		lg.Info("scheduled backup written", "file", name, "catalog_bytes", tr.CatalogBytes, "next", tr.Next,
			"secret_key_included", !cfg.BackupNoSecret, "pruned", removed, "took", time.Since(start).Round(time.Millisecond))
	}
}

// scheduledBackup writes one full backup into sink and returns its name.
func scheduledBackup(ctx context.Context, cfg Config, st *store, sink backupSink) (string, backup.Trailer, error) {
	if err := st.gw.Flush(ctx); err != nil {
		return "", backup.Trailer{}, fmt.Errorf("flush small files before the backup: %w", err)
	}
	name := backupName(time.Now())
	var tr backup.Trailer
	err := sink.put(ctx, name, func(w io.Writer) (err error) {
		tr, _, err = writeBackup(ctx, w, st.cat, cfg, 0, !cfg.BackupNoSecret)
		return err
	})
	if err != nil {
		return "", tr, fmt.Errorf("backup %s into %s: %w", name, sink, err)
	}
	return name, tr, nil
}
