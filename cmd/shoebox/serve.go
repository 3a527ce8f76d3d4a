package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"shoebox/catalog"
	"shoebox/davfs"
	"shoebox/davfs/ncupload"
	"shoebox/davfs/nextcloud"
	"shoebox/davfs/web"
	"shoebox/enrich"
	"shoebox/gateway"
	"shoebox/gateway/auth"
	"shoebox/gateway/auth/loginflow"
	"shoebox/gateway/s3store"
	"shoebox/s3api"
	"shoebox/virtualdirs"
)

// serveMemoryLimit is the Go runtime's soft memory limit for the server.
const serveMemoryLimit = 40 << 20

func serve(ctx context.Context, args []string) (err error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg, err := parseConfig(fs, args, cmdSpec{usage: "shoebox serve [flags]",
		about: "Starts the server: WebDAV, the web gallery (at /), the JSON API and the Nextcloud apps' protocol on --dav-addr, S3 on --s3-addr. The first start creates the data directory and a user admin (its password printed once, or SHOEBOX_ADMIN_PASSWORD).", uses: gAll})
	if err != nil {
		return err
	}
	lg := newLogger(cfg)
	jsonLogs := strings.EqualFold(cfg.LogFormat, "json")
	// With JSON logs, nothing but JSON is written: a failure is a log
	// record too, and main prints nothing more (reportedError).
	defer func() {
		if err != nil && jsonLogs {
			lg.Error("shoebox serve failed", "err", err)
			err = reportedError{err}
		}
	}()
	// Files named but unreadable stop the start at once, in one line,
	// before anything runs that would log its own failure.
	if cfg.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return fmt.Errorf("TLS certificate --tls-cert %s, key --tls-key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		// A soft limit keeps the heap (catalog memtables, upload buffers)
		// collected before it doubles; GOMEMLIMIT overrides it.
		debug.SetMemoryLimit(serveMemoryLimit)
	}
	// The enrichment pool hears of new files through a gateway hook; the
	// gateway is made first, so the hook reaches the pool through a variable.
	if _, err := os.Stat(cfg.Data); errors.Is(err, iofs.ErrNotExist) {
		if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
			return fmt.Errorf("create the data directory %s (%s): %w", cfg.Data, cfg.dataFrom, err)
		}
		lg.Info("created the data directory", "data", cfg.Data, "from", cfg.dataFrom)
	}
	var pool *enrich.Pool
	st, err := openStore(cfg, lg, wakeHook(&pool))
	if err != nil {
		return err
	}
	defer st.Close()

	if up, ok := st.be.(*s3store.Store); ok {
		if err := adoptAfterRestore(ctx, cfg.Data, up, lg); err != nil {
			return err
		}
		rep, err := up.ReconcileAtStart(ctx)
		if err != nil {
			return err
		}
		lg.Info("reconciled the upstream S3 bucket", "report", rep.String())
	}
	if _, err := st.gw.Reconcile(ctx); err != nil {
		return err
	}
	pw, created, err := ensureAdmin(ctx, st.cat)
	if err != nil {
		return fmt.Errorf("create the admin user: %w", err)
	}
	if created && pw != "" && jsonLogs {
		lg.Warn("created user admin; its password is shown once: change it with `shoebox user passwd admin`", "user", "admin", "password", pw)
	} else if created && pw != "" {
		fmt.Fprintf(os.Stderr, "\n  Created user admin with password: %s\n  (shown once; change it with `shoebox user passwd admin`)\n\n", pw)
	} else if created {
		lg.Info("created user admin with the password from SHOEBOX_ADMIN_PASSWORD")
	}

	if cfg.NoFsync {
		lg.Warn("fsync is off (--unsafe-no-fsync): a machine crash can lose acknowledged writes")
	}
	if cfg.PprofAddr != "" {
		go func() {
			pm := http.NewServeMux()
			pm.HandleFunc("/debug/pprof/", pprof.Index)
			pm.HandleFunc("/debug/pprof/profile", pprof.Profile)
			pm.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			pm.HandleFunc("/debug/pprof/trace", pprof.Trace)
			lg.Info("pprof listening", "addr", cfg.PprofAddr, "err", http.ListenAndServe(cfg.PprofAddr, pm))
		}()
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newHTTPMetrics(reg)
	em := newEnrichMetrics(reg, func() (catalog.QueueStats, error) { return st.cat.Queue(context.Background(), time.Now()) })
	faceModels := loadFaceModels(cfg, lg)
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && faceModels != nil {
		// The face nets' weights (about 24 MiB) come on top.
		debug.SetMemoryLimit(serveMemoryLimit + 48<<20)
	}
	var facesChanged atomic.Bool
	// One look at start-up: faces enriched while no server ran (`shoebox
	// reindex`, a crash before a pass) are grouped once the queue settles,
	// not at the next upload.
	facesChanged.Store(true)
	observe := func(result, kind string, took time.Duration) {
		em.observe(result, kind, took)
		if result == "done" && kind == "photo" {
			facesChanged.Store(true)
		}
	}
	ffmpeg := enrich.NewFFmpeg(cfg.FFmpeg, lg)
	placesIx := loadPlaces(lg)
	pool = enrich.NewPool(st.gw, enrich.Options{Workers: cfg.Workers, Logger: lg, Observe: observe, Busy: m.busy,
		Extractors: []enrich.Extractor{enrich.Metadata{Thumbs: st.thumbs, Faces: faceModels, WantFaces: true, FaceDetector: faceDetector(cfg), FFmpeg: ffmpeg},
			enrich.Places{Index: placesIx}}})

	// One limiter for every front end: failures over WebDAV, the API and S3
	// add up per address and per user (gateway/auth.Limiter).
	logins := auth.NewLimiter(auth.LimiterOptions{Logger: lg, Observe: newLoginMetrics(reg).observe})
	authn := auth.New(st.cat, 5*time.Minute, logins)
	// user, key and bucket commands run while the server does (admin.go).
	if err := serveAdmin(ctx, cfg, st, authn, lg); err != nil {
		return err
	}
	// The one owner of people state: grouping passes and the edits made in
	// /by-person all go through it (enrich.People).
	people := enrich.NewPeople(st.cat, peopleOptions(cfg))
	cover := personCover(st.gw, st.thumbs)
	tree := virtualdirs.New(st.cat, virtualdirs.Options{Cover: cover, MinPhotos: cfg.PeopleMinPhotos})
	dav := davfs.NewHandler(st.gw, davfs.Config{
		Prefix: "/dav", ExternalPrefix: cfg.ExternalPrefix, MaxUpload: cfg.MaxUpload,
		InfinityLimit: cfg.InfinityLimit, Logger: lg, Virtual: tree,
		People: people, Free: st.space.Free,
	})
	mux := http.NewServeMux()
	davH := m.wrap("webdav", authn.Basic("Shoebox", "webdav", dav))
	// The Nextcloud apps' front door serves the same tree as /dav/ (the same
	// handler, so the same locks) under their URLs.
	// Nextcloud chunked upload v2, trash bin and versions (davfs/ncupload),
	// behind the Nextcloud front door's authentication and user check.
	nc, err := ncupload.New(ctx, st.gw, ncupload.Options{Dir: filepath.Join(cfg.Data, "uploads"), ExternalPrefix: cfg.ExternalPrefix, Logger: lg,
		FileID: func(ctx context.Context, user, bucket, key string) (string, error) {
			o, err := st.gw.Stat(ctx, user, bucket, key)
			if err != nil {
				return "", err
			}
			return strconv.FormatUint(catalog.FileIDOf(user, o), 10), nil
		}})
	if err != nil {
		return err
	}
	go nc.Run(ctx, time.Hour)
	ncH := m.wrap("nextcloud", nextcloud.New(nextcloud.Config{
		Files:    dav,
		Uploads:  nc.Uploads(),
		Trashbin: nc.Trashbin(),
		Versions: nc.Versions(),
		// Login Flow v2 (gateway/auth/loginflow): the apps sign in in a
		// browser and get an app password.
		LoginFlow: loginflow.New(loginflow.Options{Backend: authn, ExternalPrefix: cfg.ExternalPrefix, Logger: lg}),
		// The apps' grid thumbnails, from the enrichment thumbnails.
		Preview: ncPreview(st.gw, st.thumbs, lg),
		// The apps' media views (WebDAV SEARCH), from the mtime index.
		Search: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { dav.Search(w, r, "/remote.php/dav") }),
		Mount: func(r *http.Request, prefix string) *http.Request {
			return r.WithContext(davfs.WithMount(r.Context(), prefix))
		},
		Authenticate: func(protocol string, h http.Handler) http.Handler { return authn.Basic("Shoebox", protocol, h) },
		Free:         st.space.Free,
		Used:         func(r *http.Request, user string) (int64, error) { return usedBytes(r.Context(), st.gw, user) },
		Logger:       lg,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// The web gallery at / and its JSON API at /api/v1/ (davfs/web).
	gallery := web.New(web.Config{Gateway: st.gw, Thumbs: st.thumbs, Auth: authn, Limiter: logins,
		Virtual: tree, People: people, Cover: cover, MaxUpload: cfg.MaxUpload, Logger: lg})
	mux.Handle("/api/", m.wrap("api", gallery))
	mux.Handle("/app/", gallery)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "OPTIONS" { // Windows and Office probe the server root before /dav/
			w.Header().Set("DAV", "1, 2")
			w.Header().Set("MS-Author-Via", "DAV")
			w.Header().Set("Allow", "OPTIONS, GET, HEAD")
			return
		}
		gallery.ServeHTTP(w, r)
	})

	// WebDAV paths go straight to the WebDAV handler: ServeMux would clean
	// them and answer "/dav/a/../b" with a redirect, where WebDAV wants a 400.
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/dav" || strings.HasPrefix(p, "/dav/") {
			davH.ServeHTTP(w, r)
			return
		}
		if nextcloudPath(r.URL.Path) {
			ncH.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	// Both listeners cut stalled bodies and count requests for shutdown.
	fl := &inflight{idle: cfg.BodyIdleTimeout}
	var s3srv *http.Server
	if cfg.S3Addr != "" {
		sealer, err := auth.OpenSealer(secretKeyFile(cfg))
		if err != nil {
			return err
		}
		s3h, err := s3api.New(st.gw, s3api.Config{
			UploadDir: filepath.Join(cfg.Data, "multipart"), UploadExpiry: time.Duration(cfg.MultipartExpireDays) * 24 * time.Hour,
			Domain: cfg.S3Domain,
			Logger: lg,
			Authenticate: func(h http.Handler) http.Handler {
				// New resolves each request's bucket and key (virtual-host
				// style with Domain) before this sees it.
				return s3api.Authenticate(secretLookup(st.cat, sealer), h, s3api.AuthLogger(lg),
					s3api.PublicAccess(st.gw), s3api.LoginLimiter(logins))
			},
		})
		if err != nil {
			return err
		}
		s3srv = &http.Server{
			Handler:           accessLog(cfg.AccessLog, lg, "s3", fl.wrap(m.wrap("s3", s3h))),
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(lg.Handler(), slog.LevelWarn),
		}
	}
	srv := &http.Server{
		Handler:           accessLog(cfg.AccessLog, lg, "http", fl.wrap(root)),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(lg.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.DavAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.DavAddr, err)
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	lg.Info("shoebox is serving", "webdav", fmt.Sprintf("%s://%s/dav/", scheme, ln.Addr()), "data", cfg.Data)
	if point := fmt.Sprintf("Point a WebDAV client at %s://%s/dav/ (user admin). Metrics: /metrics, health: /healthz", scheme, ln.Addr()); jsonLogs {
		lg.Info(point)
	} else {
		fmt.Fprintln(os.Stderr, point)
	}

	poolCtx, stopPool := context.WithCancel(ctx)
	poolDone := make(chan struct{})
	go func() { pool.Run(poolCtx); close(poolDone) }()
	go st.gw.RunTrashPurger(poolCtx, time.Hour)
	go st.space.Run(poolCtx, time.Second)
	// Photos enriched before places (or with older places data) are placed.
	go fillPlaces(poolCtx, st, placesIx, lg)
	warnReservedBuckets(ctx, st.cat, lg)
	// Videos enriched without ffmpeg get their thumbnails once it is there.
	go ffmpeg.Watch(poolCtx, time.Minute, st.cat.RequeueWaitingThumbnails, func() { pool.Committed(poolCtx, gateway.Event{Op: gateway.OpPut}) })
	if faceModels != nil {
		go groupPeople(poolCtx, st, people, &facesChanged, lg)
		// Faces found another way (an older descriptor) are found again,
		// keeping their persons.
		if n, err := st.cat.RequeueFacesNotOf(poolCtx, enrich.FaceKindOf(faceDetector(cfg))); err != nil {
			lg.Error("requeue photos with older faces", "err", err)
		} else if n > 0 {
			lg.Info("finding faces again in photos whose faces were found another way", "photos", n, "kind", enrich.FaceKindOf(faceDetector(cfg)))
			pool.Committed(poolCtx, gateway.Event{Op: gateway.OpPut})
		}
		// Photos enriched before the models were installed get their faces now.
		if n, err := st.cat.RequeueWaitingFaces(poolCtx); err != nil {
			lg.Error("requeue photos waiting for face models", "err", err)
		} else if n > 0 {
			lg.Info("finding faces in photos enriched before the models were installed", "photos", n)
			pool.Committed(poolCtx, gateway.Event{Op: gateway.OpPut})
		}
	}
	// After a restore, photos whose thumbnails are missing are enriched again.
	if n, err := afterRestore(poolCtx, cfg.Data, st, lg); err != nil {
		lg.Error("requeue photos after a restore", "err", err)
	} else if n > 0 {
		pool.Committed(poolCtx, gateway.Event{Op: gateway.OpPut})
	}
	if cfg.BackupDir != "" || cfg.BackupTo != "" {
		go runScheduledBackups(poolCtx, cfg, st, newBackupMetrics(reg), lg)
	}
	defer func() { stopPool(); <-poolDone }()

	errc := make(chan error, 2)
	serveOn := func(srv *http.Server, ln net.Listener) {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}
	go serveOn(srv, ln)
	if s3srv != nil {
		s3ln, err := net.Listen("tcp", cfg.S3Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.S3Addr, err)
		}
		lg.Info("S3 is serving", "endpoint", fmt.Sprintf("%s://%s", scheme, s3ln.Addr()), "virtual_host_domain", cfg.S3Domain)
		if point := fmt.Sprintf("S3 endpoint: %s://%s (path-style; create keys with `shoebox key create admin`)", scheme, s3ln.Addr()); jsonLogs {
			lg.Info(point)
		} else {
			fmt.Fprintln(os.Stderr, point)
		}
		go serveOn(s3srv, s3ln)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	lg.Info("shutting down")
	shutdown(lg, fl, srv, s3srv)
	return nil
}

// Shutdown timing: requests get shutdownGrace to finish; then their
// connections are closed (an upload still reading its body fails and
// stages nothing) and they get shutdownDrain to return before the catalog
// and the journal are flushed and closed. A write acknowledged before
// that is in the catalog (and the journal) like any other.
const (
	shutdownGrace = 3 * time.Second
	shutdownDrain = 5 * time.Second
)

// shutdown stops the listeners (s3 may be nil) within shutdownGrace plus
// shutdownDrain.
func shutdown(lg *slog.Logger, fl *inflight, srvs ...*http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	var live []*http.Server
	for _, s := range srvs {
		if s != nil {
			live = append(live, s)
		}
	}
	errc := make(chan error, len(live))
	for _, s := range live {
		go func() { errc <- s.Shutdown(ctx) }()
	}
	cut := false
	for range live {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			cut = true
		}
	}
	if !cut {
		return
	}
	lg.Warn("requests still running after the shutdown grace: closing their connections", "grace", shutdownGrace)
	for _, s := range live {
		s.Close()
	}
	if n := fl.wait(shutdownDrain); n > 0 {
		lg.Warn("requests still running at exit", "requests", n)
	}
}

