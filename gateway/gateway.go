package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"shoebox/catalog"
	"shoebox/gateway/diskspace"
	"shoebox/gateway/wal"
)

// ErrNoBucket is a write into a bucket the user does not have. It wraps
// ErrNoParent (WebDAV 409, S3 NoSuchBucket); front ends add how to make
// the bucket.
var ErrNoBucket = fmt.Errorf("bucket does not exist: %w", ErrNoParent)

// Errors the front ends map to protocol answers; test with errors.Is.
var (
	ErrNotFound     = fs.ErrNotExist
	ErrExists       = fs.ErrExist
	ErrNoParent     = errors.New("parent folder does not exist")
	ErrIsDir        = errors.New("is a folder")
	ErrNotDir       = errors.New("is a file, not a folder")
	ErrNotEmpty     = errors.New("not empty")
	ErrPrecondition = errors.New("precondition failed")
	// ErrInsufficientStorage: the disk is below its free-space reserve
	// (Options.Space); the write was refused before anything was staged.
	ErrInsufficientStorage = diskspace.ErrInsufficientStorage
)

// Op is the kind of a committed change.
type Op string

// The operations a Hook hears about.
const (
	OpPut          Op = "put"
	OpMkdir        Op = "mkdir"
	OpDelete       Op = "delete"
	OpMove         Op = "move"
	OpCopy         Op = "copy"
	OpMakeBucket   Op = "make-bucket"
	OpRemoveBucket Op = "remove-bucket"
)

// Event describes a change that the backend has committed and the catalog
// recorded.
type Event struct {
	Op        Op
	User      string
	Bucket    string
	Key       string
	DstBucket string // move and copy
	DstKey    string // move and copy
	Object    catalog.Object
}

// Hook hears about every committed change, after the catalog has recorded it
// and before the client is answered. A hook's error is logged, never undoes
// the write: hooks are for derived work (enrichment queues, metrics).
type Hook interface {
	Committed(ctx context.Context, ev Event) error
}

// Options configure a Gateway.
type Options struct {
	Logger *slog.Logger
	Hooks  []Hook
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// TrashRetention, when positive, makes deleting a photo or video (or a
	// folder holding one) move it to the user's trash for that long.
	TrashRetention time.Duration
	// Journal, with a backend that is a Flusher, acknowledges files of up
	// to JournalLimit bytes once their bytes are in this write-ahead log
	// (see journal.go); Reconcile replays it in any case. The caller closes
	// it after Flush.
	Journal *wal.Log
	// JournalLimit is the largest file journaled: 0 means
	// DefaultJournalLimit, negative none.
	JournalLimit int64
	// JournalFlushEvery is how long journaled files may wait for their
	// flush (0: 100 ms).
	JournalFlushEvery time.Duration
	// Space, when set, refuses writes below a free-space reserve
	// (space.go); nil: no check.
	Space SpaceGuard
	// Versions says which files keep their previous content, as a trash
	// item, when an upload, a COPY or a MOVE replaces them (with
	// TrashRetention set): VersionsMedia (the zero value: photos and
	// videos), VersionsAll or VersionsOff.
	Versions Versions
}

// Versions is a policy for keeping what an overwrite replaces.
type Versions int

// The policies; see Options.Versions.
const (
	VersionsMedia Versions = iota
	VersionsAll
	VersionsOff
)

// ParseVersions reads a policy by its name: media, all or off.
func ParseVersions(s string) (Versions, error) {
	switch s {
	case "media", "":
		return VersionsMedia, nil
	case "all":
		return VersionsAll, nil
	case "off":
		return VersionsOff, nil
	}
	return 0, fmt.Errorf("versions %q: want media, all or off", s)
}

// Gateway is the interception layer: the only way front ends reach stored
// bytes. Every write goes backend first, then the catalog, then the hooks,
// and only then returns; reads of metadata come from the catalog.
type Gateway struct {
	be    Backend
	cat   *catalog.Catalog
	hooks []Hook
	log   *slog.Logger
	now   func() time.Time
	// retention is how long the trash keeps things (0: no trash).
	retention time.Duration
	versions  Versions
	// trashMu serializes making a user's trash bucket (ensureTrash), which
	// may run under the tree lock held shared or not at all.
	trashMu sync.Mutex

	// tree serializes folder-wide operations (move, copy, remove of folders)
	// against everything else; file writes take it shared plus their stripe.
	tree    sync.RWMutex
	stripes [256]sync.Mutex
	seed    maphash.Seed

	journal *journal // nil: every file is made durable before its row is written
	wal     *wal.Log // replayed by Reconcile (Options.Journal)

	space SpaceGuard // nil: writes are not checked (Options.Space)
}

