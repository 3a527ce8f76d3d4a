package s3api

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"shoebox/gateway/syncfile"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rclone/gofakes3"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
)

// Multipart uploads are served here, not by gofakes3, whose uploader keeps
// uploads in memory: every piece of an upload's state is a file under the
// upload directory, so an upload survives a restart of the server (a part
// that was acknowledged is never lost) and nothing grows in memory with
// the number or size of uploads.
//
//	<dir>/<id>/upload.json       who, where, metadata, when (uploadRecord)
//	<dir>/<id>/part-00001        the bytes of part 1 (temp, fsync, rename)
//	<dir>/<id>/part-00001.json   its ETag, size and checksums (partRecord)
//
// A completed upload keeps only upload.json, with the object's ETag, for a
// while (completeRetention): a client that did not get the answer to its
// CompleteMultipartUpload and sends it again is answered as S3 does.

// completeRetention is how long a completed upload still answers a
// repeated CompleteMultipartUpload.
const completeRetention = time.Hour

// maxCompleteBody bounds a CompleteMultipartUpload request (10,000 parts).
const maxCompleteBody = 4 << 20

// uploadRecord is upload.json.
type uploadRecord struct {
	User      string            `json:"user"`
	Bucket    string            `json:"bucket"`
	Key       string            `json:"key"`
	Meta      map[string]string `json:"meta,omitempty"` // values as encodeMetaValue keeps them
	Initiated time.Time         `json:"initiated"`
	Checksum  string            `json:"checksum,omitempty"` // x-amz-checksum-algorithm, lower case
	// ChecksumType is how the object's checksum is made of the parts':
	// COMPOSITE (of the parts' checksums, "…-N") or FULL_OBJECT (of the
	// whole content, as if uploaded in one part); "" is COMPOSITE.
	ChecksumType string `json:"checksumType,omitempty"`
	// Done is set once the upload is complete: the object's ETag.
	Done      string    `json:"done,omitempty"`
	Completed time.Time `json:"completed,omitzero"`
}

// partRecord is part-NNNNN.json, written after the part itself; Size and
// ModTime tie it to the part file it describes.
type partRecord struct {
	ETag      string            `json:"etag"` // quoted MD5
	Size      int64             `json:"size"`
	ModTime   time.Time         `json:"mtime"`
	Checksums map[string]string `json:"checksums,omitempty"` // "sha256" → base64
}

// multipart serves the multipart requests of S3 (…?uploads and
// …?uploadId=…) from files under dir; other requests go to next.
type multipart struct {
	be   *backend
	dir  string
	log  *slog.Logger
	next http.Handler
	// locks serialise the writers of one upload's files (parts of the
	// same number sent twice at once, complete against abort).
	locks [64]sync.Mutex
	// expiry: uploads idle this long are removed by sweep (0: never).
	expiry    time.Duration
	sweepMu   sync.Mutex
	lastSweep time.Time
}

// newMultipart prepares dir (see sweep); uploads in progress are kept.
// Uploads no part of which was written for expiry are removed (0: never).
func newMultipart(be *backend, dir string, expiry time.Duration, lg *slog.Logger, next http.Handler) (*multipart, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("s3api: multipart directory: %w", err)
	}
	m := &multipart{be: be, dir: dir, expiry: expiry, log: lg, next: next}
	kept, err := m.sweep(true)
	if err != nil {
		return nil, fmt.Errorf("s3api: multipart directory: %w", err)
	}
	if kept > 0 {
		lg.Info("multipart uploads in progress resumed", "uploads", kept)
	}
	return m, nil
}

// sweepEvery is how often, at most, CreateMultipartUpload sweeps.
const sweepEvery = time.Hour

// sweep removes what uploads leave behind: completed uploads past
// completeRetention; uploads in progress no part of which was written for
// m.expiry (their client gave up without aborting; S3 servers expire
// them too); and, at start-up, the temp files of parts a crash cut short
// and anything that is not an upload. It returns the uploads in progress.
func (m *multipart) sweep(startup bool) (int, error) {
	m.sweepMu.Lock()
	defer m.sweepMu.Unlock()
	m.lastSweep = time.Now()
	ents, err := os.ReadDir(m.dir)
	if err != nil {
		return 0, err
	}
	kept := 0
	for _, e := range ents {
		p := filepath.Join(m.dir, e.Name())
		if !e.IsDir() || !validUploadID(e.Name()) {
			if startup {
				os.RemoveAll(p)
			}
			continue
		}
		up, err := m.read(e.Name())
		if err != nil {
			if startup { // a create cut short
				os.RemoveAll(p)
			}
			continue
		}
		if up.Done != "" {
			if time.Since(up.Completed) > completeRetention {
				os.RemoveAll(p)
			}
			continue
		}
		// A part's rename touches the folder: its time is the last write.
		if st, err := os.Stat(p); err == nil && m.expiry > 0 && time.Since(st.ModTime()) > m.expiry {
			mu := m.lock(e.Name())
			mu.Lock()
			os.RemoveAll(p)
			mu.Unlock()
			m.log.Info("multipart upload expired: no part written for a while", "upload", e.Name(), "bucket", up.Bucket, "key", up.Key, "idle", time.Since(st.ModTime()).Round(time.Minute))
			continue
		}
		if startup {
			tmps, _ := filepath.Glob(filepath.Join(p, ".tmp-*"))
			for _, t := range tmps {
				os.Remove(t)
			}
		}
		kept++
	}
	return kept, nil
}

var uploadIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

func validUploadID(id string) bool { return uploadIDRe.MatchString(id) }

