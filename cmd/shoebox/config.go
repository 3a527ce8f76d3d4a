package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
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
	// AccessLog logs one record per request (method, path, user, status,
	// bytes, duration, remote) in the log format.
	AccessLog bool `yaml:"access_log"`
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
	// BackupTo, when set, is where scheduled backups go instead: "upstream"
	// (<upstream_prefix>backups/ in the upstream bucket), an s3:// URL of a
	// prefix, or a folder (as BackupDir) (backups3.go).
	BackupTo string `yaml:"backup_to"`

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

	// dataFrom says where Data came from ("--data", "SHOEBOX_DATA",
	// "data in FILE", "the default"), for messages about it.
	dataFrom string
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

// group is a set of settings, by what uses them; a command registers
// flags only for the groups it uses (the environment and the config file
// may still set every setting).
type group uint

const (
	gCommon group = 1 << iota // data, log-level, log-format
	gStore                    // how the store is opened: versions, trash, fsync, upstream S3
	gEnrich                   // enrichment: workers, faces, people
	gModels                   // where the face models are
	gServe                    // listeners, limits, scheduled backups

	gAll = gCommon | gStore | gEnrich | gModels | gServe
)

// option ties a config field to its flag, environment variable and
// config-file key (the flag's name with '_' for '-', or key).
type option struct {
	name, env, usage string
	key              string
	group            group
	str              *string
	i64              *int64
	int              *int
	f64              *float64
	boolean          *bool
	dur              *time.Duration
}

// fileKey is the option's key in the YAML config file.
func (o option) fileKey() string {
	if o.key != "" {
		return o.key
	}
	return strings.ReplaceAll(o.name, "-", "_")
}

