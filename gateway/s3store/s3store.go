package s3store

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"shoebox/catalog"
	"shoebox/gateway"
)

// Map is the local path→blob map the store keeps in the catalog. It is
// implemented by *catalog.Catalog (see catalog/blobs.go).
type Map interface {
	GetBlob(ctx context.Context, user, bucket, key string) (catalog.Blob, error)
	PutBlob(ctx context.Context, b catalog.Blob) (old string, err error)
	MkdirBlob(ctx context.Context, user, bucket, key string, modNs int64) error
	SetBlobModTime(ctx context.Context, user, bucket, key string, modNs int64) error
	DeleteBlobs(ctx context.Context, user, bucket, key string) (ids []string, err error)
	ForgetBlob(ctx context.Context, user, bucket, key, id string) (bool, error)
	ReplaceBlobTree(ctx context.Context, user, bucket, dst string, rows []catalog.Blob) (freed []string, err error)
	BlobMoveBegin(ctx context.Context, m catalog.BlobMove) error
	BlobMoveCancel(ctx context.Context, name string) error
	BlobMoves(ctx context.Context) ([]catalog.BlobMove, error)
	BlobMoveRun(ctx context.Context, m catalog.BlobMove) (freed []string, err error)
	WalkBlobs(ctx context.Context, fn func(catalog.Blob) error) error
	BlobTree(ctx context.Context, user, bucket, key string, fn func(catalog.Blob) error) error
}

var _ Map = (*catalog.Catalog)(nil)

// Config says where the upstream service is and how to reach it.
type Config struct {
	// Endpoint is the service's base URL ("https://s3.example.com",
	// "http://127.0.0.1:9000"); empty means AWS S3 for Region.
	Endpoint string
	// Region is the signing region ("us-east-1" when empty).
	Region string
	// Bucket is the upstream bucket; it must exist.
	Bucket string
	// Prefix is put before every upstream key ("shoebox/"); it may be empty.
	Prefix string
	// AccessKey, SecretKey and (optional) SessionToken are the credentials.
	AccessKey, SecretKey, SessionToken string
	// PathStyle addresses the bucket as <endpoint>/<bucket>/... (MinIO,
	// Ceph, Garage, versitygw) rather than <bucket>.<endpoint>/...
	PathStyle bool

	// PartSize is the multipart part size and the largest body sent with
	// one PutObject (default 16 MiB, at least 5 MiB). Each upload holds at
	// most two part buffers.
	PartSize int64
	// MaxAttempts is the number of tries of each request on 5xx, throttling
	// and network errors, with exponential backoff (default 6).
	MaxAttempts int
	// MaxBackoff caps the delay between tries (default 5 s).
	MaxBackoff time.Duration
	// OrphanGrace is how old an upstream blob no map row refers to must be
	// before Reconcile deletes it (default 24 h): younger ones may be
	// uploads not yet committed.
	OrphanGrace time.Duration
	// ContentMD5 sends a Content-MD5 header with every upload, for services
	// that check it (integrity end to end; costs an MD5 of the bytes). Over
	// plain http the SigV4 signature covers the body's SHA-256 anyway.
	ContentMD5 bool
	// HTTPClient, when set, sends the requests (tests count them).
	HTTPClient *http.Client
	// Logger gets warnings about upstream blobs that could not be deleted.
	Logger *slog.Logger
}

// Store is a gateway.Backend on an S3 bucket. It is safe for concurrent use.
type Store struct {
	s3       *s3.Client
	endpoint string
	bucket   string
	prefix   string
	m        Map
	part     int64
	sendMD5  bool
	grace    time.Duration
	log      *slog.Logger

	// mvMu orders renames against commits: a commit whose upload overlapped
	// a rename writes a "link" journal entry (see doc.go).
	mvMu    sync.RWMutex
	renames atomic.Int64

	// Upload buffers by size class (256 KiB doubling up to the part size):
	// a small file holds a small buffer, not a whole part.
	classes []int
	pools   []sync.Pool
}

var _ gateway.Backend = (*Store)(nil)