// groupPeople places new faces with persons once enrichment settles after
// new photos (People.PlaceNewFaces: each new face against the persons'
// centroids), and regroups all of a user's faces (People.Group, which
// reads every face) only when that pass says a full one is due.
func groupPeople(ctx context.Context, st *store, people *enrich.People, changed *atomic.Bool, lg *slog.Logger) {
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !changed.Load() || st.gw.Admit(0) != nil { // nothing new, or the disk is below its reserve
			continue
		}
		if q, err := st.cat.Queue(ctx, time.Now()); err != nil || q.Pending+q.Running > 0 {
			continue
		}
		changed.Store(false)
		users, err := st.cat.Users(ctx)
		if err != nil {
			lg.Error("group people", "err", err)
			continue
		}
		for _, u := range users {
			start := time.Now()
			placed, full, err := people.PlaceNewFaces(ctx, u.Name)
			if err != nil {
				lg.Error("place new faces", "user", u.Name, "err", err)
				continue
			}
			if placed > 0 {
				lg.Info("placed new faces with people", "user", u.Name, "faces", placed, "took", time.Since(start).Round(time.Millisecond))
			}
			if !full {
				nameFromRegions(ctx, lg, people, u.Name)
				continue
			}
			start = time.Now()
			n, err := people.Group(ctx, u.Name)
			if err != nil {
				lg.Error("group people", "user", u.Name, "err", err)
				continue
			}
			lg.Info("grouped faces into people", "user", u.Name, "people", n, "took", time.Since(start).Round(time.Millisecond))
			nameFromRegions(ctx, lg, people, u.Name)
		}
	}
}

