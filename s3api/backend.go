package s3api

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rclone/gofakes3"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
)

// backend is the gofakes3 storage over the gateway: every S3 call is made
// as the user the authentication middleware put in the context.
type backend struct {
	gw *gateway.Gateway
}

var (
	_ gofakes3.Backend = (*backend)(nil)
)

// minPartSize is the smallest part but the last that S3 accepts.
const minPartSize = 5 << 20

// s3Error is an S3 error whose code gofakes3 does not know (and would
// answer 500 for); custom records its status for the response writer.
type s3Error struct {
	code   gofakes3.ErrorCode
	msg    string
	status int
}

func (b *backend) user(ctx context.Context) (string, error) {
	u := auth.User(ctx)
	if u == "" {
		return "", b.custom(ctx, &s3Error{"AccessDenied", "Access Denied", http.StatusForbidden})
	}
	return u, nil
}

// custom records the status of an error gofakes3 cannot map.
func (b *backend) custom(ctx context.Context, e *s3Error) error {
	if st := stateFrom(ctx); st != nil {
		st.status = e.status
	}
	return gofakes3.ErrorMessage(e.code, e.msg)
}

// mapErr turns gateway errors into S3 errors.
func (b *backend) mapErr(ctx context.Context, bucket, key string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gateway.ErrReserved):
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidBucketName, err.Error())
	case errors.Is(err, gateway.ErrBadPath):
		if key == "" {
			return gofakes3.ErrorMessage(gofakes3.ErrInvalidBucketName, err.Error())
		}
		if len(key) > gateway.MaxKeyLen {
			return gofakes3.ErrorMessage(gofakes3.ErrKeyTooLong, err.Error())
		}
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, err.Error())
	case errors.Is(err, gateway.ErrIsDir), errors.Is(err, gateway.ErrNotDir):
		return b.custom(ctx, &s3Error{"KeyConflict", fmt.Sprintf(
			"%s cannot be stored: Shoebox keeps keys as files and folders, and a key cannot be both a file and the folder of another key (%v)", key, err), http.StatusConflict})
	case errors.Is(err, gateway.ErrNoParent):
		// S3 writes make their folders: only the bucket can be missing
		// (deleted while the body was read).
		return gofakes3.BucketNotFound(bucket)
	case errors.Is(err, gateway.ErrPrecondition):
		return gofakes3.ErrorMessage(gofakes3.ErrPreconditionFailed, err.Error())
	case errors.Is(err, gateway.ErrInsufficientStorage):
		// As MinIO answers a full drive (XMinioStorageFull): 507, which
		// SDKs do not retry (they retry 500, 503 and throttling), so the
		// client stops at once with this message instead of hammering a
		// full disk with retries; reads and deletes keep working.
		return b.custom(ctx, &s3Error{"InsufficientStorage", fmt.Sprintf(
			"The server's disk is below its free-space reserve; writes are refused until space is freed (delete objects to free it). %v", err), http.StatusInsufficientStorage})
	case errors.Is(err, os.ErrDeadlineExceeded): // the body made no progress (body_idle_timeout)
		return b.custom(ctx, &s3Error{"RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period.", http.StatusBadRequest})
	case errors.Is(err, gateway.ErrNotFound), errors.Is(err, catalog.ErrNotFound):
		if key == "" {
			return gofakes3.BucketNotFound(bucket)
		}
		return gofakes3.KeyNotFound(key)
	}
	var gerr gofakes3.Error
	if errors.As(err, &gerr) {
		return gerr
	}
	return err
}

// bucketExists returns nil when the user has the bucket, AccessDenied when
// only other users have one of that name (buckets are per user, but a
// client addressing someone else's bucket is told it may not, as S3 does),
// and NoSuchBucket otherwise.
func (b *backend) bucketExists(ctx context.Context, user, bucket string) error {
	if _, err := b.gw.Stat(ctx, user, bucket, ""); err == nil {
		return nil
	}
	all, err := b.gw.Catalog().AllBuckets(ctx)
	if err != nil {
		return err
	}
	for _, ub := range all {
		if ub.Bucket == bucket && ub.User != user {
			return b.custom(ctx, &s3Error{"AccessDenied", "Access Denied", http.StatusForbidden})
		}
	}
	return gofakes3.BucketNotFound(bucket)
}