// New connects to the upstream bucket (checking it with HeadBucket),
// finishes renames a crash interrupted, and returns the store. m is the
// catalog.
func New(ctx context.Context, cfg Config, m Map) (*Store, error) {
	s, err := newStore(cfg, m)
	if err != nil {
		return nil, err
	}
	if _, err := s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return nil, s.upErr("check bucket", err)
	}
	if err := s.finishMoves(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// newStore makes the client and the buffers; it makes no request.
func newStore(cfg Config, m Map) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3store: no upstream bucket configured")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 16 << 20
	}
	if cfg.PartSize < 5<<20 {
		return nil, fmt.Errorf("s3store: part size %d below the S3 minimum of 5 MiB", cfg.PartSize)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	if cfg.OrphanGrace <= 0 {
		cfg.OrphanGrace = 24 * time.Hour
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "AWS S3 " + cfg.Region
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	opts := s3.Options{
		Region:       cfg.Region,
		UsePathStyle: cfg.PathStyle,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = cfg.MaxAttempts
			o.MaxBackoff = cfg.MaxBackoff
			o.RateLimiter = ratelimit.None
		}),
		// S3-compatible services differ in their support of the newer
		// checksum headers; Content-MD5 (set on every upload) is universal.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if strings.Contains(cfg.Endpoint, "://") {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	if cfg.HTTPClient != nil {
		opts.HTTPClient = cfg.HTTPClient
	}
	s := &Store{
		s3:       s3.New(opts),
		endpoint: cfg.Endpoint,
		bucket:   cfg.Bucket,
		prefix:   cfg.Prefix,
		m:        m,
		part:     cfg.PartSize,
		sendMD5:  cfg.ContentMD5,
		grace:    cfg.OrphanGrace,
		log:      cfg.Logger.With("component", "s3store"),
	}
	for c := 256 << 10; ; c *= 2 {
		if int64(c) >= s.part {
			s.classes = append(s.classes, int(s.part))
			break
		}
		s.classes = append(s.classes, c)
	}
	s.pools = make([]sync.Pool, len(s.classes))
	return s, nil
}

// Close releases nothing (the catalog is the caller's); it is there so the
// store can be closed like the other backends.
func (s *Store) Close() error { return nil }

// Client is the S3 client the store uses (tests, tools).
func (s *Store) Client() *s3.Client { return s.s3 }

// BlobKey is the upstream key of blob id.
func (s *Store) BlobKey(id string) string { return s.prefix + "blobs/" + id }

func (s *Store) journalPrefix() string { return s.prefix + "journal/" }

// ErrUpstream marks errors of the upstream service (unreachable, refusing,
// failing after retries).
var ErrUpstream = errors.New("upstream S3 error")

func (s *Store) upErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("s3store: %s: %w", op, err)
	}
	if isNotFound(err) {
		return fmt.Errorf("s3store: %s: %w", op, fs.ErrNotExist)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fmt.Errorf("s3store: %s: %w: service unreachable at %s (bucket %q): %w", op, ErrUpstream, s.endpoint, s.bucket, err)
	}
	return fmt.Errorf("s3store: %s: %w (%s, bucket %q): %w", op, ErrUpstream, s.endpoint, s.bucket, err)
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func pathMeta(p gateway.Path) string { return url.PathEscape(p.String()) }

func notExist(op string, p gateway.Path) error {
	return &fs.PathError{Op: op, Path: p.String(), Err: fs.ErrNotExist}
}

// mapErr turns catalog errors into fs ones.
func mapErr(op string, p gateway.Path, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, catalog.ErrNotFound):
		return notExist(op, p)
	case errors.Is(err, catalog.ErrExists) && op == "commit":
		return &fs.PathError{Op: op, Path: p.String(), Err: gateway.ErrIsDir}
	case errors.Is(err, catalog.ErrExists):
		return &fs.PathError{Op: op, Path: p.String(), Err: fs.ErrExist}
	}
	return fmt.Errorf("%s %s: %w", op, p, err)
}

// ---- writes ----

type pending struct {
	s         *Store
	p         gateway.Path
	id        string
	size      int64
	renameSeq int64
	done      bool
}

func (s *Store) metadata(p gateway.Path, mod time.Time, uploaded time.Time) map[string]string {
	md := map[string]string{
		"shoebox-path":     pathMeta(p),
		"shoebox-uploaded": strconv.FormatInt(uploaded.UnixNano(), 10),
	}
	if !mod.IsZero() {
		md["shoebox-mtime"] = strconv.FormatInt(mod.UnixNano(), 10)
	}
	return md
}

