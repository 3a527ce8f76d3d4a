package catalog

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Errors returned by catalog methods; test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrNotEmpty = errors.New("not empty")
	// ErrLocked means another process holds the catalog's data directory.
	ErrLocked = errors.New("catalog is in use by another process")
)

// Object is one row of the catalog: a file, or a folder when Key ends in '/'.
type Object struct {
	Bucket string `json:"-"`
	Key    string `json:"-"`

	Size        int64  `json:"s"`
	SHA256      string `json:"h,omitempty"` // hex
	MD5         string `json:"m,omitempty"` // hex; the S3 ETag of a single-part upload
	ETagValue   string `json:"e,omitempty"` // overrides the MD5 ETag (multipart "-N" ETags)
	ContentType string `json:"t,omitempty"`
	ModNs       int64  `json:"mt"`          // modification time the client set or the upload time, Unix ns
	UploadNs    int64  `json:"ut"`          // when Shoebox committed the bytes, Unix ns
	Explicit    bool   `json:"x,omitempty"` // folder made on purpose (MKCOL, S3 "name/")
	HasProps    bool   `json:"p,omitempty"` // dead properties are stored for it
	// ID is the file id, stable across moves, overwrites and restarts
	// (WebDAV oc:fileid); 0 on rows written before ids existed: see
	// FileIDOf and doc.go.
	ID   uint64            `json:"id,omitempty"`
	Meta map[string]string `json:"um,omitempty"`
}

// IsDir reports whether o is a folder row.
func (o Object) IsDir() bool { return strings.HasSuffix(o.Key, "/") }

// ModTime is the object's modification time.
func (o Object) ModTime() time.Time { return time.Unix(0, o.ModNs) }

// Name is the last path element of the key, without a trailing '/'.
func (o Object) Name() string {
	k := strings.TrimSuffix(o.Key, "/")
	return k[strings.LastIndexByte(k, '/')+1:]
}

// ETag is the quoted entity tag: the MD5 of the content for files written
// in one part, the multipart ETag otherwise, and a time-based tag for folders.
func (o Object) ETag() string {
	switch {
	case o.ETagValue != "":
		return `"` + o.ETagValue + `"`
	case o.MD5 != "":
		return `"` + o.MD5 + `"`
	default:
		return fmt.Sprintf(`"%x-%x"`, o.ModNs, o.Size)
	}
}

// Badger's file sizes (Open), and the disk they can take.
const (
	memTableSize     = 8 << 20
	valueLogFileSize = 64 << 20
	// DiskHeadroom is the most disk Badger's next files take before it
	// reclaims any: a fresh memtable log (.mem, made at twice the
	// memtable size and written through mmap, so a full disk is a SIGBUS,
	// not an error), the level-0 table a full memtable is flushed to, and
	// a value log (.vlog) growing to its full size. The server keeps at
	// least this free (its free-space reserve, gateway/diskspace).
	DiskHeadroom = 2*memTableSize + memTableSize + valueLogFileSize
)

// Options tune the Badger store. The zero value is a small-footprint default.
type Options struct {
	// InMemory keeps everything in RAM (tests).
	InMemory bool
	// SyncWrites makes every commit durable before it returns (but
	// PutFileLogged's: see durable.go). Open's callers set it; without it
	// a crash of the machine can lose acknowledged writes.
	SyncWrites bool
	Logger     *slog.Logger
}

// Catalog is the embedded database. It is safe for concurrent use.
type Catalog struct {
	db  *badger.DB
	log *slog.Logger

	// ids hands out file ids (fileid.go).
	ids *badger.Sequence

	// leaseMu guards leaseFrom, the job row LeaseJobs resumes its scan at.
	leaseMu   sync.Mutex
	leaseFrom []byte

	// indexMu serializes the transactions that write index rows
	// (updateIndex).
	indexMu sync.Mutex

	group  committer    // group commit (commit.go)
	counts countCache   // status counts between writes (counts.go)
	search searchTuning // search.go
	syncer syncer       // durable commits (durable.go)
}

