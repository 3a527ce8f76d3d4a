package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"shoebox/catalog"
	"shoebox/gateway"
)

// Config is everything `shoebox` can be told. Precedence: flags, then
// SHOEBOX_* environment variables, then the YAML file given with --config,
// then the defaults below.
type Config struct {
	Data           string `yaml:"data"`
	DavAddr        string `yaml:"dav_addr"`
	S3Addr         string `yaml:"s3_addr"`
	S3Domain       string `yaml:"s3_domain"`
	TLSCert        string `yaml:"tls_cert"`
	TLSKey         string `yaml:"tls_key"`
	ExternalPrefix string `yaml:"external_prefix"`
	MaxUpload      int64  `yaml:"max_upload_bytes"`
	InfinityLimit  int    `yaml:"propfind_infinity_limit"`
	Workers        int    `yaml:"workers"`
	TrashDays      int    `yaml:"trash_days"`
	// Versions: which files keep the content an overwrite replaced, in
	// /trash for trash_days: media (photos and videos), all, or off.
	Versions string `yaml:"versions"`
	// MultipartExpireDays removes S3 multipart uploads no part of which
	// was written for that many days; 0: never.
	MultipartExpireDays int    `yaml:"multipart_expire_days"`
	LogLevel            string `yaml:"log_level"`
	LogFormat           string `yaml:"log_format"`
	// NoFsync skips every fsync: an acknowledged write can be lost if the
	// machine (not only the process) crashes. For benchmarks that measure
	// the cost of durability; never for data you keep.
	NoFsync bool `yaml:"unsafe_no_fsync"`
	// JournalFlushMs is how long, in milliseconds, small files acknowledged
	// from the write-ahead log may wait for the flush that makes them
	// durable in place and releases their records (gateway.Options.
	// JournalFlushEvery); 0: 100 ms. Longer means fewer flushes and more
	// to replay after a crash.
	JournalFlushMs int    `yaml:"journal_flush_ms"`
	PprofAddr      string `yaml:"pprof_addr"`

	// FreeSpaceReserve is the free space, in bytes, kept on the disk of
	// the data directory: below it writes are refused (WebDAV 507, S3
	// InsufficientStorage) and reads and deletes go on. 0: the default,
	// DefaultFreeSpaceReserve; negative: no reserve.
	FreeSpaceReserve int64 `yaml:"free_space_reserve"`
	// BodyIdleTimeout cuts a request body that makes no progress for that
	// long (0: DefaultBodyIdleTimeout; negative: never).
	BodyIdleTimeout time.Duration `yaml:"body_idle_timeout"`

	// Upstream S3 storage for originals (gateway/s3store); empty
	// UpstreamBucket keeps them on local disk.
	UpstreamEndpoint    string `yaml:"upstream_endpoint"`
	UpstreamRegion      string `yaml:"upstream_region"`
	UpstreamBucket      string `yaml:"upstream_bucket"`
	UpstreamPrefix      string `yaml:"upstream_prefix"`
	UpstreamAccessKey   string `yaml:"upstream_access_key"`
	UpstreamSecretKey   string `yaml:"upstream_secret_key"`
	UpstreamVirtualHost bool   `yaml:"upstream_virtual_host"`
	// UpstreamDerived puts thumbnails in the upstream bucket too
	// (<prefix>derived/...); by default they stay on local disk.
	UpstreamDerived bool `yaml:"upstream_derived"`

	// Scheduled backups of the catalog (backupcmd.go): a full backup into
	// BackupDir every BackupEvery (0: 24h), keeping the newest BackupKeep
	// (0: 7), with secret.key unless BackupNoSecret. Empty BackupDir: none.
	BackupDir      string        `yaml:"backup_dir"`
	BackupEvery    time.Duration `yaml:"backup_every"`
	BackupKeep     int           `yaml:"backup_keep"`
	BackupNoSecret bool          `yaml:"backup_no_secret"`

	// ModelsDir holds the face models; empty means <data>/models/face-api.
	ModelsDir string `yaml:"models_dir"`
	// FFmpeg is the ffmpeg that makes video thumbnails (ffprobe is looked
	// for beside it); empty: the one on the PATH.
	FFmpeg string `yaml:"ffmpeg"`
	// FaceDetector is "tiny" (fast, the default) or "ssd" (finds more
	// faces: small, turned or in groups; about 8 times the time).
	FaceDetector string `yaml:"face_detector"`

	// People grouping (enrich.PeopleOptions): the merge threshold (0:
	// enrich.DefaultPeopleThreshold), the fewest photos an unnamed person
	// needs to get a folder, and how many new faces left unplaced call
	// for a full regrouping (0: 20, or a tenth of the faces).
	PeopleThreshold    float64 `yaml:"people_threshold"`
	PeopleMinPhotos    int     `yaml:"people_min_photos"`
	PeopleRegroupAfter int     `yaml:"people_regroup_after"`
}