func (c *Config) options() []option {
	return []option{
		{name: "data", group: gCommon, env: "SHOEBOX_DATA", usage: "data directory (catalog and originals)", str: &c.Data},
		{name: "dav-addr", group: gServe, env: "SHOEBOX_DAV_ADDR", usage: "WebDAV listen address (serves /dav/, /healthz, /metrics)", str: &c.DavAddr},
		{name: "s3-addr", group: gServe, env: "SHOEBOX_S3_ADDR", usage: "S3 listen address (path-style http://host:port/bucket/key; empty: no S3)", str: &c.S3Addr},
		{name: "s3-domain", group: gServe, env: "SHOEBOX_S3_DOMAIN", usage: "also accept virtual-host style requests for BUCKET.<this domain>", str: &c.S3Domain},
		{name: "tls-cert", group: gServe, env: "SHOEBOX_TLS_CERT", usage: "TLS certificate file (PEM); with --tls-key serves HTTPS", str: &c.TLSCert},
		{name: "tls-key", group: gServe, env: "SHOEBOX_TLS_KEY", usage: "TLS private key file (PEM)", str: &c.TLSKey},
		{name: "external-prefix", group: gServe, env: "SHOEBOX_EXTERNAL_PREFIX", usage: "path prefix a reverse proxy puts before /dav (e.g. /shoebox)", str: &c.ExternalPrefix},
		{name: "max-upload-bytes", group: gServe, env: "SHOEBOX_MAX_UPLOAD_BYTES", usage: "largest accepted upload in bytes (0: no limit)", i64: &c.MaxUpload},
		{name: "propfind-infinity-limit", group: gServe, env: "SHOEBOX_PROPFIND_INFINITY_LIMIT", usage: "most entries a Depth: infinity PROPFIND may list", int: &c.InfinityLimit},
		{name: "workers", group: gEnrich, env: "SHOEBOX_WORKERS", usage: "enrichment workers (0: one per CPU)", int: &c.Workers},
		{name: "multipart-expire-days", group: gServe, env: "SHOEBOX_MULTIPART_EXPIRE_DAYS", usage: "days an S3 multipart upload may go without a new part before it is removed (0: never)", int: &c.MultipartExpireDays},
		{name: "face-detector", group: gEnrich, env: "SHOEBOX_FACE_DETECTOR", usage: "tiny (fast) or ssd (finds more faces, about 8 times the time); changing it finds the faces again", str: &c.FaceDetector},
		{name: "people-threshold", group: gEnrich, env: "SHOEBOX_PEOPLE_THRESHOLD", usage: "how far apart (centred cosine distance, 0-2) faces of one person may be on average; higher merges more (0: the default, 0.25)", f64: &c.PeopleThreshold},
		{name: "people-min-photos", group: gEnrich, env: "SHOEBOX_PEOPLE_MIN_PHOTOS", usage: "fewest photos an unnamed person needs to get a /by-person folder", int: &c.PeopleMinPhotos},
		{name: "people-regroup-after", group: gEnrich, env: "SHOEBOX_PEOPLE_REGROUP_AFTER", usage: "new faces that match no person before all faces are grouped again (0: 20, or a tenth of the faces)", int: &c.PeopleRegroupAfter},
		{name: "trash-days", group: gStore, env: "SHOEBOX_TRASH_DAYS", usage: "days deleted photos and videos stay in /trash (0: no trash, deletes are final)", int: &c.TrashDays},
		{name: "versions", group: gStore, env: "SHOEBOX_VERSIONS", usage: "which files keep the content an overwrite replaced, in /trash for trash-days: media (photos and videos), all, or off", str: &c.Versions},
		{name: "log-level", group: gCommon, env: "SHOEBOX_LOG_LEVEL", usage: "debug, info, warn or error", str: &c.LogLevel},
		{name: "log-format", group: gCommon, env: "SHOEBOX_LOG_FORMAT", usage: "text or json", str: &c.LogFormat},
		{name: "unsafe-no-fsync", group: gStore, env: "SHOEBOX_UNSAFE_NO_FSYNC", usage: "skip fsync (benchmarks only: a machine crash can lose acknowledged writes)", boolean: &c.NoFsync},
		{name: "free-space-reserve", group: gStore, env: "SHOEBOX_FREE_SPACE_RESERVE", usage: "bytes kept free on the data directory's disk; below it writes are refused (507) and reads and deletes go on (0: 120 MiB, room for the catalog's and the journal's next files; negative: none)", i64: &c.FreeSpaceReserve},
		{name: "body-idle-timeout", group: gServe, env: "SHOEBOX_BODY_IDLE_TIMEOUT", usage: "cut a request body that makes no progress for this long (0: 60s; negative: never)", dur: &c.BodyIdleTimeout},
		{name: "journal-flush-ms", group: gStore, env: "SHOEBOX_JOURNAL_FLUSH_MS", usage: "milliseconds small uploads acknowledged from the journal may wait for their flush (0: 100)", int: &c.JournalFlushMs},
		{name: "pprof-addr", group: gServe, env: "SHOEBOX_PPROF_ADDR", usage: "serve Go's /debug/pprof on this address (keep it on loopback)", str: &c.PprofAddr},
		{name: "upstream-endpoint", group: gStore, env: "SHOEBOX_UPSTREAM_ENDPOINT", usage: "S3 endpoint URL keeping the originals (empty with a bucket: AWS S3)", str: &c.UpstreamEndpoint},
		{name: "upstream-region", group: gStore, env: "SHOEBOX_UPSTREAM_REGION", usage: "upstream S3 signing region (default us-east-1)", str: &c.UpstreamRegion},
		{name: "upstream-bucket", group: gStore, env: "SHOEBOX_UPSTREAM_BUCKET", usage: "upstream S3 bucket for the originals (empty: local disk)", str: &c.UpstreamBucket},
		{name: "upstream-prefix", group: gStore, env: "SHOEBOX_UPSTREAM_PREFIX", usage: "key prefix inside the upstream bucket", str: &c.UpstreamPrefix},
		{name: "upstream-access-key", group: gStore, env: "SHOEBOX_UPSTREAM_ACCESS_KEY", usage: "upstream S3 access key id", str: &c.UpstreamAccessKey},
		{name: "upstream-secret-key", group: gStore, env: "SHOEBOX_UPSTREAM_SECRET_KEY", usage: "upstream S3 secret (prefer the environment or the file to a flag)", str: &c.UpstreamSecretKey},
		{name: "upstream-virtual-host", group: gStore, env: "SHOEBOX_UPSTREAM_VIRTUAL_HOST", usage: "address the upstream bucket as BUCKET.endpoint (AWS) instead of endpoint/BUCKET", boolean: &c.UpstreamVirtualHost},
		{name: "upstream-derived", group: gStore, env: "SHOEBOX_UPSTREAM_DERIVED", usage: "keep thumbnails in the upstream bucket too (default: local disk)", boolean: &c.UpstreamDerived},
		{name: "backup-dir", group: gServe, env: "SHOEBOX_BACKUP_DIR", usage: "write scheduled backups of the catalog into this folder (empty: none; put it on another disk)", str: &c.BackupDir},
		{name: "backup-to", group: gServe, env: "SHOEBOX_BACKUP_TO", usage: "write scheduled backups to \"upstream\" (the upstream bucket, under PREFIX/backups/), to s3://BUCKET/PREFIX/, or into a folder (instead of backup-dir)", str: &c.BackupTo},
		{name: "backup-every", group: gServe, env: "SHOEBOX_BACKUP_EVERY", usage: "how often the scheduled backup runs (0: 24h)", dur: &c.BackupEvery},
		{name: "backup-keep", group: gServe, env: "SHOEBOX_BACKUP_KEEP", usage: "how many scheduled backups to keep (0: 7)", int: &c.BackupKeep},
		{name: "access-log", group: gServe, env: "SHOEBOX_ACCESS_LOG", usage: "log every request (method, path, user, status, bytes, duration, remote) in the log format", boolean: &c.AccessLog},
		{name: "backup-no-secret", group: gServe, env: "SHOEBOX_BACKUP_NO_SECRET", usage: "leave secret.key out of scheduled backups", boolean: &c.BackupNoSecret},
		{name: "ffmpeg", group: gEnrich, env: "SHOEBOX_FFMPEG", usage: "ffmpeg for video thumbnails, ffprobe beside it (default: on the PATH; without it videos wait for it)", str: &c.FFmpeg},
		{name: "models", group: gModels, key: "models_dir", env: "SHOEBOX_MODELS", usage: "face model directory (default <data>/models/face-api)", str: &c.ModelsDir},
	}
}