// Open opens (creating if needed) the catalog in dir.
func Open(dir string, opt Options) (*Catalog, error) {
	lg := opt.Logger
	if lg == nil {
		lg = slog.Default()
	}
	lg = lg.With("component", "catalog")
	bo := badgerOptions(dir, opt.InMemory, lg)
	db, err := badger.Open(bo)
	if err != nil {
		if isLockErr(err) {
			return nil, fmt.Errorf("open catalog %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("open catalog %s: %w", dir, err)
	}
	c := &Catalog{db: db, log: lg, search: defaultSearchTuning}
	if opt.SyncWrites && !opt.InMemory {
		c.syncer = syncer{dir: dir, synced: map[string]bool{}}
	}
	if err := c.checkSchema(); err != nil {
		db.Close()
		return nil, err
	}
	if c.ids, err = db.GetSequence(keyFileIDSeq(), fileIDBandwidth); err != nil {
		db.Close()
		return nil, fmt.Errorf("open catalog %s: file id sequence: %w", dir, err)
	}
	if err := c.indexFileIDs(context.Background()); err != nil {
		c.Close()
		return nil, fmt.Errorf("open catalog %s: %w", dir, err)
	}
	if err := c.indexModTimes(context.Background()); err != nil {
		c.Close()
		return nil, fmt.Errorf("open catalog %s: %w", dir, err)
	}
	if err := c.indexSearch(context.Background()); err != nil {
		c.Close()
		return nil, fmt.Errorf("open catalog %s: %w", dir, err)
	}
	if err := c.backfillDupGroups(context.Background()); err != nil {
		c.Close()
		return nil, fmt.Errorf("open catalog %s: %w", dir, err)
	}
	if err := c.checkDerived(context.Background()); err != nil {
		c.Close()
		return nil, fmt.Errorf("open catalog %s: %w", dir, err)
	}
	return c, nil
}

// badgerOptions are the Badger options of a catalog in dir (Open, Restore).
func badgerOptions(dir string, inMemory bool, lg *slog.Logger) badger.Options {
	bo := badger.DefaultOptions(dir).
		WithInMemory(inMemory).
		WithSyncWrites(false). // the catalog syncs itself (durable.go)
		WithLogger(badgerLogger{lg}).
		WithMemTableSize(memTableSize).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(4 << 20).
		WithIndexCacheSize(4 << 20).
		WithValueLogFileSize(valueLogFileSize).
		WithValueThreshold(4 << 10).
		WithNumCompactors(2)
	if inMemory {
		// No value log: every value lives in the tables, up to Badger's
		// largest threshold (a photo with many faces has a large record).
		bo.Dir, bo.ValueDir = "", ""
		bo = bo.WithValueThreshold(1 << 20)
	}
	return bo
}

// isLockErr reports whether Badger failed to open because another
// process holds the directory.
func isLockErr(err error) bool { return strings.Contains(err.Error(), "Cannot acquire directory lock") }

// Close flushes and closes the database.
func (c *Catalog) Close() error {
	if c.ids != nil {
		if err := c.ids.Release(); err != nil {
			c.log.Warn("release the file id sequence", "err", err)
		}
	}
	return c.db.Close()
}

func (c *Catalog) checkSchema() error {
	return c.update(context.Background(), func(txn *badger.Txn) error {
		it, err := txn.Get(keySchema())
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set(keySchema(), binary.AppendUvarint(nil, SchemaVersion))
		}
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		v, err := it.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		got, _ := binary.Uvarint(v)
		if got != SchemaVersion {
			return fmt.Errorf("catalog schema version %d; this binary needs %d", got, SchemaVersion)
		}
		return nil
	})
}

// ---- buckets ----

type bucketRow struct {
	CreatedNs int64 `json:"c"`
	Public    bool  `json:"pub,omitempty"`
}

// Bucket is one of a user's buckets.
type Bucket struct {
	Name    string
	Created time.Time
	// Public buckets can be read anonymously over S3 (GET and HEAD).
	Public bool
}

// CreateBucket records a new bucket; ErrExists if the user already has it.
func (c *Catalog) CreateBucket(ctx context.Context, user, bucket string, created time.Time) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		if _, err := txn.Get(keyBucket(user, bucket)); err == nil {
			return fmt.Errorf("bucket %s/%s: %w", user, bucket, ErrExists)
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return setJSON(txn, keyBucket(user, bucket), bucketRow{CreatedNs: created.UnixNano()})
	})
}

