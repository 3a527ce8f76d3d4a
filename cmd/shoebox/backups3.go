package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"shoebox/gateway/s3store"
)

// Backups in S3 (`backup --to s3://…`, `restore s3://…`, scheduled
// backups with backup_to: upstream or an s3:// URL). They go through
// s3store.Objects, the upstream backend's own client: streamed as a
// multipart upload (two part buffers in memory, no local copy), visible
// only once whole. The service is reached with the upstream_* settings
// (endpoint, region, credentials, addressing), or, where those are unset,
// the AWS_* environment variables every S3 tool reads.

// upstreamBackups is the backup_to value that means the upstream bucket,
// under <upstream_prefix>backups/.
const upstreamBackups = "upstream"

// s3Location is a parsed s3://bucket/key URL.
type s3Location struct{ bucket, key string }

// parseS3URL reads s3://bucket[/key]; ok is false for anything else.
func parseS3URL(u string) (loc s3Location, ok bool, err error) {
	rest, found := strings.CutPrefix(u, "s3://")
	if !found {
		return loc, false, nil
	}
	loc.bucket, loc.key, _ = strings.Cut(rest, "/")
	if loc.bucket == "" {
		return loc, true, fmt.Errorf("%q: want s3://BUCKET/KEY or s3://BUCKET/PREFIX/", u)
	}
	return loc, true, nil
}

// isFolder says whether the URL names a prefix (empty, or ending in '/')
// rather than one object.
func (l s3Location) isFolder() bool { return l.key == "" || strings.HasSuffix(l.key, "/") }

func (l s3Location) String() string { return "s3://" + l.bucket + "/" + l.key }

// firstEnv is the first of the environment variables that is set.
func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// backupObjects connects to bucket for backups under prefix, with the
// upstream_* connection settings, else the AWS_* environment.
func backupObjects(ctx context.Context, cfg Config, bucket, prefix string) (*s3store.Objects, error) {
	c := s3store.Config{
		Endpoint: cfg.UpstreamEndpoint, Region: cfg.UpstreamRegion, Bucket: bucket, Prefix: prefix,
		AccessKey: cfg.UpstreamAccessKey, SecretKey: cfg.UpstreamSecretKey, PathStyle: !cfg.UpstreamVirtualHost,
		Logger: newLogger(cfg),
	}
	if c.Endpoint == "" {
		c.Endpoint = firstEnv("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
	}
	if c.Region == "" {
		c.Region = firstEnv("AWS_REGION", "AWS_DEFAULT_REGION")
	}
	if c.AccessKey == "" && c.SecretKey == "" {
		c.AccessKey, c.SecretKey, c.SessionToken = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return nil, fmt.Errorf("backups in s3://%s/%s: no credentials: set upstream_access_key and upstream_secret_key (SHOEBOX_UPSTREAM_ACCESS_KEY, SHOEBOX_UPSTREAM_SECRET_KEY), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", bucket, prefix)
	}
	o, err := s3store.NewObjects(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("backups in s3://%s/%s: %w", bucket, prefix, err)
	}
	return o, nil
}

// putStream runs write with a writer whose bytes are uploaded to the
// object name as they come; the object appears only if write succeeds
// (a failed write aborts the upload).
func putStream(ctx context.Context, o *s3store.Objects, name string, write func(io.Writer) error) (int64, error) {
	pr, pw := io.Pipe()
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		// Put returns nil only once it read the end: write has returned.
		n, err := o.Put(ctx, name, pr)
		pr.CloseWithError(err) // a writer blocked on the pipe gets the error
		done <- result{n, err}
	}()
	if err := write(pw); err != nil {
		pw.CloseWithError(err)
		<-done
		return 0, err
	}
	pw.Close()
	res := <-done
	return res.n, res.err
}

// backupName is the name of a backup taken now: names sort by time.
func backupName(now time.Time) string {
	return backupPrefix + now.UTC().Format("20060102T150405.000Z") + backupSuffix
}

// isBackupName says whether name (a base name) is one backupName made.
func isBackupName(name string) bool {
	return strings.HasPrefix(name, backupPrefix) && strings.HasSuffix(name, backupSuffix)
}