// ---- buckets ----

func (b *backend) ListBuckets(ctx context.Context) ([]gofakes3.BucketInfo, error) {
	user, err := b.user(ctx)
	if err != nil {
		return nil, err
	}
	bs, err := b.gw.Buckets(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]gofakes3.BucketInfo, len(bs))
	for i, bk := range bs {
		out[i] = gofakes3.BucketInfo{Name: bk.Name, CreationDate: gofakes3.NewContentTime(bk.Created)}
	}
	return out, nil
}

func (b *backend) CreateBucket(ctx context.Context, name string) error {
	user, err := b.user(ctx)
	if err != nil {
		return err
	}
	err = b.gw.CreateBucket(ctx, user, name)
	if st := stateFrom(ctx); err == nil && st != nil && st.location != "" {
		// Best effort: the bucket is made; without the property it answers
		// no location (us-east-1).
		b.gw.PatchProps(ctx, user, name, "", []catalog.PropOp{{Prop: catalog.Prop{Space: s3NS, Local: "LocationConstraint", Inner: xmlText(st.location)}}})
	}
	if st := stateFrom(ctx); err == nil && st != nil && st.acl != "" {
		if err := b.setBucketACL(ctx, user, name, st.acl); err != nil {
			return err
		}
	}
	if errors.Is(err, gateway.ErrExists) {
		return b.custom(ctx, &s3Error{"BucketAlreadyOwnedByYou", "You already own bucket " + name, http.StatusConflict})
	}
	return b.mapErr(ctx, name, "", err)
}

// s3NS is S3's XML namespace, also that of the bucket properties S3 keeps.
const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// location returns the LocationConstraint bucket was created with ("" for
// none, S3's us-east-1), kept as a property of the bucket.
func (b *backend) location(ctx context.Context, bucket string) string {
	user := auth.User(ctx)
	if user == "" {
		return ""
	}
	ps, err := b.gw.Props(ctx, user, bucket, "")
	if err != nil {
		return ""
	}
	for _, p := range ps {
		if p.Space == s3NS && p.Local == "LocationConstraint" {
			var v struct {
				Text string `xml:",chardata"`
			}
			if xml.Unmarshal([]byte("<v>"+p.Inner+"</v>"), &v) == nil {
				return v.Text
			}
		}
	}
	return ""
}

func (b *backend) BucketExists(ctx context.Context, name string) (bool, error) {
	user, err := b.user(ctx)
	if err != nil {
		return false, err
	}
	if err := b.bucketExists(ctx, user, name); err != nil {
		if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
			return false, nil
		}
		return false, err // someone else's: AccessDenied
	}
	return true, nil
}

// DeleteBucket removes a bucket without keys; folders Shoebox made only to
// hold files that are gone do not count.
func (b *backend) DeleteBucket(ctx context.Context, name string) error {
	user, err := b.user(ctx)
	if err != nil {
		return err
	}
	if err := b.bucketExists(ctx, user, name); err != nil {
		return err
	}
	has, err := b.gw.Catalog().HasKeys(ctx, user, name)
	if err != nil {
		return err
	}
	if has {
		return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, name)
	}
	return b.mapErr(ctx, name, "", b.gw.RemoveBucket(ctx, user, name, true))
}

// ---- listing ----