func (m *multipart) lock(id string) *sync.Mutex {
	b, _ := hex.DecodeString(id[:2])
	return &m.locks[int(b[0])%len(m.locks)]
}

func (m *multipart) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := requestTarget(r)
	bucket, key := t.Bucket, t.Key
	q := r.URL.Query()
	_, uploads := q["uploads"]
	id, hasID := q["uploadId"]
	var err error
	switch {
	case uploads && !hasID && bucket != "" && key == "" && r.Method == http.MethodGet:
		err = m.listUploads(w, r, bucket, q)
	case uploads && !hasID && bucket != "" && key != "" && r.Method == http.MethodPost:
		err = m.create(w, r, bucket, key)
	case hasID && bucket != "" && key != "":
		switch r.Method {
		case http.MethodPut:
			err = m.putPart(w, r, bucket, key, id[0], q)
		case http.MethodPost:
			err = m.complete(w, r, bucket, key, id[0])
		case http.MethodDelete:
			err = m.abort(w, r, bucket, key, id[0])
		case http.MethodGet:
			err = m.listParts(w, r, bucket, key, id[0], q)
		default:
			err = gofakes3.ErrMethodNotAllowed
		}
	default:
		m.next.ServeHTTP(w, r)
		return
	}
	if err != nil {
		var ge gofakes3.Error
		if !errors.As(err, &ge) {
			m.log.Error("multipart request failed", "method", r.Method, "bucket", bucket, "key", key, "err", err)
		}
		writeError(w, r, err)
	}
}

// ---- records ----

func (m *multipart) path(id string, name ...string) string {
	return filepath.Join(append([]string{m.dir, id}, name...)...)
}

func (m *multipart) read(id string) (uploadRecord, error) {
	var up uploadRecord
	data, err := os.ReadFile(m.path(id, "upload.json"))
	if err == nil {
		err = json.Unmarshal(data, &up)
	}
	return up, err
}

// caller returns the user of the request, who must have bucket.
func (m *multipart) caller(ctx context.Context, bucket string) (string, error) {
	user, err := m.be.user(ctx)
	if err != nil {
		return "", err
	}
	return user, m.be.bucketExists(ctx, user, bucket)
}

// load returns the upload id of the caller on bucket/key, or NoSuchUpload.
func (m *multipart) load(r *http.Request, bucket, key, id string) (uploadRecord, error) {
	user, err := m.caller(r.Context(), bucket)
	if err != nil {
		return uploadRecord{}, err
	}
	if !validUploadID(id) {
		return uploadRecord{}, noSuchUpload()
	}
	up, err := m.read(id)
	if err != nil || up.User != user || up.Bucket != bucket || up.Key != key {
		return up, noSuchUpload()
	}
	return up, nil
}

func noSuchUpload() error {
	return gofakes3.ErrorMessage(gofakes3.ErrNoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}

// ---- create ----

// objectMeta is the metadata a request gives its object, in the form
// gofakes3 hands PutObject (canonical header names).
func objectMeta(h http.Header) map[string]string {
	meta := map[string]string{}
	for k, v := range h {
		k = textproto.CanonicalMIMEHeaderKey(k)
		if len(v) == 0 {
			continue
		}
		switch k {
		case "Cache-Control", "Content-Disposition", "Content-Language", "Content-Type",
			"Expires", "X-Amz-Storage-Class", "X-Amz-Website-Redirect-Location":
			meta[k] = v[0]
		case "Content-Encoding":
			if v := removeAWSChunked(v[0]); v != "" {
				meta[k] = v
			}
		case gofakes3.TaggingMetadataKey: // tags, as a URL query: kept in canonical order
			if q, err := url.ParseQuery(v[0]); err == nil && len(q) > 0 {
				meta[k] = q.Encode()
			}
		default:
			if strings.HasPrefix(k, "X-Amz-Meta-") {
				meta[k] = v[0]
			}
		}
	}
	return meta
}

// removeAWSChunked drops aws-chunked, which describes how a body is sent,
// from a Content-Encoding list.
func removeAWSChunked(v string) string {
	var out []string
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, "aws-chunked") {
			out = append(out, t)
		}
	}
	return strings.Join(out, ", ")
}

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func (m *multipart) create(w http.ResponseWriter, r *http.Request, bucket, key string) error {
	ctx := r.Context()
	user, err := m.caller(ctx, bucket)
	if err != nil {
		return err
	}
	if err := gateway.CheckKey(key); err != nil || strings.HasSuffix(key, "/") {
		return m.be.mapErr(ctx, bucket, key, gateway.ErrBadPath)
	}
	alg := strings.ToLower(r.Header.Get("X-Amz-Checksum-Algorithm"))
	if _, ok := checksumHashes["x-amz-checksum-"+alg]; alg != "" && !ok {
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "Checksum algorithm "+alg+" is not supported")
	}
	typ, err := checksumType(alg, r.Header.Get("X-Amz-Checksum-Type"))
	if err != nil {
		return err
	}
	meta := objectMeta(r.Header)
	for k, v := range meta {
		meta[k] = encodeMetaValue(v)
	}
	if acl := r.Header.Get("X-Amz-Acl"); acl != "" {
		if err := checkCannedACL(acl); err != nil {
			return err
		}
		if acl != "private" { // S3's default is not kept: see withACL
			meta[aclMetaKey] = acl
		}
	}
	m.sweepMu.Lock()
	due := time.Since(m.lastSweep) > sweepEvery
	m.sweepMu.Unlock()
	if due {
		if _, err := m.sweep(false); err != nil {
			m.log.Warn("multipart: sweep", "err", err)
		}
	}
	var rb [16]byte
	rand.Read(rb[:])
	id := hex.EncodeToString(rb[:])
	up := uploadRecord{User: user, Bucket: bucket, Key: key, Meta: meta, Initiated: time.Now().UTC(), Checksum: alg, ChecksumType: typ}
	data, err := json.Marshal(up)
	if err != nil {
		return err
	}
	if err := os.Mkdir(m.path(id), 0o750); err != nil {
		return fmt.Errorf("multipart %s/%s: %w", bucket, key, err)
	}
	if err := syncfile.WriteFile(m.path(id, "upload.json"), data, 0o600); err == nil {
		err = syncfile.SyncDir(m.dir)
	}
	if err != nil {
		os.RemoveAll(m.path(id))
		return fmt.Errorf("multipart %s/%s: %w", bucket, key, err)
	}
	if alg != "" {
		w.Header().Set("X-Amz-Checksum-Algorithm", strings.ToUpper(alg))
		w.Header().Set("X-Amz-Checksum-Type", typ)
	}
	return writeXML(w, initiateResult{Xmlns: s3NS, Bucket: bucket, Key: key, UploadID: id})
}