// loadFile reads a YAML config file into c. An unknown key is an error
// naming it and the nearest valid key; a bad value names the key, the
// value, its line and what is allowed.
func loadFile(path string, c *Config) error {
	return readConfigFile(path, c, nil)
}

// readConfigFile is loadFile that also records, in from, the flag name of
// each setting the file sets (for messages saying where a value came from).
func readConfigFile(path string, c *Config, from map[string]string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w (give an existing file with --config or SHOEBOX_CONFIG)", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty: the defaults
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("config file %s line %d: want lines of \"setting: value\" (see configs/shoebox.example.yaml)", path, root.Line)
	}
	opts := c.options()
	byKey := make(map[string]option, len(opts))
	keys := make([]string, 0, len(opts))
	for _, o := range opts {
		byKey[o.fileKey()] = o
		keys = append(keys, o.fileKey())
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		o, ok := byKey[k.Value]
		if !ok {
			msg := fmt.Sprintf("config file %s line %d: unknown setting %q", path, k.Line, k.Value)
			if near := nearest(k.Value, keys); near != "" {
				return fmt.Errorf("%s: did you mean %s?", msg, near)
			}
			return fmt.Errorf("%s (configs/shoebox.example.yaml lists every setting)", msg)
		}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("config file %s line %d: %s: want a single value, not a list or a map", path, v.Line, k.Value)
		}
		if v.Tag == "!!null" {
			continue // "key:" with no value keeps the default
		}
		if err := setOption(o, v.Value); err != nil {
			return fmt.Errorf("config file %s line %d: %s: %q: %w", path, v.Line, k.Value, v.Value, err)
		}
		if from != nil {
			from[o.name] = fmt.Sprintf("%s in %s", k.Value, path)
		}
	}
	return nil
}

// cmdSpec is what a command's help says, and which settings it takes as flags.
type cmdSpec struct {
	usage string // "shoebox user add NAME [flags]"
	about string // what it does, a sentence or two
	uses  group
}

// optValue is an option's flag.Value: it parses as the environment and the
// config file do, and keeps the first bad value's message in *bad.
type optValue struct {
	o   option
	bad *error
}

func (v *optValue) String() string {
	if v == nil || v.bad == nil {
		return ""
	}
	return optionString(v.o)
}

func (v *optValue) Set(s string) error {
	if err := setOption(v.o, s); err != nil {
		if *v.bad == nil {
			*v.bad = fmt.Errorf("--%s=%s: %w", v.o.name, s, err)
		}
		return err
	}
	return nil
}

func (v *optValue) IsBoolFlag() bool { return v.o.boolean != nil }

// optionString is the option's current value as a flag would take it.
func optionString(o option) string {
	switch {
	case o.str != nil:
		return *o.str
	case o.i64 != nil:
		return strconv.FormatInt(*o.i64, 10)
	case o.int != nil:
		return strconv.Itoa(*o.int)
	case o.f64 != nil:
		return strconv.FormatFloat(*o.f64, 'g', -1, 64)
	case o.boolean != nil:
		return strconv.FormatBool(*o.boolean)
	case o.dur != nil:
		return o.dur.String()
	}
	return ""
}