// GetBucket returns the bucket or ErrNotFound.
func (c *Catalog) GetBucket(ctx context.Context, user, bucket string) (Bucket, error) {
	var b Bucket
	err := c.db.View(func(txn *badger.Txn) error {
		var row bucketRow
		if err := getJSON(txn, keyBucket(user, bucket), &row); err != nil {
			return fmt.Errorf("bucket %s/%s: %w", user, bucket, err)
		}
		b = Bucket{Name: bucket, Created: time.Unix(0, row.CreatedNs), Public: row.Public}
		return nil
	})
	return b, err
}

// Buckets lists the user's buckets in name order.
func (c *Catalog) Buckets(ctx context.Context, user string) ([]Bucket, error) {
	var out []Bucket
	err := c.db.View(func(txn *badger.Txn) error {
		pfx := keyBucketPrefix(user)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var row bucketRow
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &row) }); err != nil {
				return err
			}
			out = append(out, Bucket{Name: string(it.Item().Key()[len(pfx):]), Created: time.Unix(0, row.CreatedNs), Public: row.Public})
		}
		return nil
	})
	return out, err
}

// SetBucketPublic makes a bucket readable anonymously, or private again.
func (c *Catalog) SetBucketPublic(ctx context.Context, user, bucket string, public bool) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		var row bucketRow
		if err := getJSON(txn, keyBucket(user, bucket), &row); err != nil {
			return fmt.Errorf("bucket %s/%s: %w", user, bucket, err)
		}
		row.Public = public
		return setJSON(txn, keyBucket(user, bucket), row)
	})
}

// PublicBucketOwner returns the owner of the public bucket named bucket;
// ok is false when no user, or more than one, has a public bucket by that
// name (bucket names are per user, so anonymous access must be unambiguous).
func (c *Catalog) PublicBucketOwner(ctx context.Context, bucket string) (user string, ok bool, err error) {
	err = c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxBucket), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			u, b, found := strings.Cut(string(it.Item().Key()[len(pfxBucket):]), sep)
			if !found || b != bucket {
				continue
			}
			var row bucketRow
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &row) }); err != nil {
				return err
			}
			if row.Public {
				if user != "" {
					user, ok = "", false
					return nil
				}
				user, ok = u, true
			}
		}
		return nil
	})
	return user, ok, err
}

// UserBucket names a bucket with its owner.
type UserBucket struct{ User, Bucket string }

// AllBuckets lists every bucket of every user, including users whose
// account was removed (their rows are kept).
func (c *Catalog) AllBuckets(ctx context.Context) ([]UserBucket, error) {
	var out []UserBucket
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxBucket)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			u, b, ok := strings.Cut(string(it.Item().Key()[len(pfxBucket):]), sep)
			if ok {
				out = append(out, UserBucket{u, b})
			}
		}
		return nil
	})
	return out, err
}

// DeleteBucket removes an empty bucket: ErrNotEmpty if it holds objects.
func (c *Catalog) DeleteBucket(ctx context.Context, user, bucket string) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: keyObjectPrefix(user, bucket)})
		it.Rewind()
		nonEmpty := it.Valid()
		it.Close()
		if nonEmpty {
			return fmt.Errorf("bucket %s/%s: %w", user, bucket, ErrNotEmpty)
		}
		if _, err := txn.Get(keyBucket(user, bucket)); err != nil {
			return fmt.Errorf("bucket %s/%s: %w", user, bucket, notFound(err))
		}
		return txn.Delete(keyBucket(user, bucket))
	})
}

// ---- objects ----

// Stat returns the row for key (a file, or a folder when key ends in '/').
func (c *Catalog) Stat(ctx context.Context, user, bucket, key string) (Object, error) {
	var o Object
	err := c.db.View(func(txn *badger.Txn) error {
		if err := getJSON(txn, keyObject(user, bucket, key), &o); err != nil {
			return fmt.Errorf("object %s/%s/%s: %w", user, bucket, key, err)
		}
		return nil
	})
	o.Bucket, o.Key = bucket, key
	return o, err
}