// checksumType is the checksum type of an upload with algorithm alg
// (lower case, "" for none), given the x-amz-checksum-type header h: as on
// S3, CRC-64/NVME defaults to FULL_OBJECT and the others to COMPOSITE, and
// the SHA ones cannot be FULL_OBJECT nor CRC-64/NVME COMPOSITE.
func checksumType(alg, h string) (string, error) {
	h = strings.ToUpper(h)
	switch {
	case alg == "" && h != "":
		return "", gofakes3.ErrorMessage(gofakes3.ErrInvalidRequest, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
	case alg == "":
		return "", nil
	case h == "" && alg == "crc64nvme":
		return "FULL_OBJECT", nil
	case h == "":
		return "COMPOSITE", nil
	case h != "COMPOSITE" && h != "FULL_OBJECT",
		h == "FULL_OBJECT" && (alg == "sha1" || alg == "sha256"),
		h == "COMPOSITE" && alg == "crc64nvme":
		return "", gofakes3.ErrorMessagef(gofakes3.ErrInvalidRequest, "The %s checksum type cannot be used with the %s checksum algorithm.", h, strings.ToUpper(alg))
	}
	return h, nil
}

// ---- parts ----

func partName(n int) string { return fmt.Sprintf("part-%05d", n) }

type copyPartResult struct {
	XMLName      xml.Name             `xml:"CopyPartResult"`
	Xmlns        string               `xml:"xmlns,attr"`
	ETag         string               `xml:"ETag"`
	LastModified gofakes3.ContentTime `xml:"LastModified"`
	// The copied part's checksum, in an upload with a checksum algorithm.
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}

func (m *multipart) putPart(w http.ResponseWriter, r *http.Request, bucket, key, id string, q url.Values) error {
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
	}
	up, err := m.load(r, bucket, key, id)
	if err != nil {
		return err
	}
	if r.Header.Get("X-Amz-Copy-Source") != "" {
		return m.copyPart(w, r, id, n, up.Checksum)
	}
	defer r.Body.Close()
	var wantMD5 []byte
	if v, ok := r.Header["Content-Md5"]; ok {
		b, err := base64.StdEncoding.DecodeString(strings.Join(v, ""))
		if err != nil || len(b) != md5.Size {
			return gofakes3.ErrorMessage(gofakes3.ErrInvalidDigest, "The Content-MD5 you specified was invalid")
		}
		wantMD5 = b
	}
	sums := map[string]string{}
	for name := range checksumHashes {
		if v := r.Header.Get(name); v != "" {
			sums[strings.TrimPrefix(name, "x-amz-checksum-")] = v
		}
	}
	rec, err := m.storePart(r, id, n, r.Body, r.ContentLength, wantMD5, sums, trailerChecksum)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", rec.ETag)
	for alg, v := range rec.Checksums {
		w.Header().Set("X-Amz-Checksum-"+strings.ToUpper(alg), v)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// storePart writes part n of upload id from body (size bytes; -1 when
// unknown), checking the MD5 and the checksums given (a checksum given as
// "" is computed and kept); trailer, when set,
// gives the checksum an aws-chunked trailer carried (verified as the body
// was read), which is kept too.
func (m *multipart) storePart(r *http.Request, id string, n int, body io.Reader, size int64, wantMD5 []byte, want map[string]string,
	trailer func(context.Context) (string, string)) (partRecord, error) {
	ctx := r.Context()
	if err := m.be.gw.Admit(max(size, 0)); err != nil {
		return partRecord{}, m.be.mapErr(ctx, "", "", fmt.Errorf("multipart %s part %d: %w", id, n, err))
	}
	body = m.be.gw.Counted(body)
	tmp, err := os.CreateTemp(m.path(id), ".tmp-part-")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) { // aborted meanwhile
			return partRecord{}, noSuchUpload()
		}
		return partRecord{}, fmt.Errorf("multipart %s part %d: %w", id, n, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	h := md5.New()
	hs := map[string]hash.Hash{}
	ws := []io.Writer{tmp, h}
	for alg := range want {
		hs[alg] = checksumHashes["x-amz-checksum-"+alg]()
		ws = append(ws, hs[alg])
	}
	got, err := io.Copy(io.MultiWriter(ws...), gateway.ContextReader(ctx, body))
	if err == nil && size >= 0 && got != size {
		err = gofakes3.ErrorMessagef(gofakes3.ErrIncompleteBody, "part %d: got %d of %d bytes", n, got, size)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return partRecord{}, m.be.mapErr(ctx, "", "", err) // a full disk, a stalled body
	}
	sum := h.Sum(nil)
	if wantMD5 != nil && !slices.Equal(sum, wantMD5) {
		return partRecord{}, gofakes3.ErrorMessage(gofakes3.ErrBadDigest, "The Content-MD5 you specified did not match what we received")
	}
	rec := partRecord{ETag: `"` + hex.EncodeToString(sum) + `"`, Size: got}
	for alg, v := range want {
		got := base64.StdEncoding.EncodeToString(hs[alg].Sum(nil))
		if v == "" { // computed, not given
			v = got
		}
		if got != v {
			return partRecord{}, gofakes3.ErrorMessagef(gofakes3.ErrBadDigest, "The %s you specified did not match the calculated checksum.", strings.ToUpper(alg))
		}
		if rec.Checksums == nil {
			rec.Checksums = map[string]string{}
		}
		rec.Checksums[alg] = v
	}
	if trailer != nil {
		if h, v := trailer(ctx); v != "" {
			if rec.Checksums == nil {
				rec.Checksums = map[string]string{}
			}
			rec.Checksums[strings.ToLower(strings.TrimPrefix(h, "X-Amz-Checksum-"))] = v
		}
	}
	mu := m.lock(id)
	mu.Lock()
	defer mu.Unlock()
	if _, err := os.Stat(m.path(id, "upload.json")); err != nil {
		return partRecord{}, noSuchUpload() // aborted or completed meanwhile
	}
	final := m.path(id, partName(n))
	if err := os.Rename(tmp.Name(), final); err != nil {
		return partRecord{}, fmt.Errorf("multipart %s part %d: %w", id, n, err)
	}
	st, err := os.Stat(final)
	if err != nil {
		return partRecord{}, fmt.Errorf("multipart %s part %d: %w", id, n, err)
	}
	rec.ModTime = st.ModTime()
	data, _ := json.Marshal(rec)
	if err := syncfile.WriteFile(final+".json", data, 0o600); err != nil {
		return partRecord{}, fmt.Errorf("multipart %s part %d: %w", id, n, err)
	}
	if err := syncfile.SyncDir(m.path(id)); err != nil {
		return partRecord{}, fmt.Errorf("multipart %s part %d: %w", id, n, err)
	}
	return rec, nil
}

var copySourceRangeRe = regexp.MustCompile(`^bytes=([0-9]+)-([0-9]+)$`)

// copyPart is UploadPartCopy: part n is all of an object, or a range of it.
func (m *multipart) copyPart(w http.ResponseWriter, r *http.Request, id string, n int, alg string) error {
	ctx := r.Context()
	src, _, _ := strings.Cut(r.Header.Get("X-Amz-Copy-Source"), "?")
	dec, err := url.PathUnescape(src)
	if err != nil {
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "x-amz-copy-source is not a valid URL path")
	}
	sb, sk, ok := strings.Cut(strings.TrimPrefix(dec, "/"), "/")
	if !ok || sb == "" || sk == "" {
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "x-amz-copy-source must be bucket/key")
	}
	head, err := m.be.object(ctx, sb, sk, nil, false)
	if err != nil {
		return err
	}
	etags := []string{`"` + hex.EncodeToString(head.Hash) + `"`}
	if o, err := m.be.gw.Catalog().Stat(ctx, auth.User(ctx), sb, sk); err == nil && o.ETagValue != "" {
		etags = append(etags, o.ETag())
	}
	mod, _ := time.Parse(http.TimeFormat, head.Metadata["Last-Modified"])
	if err := copySourceConditions(r.Header, etags, mod); err != nil {
		return err
	}
	var rng *gofakes3.ObjectRangeRequest
	if v := r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		mm := copySourceRangeRe.FindStringSubmatch(v)
		if mm == nil {
			return gofakes3.ErrorInvalidArgument("x-amz-copy-source-range", v, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		}
		start, err1 := strconv.ParseInt(mm[1], 10, 64)
		end, err2 := strconv.ParseInt(mm[2], 10, 64)
		if err1 != nil || err2 != nil || start > end {
			return gofakes3.ErrorInvalidArgument("x-amz-copy-source-range", v, "The x-amz-copy-source-range value is not a valid range")
		}
		if end >= head.Size {
			return gofakes3.ErrorMessage(gofakes3.ErrInvalidRange, "Range specified is not valid for source object of size: "+strconv.FormatInt(head.Size, 10))
		}
		rng = &gofakes3.ObjectRangeRequest{Start: start, End: end}
	}
	obj, err := m.be.object(ctx, sb, sk, rng, true)
	if err != nil {
		return err
	}
	defer obj.Contents.Close()
	size := obj.Size
	if obj.Range != nil {
		size = obj.Range.Length
	}
	// The part gets the upload's checksum, as S3 computes it for a copied
	// part ("" asks storePart to compute it).
	var want map[string]string
	if alg != "" {
		want = map[string]string{alg: ""}
	}
	rec, err := m.storePart(r, id, n, obj.Contents, size, nil, want, nil)
	if err != nil {
		return err
	}
	w.Header().Del("ETag")
	res := copyPartResult{Xmlns: s3NS, ETag: rec.ETag, LastModified: gofakes3.NewContentTime(rec.ModTime)}
	if v := rec.Checksums[alg]; v != "" {
		if f := map[string]*string{"crc32": &res.ChecksumCRC32, "crc32c": &res.ChecksumCRC32C, "crc64nvme": &res.ChecksumCRC64NVME,
			"sha1": &res.ChecksumSHA1, "sha256": &res.ChecksumSHA256}[alg]; f != nil {
			*f = v
		}
	}
	return writeXML(w, res)
}