// optionType is the word the help shows after a flag that takes a value.
func optionType(o option) string {
	switch {
	case o.str != nil:
		return "string"
	case o.i64 != nil, o.int != nil:
		return "int"
	case o.f64 != nil:
		return "number"
	case o.dur != nil:
		return "duration"
	}
	return ""
}

// parseConfig registers the flags of the settings spec uses on fs (beside
// the command's own, registered before), parses args, and resolves the
// configuration in precedence order: flags, SHOEBOX_* variables, the
// config file, the defaults. -h prints the command's help on standard
// output and returns flag.ErrHelp.
func parseConfig(fs *flag.FlagSet, args []string, spec cmdSpec) (Config, error) {
	cfg := defaults()
	own := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
	configPath := fs.String("config", "", "YAML config file (see configs/shoebox.example.yaml)")
	// Flags write into a separate copy so that the file and the environment
	// can be applied first and flags last.
	fromFlags := defaults()
	opts := fromFlags.options()
	var bad error
	for _, o := range opts {
		if o.group&(spec.uses|gCommon) != 0 {
			fs.Var(&optValue{o: o, bad: &bad}, o.name, o.usage)
		}
	}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := parseInterspersed(fs, args); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
			printHelp(os.Stdout, fs, spec, own)
			return cfg, err
		case bad != nil:
			return cfg, bad
		}
		return cfg, flagError(err, fs, spec, opts)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["config"] {
		*configPath = os.Getenv("SHOEBOX_CONFIG")
	}
	from := map[string]string{}
	if *configPath != "" {
		if err := readConfigFile(*configPath, &cfg, from); err != nil {
			return cfg, err
		}
	}
	for i, o := range cfg.options() {
		if v, ok := os.LookupEnv(o.env); ok && v != "" {
			if err := setOption(o, v); err != nil {
				return cfg, fmt.Errorf("%s=%s: %w", o.env, v, err)
			}
			from[o.name] = o.env
		}
		if set[o.name] {
			setOption(o, optionString(opts[i])) // parsed once already
			from[o.name] = "--" + o.name
		}
	}
	cfg.dataFrom = from["data"]
	if cfg.dataFrom == "" {
		cfg.dataFrom = "the default"
	}
	// says spells a setting with its value as it was given, for messages.
	says := func(name string, v any) string {
		src, ok := from[name]
		switch {
		case !ok:
			return fmt.Sprintf("%s %v", name, v)
		case strings.HasPrefix(src, "--"):
			return fmt.Sprintf("%s=%v", src, v)
		case strings.HasPrefix(src, "SHOEBOX_"):
			return fmt.Sprintf("%s=%v", src, v)
		}
		return fmt.Sprintf("%s (%s): %v", name, src, v)
	}
	if d := strings.ToLower(cfg.FaceDetector); d != "tiny" && d != "ssd" {
		return cfg, fmt.Errorf("%s: want tiny or ssd", says("face-detector", cfg.FaceDetector))
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, strings.ToLower(cfg.LogLevel)) {
		return cfg, fmt.Errorf("%s: want debug, info, warn or error", says("log-level", cfg.LogLevel))
	}
	if f := strings.ToLower(cfg.LogFormat); f != "text" && f != "json" {
		return cfg, fmt.Errorf("%s: want text or json", says("log-format", cfg.LogFormat))
	}
	if cfg.Data == "" {
		return cfg, fmt.Errorf("%s: want a directory", says("data", `""`))
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"journal-flush-ms", cfg.JournalFlushMs}, {"backup-keep", cfg.BackupKeep}, {"workers", cfg.Workers},
		{"trash-days", cfg.TrashDays}, {"multipart-expire-days", cfg.MultipartExpireDays}, {"people-min-photos", cfg.PeopleMinPhotos},
		{"people-regroup-after", cfg.PeopleRegroupAfter}, {"propfind-infinity-limit", cfg.InfinityLimit}} {
		if c.v < 0 {
			return cfg, fmt.Errorf("%s: want 0 or more", says(c.name, c.v))
		}
	}
	if cfg.BackupEvery < 0 {
		return cfg, fmt.Errorf("%s: want 0 (24h) or more", says("backup-every", cfg.BackupEvery))
	}
	if err := checkBackupTo(cfg, says); err != nil {
		return cfg, err
	}
	if cfg.FreeSpaceReserve == 0 {
		cfg.FreeSpaceReserve = DefaultFreeSpaceReserve
	}
	if cfg.BodyIdleTimeout == 0 {
		cfg.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if cfg.BackupEvery == 0 {
		cfg.BackupEvery = 24 * time.Hour
	}
	if cfg.BackupKeep == 0 {
		cfg.BackupKeep = 7
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return cfg, errors.New("tls-cert and tls-key go together: give both (HTTPS) or neither (HTTP)")
	}
	return cfg, nil
}