// Put inserts or replaces one row.
func (c *Catalog) Put(ctx context.Context, user string, o Object) error {
	return c.commit(ctx, func(txn *badger.Txn) error {
		if err := c.assignID(txn, user, &o); err != nil {
			return err
		}
		if err := setFileID(txn, user, o); err != nil {
			return err
		}
		if err := setModIndex(txn, user, o); err != nil {
			return err
		}
		if err := setJSON(txn, keyObject(user, o.Bucket, o.Key), o); err != nil {
			return err
		}
		return refreshMember(txn, user, o)
	})
}

// HasChild reports whether the folder dir ("" for the bucket's root, else
// a key ending in '/') holds anything. It looks after the key after first
// (when under dir), then from the folder's start: a caller that removes
// children in key order passes the one it removed, so the scan does not
// step over the rows it deleted. Keys only: no row is read.
func (c *Catalog) HasChild(ctx context.Context, user, bucket, dir, after string) (bool, error) {
	found := false
	err := c.db.View(func(txn *badger.Txn) error {
		bpfx := keyObjectPrefix(user, bucket)
		pfx := append(append([]byte{}, bpfx...), dir...)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		defer it.Close()
		var starts [][]byte
		if rest, ok := strings.CutPrefix(after, dir); ok && rest != "" {
			starts = append(starts, append(append(append([]byte{}, bpfx...), after...), 0))
		}
		for _, start := range append(starts, pfx) {
			it.Seek(start)
			if it.Valid() && len(it.Item().Key()) == len(pfx) { // the folder's own row
				it.Next()
			}
			if it.Valid() {
				found = true
				return nil
			}
		}
		return nil
	})
	return found, err
}

// List calls fn for each direct child of the folder dir ("" for the bucket's
// root, else a key ending in '/'), in key order, starting after the child
// key after (empty: from the first). Folders are passed with a trailing '/';
// a folder that has descendants but no row of its own is synthesized. fn's
// error stops the listing and is returned. The scan skips each subfolder's
// subtree, so its cost is the number of children, not of descendants.
func (c *Catalog) List(ctx context.Context, user, bucket, dir, after string, fn func(Object) error) error {
	return c.db.View(func(txn *badger.Txn) error {
		bpfx := keyObjectPrefix(user, bucket)
		pfx := append(append([]byte{}, bpfx...), dir...)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		start := pfx
		if after != "" {
			start = append(append(append([]byte{}, bpfx...), after...), 0)
			if strings.HasSuffix(after, "/") {
				start = skipSubtree(bpfx, after)
			}
		}
		n := 0
		for it.Seek(start); it.Valid(); {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			item := it.Item()
			key := string(item.Key()[len(bpfx):])
			rest := key[len(dir):]
			if rest == "" { // the folder's own row
				it.Next()
				continue
			}
			if i := strings.IndexByte(rest, '/'); i >= 0 && i < len(rest)-1 {
				// A descendant deeper than one level without a row for its
				// folder: synthesize the folder.
				sub := dir + rest[:i+1]
				if err := fn(Object{Bucket: bucket, Key: sub, ModNs: 0}); err != nil {
					return err
				}
				it.Seek(skipSubtree(bpfx, sub))
				continue
			}
			var o Object
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &o) }); err != nil {
				return fmt.Errorf("decode %q: %w", item.Key(), err)
			}
			o.Bucket, o.Key = bucket, key
			if err := fn(o); err != nil {
				return err
			}
			if o.IsDir() {
				it.Seek(skipSubtree(bpfx, key))
				continue
			}
			it.Next()
		}
		return nil
	})
}

// skipSubtree is the first row key after every key that starts with dir
// (which ends in '/'): keys are UTF-8 and never contain 0xFF.
func skipSubtree(bpfx []byte, dir string) []byte {
	return append(append(append([]byte{}, bpfx...), dir...), 0xFF)
}