// nameFromRegions names the faces XMP regions name (enrich.People.NameFromRegions).
func nameFromRegions(ctx context.Context, lg *slog.Logger, people *enrich.People, user string) {
	if _, err := people.NameFromRegions(ctx, user); err != nil {
		lg.Error("name faces from XMP regions", "user", user, "err", err)
	}
}

func peopleOptions(cfg Config) enrich.PeopleOptions {
	return enrich.PeopleOptions{Threshold: cfg.PeopleThreshold, RegroupAfter: cfg.PeopleRegroupAfter, Kind: enrich.FaceKindOf(faceDetector(cfg))}
}

var _ davfs.People = (*enrich.People)(nil)

// wakeHook is a gateway hook that wakes the pool *p, once there is one
// (the gateway is made before the pool).
func wakeHook(p **enrich.Pool) gateway.Hook {
	return hookFunc(func(ctx context.Context, ev gateway.Event) error {
		if *p != nil {
			return (*p).Committed(ctx, ev)
		}
		return nil
	})
}

// hookFunc adapts a function to gateway.Hook.
type hookFunc func(ctx context.Context, ev gateway.Event) error

func (f hookFunc) Committed(ctx context.Context, ev gateway.Event) error { return f(ctx, ev) }

// nextcloudPath reports whether p is one of the Nextcloud clients' URLs
// (package davfs/nextcloud routes them). Like /dav/, they skip ServeMux,
// which would clean WebDAV paths.
func nextcloudPath(p string) bool {
	if p == "/status.php" || p == "/remote.php/webdav" {
		return true
	}
	for _, pfx := range []string{"/ocs/", "/remote.php/", "/index.php/", "/login/v2", "/core/preview"} {
		if strings.HasPrefix(p, pfx) {
			return true
		}
	}
	return false
}