// flagError makes the flag package's error say what to do: a flag of
// another command names it; a near miss names the nearest flag.
func flagError(err error, fs *flag.FlagSet, spec cmdSpec, opts []option) error {
	msg := err.Error()
	const undefined = "flag provided but not defined: -"
	if name, ok := strings.CutPrefix(msg, undefined); ok {
		for _, o := range opts {
			if o.name == name {
				return fmt.Errorf("--%s is not a flag of %s, which does not use that setting (%s -h lists the flags)", name, commandOf(spec), commandOf(spec))
			}
		}
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if near := nearest(name, names); near != "" {
			return fmt.Errorf("unknown flag --%s: did you mean --%s? (%s -h lists the flags)", name, near, commandOf(spec))
		}
		return fmt.Errorf("unknown flag --%s (%s -h lists the flags)", name, commandOf(spec))
	}
	return fmt.Errorf("%w (%s -h lists the flags)", err, commandOf(spec))
}

// commandOf is "shoebox user add" from a usage line.
func commandOf(spec cmdSpec) string {
	words := strings.Fields(spec.usage)
	n := 0
	for n < len(words) && words[n] == strings.ToLower(words[n]) && !strings.HasPrefix(words[n], "[") && !strings.HasPrefix(words[n], "-") {
		n++
	}
	return strings.Join(words[:n], " ")
}

// printHelp writes a command's help: its usage, what it does, and its
// flags with their defaults and environment variables.
func printHelp(w io.Writer, fs *flag.FlagSet, spec cmdSpec, own map[string]bool) {
	fmt.Fprintf(w, "Usage: %s\n", spec.usage)
	if spec.about != "" {
		fmt.Fprintf(w, "\n%s\n", spec.about)
	}
	envs := map[string]option{}
	for _, o := range (&Config{}).options() {
		envs[o.name] = o
	}
	def := defaults()
	defs := map[string]string{}
	for _, o := range def.options() {
		defs[o.name] = optionString(o)
	}
	line := func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		if o, ok := envs[f.Name]; ok {
			typ = optionType(o)
		}
		head := "  --" + f.Name
		if typ != "" {
			head += " " + typ
		}
		fmt.Fprintln(w, head)
		d := f.DefValue
		if v, ok := defs[f.Name]; ok {
			d = v
		}
		if d != "" && d != "0" && d != "false" && d != "0s" {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		if o, ok := envs[f.Name]; ok {
			usage += " [$" + o.env + "]"
		} else if f.Name == "config" {
			usage += " [$SHOEBOX_CONFIG]"
		}
		fmt.Fprintf(w, "      %s\n", usage)
	}
	if len(own) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fs.VisitAll(func(f *flag.Flag) {
			if own[f.Name] {
				line(f)
			}
		})
	}
	fmt.Fprintln(w, "\nSettings (flag, [$environment variable], or the same name with _ in the --config file):")
	fs.VisitAll(func(f *flag.Flag) {
		if !own[f.Name] {
			line(f)
		}
	})
}

// setOption parses v into the option; the error says what is allowed.
func setOption(o option, v string) error {
	switch {
	case o.str != nil:
		*o.str = v
	case o.i64 != nil:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errors.New("want a whole number")
		}
		*o.i64 = n
	case o.int != nil:
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("want a whole number")
		}
		*o.int = n
	case o.f64 != nil:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return errors.New("want a number such as 0.82")
		}
		*o.f64 = n
	case o.boolean != nil:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		*o.boolean = b
	case o.dur != nil:
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("want a duration such as 90s, 10m or 24h")
		}
		*o.dur = d
	}
	return nil
}

// nearest is the candidate closest to s by edit distance, if close enough
// to be a typo of it ("dav_adr" → "dav_addr"); "" when none is.
func nearest(s string, candidates []string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		d := editDistance(s, c)
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
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