// Walk calls fn for every row whose key starts with prefix, in key order,
// starting after the key after (empty: from the first).
func (c *Catalog) Walk(ctx context.Context, user, bucket, prefix, after string, fn func(Object) error) error {
	return c.db.View(func(txn *badger.Txn) error {
		bpfx := keyObjectPrefix(user, bucket)
		pfx := append(append([]byte{}, bpfx...), prefix...)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		start := pfx
		if after != "" {
			start = append(append(append([]byte{}, bpfx...), after...), 0)
		}
		n := 0
		for it.Seek(start); it.Valid(); it.Next() {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			var o Object
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &o) }); err != nil {
				return fmt.Errorf("decode %q: %w", it.Item().Key(), err)
			}
			o.Bucket, o.Key = bucket, string(it.Item().Key()[len(bpfx):])
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteFileUnsynced is Delete of one file's rows without waiting for the
// disk (durable at the next Sync or durable commit): for a file whose
// removal the backend made durable, so that a crash that loses this
// commit leaves a row without a file, which reconciliation drops.
func (c *Catalog) DeleteFileUnsynced(ctx context.Context, user, bucket, key string) error {
	if key == "" || strings.HasSuffix(key, "/") {
		return fmt.Errorf("delete %s/%s/%s: not a file", user, bucket, key)
	}
	return c.commitLazy(ctx, func(txn *badger.Txn) error { return deleteFile(txn, user, bucket, key) })
}

// Delete removes the row for key and, when key is a folder (ends in '/'),
// every row below it, with their dead properties, enrichment jobs and media
// records. Missing rows are not an error.
func (c *Catalog) Delete(ctx context.Context, user, bucket, key string) error {
	if key != "" && !strings.HasSuffix(key, "/") {
		// One file: one transaction, shared with concurrent writers.
		return c.commit(ctx, func(txn *badger.Txn) error { return deleteFile(txn, user, bucket, key) })
	}
	media, err := c.mediaUnder(ctx, user, bucket, key)
	if err != nil {
		return err
	}
	if err := c.deleteRows(ctx, user, bucket, key); err != nil {
		return err
	}
	return c.dropIndex(ctx, user, bucket, media)
}

// deleteFile is Delete of one file's rows and index entries, in txn.
func deleteFile(txn *badger.Txn, user, bucket, key string) error {
	var m Media
	if err := getJSON(txn, keyMedia(user, bucket, key), &m); err == nil && m.LivePair != "" {
		if err := unpair(txn, user, bucket, m.LivePair, key); err != nil {
			return err
		}
	}
	if err := unindex(txn, user, bucket, key); err != nil { // reads the media row: first
		return err
	}
	var o Object
	if err := getJSON(txn, keyObject(user, bucket, key), &o); err == nil {
		o.Bucket, o.Key = bucket, key
		if err := dropFileID(txn, user, FileIDOf(user, o), bucket, key); err != nil {
			return err
		}
		if err := dropModIndex(txn, user, o); err != nil {
			return err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	for _, k := range [][]byte{keyObject(user, bucket, key), keyProp(user, bucket, key), keyJob(user, bucket, key), keyJobFailed(user, bucket, key), keyMedia(user, bucket, key)} {
		if _, err := txn.Get(k); errors.Is(err, badger.ErrKeyNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (c *Catalog) deleteRows(ctx context.Context, user, bucket, key string) error {
	wb := c.db.NewWriteBatch()
	defer wb.Cancel()
	del := func(k []byte) error { return wb.Delete(k) }
	if err := c.dropModIndexTree(ctx, wb, user, bucket, key); err != nil {
		return err
	}
	if err := c.scanTree(ctx, keyObjectPrefix(user, bucket), key, del); err != nil {
		return err
	}
	for _, pfx := range [][]byte{keyPropPrefix(user, bucket), keyJobPrefix(user, bucket), keyJobFailedPrefix(user, bucket), keyMediaPrefix(user, bucket)} {
		if err := c.scanTree(ctx, pfx, key, del); err != nil {
			return err
		}
	}
	return c.flushBatch(wb)
}

// scanTree calls fn with the row key of key and, for a folder, of every
// row below it (including a file row that shares the folder's name without
// the slash is NOT included). Keys are copies.
func (c *Catalog) scanTree(ctx context.Context, pfx []byte, key string, fn func(k []byte) error) error {
	return c.db.View(func(txn *badger.Txn) error {
		exact := append(append([]byte{}, pfx...), key...)
		if key != "" && !strings.HasSuffix(key, "/") {
			if _, err := txn.Get(exact); err == nil {
				return fn(exact)
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			return nil
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: exact})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if err := fn(it.Item().KeyCopy(nil)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Move moves the row for src (a file, or a folder subtree when src ends in
// '/') to dst in dstBucket, replacing whatever rows dst had, with dead
// properties; when keep is true the source rows stay (a copy). mod, when not
// nil, is applied to every moved row. Large trees are written in batches:
// a crash in the middle is repaired by reconciliation at start-up.
func (c *Catalog) Move(ctx context.Context, user, bucket, src, dstBucket, dst string, keep bool, mod func(*Object)) error {
	if bucket == dstBucket {
		s, d := strings.TrimSuffix(src, "/"), strings.TrimSuffix(dst, "/")
		if s == d || strings.HasPrefix(s+"/", d+"/") || strings.HasPrefix(d+"/", s+"/") {
			return fmt.Errorf("move %s/%s/%s to %s: overlapping source and destination", user, bucket, src, dst)
		}
	}
	if err := c.Delete(ctx, user, dstBucket, dst); err != nil {
		return err
	}
	media, err := c.mediaUnder(ctx, user, bucket, src)
	if err != nil {
		return err
	}
	if err := c.moveRows(ctx, user, bucket, src, dstBucket, dst, keep, mod); err != nil {
		return err
	}
	if !keep {
		if err := c.dropIndex(ctx, user, bucket, media); err != nil {
			return err
		}
	}
	if err := c.addIndex(ctx, user, dstBucket, src, dst, media); err != nil {
		return err
	}
	return c.movePairs(ctx, user, bucket, src, dstBucket, dst, keep, media)
}

func (c *Catalog) moveRows(ctx context.Context, user, bucket, src, dstBucket, dst string, keep bool, mod func(*Object)) error {
	wb := c.db.NewWriteBatch()
	defer wb.Cancel()
	for _, kind := range []struct {
		src, dst []byte
		obj      bool
	}{
		{keyObjectPrefix(user, bucket), keyObjectPrefix(user, dstBucket), true},
		{keyPropPrefix(user, bucket), keyPropPrefix(user, dstBucket), false},
		{keyJobPrefix(user, bucket), keyJobPrefix(user, dstBucket), false},
		{keyJobFailedPrefix(user, bucket), keyJobFailedPrefix(user, dstBucket), false},
		{keyMediaPrefix(user, bucket), keyMediaPrefix(user, dstBucket), false},
	} {
		err := c.db.View(func(txn *badger.Txn) error {
			exact := append(append([]byte{}, kind.src...), src...)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: exact, PrefetchValues: true, PrefetchSize: 256})
			defer it.Close()
			n := 0
			for it.Rewind(); it.Valid(); it.Next() {
				if n++; n%1024 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				k := it.Item().Key()
				rel := string(k[len(exact):])
				if rel != "" && src != "" && !strings.HasSuffix(src, "/") {
					continue // a sibling like "a.txt.bak" when moving file "a.txt"
				}
				v, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				if kind.obj {
					var o Object
					if err := json.Unmarshal(v, &o); err != nil {
						return fmt.Errorf("decode %q: %w", k, err)
					}
					old := o
					old.Bucket, old.Key = bucket, src+rel
					// A move carries the file id (a row without one keeps
					// the id derived from where it was); a copy is a new file.
					if keep {
						if o.ID, err = c.newFileID(); err != nil {
							return err
						}
					} else if o.ID == 0 {
						o.ID = derivedID(user, bucket, src+rel)
					}
					o.Bucket, o.Key = dstBucket, dst+rel
					if mod != nil {
						mod(&o)
					}
					if v, err = json.Marshal(o); err != nil {
						return err
					}
					if err := fileIDWrite(wb, user, o); err != nil {
						return err
					}
					if err := modIndexMove(wb, user, old, o, keep); err != nil {
						return err
					}
				}
				nk := append(append(append([]byte{}, kind.dst...), dst...), rel...)
				if err := wb.Set(nk, v); err != nil {
					return err
				}
				if !keep {
					if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("move %s/%s/%s to %s/%s: %w", user, bucket, src, dstBucket, dst, err)
		}
	}
	return c.flushBatch(wb)
}

// ---- dead properties ----

// Prop is a WebDAV dead property: an XML element name and its inner XML.
type Prop struct {
	Space string `json:"ns"`
	Local string `json:"n"`
	Lang  string `json:"l,omitempty"`
	Inner string `json:"v"`
}

// Props returns the dead properties stored for key (empty, not an error, when none).
func (c *Catalog) Props(ctx context.Context, user, bucket, key string) ([]Prop, error) {
	var ps []Prop
	err := c.db.View(func(txn *badger.Txn) error {
		err := getJSON(txn, keyProp(user, bucket, key), &ps)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	return ps, err
}

// PropOp is one step of a PROPPATCH: set (replacing a same-named
// property) or remove a dead property.
type PropOp struct {
	Remove bool
	Prop   Prop
}

// PatchProps applies ops in order, in one transaction, and keeps the row's
// HasProps flag in step. The row must exist (but for key "", the bucket).
func (c *Catalog) PatchProps(ctx context.Context, user, bucket, key string, ops []PropOp) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		var ps []Prop
		if err := getJSON(txn, keyProp(user, bucket, key), &ps); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		for _, op := range ops {
			out := ps[:0]
			for _, p := range ps {
				if p.Space != op.Prop.Space || p.Local != op.Prop.Local {
					out = append(out, p)
				}
			}
			ps = out
			if !op.Remove {
				ps = append(ps, op.Prop)
			}
		}
		var o Object
		if key == "" { // the bucket itself has no object row
		} else if err := getJSON(txn, keyObject(user, bucket, key), &o); err != nil {
			return fmt.Errorf("props of %s/%s/%s: %w", user, bucket, key, err)
		}
		if key != "" && o.HasProps != (len(ps) > 0) {
			o.HasProps = len(ps) > 0
			if err := setJSON(txn, keyObject(user, bucket, key), o); err != nil {
				return err
			}
		}
		if len(ps) == 0 {
			return txn.Delete(keyProp(user, bucket, key))
		}
		return setJSON(txn, keyProp(user, bucket, key), ps)
	})
}

// ---- helpers ----

func (c *Catalog) update(ctx context.Context, fn func(*badger.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := c.db.Update(fn)
		c.counts.changed()
		if errors.Is(err, badger.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return err
		}
		return c.sync()
	}
}

// updateIndex is update for the transactions that write media records
// and their index rows (index, unindex): they run one at a time (indexMu;
// the sync is outside it), since each copy joining a duplicate group
// rewrites the group's summary row, and concurrent ones would conflict
// and be retried until they ran out of attempts.
func (c *Catalog) updateIndex(ctx context.Context, fn func(*badger.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.indexMu.Lock()
	var err error
	for attempt := 0; ; attempt++ {
		err = c.db.Update(fn)
		c.counts.changed()
		if !errors.Is(err, badger.ErrConflict) || attempt >= 10 {
			break
		}
	}
	c.indexMu.Unlock()
	if err != nil {
		return err
	}
	return c.sync()
}

func notFound(err error) error {
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	return err
}

func getJSON(txn *badger.Txn, key []byte, v any) error {
	item, err := txn.Get(key)
	if err != nil {
		return notFound(err)
	}
	return item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

func setJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Error(strings.TrimSpace(fmt.Sprintf(f, a...))) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Warn(strings.TrimSpace(fmt.Sprintf(f, a...))) }
func (b badgerLogger) Infof(f string, a ...any)    { b.l.Debug(strings.TrimSpace(fmt.Sprintf(f, a...))) }
func (b badgerLogger) Debugf(f string, a ...any)   {}