func (b *backend) ListBucket(ctx context.Context, name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	user, err := b.user(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.bucketExists(ctx, user, name); err != nil {
		return nil, err
	}
	var pfx, delim string
	if prefix != nil {
		if prefix.HasPrefix {
			pfx = prefix.Prefix
		}
		if prefix.HasDelimiter {
			delim = prefix.Delimiter
		}
	}
	max := int(page.MaxKeys)
	if max <= 0 || max > 1000 {
		max = 1000
	}
	marker := ""
	if page.HasMarker {
		marker = page.Marker
	}
	kp, err := b.gw.Catalog().ListKeys(ctx, user, name, pfx, delim, marker, max)
	if err != nil {
		return nil, err
	}
	out := gofakes3.NewObjectList()
	for _, o := range kp.Objects {
		out.Add(&gofakes3.Content{
			Key: o.Key, LastModified: gofakes3.NewContentTime(time.Unix(0, o.UploadNs)),
			ETag: o.ETag(), Size: o.Size, StorageClass: gofakes3.StorageClass(storageClassOf(o.Meta)),
		})
	}
	for _, p := range kp.Prefixes {
		out.AddPrefix(p)
	}
	out.IsTruncated = kp.Truncated
	if kp.Truncated {
		out.NextMarker = kp.Next
	}
	return out, nil
}

// ---- objects ----

// partSizesKey keeps, in the metadata of an object made by a multipart
// upload, the sizes of its parts (comma separated) for GETs by part
// number. gofakes3 never returns it as a header: it is neither a
// standard header nor user metadata.
const partSizesKey = "Shoebox-Part-Sizes"

// partSizes reads back what partSizesKey holds.
func partSizes(o catalog.Object) []int64 {
	v := o.Meta[partSizesKey]
	if v == "" {
		return nil
	}
	var out []int64
	var sum int64
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return nil
		}
		out = append(out, n)
		sum += n
	}
	if sum != o.Size {
		return nil
	}
	return out
}

var _ gofakes3.ObjectTaggingBackend = (*backend)(nil)

// SetObjectTagging replaces an object's tags (PutObjectTagging, or
// DeleteObjectTagging with ""), kept in its metadata where gofakes3 reads
// them, leaving its bytes and the rest of its metadata alone.
func (b *backend) SetObjectTagging(ctx context.Context, bucket, key, tagging string) error {
	user, err := b.user(ctx)
	if err != nil {
		return err
	}
	err = b.gw.UpdateMeta(ctx, user, bucket, key, func(o *catalog.Object) {
		if tagging == "" {
			delete(o.Meta, gofakes3.TaggingMetadataKey)
			return
		}
		if o.Meta == nil {
			o.Meta = map[string]string{}
		}
		o.Meta[gofakes3.TaggingMetadataKey] = tagging
	})
	return b.mapErr(ctx, bucket, key, err)
}

// metadata is what S3 returns for an object's headers.
func metadata(o catalog.Object) map[string]string {
	m := make(map[string]string, len(o.Meta)+2)
	for k, v := range o.Meta {
		if k == partSizesKey || k == aclMetaKey || (k == storageClassKey && v == standardClass) {
			continue
		}
		m[k] = decodeMetaValue(v)
	}
	ct := o.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	m["Content-Type"] = ct
	m["Last-Modified"] = time.Unix(0, o.UploadNs).UTC().Format(http.TimeFormat)
	return m
}

func md5Bytes(o catalog.Object) []byte {
	b, _ := hex.DecodeString(o.MD5)
	return b
}

func (b *backend) object(ctx context.Context, bucket, key string, rng *gofakes3.ObjectRangeRequest, body bool) (*gofakes3.Object, error) {
	user, err := b.user(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.bucketExists(ctx, user, bucket); err != nil {
		return nil, err
	}
	o, err := b.gw.Catalog().Stat(ctx, user, bucket, key)
	if err != nil || (o.IsDir() && !o.Explicit) {
		if st := stateFrom(ctx); st != nil {
			st.noSuchKey = true
		}
		return nil, gofakes3.KeyNotFound(key)
	}
	if st := stateFrom(ctx); st != nil && o.ETagValue != "" {
		st.etag = o.ETag()
	}
	obj := &gofakes3.Object{Name: key, Metadata: metadata(o), Size: o.Size, Hash: md5Bytes(o), PartSizes: partSizes(o)}
	if o.IsDir() {
		obj.Hash = md5.New().Sum(nil)
		obj.Contents = io.NopCloser(strings.NewReader(""))
		return obj, nil
	}
	if rng != nil && rng.FromEnd && rng.End > o.Size && o.Size > 0 {
		// A suffix longer than the object is the whole object.
		rng = &gofakes3.ObjectRangeRequest{Start: 0, End: gofakes3.RangeNoEnd}
	}
	r, err := rng.Range(o.Size)
	if err != nil {
		if st := stateFrom(ctx); st != nil {
			st.size = o.Size
		}
		return nil, err
	}
	obj.Range = r
	if !body {
		obj.Contents = io.NopCloser(strings.NewReader(""))
		return obj, nil
	}
	f, _, err := b.gw.Open(ctx, user, bucket, key)
	if err != nil {
		return nil, b.mapErr(ctx, bucket, key, err)
	}
	if r == nil {
		obj.Contents = f
		return obj, nil
	}
	if _, err := f.Seek(r.Start, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	obj.Contents = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, r.Length), f}
	return obj, nil
}