// DefaultFreeSpaceReserve is room for Badger's next files (a memtable log,
// its level-0 table, a value-log file: catalog.DiskHeadroom) and the
// journal's (gateway.JournalHeadroom): 120 MiB.
const DefaultFreeSpaceReserve = catalog.DiskHeadroom + gateway.JournalHeadroom

// DefaultBodyIdleTimeout is how long a request body may make no progress.
const DefaultBodyIdleTimeout = 60 * time.Second

func defaults() Config {
	return Config{
		Data:                "./shoebox-data",
		DavAddr:             "127.0.0.1:8080",
		S3Addr:              "127.0.0.1:9000",
		InfinityLimit:       100_000,
		TrashDays:           30,
		Versions:            "media",
		LogLevel:            "info",
		LogFormat:           "text",
		FaceDetector:        "tiny",
		MultipartExpireDays: 7,
		PeopleMinPhotos:     2,
		FreeSpaceReserve:    DefaultFreeSpaceReserve,
		BodyIdleTimeout:     DefaultBodyIdleTimeout,
		BackupEvery:         24 * time.Hour,
		BackupKeep:          7,
	}
}

// option ties a config field to its flag and environment variable.
type option struct {
	name, env, usage string
	str              *string
	i64              *int64
	int              *int
	f64              *float64
	boolean          *bool
	dur              *time.Duration
}