// usedBytes adds up the sizes of the files in user's buckets: one walk of
// the catalog rows (O(files)), for the OCS quota.
func usedBytes(ctx context.Context, gw *gateway.Gateway, user string) (int64, error) {
	bs, err := gw.Buckets(ctx, user)
	if err != nil {
		return 0, fmt.Errorf("quota of %s: %w", user, err)
	}
	var n int64
	for _, b := range bs {
		err := gw.Walk(ctx, user, b.Name, "", "", func(o catalog.Object) error {
			if !o.IsDir() {
				n += o.Size
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("quota of %s: %w", user, err)
		}
	}
	return n, nil
}

// warnReservedBuckets names the buckets made before their name became a
// virtual folder's (by-place, by-tag, search, ...): WebDAV shows the
// virtual folder there, so the bucket is reached over S3 only until
// renamed.
func warnReservedBuckets(ctx context.Context, cat *catalog.Catalog, lg *slog.Logger) {
	users, err := cat.Users(ctx)
	if err != nil {
		return
	}
	for _, u := range users {
		bs, err := cat.Buckets(ctx, u.Name)
		if err != nil {
			continue
		}
		for _, b := range bs {
			if gateway.IsReserved(b.Name) {
				lg.Warn("a bucket has the name of a virtual folder: WebDAV shows the folder, so the bucket is reached over S3 only; copy it to a bucket of another name",
					"user", u.Name, "bucket", b.Name)
			}
		}
	}
}