// openBackupSource opens a backup named on restore's command line: a
// file, - (standard input), an s3:// object, or an s3:// prefix (the
// newest scheduled backup under it). It returns what it opened.
func openBackupSource(ctx context.Context, cfg Config, name string) (io.ReadCloser, string, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), name, nil
	}
	loc, isS3, err := parseS3URL(name)
	if err != nil {
		return nil, name, err
	}
	if !isS3 {
		f, err := os.Open(name)
		if err != nil {
			return nil, name, fmt.Errorf("restore: %w", err)
		}
		return f, name, nil
	}
	o, err := backupObjects(ctx, cfg, loc.bucket, "")
	if err != nil {
		return nil, name, err
	}
	key := loc.key
	if loc.isFolder() {
		infos, err := o.List(ctx, loc.key)
		if err != nil {
			return nil, name, err
		}
		var names []string
		for _, in := range infos {
			if rest := in.Name[len(loc.key):]; !strings.Contains(rest, "/") && isBackupName(rest) {
				names = append(names, in.Name)
			}
		}
		if len(names) == 0 {
			return nil, name, fmt.Errorf("restore: no backup (%s*%s) in %s", backupPrefix, backupSuffix, loc)
		}
		slices.Sort(names)
		key = names[len(names)-1]
	}
	r, err := o.Open(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, name, fmt.Errorf("restore: no backup at s3://%s/%s (a prefix ends with /): %w", loc.bucket, key, err)
	}
	if err != nil {
		return nil, name, fmt.Errorf("restore: %w", err)
	}
	return r, "s3://" + loc.bucket + "/" + key, nil
}

// adoptAfterRestore runs on the first start (or fsck) after a restore of
// an upstream-backed library: the files written upstream since the backup
// are brought back into the blob map (s3store.Store.Adopt) before the
// upstream reconciliation, which would otherwise delete their blobs as
// orphans. Without a restore marker it does nothing.
func adoptAfterRestore(ctx context.Context, data string, up *s3store.Store, lg *slog.Logger) error {
	b, err := os.ReadFile(restoredMarker(data))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("after the restore: %w", err)
	}
	var mark struct {
		First   time.Time `json:"backup_created"`
		Last    time.Time `json:"last_created"`
		Adopted bool      `json:"adopted"`
	}
	var all map[string]any
	if err := json.Unmarshal(b, &mark); err != nil {
		return fmt.Errorf("after the restore: %s: %w", restoredMarker(data), err)
	}
	if mark.Adopted { // by an fsck before this start: replaying twice would move files again
		return nil
	}
	since := mark.Last
	if since.IsZero() {
		since = mark.First
	}
	rep, err := up.Adopt(ctx, since)
	if err != nil {
		return fmt.Errorf("after the restore: bring back the files written upstream since the backup: %w", err)
	}
	lg.Info("after the restore: files written upstream since the backup are back in the catalog",
		"backup_taken", since, "files", len(rep.Adopted), "renames_replayed", rep.Renames)
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("after the restore: %s: %w", restoredMarker(data), err)
	}
	all["adopted"] = true
	b, _ = json.Marshal(all)
	return writeFileAtomic(restoredMarker(data), b, 0o600)
}

// ---- where scheduled backups go ----

// checkBackupTo checks the backup_to setting; says spells a setting for
// messages.
func checkBackupTo(cfg Config, says func(string, any) string) error {
	to := cfg.BackupTo
	_, isS3, err := parseS3URL(to)
	switch {
	case to == "":
	case to == upstreamBackups && cfg.UpstreamBucket == "":
		return fmt.Errorf("%s: the originals are on local disk (no upstream-bucket); want s3://BUCKET/PREFIX/, a folder, or an upstream bucket", says("backup-to", to))
	case err != nil:
		return fmt.Errorf("%s: %w", says("backup-to", to), err)
	case !isS3 && to != upstreamBackups && cfg.BackupDir != "" && cfg.BackupDir != to:
		return fmt.Errorf("%s and %s both say where scheduled backups go: keep one", says("backup-to", to), says("backup-dir", cfg.BackupDir))
	}
	return nil
}

// backupSink is where scheduled backups are kept: a folder or an S3
// prefix. Names are base names made by backupName.
type backupSink interface {
	// put writes the backup name through write; it is there whole, or
	// not at all.
	put(ctx context.Context, name string, write func(io.Writer) error) error
	// list returns the names of the whole backups, oldest first.
	list(ctx context.Context) ([]string, error)
	remove(ctx context.Context, name string) error
	String() string
}