func (c *Config) options() []option {
	return []option{
		{name: "data", env: "SHOEBOX_DATA", usage: "data directory (catalog and originals)", str: &c.Data},
		{name: "dav-addr", env: "SHOEBOX_DAV_ADDR", usage: "WebDAV listen address (serves /dav/, /healthz, /metrics)", str: &c.DavAddr},
		{name: "s3-addr", env: "SHOEBOX_S3_ADDR", usage: "S3 listen address (path-style http://host:port/bucket/key; empty: no S3)", str: &c.S3Addr},
		{name: "s3-domain", env: "SHOEBOX_S3_DOMAIN", usage: "also accept virtual-host style requests for BUCKET.<this domain>", str: &c.S3Domain},
		{name: "tls-cert", env: "SHOEBOX_TLS_CERT", usage: "TLS certificate file (PEM); with --tls-key serves HTTPS", str: &c.TLSCert},
		{name: "tls-key", env: "SHOEBOX_TLS_KEY", usage: "TLS private key file (PEM)", str: &c.TLSKey},
		{name: "external-prefix", env: "SHOEBOX_EXTERNAL_PREFIX", usage: "path prefix a reverse proxy puts before /dav (e.g. /shoebox)", str: &c.ExternalPrefix},
		{name: "max-upload-bytes", env: "SHOEBOX_MAX_UPLOAD_BYTES", usage: "largest accepted upload in bytes (0: no limit)", i64: &c.MaxUpload},
		{name: "propfind-infinity-limit", env: "SHOEBOX_PROPFIND_INFINITY_LIMIT", usage: "most entries a Depth: infinity PROPFIND may list", int: &c.InfinityLimit},
		{name: "workers", env: "SHOEBOX_WORKERS", usage: "enrichment workers (0: one per CPU)", int: &c.Workers},
		{name: "multipart-expire-days", env: "SHOEBOX_MULTIPART_EXPIRE_DAYS", usage: "days an S3 multipart upload may go without a new part before it is removed (0: never)", int: &c.MultipartExpireDays},
		{name: "face-detector", env: "SHOEBOX_FACE_DETECTOR", usage: "tiny (fast) or ssd (finds more faces, about 8 times the time); changing it finds the faces again", str: &c.FaceDetector},
		{name: "people-threshold", env: "SHOEBOX_PEOPLE_THRESHOLD", usage: "how far apart (centred cosine distance, 0-2) faces of one person may be on average; higher merges more (0: the default, 0.82)", f64: &c.PeopleThreshold},
		{name: "people-min-photos", env: "SHOEBOX_PEOPLE_MIN_PHOTOS", usage: "fewest photos an unnamed person needs to get a /by-person folder", int: &c.PeopleMinPhotos},
		{name: "people-regroup-after", env: "SHOEBOX_PEOPLE_REGROUP_AFTER", usage: "new faces that match no person before all faces are grouped again (0: 20, or a tenth of the faces)", int: &c.PeopleRegroupAfter},
		{name: "trash-days", env: "SHOEBOX_TRASH_DAYS", usage: "days deleted photos and videos stay in /trash (0: no trash, deletes are final)", int: &c.TrashDays},
		{name: "versions", env: "SHOEBOX_VERSIONS", usage: "which files keep the content an overwrite replaced, in /trash for trash-days: media (photos and videos), all, or off", str: &c.Versions},
		{name: "log-level", env: "SHOEBOX_LOG_LEVEL", usage: "debug, info, warn or error", str: &c.LogLevel},
		{name: "log-format", env: "SHOEBOX_LOG_FORMAT", usage: "text or json", str: &c.LogFormat},
		{name: "unsafe-no-fsync", env: "SHOEBOX_UNSAFE_NO_FSYNC", usage: "skip fsync (benchmarks only: a machine crash can lose acknowledged writes)", boolean: &c.NoFsync},
		{name: "free-space-reserve", env: "SHOEBOX_FREE_SPACE_RESERVE", usage: "bytes kept free on the data directory's disk; below it writes are refused (507) and reads and deletes go on (0: 120 MiB, room for the catalog's and the journal's next files; negative: none)", i64: &c.FreeSpaceReserve},
		{name: "body-idle-timeout", env: "SHOEBOX_BODY_IDLE_TIMEOUT", usage: "cut a request body that makes no progress for this long (0: 60s; negative: never)", dur: &c.BodyIdleTimeout},
		{name: "journal-flush-ms", env: "SHOEBOX_JOURNAL_FLUSH_MS", usage: "milliseconds small uploads acknowledged from the journal may wait for their flush (0: 100)", int: &c.JournalFlushMs},
		{name: "pprof-addr", env: "SHOEBOX_PPROF_ADDR", usage: "serve Go's /debug/pprof on this address (keep it on loopback)", str: &c.PprofAddr},
		{name: "upstream-endpoint", env: "SHOEBOX_UPSTREAM_ENDPOINT", usage: "S3 endpoint URL keeping the originals (empty with a bucket: AWS S3)", str: &c.UpstreamEndpoint},
		{name: "upstream-region", env: "SHOEBOX_UPSTREAM_REGION", usage: "upstream S3 signing region (default us-east-1)", str: &c.UpstreamRegion},
		{name: "upstream-bucket", env: "SHOEBOX_UPSTREAM_BUCKET", usage: "upstream S3 bucket for the originals (empty: local disk)", str: &c.UpstreamBucket},
		{name: "upstream-prefix", env: "SHOEBOX_UPSTREAM_PREFIX", usage: "key prefix inside the upstream bucket", str: &c.UpstreamPrefix},
		{name: "upstream-access-key", env: "SHOEBOX_UPSTREAM_ACCESS_KEY", usage: "upstream S3 access key id", str: &c.UpstreamAccessKey},
		{name: "upstream-secret-key", env: "SHOEBOX_UPSTREAM_SECRET_KEY", usage: "upstream S3 secret (prefer the environment or the file to a flag)", str: &c.UpstreamSecretKey},
		{name: "upstream-virtual-host", env: "SHOEBOX_UPSTREAM_VIRTUAL_HOST", usage: "address the upstream bucket as BUCKET.endpoint (AWS) instead of endpoint/BUCKET", boolean: &c.UpstreamVirtualHost},
		{name: "upstream-derived", env: "SHOEBOX_UPSTREAM_DERIVED", usage: "keep thumbnails in the upstream bucket too (default: local disk)", boolean: &c.UpstreamDerived},
		{name: "backup-dir", env: "SHOEBOX_BACKUP_DIR", usage: "write scheduled backups of the catalog into this folder (empty: none; put it on another disk)", str: &c.BackupDir},
		{name: "backup-every", env: "SHOEBOX_BACKUP_EVERY", usage: "how often the scheduled backup runs (0: 24h)", dur: &c.BackupEvery},
		{name: "backup-keep", env: "SHOEBOX_BACKUP_KEEP", usage: "how many scheduled backups to keep (0: 7)", int: &c.BackupKeep},
		{name: "backup-no-secret", env: "SHOEBOX_BACKUP_NO_SECRET", usage: "leave secret.key out of scheduled backups", boolean: &c.BackupNoSecret},
		{name: "ffmpeg", env: "SHOEBOX_FFMPEG", usage: "ffmpeg for video thumbnails, ffprobe beside it (default: on the PATH; without it videos wait for it)", str: &c.FFmpeg},
		{name: "models", env: "SHOEBOX_MODELS", usage: "face model directory (default <data>/models/face-api)", str: &c.ModelsDir},
	}
}