// Create implements gateway.Backend: the body goes upstream as the blob
// <prefix>blobs/<new id>, in one PutObject when it fits in a part, else as
// a multipart upload (one part read ahead while the previous one is sent).
func (s *Store) Create(ctx context.Context, p gateway.Path, r io.Reader) (gateway.Pending, error) {
	if p.IsDir() {
		return nil, &fs.PathError{Op: "create", Path: p.String(), Err: gateway.ErrIsDir}
	}
	pd := &pending{s: s, p: p, id: newID(), renameSeq: s.renames.Load()}
	key := s.BlobKey(pd.id)
	now := time.Now()
	md := s.metadata(p, now, now)

	r = gateway.ContextReader(ctx, r)
	b1, n, eof, err := s.fillGrow(r)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", p, err)
	}
	if eof {
		// Small body: one PutObject.
		defer s.putBuf(b1)
		body := (*b1)[:n]
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(body),
			ContentLength: aws.Int64(int64(n)), ContentMD5: s.md5(body),
			Metadata: md, ContentType: aws.String("application/octet-stream"),
		})
		if err != nil {
			return nil, s.upErr("upload "+p.String(), err)
		}
		pd.size = int64(n)
		return pd, nil
	}
	size, err := s.multipart(ctx, key, md, b1, r)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", p, err)
	}
	pd.size = size
	return pd, nil
}

func (s *Store) getBuf(class int) *[]byte {
	if b, ok := s.pools[class].Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, s.classes[class])
	return &b
}

func (s *Store) putBuf(b *[]byte) {
	for i, c := range s.classes {
		if c == len(*b) {
			s.pools[i].Put(b)
			return
		}
	}
}

// fillGrow reads r into a buffer that grows by size class until r ends
// (eof) or a whole part is read.
func (s *Store) fillGrow(r io.Reader) (buf *[]byte, n int, eof bool, err error) {
	class := 0
	buf = s.getBuf(class)
	for {
		m, eof, err := fill(r, (*buf)[n:])
		n += m
		if err != nil {
			s.putBuf(buf)
			return nil, 0, false, err
		}
		if eof || class == len(s.classes)-1 {
			return buf, n, eof, nil
		}
		// Full: one byte more tells whether a bigger buffer is needed
		// (a body of exactly a class size then stays in its class).
		var probe [1]byte
		m, eof, err = fill(r, probe[:])
		if err != nil {
			s.putBuf(buf)
			return nil, 0, false, err
		}
		if m == 0 && eof {
			return buf, n, true, nil
		}
		class++
		nb := s.getBuf(class)
		copy(*nb, (*buf)[:n])
		(*nb)[n] = probe[0]
		n++
		s.putBuf(buf)
		buf = nb
	}
}

// fill reads into buf until it is full, r ends (eof) or fails.
func fill(r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

func md5b64(b []byte) string {
	h := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(h[:])
}

// multipart uploads first (a full part) and the rest of r. It reads the
// next part while the previous one is being sent: at most two buffers.
func (s *Store) multipart(ctx context.Context, key string, md map[string]string, first *[]byte, r io.Reader) (int64, error) {
	cr, err := s.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, Metadata: md, ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		s.putBuf(first)
		return 0, s.upErr("start multipart upload", err)
	}
	uploadID := cr.UploadId
	abort := func() {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, err := s.s3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: uploadID}); err != nil {
			s.log.Warn("abort multipart upload", "key", key, "err", err)
		}
	}
	type result struct {
		part types.CompletedPart
		err  error
	}
	var (
		parts    []types.CompletedPart
		inflight chan result // the part being sent, if any
		total    int64
		buf      = first
		n        = len(*first)
		readErr  error
	)
	wait := func() error {
		if inflight == nil {
			return nil
		}
		res := <-inflight
		inflight = nil
		if res.err != nil {
			return res.err
		}
		parts = append(parts, res.part)
		return nil
	}
	for num := int32(1); ; num++ {
		err := ctx.Err()
		if err == nil && num > 10000 {
			err = fmt.Errorf("s3store: file larger than 10000 parts of %d bytes (raise PartSize)", s.part)
		}
		if err != nil {
			wait()
			s.putBuf(buf)
			abort()
			return 0, err
		}
		// Send part num from buf in the background.
		ch := make(chan result, 1)
		body, pn, b := (*buf)[:n], num, buf
		go func() {
			defer s.putBuf(b)
			out, err := s.s3.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: &s.bucket, Key: &key, UploadId: uploadID, PartNumber: aws.Int32(pn),
				Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
				ContentMD5: s.md5(body),
			})
			if err != nil {
				ch <- result{err: s.upErr(fmt.Sprintf("upload part %d", pn), err)}
				return
			}
			ch <- result{part: types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(pn)}}
		}()
		total += int64(n)
		// Wait for the part before it, then read the next one.
		if err := wait(); err != nil {
			<-ch
			abort()
			return 0, err
		}
		inflight = ch
		if readErr != nil { // the part just sent was the last
			break
		}
		buf = s.getBuf(len(s.classes) - 1)
		var eof bool
		n, eof, err = fill(r, *buf)
		if err == nil && eof && n == 0 {
			s.putBuf(buf)
			break
		}
		if eof {
			readErr = io.EOF // the last part
		} else if err != nil {
			s.putBuf(buf)
			wait()
			abort()
			return 0, err
		}
	}
	if err := wait(); err != nil {
		abort()
		return 0, err
	}
	_, err = s.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		abort()
		return 0, s.upErr("complete multipart upload", err)
	}
	return total, nil
}