func (b *backend) GetObject(ctx context.Context, bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return b.object(ctx, bucket, key, rng, true)
}

func (b *backend) HeadObject(ctx context.Context, bucket, key string) (*gofakes3.Object, error) {
	return b.object(ctx, bucket, key, nil, false)
}

// encodeMetaValue keeps a header value that is not UTF-8 (clients send
// ISO-8859-1 bytes, as HTTP allows) through the catalog, which stores
// text: its bytes are kept as the runes of the same numbers behind a NUL,
// which no header value holds. decodeMetaValue gives back the bytes.
func encodeMetaValue(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	r := make([]rune, 0, len(v)+1)
	r = append(r, 0)
	for i := 0; i < len(v); i++ {
		r = append(r, rune(v[i]))
	}
	return string(r)
}

func decodeMetaValue(v string) string {
	rest, ok := strings.CutPrefix(v, "\x00")
	if !ok {
		return v
	}
	b := make([]byte, 0, len(rest))
	for _, r := range rest {
		b = append(b, byte(r))
	}
	return string(b)
}

// splitMeta separates the content type and the client's mtime from the
// metadata gofakes3 collected; the rest is kept as the object's metadata.
func splitMeta(meta map[string]string) (ctype string, mod time.Time, rest map[string]string) {
	rest = map[string]string{}
	for k, v := range meta {
		switch {
		case strings.EqualFold(k, "Content-Type"):
			ctype = v
		case strings.EqualFold(k, "Last-Modified"):
		default:
			rest[k] = encodeMetaValue(v)
			if strings.EqualFold(k, "X-Amz-Meta-Mtime") { // rclone and others: Unix seconds
				if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
					sec := int64(f)
					mod = time.Unix(sec, int64((f-float64(sec))*1e9))
				}
			}
		}
	}
	if len(rest) == 0 {
		rest = nil
	}
	return ctype, mod, rest
}

func (b *backend) PutObject(ctx context.Context, bucket, key string, meta map[string]string, input io.Reader, size int64) (gofakes3.PutObjectResult, error) {
	user, err := b.user(ctx)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if err := b.bucketExists(ctx, user, bucket); err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if strings.HasSuffix(key, "/") {
		return b.putFolder(ctx, user, bucket, key, input)
	}
	ctype, mod, rest := splitMeta(meta)
	rest = withStorageClass(rest, rest[storageClassKey])
	rest = withACL(ctx, rest)
	var sums *putSums // checksum headers (checksum.go)
	if st := stateFrom(ctx); st != nil {
		sums = st.putSums
	}
	if rest == nil && (trailerDeclared(ctx) || sums != nil) {
		rest = map[string]string{}
	}
	body := &stickyReader{r: input}
	o, err := b.gw.Put(ctx, gateway.PutInput{
		User: user, Bucket: bucket, Key: key, Body: body, ContentType: ctype, ModTime: mod, Meta: rest,
		MakeParents: true, MD5: frontMD5(input), Size: max(size, 0),
		Verify: func(s gateway.Sums) error {
			if body.err != nil {
				return body.err // the body failed verification
			}
			if size >= 0 && s.Size != size {
				return gofakes3.ErrorMessagef(gofakes3.ErrIncompleteBody, "got %d of %d bytes", s.Size, size)
			}
			// The body is read: a checksum trailer is known (and verified)
			// now, and kept as a checksum header would be (the gateway
			// stores the metadata after Verify).
			for h, v := range sums.values() {
				rest[h] = v
			}
			if h, v := trailerChecksum(ctx); v != "" && rest != nil {
				if _, ok := rest[h]; !ok {
					rest[h] = v
					if st := stateFrom(ctx); st != nil {
						st.checksumHeader, st.checksumValue = h, v
					}
				}
			}
			return nil
		},
		Check: func(cur *catalog.Object) error {
			// The bucket may have been deleted while the body came in.
			if _, err := b.gw.Catalog().GetBucket(ctx, user, bucket); err != nil {
				return gofakes3.BucketNotFound(bucket)
			}
			etag := ""
			if cur != nil {
				etag = cur.ETag()
			}
			return gofakes3.CheckWriteConditions(ctx, cur != nil, etag)
		},
	})
	if err != nil {
		return gofakes3.PutObjectResult{}, b.mapErr(ctx, bucket, key, err)
	}
	return gofakes3.PutObjectResult{ETag: o.ETag()}, nil
}