// loadFile reads a YAML config file; an unknown key is an error naming it.
func loadFile(path string, c *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// parseConfig registers the common flags on fs, parses args, and resolves
// the configuration in precedence order.
func parseConfig(fs *flag.FlagSet, args []string) (Config, error) {
	cfg := defaults()
	configPath := fs.String("config", os.Getenv("SHOEBOX_CONFIG"), "YAML config file (see configs/shoebox.example.yaml)")
	// Flags write into a separate copy so that the file and the environment
	// can be applied first and flags last.
	var fromFlags Config
	opts := fromFlags.options()
	for _, o := range opts {
		switch {
		case o.str != nil:
			fs.StringVar(o.str, o.name, "", o.usage)
		case o.i64 != nil:
			fs.Int64Var(o.i64, o.name, 0, o.usage)
		case o.int != nil:
			fs.IntVar(o.int, o.name, 0, o.usage)
		case o.f64 != nil:
			fs.Float64Var(o.f64, o.name, 0, o.usage)
		case o.boolean != nil:
			fs.BoolVar(o.boolean, o.name, false, o.usage)
		case o.dur != nil:
			fs.DurationVar(o.dur, o.name, 0, o.usage)
		}
	}
	if err := parseInterspersed(fs, args); err != nil {
		return cfg, err
	}
	if *configPath != "" {
		if err := loadFile(*configPath, &cfg); err != nil {
			return cfg, err
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for i, o := range cfg.options() {
		if v, ok := os.LookupEnv(o.env); ok && v != "" {
			if err := assign(o, v); err != nil {
				return cfg, fmt.Errorf("%s: %w", o.env, err)
			}
		}
		if set[o.name] {
			f := opts[i]
			switch {
			case o.str != nil:
				*o.str = *f.str
			case o.i64 != nil:
				*o.i64 = *f.i64
			case o.int != nil:
				*o.int = *f.int
			case o.f64 != nil:
				*o.f64 = *f.f64
			case o.boolean != nil:
				*o.boolean = *f.boolean
			case o.dur != nil:
				*o.dur = *f.dur
			}
		}
	}
	if d := strings.ToLower(cfg.FaceDetector); d != "tiny" && d != "ssd" {
		return cfg, fmt.Errorf("face_detector %q: tiny or ssd", cfg.FaceDetector)
	}
	if cfg.JournalFlushMs < 0 {
		return cfg, fmt.Errorf("journal_flush_ms %d: 0 or more", cfg.JournalFlushMs)
	}
	if cfg.FreeSpaceReserve == 0 {
		cfg.FreeSpaceReserve = DefaultFreeSpaceReserve
	}
	if cfg.BodyIdleTimeout == 0 {
		cfg.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if cfg.BackupEvery < 0 || cfg.BackupKeep < 0 {
		return cfg, fmt.Errorf("backup_every %v, backup_keep %d: 0 or more", cfg.BackupEvery, cfg.BackupKeep)
	}
	if cfg.BackupEvery == 0 {
		cfg.BackupEvery = 24 * time.Hour
	}
	if cfg.BackupKeep == 0 {
		cfg.BackupKeep = 7
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return cfg, errors.New("--tls-cert and --tls-key go together")
	}
	return cfg, nil
}

func assign(o option, v string) error {
	switch {
	case o.str != nil:
		*o.str = v
	case o.i64 != nil:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		*o.i64 = n
	case o.int != nil:
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		*o.int = n
	case o.f64 != nil:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		*o.f64 = n
	case o.boolean != nil:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		*o.boolean = b
	case o.dur != nil:
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*o.dur = d
	}
	return nil
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments ("user add bob --data d"), which flag.Parse alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}