// New returns a Gateway over a backend and a catalog.
func New(be Backend, cat *catalog.Catalog, opt Options) *Gateway {
	lg := opt.Logger
	if lg == nil {
		lg = slog.Default()
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	lg = lg.With("component", "gateway")
	return &Gateway{be: be, cat: cat, hooks: opt.Hooks, log: lg, now: now, seed: maphash.MakeSeed(), retention: opt.TrashRetention, versions: opt.Versions,
		journal: newJournal(be, cat, opt, lg), wal: opt.Journal, space: opt.Space}
}

// Catalog returns the catalog, for readers of derived data.
func (g *Gateway) Catalog() *catalog.Catalog { return g.cat }

func (g *Gateway) stripe(user, bucket, key string) *sync.Mutex {
	var h maphash.Hash
	h.SetSeed(g.seed)
	h.WriteString(user)
	h.WriteString(bucket)
	h.WriteString(strings.TrimSuffix(key, "/"))
	return &g.stripes[h.Sum64()%uint64(len(g.stripes))]
}

// lockKey takes what a write of one file holds: the tree lock, shared, and
// the key's stripe. It returns the unlock.
func (g *Gateway) lockKey(user, bucket, key string) func() {
	g.tree.RLock()
	mu := g.stripe(user, bucket, key)
	mu.Lock()
	return func() {
		mu.Unlock()
		g.tree.RUnlock()
	}
}

func (g *Gateway) notify(ctx context.Context, ev Event) {
	for _, h := range g.hooks {
		if err := h.Committed(ctx, ev); err != nil {
			g.log.Error("hook failed", "op", ev.Op, "bucket", ev.Bucket, "key", ev.Key, "err", err)
		}
	}
}

// ---- buckets ----

// Buckets lists the user's buckets.
func (g *Gateway) Buckets(ctx context.Context, user string) ([]catalog.Bucket, error) {
	bs, err := g.cat.Buckets(ctx, user)
	return slices.DeleteFunc(bs, func(b catalog.Bucket) bool { return b.Name == TrashBucket }), err
}

// CreateBucket makes a new bucket a user asked for; ErrExists if the user
// has it already. It is the one place every front end (WebDAV MKCOL at the
// root, S3 CreateBucket, the command line) makes buckets, so the rule for
// new names (CheckBucket, BucketRule) is enforced here: a refused name
// gives a *BucketNameError whose text states the rule.
func (g *Gateway) CreateBucket(ctx context.Context, user, bucket string) error {
	if err := CheckBucket(bucket); err != nil {
		return err
	}
	return g.MakeBucket(ctx, user, bucket)
}

// MakeBucket creates a bucket whose name catalog.ValidName takes (the rule
// buckets made before CreateBucket's had to follow) and that is not
// reserved; ErrExists if the user has it already. It is for buckets that
// existed before (a restore from the trash) and for tests; front ends call
// CreateBucket.
func (g *Gateway) MakeBucket(ctx context.Context, user, bucket string) error {
	if err := g.admit("make bucket", bucket, "", 0); err != nil {
		return err
	}
	if err := checkOldBucket(bucket); err != nil {
		return err
	}
	g.tree.Lock()
	defer g.tree.Unlock()
	if _, err := g.cat.GetBucket(ctx, user, bucket); err == nil {
		return fmt.Errorf("bucket %s: %w", bucket, ErrExists)
	}
	if err := g.be.Mkdir(ctx, Path{user, bucket, ""}); err != nil {
		return fmt.Errorf("make bucket %s: %w", bucket, err)
	}
	if err := g.cat.CreateBucket(ctx, user, bucket, g.now()); err != nil && !errors.Is(err, catalog.ErrExists) {
		return fmt.Errorf("make bucket %s: %w", bucket, err)
	}
	g.notify(ctx, Event{Op: OpMakeBucket, User: user, Bucket: bucket})
	return nil
}

// RemoveBucket deletes a bucket. Unless recursive, a bucket holding any
// object gives ErrNotEmpty. The whole removal holds the tree lock, so an
// upload into the bucket either lands before it (and goes with the bucket,
// to the trash if it is a photo or video) or fails.
func (g *Gateway) RemoveBucket(ctx context.Context, user, bucket string, recursive bool) error {
	g.tree.Lock()
	defer g.tree.Unlock()
	if _, err := g.cat.GetBucket(ctx, user, bucket); err != nil {
		return fmt.Errorf("bucket %s: %w", bucket, ErrNotFound)
	}
	if recursive && g.retention > 0 {
		// What the trash keeps goes there first, one top-level entry each.
		var top []catalog.Object
		if err := g.cat.List(ctx, user, bucket, "", "", func(o catalog.Object) error { top = append(top, o); return nil }); err != nil {
			return err
		}
		for _, o := range top {
			if g.trashes(ctx, user, bucket, o.Key, o) {
				if err := g.toTrashLocked(ctx, user, bucket, o.Key, o); err != nil {
					return err
				}
			}
		}
	}
	if recursive {
		if err := g.be.Remove(ctx, Path{user, bucket, ""}); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove bucket %s: %w", bucket, err)
		}
		ctx = context.WithoutCancel(ctx) // the catalog follows the backend
		if err := g.cat.Delete(ctx, user, bucket, ""); err != nil {
			return fmt.Errorf("remove bucket %s: %w", bucket, err)
		}
	}
	if err := g.cat.DeleteBucket(ctx, user, bucket); err != nil {
		if errors.Is(err, catalog.ErrNotEmpty) {
			return fmt.Errorf("bucket %s: %w", bucket, ErrNotEmpty)
		}
		return err
	}
	if !recursive {
		if err := g.be.Remove(ctx, Path{user, bucket, ""}); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove bucket %s: %w", bucket, err)
		}
	}
	g.notify(ctx, Event{Op: OpRemoveBucket, User: user, Bucket: bucket})
	return nil
}