// frontMD5 returns the MD5 gofakes3 computes of a PUT body anyway (its
// hashing reader, which checks Content-MD5 and makes the ETag, has a Sum
// method), or nil when the body reaches us through another reader (a
// checksum header's): the gateway then computes it. MD5 is the costliest
// hash per byte; computing it once made 64 MiB PUTs about a fifth cheaper
// in CPU.
func frontMD5(input io.Reader) func() []byte {
	h, ok := input.(interface{ Sum([]byte) []byte })
	if !ok {
		return nil
	}
	return func() []byte { return h.Sum(nil) }
}

// stickyReader keeps returning the first error of r other than io.EOF,
// and remembers it for Verify: a body that failed verification (signature,
// checksum, length) is refused however the readers above it handle the
// error.
type stickyReader struct {
	r   io.Reader
	err error
}

func (s *stickyReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// withACL adds to an object's metadata the canned ACL the request sets.
// "private" on upload is S3's default, which is not kept: in a public
// bucket such an object stays readable (clients such as rclone send it on
// every upload); PutObjectAcl private is what makes an object private
// there.
func withACL(ctx context.Context, meta map[string]string) map[string]string {
	st := stateFrom(ctx)
	if st == nil || st.acl == "" || st.acl == "private" {
		return meta
	}
	if meta == nil {
		meta = map[string]string{}
	}
	meta[aclMetaKey] = st.acl
	return meta
}

// putFolder stores a zero-byte "name/" key as an explicit folder.
func (b *backend) putFolder(ctx context.Context, user, bucket, key string, input io.Reader) (gofakes3.PutObjectResult, error) {
	if n, _ := io.Copy(io.Discard, io.LimitReader(input, 1)); n > 0 {
		return gofakes3.PutObjectResult{}, gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument,
			"a key ending in '/' is a folder in Shoebox and cannot hold bytes")
	}
	err := b.gw.Mkdir(ctx, user, bucket, key, true, true)
	if errors.Is(err, gateway.ErrExists) {
		o, serr := b.gw.Stat(ctx, user, bucket, key)
		if serr != nil || !o.IsDir() {
			return gofakes3.PutObjectResult{}, b.mapErr(ctx, bucket, key, gateway.ErrNotDir)
		}
		err = b.gw.UpdateMeta(ctx, user, bucket, key, func(o *catalog.Object) { o.Explicit = true })
	}
	if err != nil {
		return gofakes3.PutObjectResult{}, b.mapErr(ctx, bucket, key, err)
	}
	return gofakes3.PutObjectResult{ETag: `"` + hex.EncodeToString(md5.New().Sum(nil)) + `"`}, nil
}