// newBackupSink is where cfg's scheduled backups go: backup_to (upstream,
// an s3:// URL or a folder), else backup_dir.
func newBackupSink(ctx context.Context, cfg Config, lg *slog.Logger) (backupSink, error) {
	to := cfg.BackupTo
	if to == "" {
		to = cfg.BackupDir
	}
	if to == upstreamBackups {
		o, err := backupObjects(ctx, cfg, cfg.UpstreamBucket, cfg.UpstreamPrefix+"backups/")
		if err != nil {
			return nil, err
		}
		return newS3Sink(ctx, o, lg), nil
	}
	loc, isS3, err := parseS3URL(to)
	if err != nil {
		return nil, err
	}
	if isS3 {
		pfx := loc.key
		if pfx != "" && !strings.HasSuffix(pfx, "/") {
			pfx += "/"
		}
		o, err := backupObjects(ctx, cfg, loc.bucket, pfx)
		if err != nil {
			return nil, err
		}
		return newS3Sink(ctx, o, lg), nil
	}
	if err := os.MkdirAll(to, 0o750); err != nil {
		return nil, fmt.Errorf("backup folder: %w", err)
	}
	// Leftovers of a backup a crash cut short.
	if tmps, err := filepath.Glob(filepath.Join(to, "."+backupPrefix+"*.tmp")); err == nil {
		for _, p := range tmps {
			os.Remove(p)
		}
	}
	return dirSink(to), nil
}

// dirSink keeps backups in a folder: each written under a hidden
// temporary name, synced, then renamed.
type dirSink string

func (d dirSink) String() string { return string(d) }

func (d dirSink) put(ctx context.Context, name string, write func(io.Writer) error) error {
	path := filepath.Join(string(d), name)
	out, err := openOutput(path)
	if err != nil {
		return err
	}
	defer out.abort()
	if err := write(out); err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	return out.commit()
}

func (d dirSink) list(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(string(d))
	if err != nil {
		return nil, fmt.Errorf("list backups in %s: %w", d, err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && isBackupName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

func (d dirSink) remove(ctx context.Context, name string) error {
	if err := os.Remove(filepath.Join(string(d), name)); err != nil {
		return fmt.Errorf("remove old backup: %w", err)
	}
	return nil
}

// s3Sink keeps backups under an S3 prefix: each one a streamed upload
// that appears whole or not at all.
type s3Sink struct{ o *s3store.Objects }

// newS3Sink keeps backups in o; uploads of backups cut short by a crash
// more than a day ago (no backup takes that long) are aborted.
func newS3Sink(ctx context.Context, o *s3store.Objects, lg *slog.Logger) s3Sink {
	if n, err := o.AbortStale(ctx, backupPrefix, time.Now().Add(-24*time.Hour)); err != nil {
		lg.Warn("abort the uploads of backups cut short", "backup_to", o.String(), "err", err)
	} else if n > 0 {
		lg.Info("aborted the uploads of backups cut short", "backup_to", o.String(), "uploads", n)
	}
	return s3Sink{o}
}

func (s s3Sink) String() string { return s.o.String() }

func (s s3Sink) put(ctx context.Context, name string, write func(io.Writer) error) error {
	_, err := putStream(ctx, s.o, name, write)
	return err
}

func (s s3Sink) list(ctx context.Context) ([]string, error) {
	infos, err := s.o.List(ctx, backupPrefix)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, in := range infos {
		if !strings.Contains(in.Name, "/") && isBackupName(in.Name) {
			names = append(names, in.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

func (s s3Sink) remove(ctx context.Context, name string) error { return s.o.Delete(ctx, name) }

// pruneBackups removes all but the newest keep backups in sink (their
// names sort by time); it returns how many it removed.
func pruneBackups(ctx context.Context, sink backupSink, keep int) (int, error) {
	names, err := sink.list(ctx)
	if err != nil {
		return 0, err
	}
	removed := 0
	for len(names) > keep {
		if err := sink.remove(ctx, names[0]); err != nil {
			return removed, fmt.Errorf("remove old backup %s from %s: %w", names[0], sink, err)
		}
		removed++
		names = names[1:]
	}
	return removed, nil
}