// copySourceConditions applies x-amz-copy-source-if-* to a source whose
// ETag is any of etags.
func copySourceConditions(h http.Header, etags []string, mod time.Time) error {
	fail := gofakes3.ErrorMessage(gofakes3.ErrPreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	match := func(v string) bool {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" {
				return true
			}
			for _, e := range etags {
				if strings.Trim(t, `"`) == strings.Trim(e, `"`) {
					return true
				}
			}
		}
		return false
	}
	im, inm := h.Get("X-Amz-Copy-Source-If-Match"), h.Get("X-Amz-Copy-Source-If-None-Match")
	if im != "" && !match(im) {
		return fail
	}
	if inm != "" && match(inm) {
		return fail
	}
	if v := h.Get("X-Amz-Copy-Source-If-Unmodified-Since"); v != "" && im == "" {
		if t, err := http.ParseTime(v); err == nil && mod.Truncate(time.Second).After(t) {
			return fail
		}
	}
	if v := h.Get("X-Amz-Copy-Source-If-Modified-Since"); v != "" && inm == "" {
		if t, err := http.ParseTime(v); err == nil && !mod.Truncate(time.Second).After(t) {
			return fail
		}
	}
	return nil
}

// part returns the record of part n, computing it again when the record
// is missing or describes an older file (a crash between the two writes).
func (m *multipart) part(id string, n int) (partRecord, error) {
	p := m.path(id, partName(n))
	st, err := os.Stat(p)
	if err != nil {
		return partRecord{}, err
	}
	var rec partRecord
	if data, err := os.ReadFile(p + ".json"); err == nil && json.Unmarshal(data, &rec) == nil &&
		rec.Size == st.Size() && rec.ModTime.Equal(st.ModTime()) {
		return rec, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return partRecord{}, err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return partRecord{}, fmt.Errorf("multipart %s part %d: %w", id, n, err)
	}
	return partRecord{ETag: `"` + hex.EncodeToString(h.Sum(nil)) + `"`, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// parts lists the part numbers of upload id in order.
func (m *multipart) parts(id string) ([]int, error) {
	ents, err := os.ReadDir(m.path(id))
	if err != nil {
		return nil, err
	}
	var ns []int
	for _, e := range ents {
		s, ok := strings.CutPrefix(e.Name(), "part-")
		if !ok || len(s) != 5 {
			continue
		}
		if n, err := strconv.Atoi(s); err == nil {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns, nil
}

// ---- complete and abort ----

type completeRequest struct {
	XMLName xml.Name       `xml:"CompleteMultipartUpload"`
	Parts   []completePart `xml:"Part"`
}

type completePart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
}

type completeResult struct {
	XMLName           xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns             string   `xml:"xmlns,attr"`
	Location          string   `xml:"Location"`
	Bucket            string   `xml:"Bucket"`
	Key               string   `xml:"Key"`
	ETag              string   `xml:"ETag"`
	ChecksumCRC32     string   `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string   `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string   `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string   `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string   `xml:"ChecksumSHA256,omitempty"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
}

// parseCompleteRequest reads a CompleteMultipartUpload body: at most
// maxCompleteBody bytes (more is MaxMessageLengthExceeded, found having
// read one byte past the limit), one or more parts, numbered 1 to 10,000
// in ascending order. Errors are S3 errors (400).
func parseCompleteRequest(body io.Reader) (completeRequest, error) {
	var in completeRequest
	b, err := io.ReadAll(io.LimitReader(body, maxCompleteBody+1))
	if err != nil {
		return in, fmt.Errorf("CompleteMultipartUpload body: %w", err)
	}
	if len(b) > maxCompleteBody {
		return in, gofakes3.ErrorMessagef(gofakes3.ErrMaxMessageLengthExceeded, "Your request was too big: the limit is %d bytes", maxCompleteBody)
	}
	if xml.Unmarshal(b, &in) != nil {
		return in, gofakes3.ErrorMessage(gofakes3.ErrMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
	}
	if len(in.Parts) == 0 {
		return in, gofakes3.ErrorMessage(gofakes3.ErrMalformedXML, "You must specify at least one part")
	}
	for i, p := range in.Parts {
		if p.PartNumber < 1 || p.PartNumber > 10000 {
			return in, gofakes3.ErrorMessagef(gofakes3.ErrInvalidPart, "Part number %d is not an integer between 1 and 10000", p.PartNumber)
		}
		if i > 0 && p.PartNumber <= in.Parts[i-1].PartNumber {
			return in, gofakes3.ErrorMessage(gofakes3.ErrInvalidPartOrder, "The list of parts was not in ascending order. Parts must be ordered by part number.")
		}
	}
	return in, nil
}

func (m *multipart) complete(w http.ResponseWriter, r *http.Request, bucket, key, id string) error {
	ctx := r.Context()
	up, err := m.load(r, bucket, key, id)
	if err != nil {
		return err
	}
	result := func(etag string) error {
		loc := "/" + bucket + "/" + (&url.URL{Path: key}).EscapedPath()
		if r.Host != "" {
			loc = "http://" + r.Host + loc
		}
		res := completeResult{Xmlns: s3NS, Location: loc, Bucket: bucket, Key: key, ETag: etag}
		if up.Checksum != "" {
			if o, err := m.be.gw.Catalog().Stat(ctx, up.User, bucket, key); err == nil {
				v := o.Meta[textproto.CanonicalMIMEHeaderKey("x-amz-checksum-"+up.Checksum)]
				if f := map[string]*string{"crc32": &res.ChecksumCRC32, "crc32c": &res.ChecksumCRC32C, "crc64nvme": &res.ChecksumCRC64NVME,
					"sha1": &res.ChecksumSHA1, "sha256": &res.ChecksumSHA256}[up.Checksum]; f != nil {
					*f = decodeMetaValue(v)
				}
			}
			res.ChecksumType = cmp.Or(up.ChecksumType, "COMPOSITE")
		}
		return writeXML(w, res)
	}
	if up.Done != "" {
		return result(up.Done)
	}
	if r.ContentLength > maxCompleteBody {
		return gofakes3.ErrorMessagef(gofakes3.ErrMaxMessageLengthExceeded, "Your request was too big: the limit is %d bytes", maxCompleteBody)
	}
	in, err := parseCompleteRequest(r.Body)
	if err != nil {
		return err
	}
	mu := m.lock(id)
	mu.Lock()
	defer mu.Unlock()
	if up, err = m.load(r, bucket, key, id); err != nil {
		return err
	} else if up.Done != "" {
		return result(up.Done)
	}
	etagSum := md5.New()
	// The object's checksum, when the upload has an algorithm: of the
	// parts' checksums (composite), or of the whole content (full).
	var composite, full hash.Hash
	switch {
	case up.Checksum != "" && up.ChecksumType == "FULL_OBJECT":
		full = checksumHashes["x-amz-checksum-"+up.Checksum]()
	case up.Checksum != "":
		composite = checksumHashes["x-amz-checksum-"+up.Checksum]()
	}
	var total int64
	sizes := make([]string, 0, len(in.Parts))
	paths := make([]string, 0, len(in.Parts))
	for i, p := range in.Parts {
		rec, err := m.part(id, p.PartNumber)
		if errors.Is(err, fs.ErrNotExist) {
			return gofakes3.ErrorMessagef(gofakes3.ErrInvalidPart, "Part %d was not uploaded", p.PartNumber)
		} else if err != nil {
			return err
		}
		if !strings.EqualFold(strings.Trim(p.ETag, `" `), strings.Trim(rec.ETag, `"`)) {
			return gofakes3.ErrorMessagef(gofakes3.ErrInvalidPart, "The ETag of part %d, %s, does not match the part uploaded", p.PartNumber, p.ETag)
		}
		if i < len(in.Parts)-1 && rec.Size < minPartSize {
			return m.be.custom(ctx, &s3Error{"EntityTooSmall", fmt.Sprintf(
				"Your proposed upload is smaller than the minimum allowed size: part %d is %d bytes; every part but the last must be at least 5 MiB", p.PartNumber, rec.Size), http.StatusBadRequest})
		}
		md, _ := hex.DecodeString(strings.Trim(rec.ETag, `"`))
		etagSum.Write(md)
		if composite != nil {
			raw, err := base64.StdEncoding.DecodeString(rec.Checksums[up.Checksum])
			if err != nil || len(raw) == 0 {
				return gofakes3.ErrorMessagef(gofakes3.ErrInvalidRequest, "Part %d was uploaded without a %s checksum, which this upload requires", p.PartNumber, strings.ToUpper(up.Checksum))
			}
			composite.Write(raw)
		}
		total += rec.Size
		sizes = append(sizes, strconv.FormatInt(rec.Size, 10))
		paths = append(paths, m.path(id, partName(p.PartNumber)))
	}
	etag := fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(etagSum.Sum(nil)), len(in.Parts))
	meta := make(map[string]string, len(up.Meta))
	for k, v := range up.Meta {
		meta[k] = decodeMetaValue(v)
	}
	ctype, mod, rest := splitMeta(meta)
	if rest == nil {
		rest = map[string]string{}
	}
	rest[partSizesKey] = strings.Join(sizes, ",")
	sumHeader, sumValue := "", ""
	if composite != nil {
		// S3's checksum of a multipart object: of the parts' checksums.
		sumHeader = textproto.CanonicalMIMEHeaderKey("x-amz-checksum-" + up.Checksum)
		sumValue = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(composite.Sum(nil)), len(in.Parts))
		// The value may come without the "-N" (minio-go sends it so).
		if v := r.Header.Get(sumHeader); v != "" && v != sumValue && v+"-"+strconv.Itoa(len(in.Parts)) != sumValue {
			return gofakes3.ErrorMessagef(gofakes3.ErrBadDigest, "The %s you specified, %s, does not match the checksum of the parts, %s", sumHeader, v, sumValue)
		}
		rest[sumHeader] = sumValue
	}
	pr := gateway.FilesReader(paths)
	defer pr.Close()
	var assembled io.Reader = pr
	if full != nil {
		sumHeader = textproto.CanonicalMIMEHeaderKey("x-amz-checksum-" + up.Checksum)
		assembled = io.TeeReader(pr, full)
	}
	check, err := writeConditions(r.Header, key)
	if err != nil {
		return err
	}
	o, err := m.be.gw.Put(ctx, gateway.PutInput{
		User: up.User, Bucket: bucket, Key: key, Body: assembled,
		ContentType: ctype, ModTime: mod, Meta: rest, MakeParents: true, ETag: strings.Trim(etag, `"`),
		Check: check,
		Verify: func(s gateway.Sums) error {
			if s.Size != total {
				return fmt.Errorf("multipart %s: assembled %d of %d bytes", id, s.Size, total)
			}
			if full != nil {
				sumValue = base64.StdEncoding.EncodeToString(full.Sum(nil))
				if v := r.Header.Get(sumHeader); v != "" && v != sumValue {
					return gofakes3.ErrorMessagef(gofakes3.ErrBadDigest, "The %s you specified, %s, does not match the checksum of the object, %s", sumHeader, v, sumValue)
				}
				rest[sumHeader] = sumValue
			}
			return nil
		},
	})
	if err != nil {
		return m.be.mapErr(ctx, bucket, key, err)
	}
	up.Done, up.Completed = o.ETag(), time.Now().UTC()
	if data, err := json.Marshal(up); err == nil {
		if err := syncfile.WriteFile(m.path(id, "upload.json"), data, 0o600); err != nil {
			m.log.Warn("multipart: record completion", "upload", id, "err", err)
		}
	}
	m.removeParts(id)
	if sumHeader != "" {
		w.Header().Set(sumHeader, sumValue)
	}
	return result(up.Done)
}