// DeleteObject deletes a file; a "name/" key drops the folder when it is
// empty and otherwise only stops listing it as a key. A missing key is
// not an error (S3 semantics).
func (b *backend) DeleteObject(ctx context.Context, bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	user, err := b.user(ctx)
	if err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	if err := b.bucketExists(ctx, user, bucket); err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	removed, err := b.deleteKey(ctx, user, bucket, key)
	if removed {
		b.pruneParents(ctx, user, bucket, key)
	}
	return gofakes3.ObjectDeleteResult{}, err
}

// deleteKey deletes key, reporting whether a row went (then the folders
// above it may be left empty: see pruneParents).
func (b *backend) deleteKey(ctx context.Context, user, bucket, key string) (bool, error) {
	o, err := b.gw.Catalog().Stat(ctx, user, bucket, key)
	if err != nil {
		return false, nil
	}
	if !o.IsDir() {
		err := b.gw.Remove(ctx, user, bucket, key)
		if errors.Is(err, gateway.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, b.mapErr(ctx, bucket, key, err)
		}
		return true, nil
	}
	removed, err := b.gw.RemoveIfEmpty(ctx, user, bucket, key, nil)
	if err != nil {
		return false, b.mapErr(ctx, bucket, key, err)
	}
	if removed {
		return true, nil
	}
	return false, b.gw.UpdateMeta(ctx, user, bucket, key, func(o *catalog.Object) { o.Explicit = false })
}

// pruneParents removes the folders above key that Shoebox made only to
// hold files (not explicit ones) once they are empty, as S3 prefixes vanish
// with their last key. Failures leave an empty folder, nothing worse.
func (b *backend) pruneParents(ctx context.Context, user, bucket, key string) {
	explicit := func(o catalog.Object) bool { return o.Explicit }
	for dir := gateway.Parent(key); dir != ""; dir = gateway.Parent(dir) {
		// A cheap look first: RemoveIfEmpty takes the gateway's tree lock.
		if o, err := b.gw.Catalog().Stat(ctx, user, bucket, dir); err != nil || o.Explicit || b.hasChild(ctx, user, bucket, dir, key) {
			return
		}
		if removed, err := b.gw.RemoveIfEmpty(ctx, user, bucket, dir, explicit); err != nil || !removed {
			return
		}
		key = dir
	}
}

// hasChild reports whether the folder dir holds anything. It looks after
// near, the child just deleted, first: the rows deleted before it are
// tombstones a scan from the folder's start would step over one by one,
// which made deleting a large folder in key order quadratic.
func (b *backend) hasChild(ctx context.Context, user, bucket, dir, near string) bool {
	has, err := b.gw.Catalog().HasChild(ctx, user, bucket, dir, near)
	return has || err != nil // in doubt, keep the folder
}

func (b *backend) DeleteMulti(ctx context.Context, bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	var res gofakes3.MultiDeleteResult
	user, err := b.user(ctx)
	if err != nil {
		return res, err
	}
	if err := b.bucketExists(ctx, user, bucket); err != nil {
		return res, err
	}
	// Deletes run side by side so their fsyncs (folder and catalog) are
	// shared; the answer keeps the request's order.
	errs := make([]error, len(keys))
	removed := make([]bool, len(keys))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			removed[i], errs[i] = b.deleteKey(ctx, user, bucket, k)
		}()
	}
	wg.Wait()
	// Folders left empty are pruned once each, deepest first, after the
	// deletes (per key, each check would step over the keys deleted so far).
	near := map[string]string{}
	for i, k := range keys {
		if removed[i] {
			near[gateway.Parent(k)] = k
		}
	}
	dirs := slices.SortedFunc(maps.Keys(near), func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range dirs {
		b.pruneParents(ctx, user, bucket, near[d])
	}
	for i, k := range keys {
		if errs[i] != nil {
			res.Error = append(res.Error, gofakes3.ErrorResult{Key: k, Code: gofakes3.ErrInternal, Message: errs[i].Error()})
			continue
		}
		res.Deleted = append(res.Deleted, gofakes3.ObjectID{Key: k})
	}
	return res, nil
}

