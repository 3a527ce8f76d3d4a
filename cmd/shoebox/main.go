// Command shoebox is the Shoebox server and its administration tool.
//
//	shoebox serve                      start the server (WebDAV on 127.0.0.1:8080/dav/)
//	shoebox user add|list|passwd|rm    manage accounts
//	shoebox fsck                       reconcile the catalog with the stored files
//
// Every command takes --data and --config; see `shoebox serve -h`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/gateway"
	"shoebox/gateway/diskspace"
	"shoebox/gateway/localfs"
	"shoebox/gateway/s3store"
	"shoebox/gateway/wal"
)

const usage = `shoebox: a WebDAV gateway that keeps and organizes your photos

Usage:
  shoebox serve [flags]                   start the server
  shoebox user add NAME [--password-stdin]
  shoebox user list
  shoebox user passwd NAME [--password-stdin]
  shoebox user rm NAME
  shoebox key create|list USER | revoke KEYID   S3 access keys (create prints the secret once)
  shoebox app-password list USER | revoke ID     device passwords the Nextcloud apps signed in with
  shoebox bucket list USER | create USER BUCKET | public USER BUCKET | private USER BUCKET
  shoebox failed [--user U] [--retry]     list the files whose enrichment failed; queue them again
  shoebox fsck                            reconcile the catalog with the files on disk
  shoebox import --user U --bucket B DIR  bring a folder in (cataloged, enriched; resumable)
  shoebox reindex                         rebuild derived data (media records, thumbnails)
  shoebox models install [--registry URL] download the face models (pinned, integrity-checked)
  shoebox export [--user U] [--to DIR] [--beside]
                                          albums, people and face regions as XMP sidecars and JSON
  shoebox backup --to FILE|-|s3://B/K [--since V] [--no-secret]
                                          back up the catalog (and secret.key), server running or not
  shoebox restore [--force] FILE|-|s3://B/K [INCREMENT ...]
                                          restore a backup into an empty data directory

  shoebox version                         the version and the commit it was built from

Run "shoebox COMMAND -h" for what a command does and its flags, with their
defaults and SHOEBOX_* environment variables.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // the help asked for was printed
		}
		if errors.As(err, new(reportedError)) {
			os.Exit(1) // logged already, in the log format
		}
		fmt.Fprintln(os.Stderr, "shoebox:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// reportedError is a failure already logged (with --log-format json,
// where main must print no plain text).
type reportedError struct{ error }

func (e reportedError) Unwrap() error { return e.error }

// usageError is a command line shoebox cannot run at all (exit status 2).
type usageError string

func (e usageError) Error() string { return string(e) }

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return usageError("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:])
	case "user":
		return runAdmin(ctx, args, userCmd)
	case "key":
		return runAdmin(ctx, args, keyCmd)
	case "app-password":
		return runAdmin(ctx, args, appPasswordCmd)
	case "fsck":
		return fsck(ctx, args[1:])
	case "bucket":
		return runAdmin(ctx, args, bucketCmd)
	case "failed":
		return runAdmin(ctx, args, failedCmd)
	case "import":
		return importCmd(ctx, args[1:])
	case "reindex":
		return reindexCmd(ctx, args[1:])
	case "models":
		return modelsCmd(ctx, args[1:])
	case "export":
		return exportCmd(ctx, args[1:])
	case "backup", "restore":
		return backupCmd(ctx, args)
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
		return nil
	case "version", "-version", "--version":
		fmt.Println(version())
		return nil
	default:
		fmt.Fprint(os.Stderr, usage)
		return usageError(fmt.Sprintf("unknown command %q (the commands are listed above)", args[0]))
	}
}

func newLogger(cfg Config) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// store is what every command opens: the catalog, the backend and the gateway.
type store struct {
	cat    *catalog.Catalog
	be     backend
	wal    *wal.Log // nil on an upstream S3 backend
	space  *diskspace.Guard
	gw     *gateway.Gateway
	thumbs *enrich.ThumbStore
}

// backend is a gateway.Backend the store closes.
type backend interface {
	gateway.Backend
	Close() error
}

func (s *store) Close() {
	// Small files durable only in the write-ahead log are flushed first
	// (were this skipped, the next start-up would replay them).
	if err := s.gw.Flush(context.Background()); err != nil {
		slog.Error("flush small files at close", "err", err)
	}
	if s.wal != nil {
		s.wal.Close()
	}
	s.be.Close()
	s.cat.Close()
}

// checkData refuses a data directory that does not exist (only serve and
// restore create one), saying where its name came from and how to point
// to the server's; on a terminal it says which directory is used.
func checkData(cfg Config) error {
	abs, err := filepath.Abs(cfg.Data)
	if err != nil {
		abs = cfg.Data
	}
	fi, err := os.Stat(cfg.Data)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("data directory %s (%s) does not exist: give the server's with --data DIR, SHOEBOX_DATA or --config FILE, as \"shoebox serve\" was started (serve creates it on its first start)", abs, cfg.dataFrom)
	case err != nil:
		return fmt.Errorf("data directory %s (%s): %w", abs, cfg.dataFrom, err)
	case !fi.IsDir():
		return fmt.Errorf("data directory %s (%s) is not a directory", abs, cfg.dataFrom)
	}
	if term.IsTerminal(int(os.Stderr.Fd())) && !strings.EqualFold(cfg.LogFormat, "json") {
		fmt.Fprintf(os.Stderr, "shoebox: data directory %s (%s)\n", abs, cfg.dataFrom)
	}
	return nil
}

// minFreeToOpen is the least free disk the catalog is opened with: room
// for the pages of its new log files that opening and replaying write.
const minFreeToOpen = 4 << 20

func openStore(cfg Config, lg *slog.Logger, hooks ...gateway.Hook) (*store, error) {
	versions, err := gateway.ParseVersions(cfg.Versions)
	if err != nil {
		return nil, fmt.Errorf("setting versions (--versions, SHOEBOX_VERSIONS): %w", err)
	}
	if err := checkData(cfg); err != nil {
		return nil, err
	}
	// The free-space reserve is checked before the catalog opens: on a
	// disk filled from outside, the guard deletes its ballast file, which
	// gives Badger the room its logs need (diskspace's doc says why a
	// full disk is a SIGBUS there, not an error).
	space, err := diskspace.New(cfg.Data, diskspace.Options{Reserve: cfg.FreeSpaceReserve, Ballast: filepath.Join(cfg.Data, "reserve.ballast"), Logger: lg})
	if err != nil {
		return nil, err
	}
	if a, err := space.Available(); err == nil && a < 0 {
		lg.Warn("the disk is below its free-space reserve: serving reads and deletes, refusing writes until space is freed",
			"data", cfg.Data, "short_mib", -a>>20, "reserve_mib", cfg.FreeSpaceReserve>>20)
	}
	// Opening the catalog writes its new log files through mmap: with no
	// room at all (a disk filled before a ballast file was ever made) that
	// would be a SIGBUS; a clear refusal is better.
	if free, err := space.Free(); err == nil && free < minFreeToOpen {
		return nil, fmt.Errorf("the disk holding %s has %d KiB free; Shoebox needs %d MiB to open its catalog: free some space and start again", cfg.Data, free>>10, minFreeToOpen>>20)
	}
	cat, err := catalog.Open(filepath.Join(cfg.Data, "catalog"), catalog.Options{SyncWrites: !cfg.NoFsync, Logger: lg})
	if errors.Is(err, catalog.ErrLocked) {
		return nil, fmt.Errorf("the data directory %s is held by a running shoebox server; stop it first (or run this command against another --data): %w", cfg.Data, err)
	}
	if err != nil {
		return nil, err
	}
	be, err := openBackend(cfg, cat, lg)
	if err != nil {
		cat.Close()
		return nil, err
	}
	var derived enrich.DerivedStore
	if up, ok := be.(*s3store.Store); ok && cfg.UpstreamDerived {
		derived = up.Derived()
	} else if derived, err = enrich.NewDirStore(filepath.Join(cfg.Data, "derived", "thumbs")); err != nil {
		cat.Close()
		return nil, err
	}
	thumbs := enrich.NewThumbStore(derived)
	// Small files are acknowledged from a write-ahead log (gateway/wal),
	// on the local disk only. Without fsync there is nothing to save, but
	// what an earlier run left in the log is still replayed.
	var log *wal.Log
	limit := int64(0)
	if cfg.NoFsync {
		limit = -1
	}
	if _, local := be.(gateway.Flusher); local {
		if log, err = wal.Open(filepath.Join(cfg.Data, "journal"), wal.Options{NoSync: cfg.NoFsync}); err != nil {
			be.Close()
			cat.Close()
			return nil, err
		}
	}
	gw := gateway.New(be, cat, gateway.Options{Logger: lg, Hooks: hooks, TrashRetention: time.Duration(cfg.TrashDays) * 24 * time.Hour,
		Journal: log, JournalLimit: limit, Space: space, Versions: versions,
		JournalFlushEvery: time.Duration(cfg.JournalFlushMs) * time.Millisecond})
	return &store{cat: cat, be: be, wal: log, space: space, gw: gw, thumbs: thumbs}, nil
}

// openBackend returns where the originals live: local disk, or an upstream
// S3 bucket when one is configured.
func openBackend(cfg Config, cat *catalog.Catalog, lg *slog.Logger) (backend, error) {
	if cfg.UpstreamBucket == "" {
		return localfs.New(filepath.Join(cfg.Data, "objects"), localfs.Options{NoSync: cfg.NoFsync})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := s3store.New(ctx, s3store.Config{
		Endpoint: cfg.UpstreamEndpoint, Region: cfg.UpstreamRegion, Bucket: cfg.UpstreamBucket, Prefix: cfg.UpstreamPrefix,
		AccessKey: cfg.UpstreamAccessKey, SecretKey: cfg.UpstreamSecretKey, PathStyle: !cfg.UpstreamVirtualHost, Logger: lg,
	}, cat)
	if err != nil {
		return nil, fmt.Errorf("upstream S3 %s/%s: %w", cfg.UpstreamEndpoint, cfg.UpstreamBucket, err)
	}
	return st, nil
}

func fsck(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fsck", flag.ContinueOnError)
	cfg, err := parseConfig(fs, args, cmdSpec{usage: "shoebox fsck [flags]",
		about: "Reconciles the catalog with the files on disk (and the upstream bucket): adds what is missing, removes what is gone. The server must be stopped.", uses: gStore})
	if err != nil {
		return err
	}
	lg := newLogger(cfg)
	st, err := openStore(cfg, lg)
	if err != nil {
		return err
	}
	defer st.Close()
	// The upstream's blobs first: the gateway then reconciles against the map.
	if up, ok := st.be.(*s3store.Store); ok {
		if err := adoptAfterRestore(ctx, cfg.Data, up, lg); err != nil {
			return err
		}
		rep, err := up.Reconcile(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("upstream: %s\n", rep.String())
	}
	res, err := st.gw.Reconcile(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("added %d, updated %d, removed %d catalog rows\n", res.Added, res.Updated, res.Removed)
	if res.Symlinks > 0 {
		fmt.Printf("skipped %d symbolic link(s) in the store: never followed nor served (each is named in a warning above)\n", res.Symlinks)
	}
	return nil
}