// writeConditions turns If-Match and If-None-Match on a write into a
// gateway Check.
func writeConditions(h http.Header, key string) (func(cur *catalog.Object) error, error) {
	im, inm := h.Get("If-Match"), h.Get("If-None-Match")
	if im == "" && inm == "" {
		return nil, nil
	}
	fail := gofakes3.ErrorMessage(gofakes3.ErrPreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	match := func(v string, cur *catalog.Object) bool {
		if cur == nil || cur.IsDir() {
			return false
		}
		for _, t := range strings.Split(v, ",") {
			t = strings.Trim(strings.TrimSpace(t), `"`)
			if t == "*" || t == strings.Trim(cur.ETag(), `"`) || (cur.MD5 != "" && t == cur.MD5) {
				return true
			}
		}
		return false
	}
	return func(cur *catalog.Object) error {
		if im != "" && !match(im, cur) {
			if cur == nil {
				return gofakes3.KeyNotFound(key)
			}
			return fail
		}
		if inm != "" && match(inm, cur) {
			return fail
		}
		return nil
	}, nil
}

// removeParts deletes the parts of a completed upload, keeping its record.
func (m *multipart) removeParts(id string) {
	ents, _ := os.ReadDir(m.path(id))
	for _, e := range ents {
		if e.Name() != "upload.json" {
			os.Remove(m.path(id, e.Name()))
		}
	}
}

func (m *multipart) abort(w http.ResponseWriter, r *http.Request, bucket, key, id string) error {
	up, err := m.load(r, bucket, key, id)
	if err != nil {
		return err
	}
	if up.Done != "" {
		return noSuchUpload()
	}
	mu := m.lock(id)
	mu.Lock()
	err = os.RemoveAll(m.path(id))
	mu.Unlock()
	if err != nil {
		return fmt.Errorf("multipart %s: abort: %w", id, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- listings ----

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	Xmlns                string   `xml:"xmlns,attr"`
	Bucket               string   `xml:"Bucket"`
	Key                  string   `xml:"Key"`
	UploadID             string   `xml:"UploadId"`
	Initiator            owner    `xml:"Initiator"`
	Owner                owner    `xml:"Owner"`
	StorageClass         string   `xml:"StorageClass"`
	PartNumberMarker     int      `xml:"PartNumberMarker"`
	NextPartNumberMarker int      `xml:"NextPartNumberMarker"`
	MaxParts             int      `xml:"MaxParts"`
	IsTruncated          bool     `xml:"IsTruncated"`
	ChecksumAlgorithm    string   `xml:"ChecksumAlgorithm,omitempty"`
	Parts                []listedPart
}

type listedPart struct {
	XMLName           xml.Name             `xml:"Part"`
	PartNumber        int                  `xml:"PartNumber"`
	LastModified      gofakes3.ContentTime `xml:"LastModified"`
	ETag              string               `xml:"ETag"`
	Size              int64                `xml:"Size"`
	ChecksumCRC32     string               `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string               `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string               `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string               `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string               `xml:"ChecksumSHA256,omitempty"`
}

// intParam parses an optional non-negative integer query parameter, capped
// at max; absent is def.
func intParam(q url.Values, name string, def, max int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, gofakes3.ErrorInvalidArgument(name, v, "Argument "+name+" must be an integer between 0 and 2147483647")
	}
	return min(n, max), nil
}

func (m *multipart) listParts(w http.ResponseWriter, r *http.Request, bucket, key, id string, q url.Values) error {
	up, err := m.load(r, bucket, key, id)
	if err != nil {
		return err
	}
	if up.Done != "" {
		return noSuchUpload()
	}
	marker, err := intParam(q, "part-number-marker", 0, 10000)
	if err != nil {
		return err
	}
	maxParts, err := intParam(q, "max-parts", 1000, 1000)
	if err != nil {
		return err
	}
	ns, err := m.parts(id)
	if err != nil {
		return noSuchUpload()
	}
	o := owner{up.User, up.User}
	res := listPartsResult{Xmlns: s3NS, Bucket: bucket, Key: key, UploadID: id, Initiator: o, Owner: o,
		StorageClass: storageClassOf(up.Meta), PartNumberMarker: marker, NextPartNumberMarker: marker, MaxParts: maxParts,
		ChecksumAlgorithm: strings.ToUpper(up.Checksum)}
	for _, n := range ns {
		if n <= marker {
			continue
		}
		if len(res.Parts) >= maxParts {
			res.IsTruncated = true
			break
		}
		rec, err := m.part(id, n)
		if err != nil {
			continue // removed meanwhile
		}
		lp := listedPart{PartNumber: n, LastModified: gofakes3.NewContentTime(rec.ModTime), ETag: rec.ETag, Size: rec.Size}
		lp.ChecksumCRC32, lp.ChecksumCRC32C, lp.ChecksumCRC64NVME = rec.Checksums["crc32"], rec.Checksums["crc32c"], rec.Checksums["crc64nvme"]
		lp.ChecksumSHA1, lp.ChecksumSHA256 = rec.Checksums["sha1"], rec.Checksums["sha256"]
		res.Parts = append(res.Parts, lp)
		res.NextPartNumberMarker = n
	}
	return writeXML(w, res)
}

type listUploadsResult struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	Xmlns              string   `xml:"xmlns,attr"`
	Bucket             string   `xml:"Bucket"`
	KeyMarker          string   `xml:"KeyMarker"`
	UploadIDMarker     string   `xml:"UploadIdMarker"`
	NextKeyMarker      string   `xml:"NextKeyMarker"`
	NextUploadIDMarker string   `xml:"NextUploadIdMarker"`
	EncodingType       string   `xml:"EncodingType,omitempty"`
	Delimiter          string   `xml:"Delimiter,omitempty"`
	Prefix             string   `xml:"Prefix"`
	MaxUploads         int      `xml:"MaxUploads"`
	IsTruncated        bool     `xml:"IsTruncated"`
	Uploads            []listedUpload
	CommonPrefixes     []commonPrefix
}

type listedUpload struct {
	XMLName      xml.Name             `xml:"Upload"`
	Key          string               `xml:"Key"`
	UploadID     string               `xml:"UploadId"`
	Initiator    owner                `xml:"Initiator"`
	Owner        owner                `xml:"Owner"`
	StorageClass string               `xml:"StorageClass"`
	Initiated    gofakes3.ContentTime `xml:"Initiated"`
}

type commonPrefix struct {
	XMLName xml.Name `xml:"CommonPrefixes"`
	Prefix  string   `xml:"Prefix"`
}

// listUploads is ListMultipartUploads: the caller's uploads in progress on
// bucket, by key and then by the time they began. It reads every upload's
// record; uploads in progress are few.
func (m *multipart) listUploads(w http.ResponseWriter, r *http.Request, bucket string, q url.Values) error {
	ctx := r.Context()
	user, err := m.caller(ctx, bucket)
	if err != nil {
		return err
	}
	maxUploads, err := intParam(q, "max-uploads", 1000, 1000)
	if err != nil {
		return err
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return gofakes3.ErrorInvalidArgument("encoding-type", enc, "Invalid Encoding Method specified in Request")
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	keyMarker, idMarker := q.Get("key-marker"), q.Get("upload-id-marker")
	if keyMarker == "" {
		idMarker = ""
	}
	type item struct {
		key, id, class string
		at             time.Time
	}
	ents, err := os.ReadDir(m.dir)
	if err != nil {
		return err
	}
	var items []item
	for _, e := range ents {
		if !validUploadID(e.Name()) {
			continue
		}
		up, err := m.read(e.Name())
		if err != nil || up.Done != "" || up.User != user || up.Bucket != bucket || !strings.HasPrefix(up.Key, prefix) {
			continue
		}
		items = append(items, item{up.Key, e.Name(), storageClassOf(up.Meta), up.Initiated})
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	encode := func(s string) string {
		if enc == "url" {
			return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
		}
		return s
	}
	res := listUploadsResult{Xmlns: s3NS, Bucket: bucket, KeyMarker: encode(keyMarker), UploadIDMarker: idMarker,
		EncodingType: enc, Delimiter: encode(delim), Prefix: encode(prefix), MaxUploads: maxUploads}
	// Past the marker: keys after key-marker, or with upload-id-marker,
	// the same key's uploads after that one.
	start := 0
	if keyMarker != "" {
		start = len(items)
		for i, it := range items {
			if it.key > keyMarker {
				start = i
				break
			}
			if idMarker != "" && it.key == keyMarker && it.id == idMarker {
				start = i + 1
				break
			}
		}
	}
	seen := map[string]bool{}
	count := 0
	for i := start; i < len(items); i++ {
		it := items[i]
		if delim != "" {
			if j := strings.Index(it.key[len(prefix):], delim); j >= 0 {
				cp := it.key[:len(prefix)+j+len(delim)]
				if seen[cp] {
					continue
				}
				if count >= maxUploads {
					res.IsTruncated = true
					break
				}
				seen[cp] = true
				res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: encode(cp)})
				res.NextKeyMarker, res.NextUploadIDMarker = encode(it.key), ""
				count++
				continue
			}
		}
		if count >= maxUploads {
			res.IsTruncated = true
			break
		}
		o := owner{user, user}
		res.Uploads = append(res.Uploads, listedUpload{Key: encode(it.key), UploadID: it.id, Initiator: o, Owner: o,
			StorageClass: it.class, Initiated: gofakes3.NewContentTime(it.at)})
		res.NextKeyMarker, res.NextUploadIDMarker = encode(it.key), it.id
		count++
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	}
	return writeXML(w, res)
}

// writeXML answers 200 with v.
func writeXML(w http.ResponseWriter, v any) error {
	data, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(data)))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, xml.Header)
	w.Write(data)
	return nil
}