// RenameBucket renames a bucket with everything in it: one rename in the
// backend and a batched rewrite of the catalog rows.
func (g *Gateway) RenameBucket(ctx context.Context, user, from, to string) error {
	if err := g.admit("rename bucket", from, "", 0); err != nil {
		return err
	}
	if err := CheckBucket(to); err != nil {
		return err
	}
	g.tree.Lock()
	defer g.tree.Unlock()
	if err := g.journal.barrier(ctx); err != nil {
		return fmt.Errorf("rename bucket %s: %w", from, err)
	}
	b, err := g.cat.GetBucket(ctx, user, from)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", from, ErrNotFound)
	}
	if _, err := g.cat.GetBucket(ctx, user, to); err == nil {
		return fmt.Errorf("bucket %s: %w", to, ErrExists)
	}
	if err := g.be.Rename(ctx, Path{user, from, ""}, Path{user, to, ""}); err != nil {
		return fmt.Errorf("rename bucket %s to %s: %w", from, to, err)
	}
	if err := g.cat.CreateBucket(ctx, user, to, b.Created); err != nil {
		return err
	}
	if err := g.cat.Move(ctx, user, from, "", to, "", false, nil); err != nil {
		return err
	}
	if err := g.cat.DeleteBucket(ctx, user, from); err != nil {
		return err
	}
	g.notify(ctx, Event{Op: OpMove, User: user, Bucket: from, DstBucket: to})
	return nil
}

// ---- reads ----

// Stat returns the catalog row of a file or folder. Key "" is the bucket
// itself; a key without a trailing '/' that names a folder returns the
// folder (whose Key ends in '/').
func (g *Gateway) Stat(ctx context.Context, user, bucket, key string) (catalog.Object, error) {
	if key == "" {
		b, err := g.cat.GetBucket(ctx, user, bucket)
		if err != nil {
			return catalog.Object{}, fmt.Errorf("bucket %s: %w", bucket, ErrNotFound)
		}
		return catalog.Object{Bucket: bucket, Key: "", ModNs: b.Created.UnixNano()}, nil
	}
	o, err := g.cat.Stat(ctx, user, bucket, key)
	if err == nil {
		return o, nil
	}
	if errors.Is(err, catalog.ErrNotFound) && !strings.HasSuffix(key, "/") {
		if o, err2 := g.cat.Stat(ctx, user, bucket, key+"/"); err2 == nil {
			return o, nil
		}
	}
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.Object{}, fmt.Errorf("%s/%s: %w", bucket, key, ErrNotFound)
	}
	return catalog.Object{}, err
}

// List calls fn for each child of the folder dir; see catalog.List.
func (g *Gateway) List(ctx context.Context, user, bucket, dir, after string, fn func(catalog.Object) error) error {
	return g.cat.List(ctx, user, bucket, dir, after, fn)
}

// Walk calls fn for every row under prefix; see catalog.Walk.
func (g *Gateway) Walk(ctx context.Context, user, bucket, prefix, after string, fn func(catalog.Object) error) error {
	return g.cat.Walk(ctx, user, bucket, prefix, after, fn)
}

// Open opens a file for reading, with its catalog row.
func (g *Gateway) Open(ctx context.Context, user, bucket, key string) (File, catalog.Object, error) {
	o, err := g.Stat(ctx, user, bucket, key)
	if err != nil {
		return nil, o, err
	}
	if o.IsDir() || o.Key == "" {
		return nil, o, fmt.Errorf("%s/%s: %w", bucket, key, ErrIsDir)
	}
	f, err := g.be.Open(ctx, Path{user, bucket, o.Key})
	if err != nil {
		return nil, o, fmt.Errorf("open %s/%s: %w", bucket, key, err)
	}
	return f, o, nil
}