func (pd *pending) Size() int64 { return pd.size }

// Commit writes the map row; the blob it replaces is deleted upstream
// afterwards (a failure there leaves an orphan for Reconcile).
func (pd *pending) Commit(ctx context.Context, mod time.Time) error {
	if pd.done {
		return errors.New("s3store: commit after commit or abort")
	}
	pd.done = true
	s := pd.s
	now := time.Now()
	if mod.IsZero() {
		mod = now
	}
	s.mvMu.RLock()
	old, err := s.m.PutBlob(ctx, catalog.Blob{User: pd.p.User, Bucket: pd.p.Bucket, Key: pd.p.Key,
		ID: pd.id, Size: pd.size, ModNs: mod.UnixNano(), WNs: now.UnixNano()})
	moved := s.renames.Load() != pd.renameSeq
	if err == nil && moved {
		// A rename ran while the blob was uploading: its metadata path may
		// be taken by the rename during recovery, so record where it is.
		err = s.journal(ctx, journalEntry{Op: "link", Path: pd.p.String(), ID: pd.id})
	}
	s.mvMu.RUnlock()
	if err != nil {
		s.deleteBlobs(context.WithoutCancel(ctx), []string{pd.id})
		return mapErr("commit", pd.p, err)
	}
	if old != "" {
		s.deleteBlobs(ctx, []string{old})
	}
	return nil
}

// Sync implements gateway.Pending: the upstream acknowledged the bytes
// before Create returned and the row is in the catalog, whose own sync the
// gateway runs.
func (pd *pending) Sync(ctx context.Context) error {
	if !pd.done {
		return errors.New("s3store: sync before commit")
	}
	return nil
}

func (pd *pending) Abort() error {
	if pd.done {
		return nil
	}
	pd.done = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return pd.s.deleteBlobs(ctx, []string{pd.id})
}

// deleteBlobs deletes upstream blobs, 1000 a request; failures are logged
// and returned (the blobs are then orphans Reconcile removes).
func (s *Store) deleteBlobs(ctx context.Context, ids []string) error {
	var firstErr error
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 1000)]
		ids = ids[len(chunk):]
		if len(chunk) == 1 {
			_, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.BlobKey(chunk[0]))})
			if err != nil && !isNotFound(err) {
				s.log.Warn("delete upstream blob", "id", chunk[0], "err", err)
				firstErr = cmpErr(firstErr, s.upErr("delete blob", err))
			}
			continue
		}
		objs := make([]types.ObjectIdentifier, len(chunk))
		for i, id := range chunk {
			objs[i] = types.ObjectIdentifier{Key: aws.String(s.BlobKey(id))}
		}
		out, err := s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket,
			Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)}})
		if err != nil {
			// Some services lack DeleteObjects: one by one.
			for _, id := range chunk {
				if err := s.deleteBlobs(ctx, []string{id}); err != nil {
					firstErr = cmpErr(firstErr, err)
				}
			}
			continue
		}
		for _, e := range out.Errors {
			if aws.ToString(e.Code) == "NoSuchKey" {
				continue
			}
			s.log.Warn("delete upstream blob", "key", aws.ToString(e.Key), "err", aws.ToString(e.Message))
			firstErr = cmpErr(firstErr, fmt.Errorf("s3store: delete %s: %s: %w", aws.ToString(e.Key), aws.ToString(e.Message), ErrUpstream))
		}
	}
	return firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// ---- journal ----