func (b *backend) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	user, err := b.user(ctx)
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	for _, bk := range []string{srcBucket, dstBucket} {
		if err := b.bucketExists(ctx, user, bk); err != nil {
			return gofakes3.CopyObjectResult{}, err
		}
	}
	src, err := b.gw.Catalog().Stat(ctx, user, srcBucket, srcKey)
	if err != nil || src.IsDir() {
		return gofakes3.CopyObjectResult{}, gofakes3.KeyNotFound(srcKey)
	}
	ctype, mod, rest := splitMeta(meta)
	// A new checksum asked with x-amz-checksum-algorithm, of the content.
	sumHeader, sumValue := "", ""
	if st := stateFrom(ctx); st != nil && st.copyChecksum != "" {
		sumHeader = textproto.CanonicalMIMEHeaderKey("x-amz-checksum-" + st.copyChecksum)
		if sumValue, err = b.checksumOf(ctx, srcBucket, srcKey, st.copyChecksum); err != nil {
			return gofakes3.CopyObjectResult{}, err
		}
	}
	if srcBucket != dstBucket || srcKey != dstKey {
		if err := b.gw.MakeParents(ctx, user, dstBucket, dstKey); err != nil {
			return gofakes3.CopyObjectResult{}, b.mapErr(ctx, dstBucket, dstKey, err)
		}
		if err := b.gw.Copy(ctx, user, srcBucket, srcKey, dstBucket, dstKey); err != nil {
			return gofakes3.CopyObjectResult{}, b.mapErr(ctx, dstBucket, dstKey, err)
		}
	}
	now := time.Now()
	var out catalog.Object
	err = b.gw.UpdateMeta(ctx, user, dstBucket, dstKey, func(o *catalog.Object) {
		if ctype != "" {
			o.ContentType = ctype
		}
		// The copy keeps the source's multipart ETag, so its parts too.
		if ps, ok := o.Meta[partSizesKey]; ok && o.ETagValue != "" {
			if rest == nil {
				rest = map[string]string{}
			}
			rest[partSizesKey] = ps
		}
		// The content's checksum is not metadata: it stays with the
		// content whatever the directive, or is the new one asked for.
		for name := range checksumHashes {
			k := textproto.CanonicalMIMEHeaderKey(name)
			if v, ok := src.Meta[k]; ok && sumHeader == "" {
				if rest == nil {
					rest = map[string]string{}
				}
				rest[k] = v
			} else {
				delete(rest, k)
			}
		}
		if sumHeader != "" {
			if rest == nil {
				rest = map[string]string{}
			}
			rest[sumHeader] = sumValue
		}
		// The copy is in the class the request asks for, or STANDARD,
		// whatever the source's (as AWS does).
		class := ""
		if st := stateFrom(ctx); st != nil {
			class = st.storageClass
		}
		o.Meta = withACL(ctx, withStorageClass(rest, class))
		if !mod.IsZero() {
			o.ModNs = mod.UnixNano()
		}
		o.UploadNs = now.UnixNano()
		out = *o
	})
	if err != nil {
		return gofakes3.CopyObjectResult{}, b.mapErr(ctx, dstBucket, dstKey, err)
	}
	if st := stateFrom(ctx); st != nil {
		for name := range checksumHashes {
			if v := out.Meta[textproto.CanonicalMIMEHeaderKey(name)]; v != "" {
				if st.copySums == nil {
					st.copySums = map[string]string{}
				}
				st.copySums[name] = v
			}
		}
	}
	return gofakes3.CopyObjectResult{ETag: out.ETag(), LastModified: gofakes3.NewContentTime(now)}, nil
}

// checksumOf computes the checksum alg (lower case, as in
// x-amz-checksum-<alg>) of an object's content, base64.
func (b *backend) checksumOf(ctx context.Context, bucket, key, alg string) (string, error) {
	obj, err := b.object(ctx, bucket, key, nil, true)
	if err != nil {
		return "", err
	}
	defer obj.Contents.Close()
	h := checksumHashes["x-amz-checksum-"+alg]()
	if _, err := io.Copy(h, gateway.ContextReader(ctx, obj.Contents)); err != nil {
		return "", fmt.Errorf("checksum of %s/%s: %w", bucket, key, err)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}