// Props returns the dead properties of a file or folder.
func (g *Gateway) Props(ctx context.Context, user, bucket, key string) ([]catalog.Prop, error) {
	return g.cat.Props(ctx, user, bucket, key)
}

// PatchProps sets and removes dead properties, in order.
func (g *Gateway) PatchProps(ctx context.Context, user, bucket, key string, ops []catalog.PropOp) error {
	if err := g.admit("set properties of", bucket, key, 0); err != nil {
		return err
	}
	return g.cat.PatchProps(ctx, user, bucket, key, ops)
}

// ---- writes ----

// Sums are the size and digests of a staged upload.
type Sums struct {
	Size   int64
	SHA256 []byte
	MD5    []byte
}

// PutInput describes one upload.
type PutInput struct {
	User, Bucket, Key string
	Body              io.Reader
	// ContentType is stored as given; empty means guess from the name, then sniff.
	ContentType string
	// ModTime is the client's modification time; zero means now.
	ModTime time.Time
	// Meta is user metadata (S3 x-amz-meta-*).
	Meta map[string]string
	// ETag, when set, is stored as the object's entity tag instead of the
	// MD5 of its bytes (multipart uploads: "md5-of-part-md5s-N").
	ETag string
	// MakeParents creates missing parent folders (S3); without it a missing
	// parent is ErrNoParent (WebDAV answers 409).
	MakeParents bool
	// Verify, when set, sees the sums of the staged bytes; its error aborts
	// the upload (checksum headers).
	Verify func(Sums) error
	// Check, when set, runs under the object's write lock just before the
	// commit with the current row (nil when there is none); its error aborts
	// the upload (If-Match and friends).
	Check func(cur *catalog.Object) error
	// Size is the body's length when the client said (Content-Length),
	// else 0: an upload that cannot fit above the free-space reserve is
	// refused before it is read.
	Size int64
	// MD5, when set, returns the MD5 of the whole body once Body has been
	// read to its end: a front end that hashes the stream anyway (gofakes3
	// does, for Content-MD5 and the ETag) saves the gateway a second MD5,
	// the costliest hash per byte. It must return 16 bytes.
	MD5 func() []byte
}