type journalEntry struct {
	Op   string `json:"op"`             // "rename" or "link"
	From string `json:"from,omitempty"` // rename: "user/bucket/key" (folders end in '/')
	To   string `json:"to,omitempty"`
	Path string `json:"path,omitempty"` // link: blob ID now lives at Path
	ID   string `json:"id,omitempty"`
	Ns   int64  `json:"ns"` // when, Unix ns (also the name's prefix)
}

func (s *Store) journalName(ns int64) string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s%019d-%s.json", s.journalPrefix(), ns, hex.EncodeToString(b[:]))
}

func (s *Store) journal(ctx context.Context, e journalEntry) error {
	if e.Ns == 0 {
		e.Ns = time.Now().UnixNano()
	}
	body, _ := json.Marshal(e)
	return s.putJournal(ctx, s.journalName(e.Ns), body)
}

func (s *Store) putJournal(ctx context.Context, name string, body []byte) error {
	_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &name, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentMD5: s.md5(body),
		ContentType: aws.String("application/json"),
	})
	return s.upErr("write journal", err)
}

// finishMoves completes renames a crash interrupted (the journal entry is
// written again under its name: an idempotent PUT).
func (s *Store) finishMoves(ctx context.Context) error {
	ms, err := s.m.BlobMoves(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		var j struct {
			Name string          `json:"name"`
			Body json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(m.Journal, &j); err != nil {
			return fmt.Errorf("s3store: pending rename %s: %w", m.Name, err)
		}
		if err := s.putJournal(ctx, j.Name, j.Body); err != nil {
			return err
		}
		freed, err := s.m.BlobMoveRun(ctx, m)
		if err != nil {
			return err
		}
		s.deleteBlobs(ctx, freed)
	}
	return nil
}

// ---- reads ----

// Open implements gateway.Backend. Nothing is fetched until the first read.
func (s *Store) Open(ctx context.Context, p gateway.Path) (gateway.File, error) {
	b, err := s.m.GetBlob(ctx, p.User, p.Bucket, p.Key)
	if err != nil {
		if errors.Is(err, catalog.ErrNotFound) && !p.IsDir() {
			if _, derr := s.m.GetBlob(ctx, p.User, p.Bucket, p.Key+"/"); derr == nil {
				return nil, &fs.PathError{Op: "open", Path: p.String(), Err: gateway.ErrIsDir}
			}
		}
		return nil, mapErr("open", p, err)
	}
	if b.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: p.String(), Err: gateway.ErrIsDir}
	}
	// Reads outlive Open's deadline, like an open file's: Close ends them.
	return &file{s: s, ctx: context.WithoutCancel(ctx), p: p, key: s.BlobKey(b.ID), size: b.Size}, nil
}

// file reads a blob with ranged GETs: ReadAt asks for exactly the range;
// Read streams one GET from the offset and starts another after a Seek.
type file struct {
	s    *Store
	ctx  context.Context
	p    gateway.Path
	key  string
	size int64

	mu     sync.Mutex
	off    int64
	body   io.ReadCloser
	bodyAt int64 // offset the body will read next
	closed bool
}

func (f *file) get(ctx context.Context, from, to int64) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: &f.s.bucket, Key: &f.key}
	switch {
	case to >= 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", from, to))
	case from > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", from))
	} // from the start to the end: a plain GET
	out, err := f.s.s3.GetObject(ctx, in)
	if err != nil {
		return nil, f.s.upErr("read "+f.p.String(), err)
	}
	return out.Body, nil
}