// Put stores a file: the bytes are staged and hashed, checked, committed in
// the backend, recorded in the catalog, announced to the hooks, and only
// then does Put return. On any error nothing changes.
func (g *Gateway) Put(ctx context.Context, in PutInput) (catalog.Object, error) {
	if err := g.admitPut(&in); err != nil {
		return catalog.Object{}, err
	}
	if err := CheckKey(in.Key); err != nil {
		return catalog.Object{}, err
	}
	if in.Key == "" || strings.HasSuffix(in.Key, "/") {
		return catalog.Object{}, fmt.Errorf("put %s/%s: %w", in.Bucket, in.Key, ErrIsDir)
	}
	// A first look, so that a missing folder is refused before the body is
	// read; the answer that counts is given again under the key's lock.
	if in.MakeParents {
		if _, err := g.cat.GetBucket(ctx, in.User, in.Bucket); err != nil {
			return catalog.Object{}, fmt.Errorf("bucket %s: %w", in.Bucket, ErrNoBucket)
		}
	} else if err := g.checkParent(ctx, in.User, in.Bucket, in.Key, false); err != nil {
		return catalog.Object{}, err
	}
	body := in.Body
	ctype := in.ContentType
	if ctype == "" {
		ctype = mime.TypeByExtension(path.Ext(in.Key))
	}
	if ctype == "" {
		br := bufio.NewReaderSize(body, 512)
		head, err := br.Peek(512)
		if err != nil && err != io.EOF {
			// Peek hands the error over and the reader forgets it: the
			// body must not then read as a short, complete file.
			return catalog.Object{}, fmt.Errorf("put %s/%s: read body: %w", in.Bucket, in.Key, err)
		}
		ctype = http.DetectContentType(head)
		body = br
	}
	hr := newTeeHasher(body, in.MD5 == nil)
	p := Path{in.User, in.Bucket, in.Key}
	var (
		pending Pending
		err     error
		data    []byte // the whole body, when it is journaled
	)
	if j := g.journal; j != nil {
		var (
			small   bool
			rest    io.Reader
			release func()
		)
		data, small, rest, release, err = j.head(hr)
		defer release()
		switch {
		case err != nil:
		case small:
			pending, err = j.fl.CreateUnsynced(ctx, p, bytes.NewReader(data))
		default:
			data = nil
			pending, err = g.be.Create(ctx, p, rest)
		}
	} else {
		pending, err = g.be.Create(ctx, p, hr)
	}
	if err != nil {
		hr.close()
		return catalog.Object{}, fmt.Errorf("put %s/%s: %w", in.Bucket, in.Key, err)
	}
	committed := false
	defer func() {
		if !committed {
			pending.Abort()
		}
	}()
	sha, md := hr.sums()
	if in.MD5 != nil {
		if md = in.MD5(); len(md) != 16 {
			return catalog.Object{}, fmt.Errorf("put %s/%s: the front end's MD5 has %d bytes", in.Bucket, in.Key, len(md))
		}
	}
	sums := Sums{Size: pending.Size(), SHA256: sha, MD5: md}
	if in.Verify != nil {
		if err := in.Verify(sums); err != nil {
			return catalog.Object{}, err
		}
	}
	now := g.now()
	mod := in.ModTime
	if mod.IsZero() {
		mod = now
	}
	o := catalog.Object{
		Bucket: in.Bucket, Key: in.Key, Size: sums.Size,
		SHA256: hex.EncodeToString(sums.SHA256), MD5: hex.EncodeToString(sums.MD5),
		ContentType: ctype, ModNs: mod.UnixNano(), UploadNs: now.UnixNano(), Meta: in.Meta, ETagValue: in.ETag,
	}

	defer g.lockKey(in.User, in.Bucket, in.Key)()
	// The folder (or the bucket) may have been moved or deleted while the
	// bytes were staged. Folder-wide operations hold the tree lock
	// exclusively, so from here on the upload and any MOVE or DELETE above
	// it are ordered: either the folder is there now and the file lands in
	// it (and moves or goes with it later), or the upload fails and leaves
	// nothing. The backend is never asked to create a folder the catalog
	// lacks.
	if err := g.checkParent(ctx, in.User, in.Bucket, in.Key, in.MakeParents); err != nil {
		return catalog.Object{}, err
	}
	var cur *catalog.Object
	if c, err := g.cat.Stat(ctx, in.User, in.Bucket, in.Key); err == nil {
		cur = &c
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return catalog.Object{}, err
	}
	if _, err := g.cat.Stat(ctx, in.User, in.Bucket, in.Key+"/"); err == nil {
		return catalog.Object{}, fmt.Errorf("put %s/%s: a folder has that name: %w", in.Bucket, in.Key, ErrIsDir)
	}
	if in.Check != nil {
		if err := in.Check(cur); err != nil {
			return catalog.Object{}, err
		}
	}
	if cur != nil {
		o.HasProps = cur.HasProps // dead properties outlive a new version of the content
		if cur.SHA256 != o.SHA256 && g.keepsVersion(ctx, in.User, in.Bucket, *cur) {
			if err := g.keepVersion(ctx, in.User, in.Bucket, *cur); err != nil {
				return catalog.Object{}, fmt.Errorf("put %s/%s: %w", in.Bucket, in.Key, err)
			}
		}
	}
	if data != nil {
		committed = true // putJournaled commits or aborts
		if err := g.putJournaled(ctx, in, o, cur, pending, data, mod); err != nil {
			return catalog.Object{}, err
		}
		g.notify(ctx, Event{Op: OpPut, User: in.User, Bucket: in.Bucket, Key: in.Key, Object: o})
		return o, nil
	}
	if err := pending.Commit(ctx, mod); err != nil {
		return catalog.Object{}, fmt.Errorf("put %s/%s: %w", in.Bucket, in.Key, err)
	}
	committed = true
	// From the backend's commit on, the catalog must follow whatever the
	// client does: a client that goes away must not leave the old row.
	ctx = context.WithoutCancel(ctx)
	// The backend makes the commit durable while the catalog records the
	// row (each fsyncs); the client hears back when both are done.
	synced := make(chan error, 1)
	go func() { synced <- pending.Sync(ctx) }()
	catErr := g.cat.PutFile(ctx, in.User, o) // the row and its enrichment job, one transaction
	if err := <-synced; err != nil {
		return catalog.Object{}, fmt.Errorf("put %s/%s: sync: %w", in.Bucket, in.Key, err)
	}
	if catErr != nil {
		return catalog.Object{}, fmt.Errorf("catalog %s/%s: %w", in.Bucket, in.Key, catErr)
	}
	g.notify(ctx, Event{Op: OpPut, User: in.User, Bucket: in.Bucket, Key: in.Key, Object: o})
	return o, nil
}

// checkParent makes sure the folder holding key exists (creating it and its
// parents when mk is set).
func (g *Gateway) checkParent(ctx context.Context, user, bucket, key string, mk bool) error {
	if _, err := g.cat.GetBucket(ctx, user, bucket); err != nil {
		return fmt.Errorf("bucket %s: %w", bucket, ErrNoBucket)
	}
	par := Parent(key)
	if par == "" {
		return nil
	}
	if o, err := g.cat.Stat(ctx, user, bucket, par); err == nil && o.IsDir() {
		return nil
	}
	if _, err := g.cat.Stat(ctx, user, bucket, strings.TrimSuffix(par, "/")); err == nil {
		return fmt.Errorf("%s/%s: %w", bucket, strings.TrimSuffix(par, "/"), ErrNotDir)
	}
	if !mk {
		return fmt.Errorf("%s/%s: %w", bucket, par, ErrNoParent)
	}
	if err := g.checkParent(ctx, user, bucket, par, true); err != nil {
		return err
	}
	return g.mkdir(ctx, user, bucket, par, false)
}