func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, fs.ErrClosed
	}
	if f.off >= f.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	for retried := false; ; retried = true {
		if f.body != nil && f.bodyAt != f.off {
			f.body.Close()
			f.body = nil
		}
		if f.body == nil {
			b, err := f.get(f.ctx, f.off, -1)
			if err != nil {
				return 0, err
			}
			f.body, f.bodyAt = b, f.off
		}
		if rem := f.size - f.off; int64(len(p)) > rem {
			p = p[:rem]
		}
		n, err := f.body.Read(p)
		f.off += int64(n)
		f.bodyAt += int64(n)
		if err == io.EOF {
			f.body.Close()
			f.body = nil
			if f.off < f.size {
				if n > 0 {
					return n, nil
				}
				return 0, fmt.Errorf("s3store: read %s: blob shorter than its size %d: %w", f.p, f.size, io.ErrUnexpectedEOF)
			}
			return n, nil
		}
		if err != nil {
			// A broken stream: start again from the offset, once.
			f.body.Close()
			f.body = nil
			if n > 0 {
				return n, nil
			}
			if retried {
				return 0, f.s.upErr("read "+f.p.String(), err)
			}
			continue
		}
		return n, nil
	}
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("s3store: negative offset")
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := p
	if rem := f.size - off; int64(len(want)) > rem {
		want = want[:rem]
	}
	if len(want) == 0 {
		return 0, nil
	}
	body, err := f.get(f.ctx, off, off+int64(len(want))-1)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, want)
	if err != nil {
		return n, f.s.upErr("read "+f.p.String(), err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.size
	default:
		return 0, errors.New("s3store: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("s3store: negative position")
	}
	f.off = offset
	return offset, nil
}

func (f *file) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.body != nil {
		f.body.Close()
		f.body = nil
	}
	return nil
}

// Stat implements gateway.Backend.
func (s *Store) Stat(ctx context.Context, p gateway.Path) (gateway.Entry, error) {
	b, err := s.m.GetBlob(ctx, p.User, p.Bucket, p.Key)
	if err != nil {
		return gateway.Entry{}, mapErr("stat", p, err)
	}
	return gateway.Entry{Path: p, Size: b.Size, ModTime: time.Unix(0, b.ModNs)}, nil
}

// ---- namespace ----

// Mkdir implements gateway.Backend: a map row only.
func (s *Store) Mkdir(ctx context.Context, p gateway.Path) error {
	key := p.Key
	if key != "" && !strings.HasSuffix(key, "/") {
		key += "/"
	}
	return mapErr("mkdir", p, s.m.MkdirBlob(ctx, p.User, p.Bucket, key, time.Now().UnixNano()))
}

// Remove implements gateway.Backend: the rows go first, then the blobs.
func (s *Store) Remove(ctx context.Context, p gateway.Path) error {
	ids, err := s.m.DeleteBlobs(ctx, p.User, p.Bucket, p.Key)
	if err != nil {
		return mapErr("remove", p, err)
	}
	s.deleteBlobs(ctx, ids)
	return nil
}

// Rename implements gateway.Backend: one journal PUT upstream and a
// batched rewrite of the map, whatever the folder holds.
func (s *Store) Rename(ctx context.Context, src, dst gateway.Path) error {
	if src.User != dst.User {
		return fmt.Errorf("rename %s to %s: across users", src, dst)
	}
	if _, err := s.m.GetBlob(ctx, src.User, src.Bucket, src.Key); err != nil {
		return mapErr("rename", src, err)
	}
	// The entry's time is taken under the lock: uploads committed before it
	// started before it (see doc.go, recovery).
	s.mvMu.Lock()
	defer s.mvMu.Unlock()
	ns := time.Now().UnixNano()
	name := s.journalName(ns)
	body, _ := json.Marshal(journalEntry{Op: "rename", From: src.String(), To: dst.String(), Ns: ns})
	jr, _ := json.Marshal(struct {
		Name string          `json:"name"`
		Body json.RawMessage `json:"body"`
	}{name, body})
	m := catalog.BlobMove{Name: strings.TrimSuffix(name[strings.LastIndexByte(name, '/')+1:], ".json"),
		User: src.User, SrcBucket: src.Bucket, Src: src.Key, DstBucket: dst.Bucket, Dst: dst.Key, Journal: jr}

	if err := s.m.BlobMoveBegin(ctx, m); err != nil {
		return mapErr("rename", src, err)
	}
	if err := s.putJournal(ctx, name, body); err != nil {
		// Not renamed. The PUT may have landed all the same: take it back.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		s.s3.DeleteObject(dctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &name})
		cancel()
		if cerr := s.m.BlobMoveCancel(context.WithoutCancel(ctx), m.Name); cerr != nil {
			return errors.Join(err, cerr)
		}
		return err
	}
	s.renames.Add(1)
	freed, err := s.m.BlobMoveRun(context.WithoutCancel(ctx), m)
	if err != nil {
		return fmt.Errorf("rename %s to %s: %w (finished at the next start)", src, dst, err)
	}
	s.deleteBlobs(ctx, freed)
	return nil
}