// MakeParents creates the folders that would hold key, as needed.
func (g *Gateway) MakeParents(ctx context.Context, user, bucket, key string) error {
	if err := g.admit("make parents of", bucket, key, 0); err != nil {
		return err
	}
	if err := CheckKey(key); err != nil {
		return err
	}
	return g.checkParent(ctx, user, bucket, key, true)
}

// UpdateMeta replaces the content type, user metadata and the explicit
// flag of a file or folder row, leaving its bytes alone.
func (g *Gateway) UpdateMeta(ctx context.Context, user, bucket, key string, update func(*catalog.Object)) error {
	if err := g.admit("update", bucket, key, 0); err != nil {
		return err
	}
	defer g.lockKey(user, bucket, key)()
	o, err := g.cat.Stat(ctx, user, bucket, key)
	if err != nil {
		return fmt.Errorf("update %s/%s: %w", bucket, key, ErrNotFound)
	}
	update(&o)
	o.Bucket, o.Key = bucket, key
	return g.cat.Put(ctx, user, o)
}

// Mkdir creates the folder key (with or without the trailing '/'). Its
// parent must exist unless makeParents; ErrExists if something has that name.
// explicit marks a folder the user asked for (see catalog.Object.Explicit).
func (g *Gateway) Mkdir(ctx context.Context, user, bucket, key string, makeParents, explicit bool) error {
	if err := g.admit("mkdir", bucket, key, 0); err != nil {
		return err
	}
	key = strings.TrimSuffix(key, "/") + "/"
	if err := CheckKey(key); err != nil {
		return err
	}
	if _, err := g.Stat(ctx, user, bucket, strings.TrimSuffix(key, "/")); err == nil {
		return fmt.Errorf("mkdir %s/%s: %w", bucket, key, ErrExists)
	}
	if err := g.checkParent(ctx, user, bucket, key, makeParents); err != nil {
		return err
	}
	return g.mkdir(ctx, user, bucket, key, explicit)
}

func (g *Gateway) mkdir(ctx context.Context, user, bucket, key string, explicit bool) error {
	if err := g.be.Mkdir(ctx, Path{user, bucket, key}); err != nil {
		return fmt.Errorf("mkdir %s/%s: %w", bucket, key, err)
	}
	now := g.now().UnixNano()
	o := catalog.Object{Bucket: bucket, Key: key, ModNs: now, UploadNs: now, Explicit: explicit}
	if err := g.cat.Put(ctx, user, o); err != nil {
		return fmt.Errorf("catalog %s/%s: %w", bucket, key, err)
	}
	g.notify(ctx, Event{Op: OpMkdir, User: user, Bucket: bucket, Key: key, Object: o})
	return nil
}

// Remove deletes a file, or a folder (key ending in '/') with everything
// in it. With a trash, photos and videos (and folders holding any) are
// moved to the trash instead (see Restore, Purge). What goes and where is
// decided under the lock the removal holds, so an upload racing with it
// is either removed with the rest or not touched.
func (g *Gateway) Remove(ctx context.Context, user, bucket, key string) error {
	if err := CheckKey(key); err != nil || key == "" {
		return fmt.Errorf("remove %s/%s: %w", bucket, key, ErrBadPath)
	}
	// A folder, or a file that goes to the trash (a move), holds the tree
	// lock; a file deleted for good holds its own lock only.
	exclusive := strings.HasSuffix(key, "/")
	if !exclusive && g.retention > 0 && bucket != TrashBucket {
		if o, err := g.cat.Stat(ctx, user, bucket, key); err == nil && g.isMedia(ctx, user, bucket, o) {
			exclusive = true
		}
	}
	for {
		err := g.removeOnce(ctx, user, bucket, key, exclusive)
		if errors.Is(err, errNeedTreeLock) {
			exclusive = true
			continue
		}
		return err
	}
}

// errNeedTreeLock: the file became a photo between the first look and the
// lock, and must go to the trash under the tree lock.
var errNeedTreeLock = errors.New("needs the tree lock")

func (g *Gateway) removeOnce(ctx context.Context, user, bucket, key string, exclusive bool) error {
	if exclusive {
		g.tree.Lock()
		defer g.tree.Unlock()
	} else {
		defer g.lockKey(user, bucket, key)()
	}
	o, err := g.cat.Stat(ctx, user, bucket, key)
	if err != nil {
		return fmt.Errorf("remove %s/%s: %w", bucket, key, ErrNotFound)
	}
	if g.trashes(ctx, user, bucket, key, o) {
		if !exclusive {
			return errNeedTreeLock
		}
		return g.toTrashLocked(ctx, user, bucket, key, o)
	}
	return g.removeLocked(ctx, user, bucket, key, o)
}