// Copy implements gateway.Backend: every file is copied upstream
// (server-side CopyObject) to a fresh blob, then the rows are written.
func (s *Store) Copy(ctx context.Context, src, dst gateway.Path) error {
	if src.User != dst.User {
		return fmt.Errorf("copy %s to %s: across users", src, dst)
	}
	if src.Bucket == dst.Bucket && src.IsDir() {
		sk, dk := strings.TrimSuffix(src.Key, "/"), strings.TrimSuffix(dst.Key, "/")
		if sk == dk || src.Key == "" || dst.Key == "" || strings.HasPrefix(dk+"/", sk+"/") || strings.HasPrefix(sk+"/", dk+"/") {
			return fmt.Errorf("copy %s to %s: overlapping source and destination", src, dst)
		}
	}
	var rows []catalog.Blob
	if err := s.m.BlobTree(ctx, src.User, src.Bucket, src.Key, func(b catalog.Blob) error {
		rows = append(rows, b)
		return nil
	}); err != nil {
		return mapErr("copy", src, err)
	}
	now := time.Now()
	var (
		mu      sync.Mutex
		created []string
		firstE  error
		wg      sync.WaitGroup
		sem     = make(chan struct{}, 4)
	)
	for i := range rows {
		b := &rows[i]
		b.Bucket, b.Key, b.WNs = dst.Bucket, dst.Key+b.Key[len(src.Key):], now.UnixNano()
		if b.ID == "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			id := newID()
			p := gateway.Path{User: dst.User, Bucket: b.Bucket, Key: b.Key}
			_, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{
				Bucket: &s.bucket, Key: aws.String(s.BlobKey(id)),
				CopySource:        aws.String(url.PathEscape(s.bucket) + "/" + escapeKey(s.BlobKey(b.ID))),
				MetadataDirective: types.MetadataDirectiveReplace,
				Metadata:          s.metadata(p, time.Unix(0, b.ModNs), now),
				ContentType:       aws.String("application/octet-stream"),
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstE = cmpErr(firstE, s.upErr("copy "+p.String(), err))
				return
			}
			created = append(created, id)
			b.ID = id
		}()
	}
	wg.Wait()
	if firstE != nil {
		s.deleteBlobs(context.WithoutCancel(ctx), created)
		return firstE
	}
	freed, err := s.m.ReplaceBlobTree(ctx, dst.User, dst.Bucket, dst.Key, rows)
	if err != nil {
		s.deleteBlobs(context.WithoutCancel(ctx), created)
		return mapErr("copy", dst, err)
	}
	s.deleteBlobs(ctx, freed)
	return nil
}

func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// SetModTime implements gateway.Backend: a map row update.
func (s *Store) SetModTime(ctx context.Context, p gateway.Path, t time.Time) error {
	return mapErr("chtimes", p, s.m.SetBlobModTime(ctx, p.User, p.Bucket, p.Key, t.UnixNano()))
}

// Walk implements gateway.Backend, from the map.
func (s *Store) Walk(ctx context.Context, fn func(gateway.Entry) error) error {
	return s.m.WalkBlobs(ctx, func(b catalog.Blob) error {
		return fn(gateway.Entry{Path: gateway.Path{User: b.User, Bucket: b.Bucket, Key: b.Key}, Size: b.Size, ModTime: time.Unix(0, b.ModNs)})
	})
}

// md5 is the Content-MD5 header of body, when Config.ContentMD5 asks for it.
func (s *Store) md5(body []byte) *string {
	if !s.sendMD5 {
		return nil
	}
	return aws.String(md5b64(body))
}