// removeLocked deletes the file or folder key, whose row is o, for good.
// The caller holds the key's lock (a file) or the tree lock.
func (g *Gateway) removeLocked(ctx context.Context, user, bucket, key string, o catalog.Object) error {
	p := Path{user, bucket, key}
	if err := g.be.Remove(ctx, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s/%s: %w", bucket, key, err)
	}
	ctx = context.WithoutCancel(ctx) // the catalog follows the backend
	// The backend made the removal durable. A file's row can then go
	// without waiting for the disk: should a crash lose that commit,
	// Reconcile drops a row whose file is gone. Unless the journal holds a
	// record of the file, which a replay would write again.
	var err error
	if !o.IsDir() && !g.journal.inLog(p) {
		err = g.cat.DeleteFileUnsynced(ctx, user, bucket, key)
	} else {
		err = g.cat.Delete(ctx, user, bucket, key)
	}
	if err != nil {
		return fmt.Errorf("catalog remove %s/%s: %w", bucket, key, err)
	}
	g.notify(ctx, Event{Op: OpDelete, User: user, Bucket: bucket, Key: key, Object: o})
	return nil
}

// RemoveIfEmpty removes the folder key (ending in '/') when it holds
// nothing and keep, given its row, does not object; the check and the
// removal are one step, so a file written meanwhile is never lost.
func (g *Gateway) RemoveIfEmpty(ctx context.Context, user, bucket, key string, keep func(catalog.Object) bool) (bool, error) {
	g.tree.Lock()
	defer g.tree.Unlock()
	o, err := g.cat.Stat(ctx, user, bucket, key)
	if err != nil || !o.IsDir() || (keep != nil && keep(o)) {
		return false, nil
	}
	if has, err := g.cat.HasChild(ctx, user, bucket, key, ""); err != nil || has {
		return false, err
	}
	if err := g.be.Remove(ctx, Path{user, bucket, key}); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove %s/%s: %w", bucket, key, err)
	}
	ctx = context.WithoutCancel(ctx) // the catalog follows the backend
	if err := g.cat.Delete(ctx, user, bucket, key); err != nil {
		return false, err
	}
	g.notify(ctx, Event{Op: OpDelete, User: user, Bucket: bucket, Key: key, Object: o})
	return true, nil
}

// Move renames the file or folder src to dst (keys ending in '/' for
// folders), replacing what dst was. A folder moves with one backend rename
// and a batched catalog rewrite, whatever its size.
func (g *Gateway) Move(ctx context.Context, user, bucket, src, dstBucket, dst string) error {
	return g.Transfer(ctx, Transfer{Op: OpMove, User: user, Bucket: bucket, Key: src, DstBucket: dstBucket, DstKey: dst})
}

// Copy copies the file or folder src to dst, replacing what dst was. The
// catalog rows are copied, not recomputed.
func (g *Gateway) Copy(ctx context.Context, user, bucket, src, dstBucket, dst string) error {
	return g.Transfer(ctx, Transfer{Op: OpCopy, User: user, Bucket: bucket, Key: src, DstBucket: dstBucket, DstKey: dst})
}

// Transfer describes a move or copy.
type Transfer struct {
	Op                Op // OpMove or OpCopy
	User, Bucket, Key string
	DstBucket, DstKey string
	// NoReplace refuses, with ErrExists, a destination that exists (file
	// or folder) when the transfer runs: WebDAV's Overwrite: F, decided
	// atomically with the transfer.
	NoReplace bool
}

// Transfer moves or copies a file or folder; see Move and Copy.
func (g *Gateway) Transfer(ctx context.Context, t Transfer) error {
	if t.Op != OpMove && t.Op != OpCopy {
		return fmt.Errorf("transfer %s/%s: unknown operation %q", t.Bucket, t.Key, t.Op)
	}
	var need int64 // a move takes no space, a copy may (bytes copied where links are not possible)
	if t.Op == OpCopy {
		need = g.sizeOf(ctx, t.User, t.Bucket, t.Key)
	}
	if err := g.admit(string(t.Op), t.Bucket, t.Key, need); err != nil {
		return err
	}
	for _, k := range []string{t.Key, t.DstKey} {
		if err := CheckKey(k); err != nil || k == "" {
			return fmt.Errorf("%s %s/%s: %w", t.Op, t.Bucket, k, ErrBadPath)
		}
	}
	if strings.HasSuffix(t.Key, "/") != strings.HasSuffix(t.DstKey, "/") {
		return fmt.Errorf("%s %s/%s to %s: file and folder mismatch: %w", t.Op, t.Bucket, t.Key, t.DstKey, ErrBadPath)
	}
	if t.Bucket == t.DstBucket && overlaps(t.Key, t.DstKey) {
		return fmt.Errorf("%s %s/%s to %s: one lies within the other: %w", t.Op, t.Bucket, t.Key, t.DstKey, ErrBadPath)
	}
	g.tree.Lock()
	defer g.tree.Unlock()
	return g.transferLocked(ctx, t)
}

// transferLocked is Transfer with the tree lock held and the keys checked.
func (g *Gateway) transferLocked(ctx context.Context, t Transfer) error {
	op, user, bucket, src, dstBucket, dst := t.Op, t.User, t.Bucket, t.Key, t.DstBucket, t.DstKey
	// A journaled file must be durable before it moves: its log record
	// names the old place (no upload is in progress under the tree lock).
	if err := g.journal.barrier(ctx); err != nil {
		return fmt.Errorf("%s %s/%s: %w", op, bucket, src, err)
	}
	o, err := g.cat.Stat(ctx, user, bucket, src)
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", op, bucket, src, ErrNotFound)
	}
	if err := g.checkParent(ctx, user, dstBucket, dst, false); err != nil {
		return err
	}
	// Whatever dst was (file or folder) is replaced, unless NoReplace.
	for _, k := range []string{strings.TrimSuffix(dst, "/"), strings.TrimSuffix(dst, "/") + "/"} {
		if cur, err := g.cat.Stat(ctx, user, dstBucket, k); err == nil {
			if t.NoReplace {
				return fmt.Errorf("%s %s/%s to %s/%s: %w", op, bucket, src, dstBucket, k, ErrExists)
			}
			// What is replaced is kept as it would be if deleted: a
			// folder holding photos goes to the trash, a file's content
			// is kept as a version.
			if cur.IsDir() && g.trashes(ctx, user, dstBucket, k, cur) {
				if err := g.toTrashLocked(ctx, user, dstBucket, k, cur); err != nil {
					return fmt.Errorf("%s: replace %s/%s: %w", op, dstBucket, k, err)
				}
				continue
			}
			if !cur.IsDir() && g.keepsVersion(ctx, user, dstBucket, cur) {
				if err := g.keepVersion(ctx, user, dstBucket, cur); err != nil {
					return fmt.Errorf("%s: replace %s/%s: %w", op, dstBucket, k, err)
				}
			}
			if err := g.be.Remove(ctx, Path{user, dstBucket, k}); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s: replace %s/%s: %w", op, dstBucket, k, err)
			}
			if err := g.cat.Delete(context.WithoutCancel(ctx), user, dstBucket, k); err != nil {
				return err
			}
		}
	}
	sp, dp := Path{user, bucket, src}, Path{user, dstBucket, dst}
	if op == OpMove {
		err = g.be.Rename(ctx, sp, dp)
	} else {
		err = g.be.Copy(ctx, sp, dp)
	}
	if err != nil {
		return fmt.Errorf("%s %s to %s: %w", op, sp, dp, err)
	}
	// The backend has moved the bytes: the catalog follows, whatever the
	// client does (a folder of many files is rewritten in batches).
	ctx = context.WithoutCancel(ctx)
	if err := g.cat.Move(ctx, user, bucket, src, dstBucket, dst, op == OpCopy, nil); err != nil {
		return fmt.Errorf("catalog %s %s to %s: %w", op, sp, dp, err)
	}
	o.Bucket, o.Key = dstBucket, dst
	g.notify(ctx, Event{Op: op, User: user, Bucket: bucket, Key: src, DstBucket: dstBucket, DstKey: dst, Object: o})
	return nil
}

// overlaps reports whether a transfer from src to dst in one bucket would
// touch its own source: the same name, or one inside the other (replacing
// dst removes it, folder or file, with what lies below).
func overlaps(src, dst string) bool {
	s, d := strings.TrimSuffix(src, "/"), strings.TrimSuffix(dst, "/")
	return s == d || strings.HasPrefix(s, d+"/") || strings.HasPrefix(d, s+"/")
}

// SetModTime changes the modification time of a file or folder.
func (g *Gateway) SetModTime(ctx context.Context, user, bucket, key string, t time.Time) error {
	if err := g.admit("touch", bucket, key, 0); err != nil {
		return err
	}
	defer g.lockKey(user, bucket, key)()
	o, err := g.cat.Stat(ctx, user, bucket, key)
	if err != nil {
		return fmt.Errorf("touch %s/%s: %w", bucket, key, ErrNotFound)
	}
	if err := g.be.SetModTime(ctx, Path{user, bucket, key}, t); err != nil {
		return fmt.Errorf("touch %s/%s: %w", bucket, key, err)
	}
	o.ModNs = t.UnixNano()
	return g.cat.Put(ctx, user, o)
}
