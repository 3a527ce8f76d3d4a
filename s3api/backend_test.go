package s3api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
	"shoebox/gateway/localfs"
	"shoebox/s3api"
)

// testAuth trusts the X-Test-User header (the signature layer has its own tests).
func testAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := r.Header.Get("X-Test-User")
		if u == "" {
			u = "alice"
		}
		next.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), u)))
	})
}

type env struct {
	gw  *gateway.Gateway
	cli *s3.Client
	url string
	dir string // data directory: objects/ and multipart/
	// uploadExpiry is the Config.UploadExpiry of the next restart.
	uploadExpiry time.Duration
}

func newEnv(t *testing.T) env {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	be, err := localfs.New(dir+"/objects", localfs.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	gw := gateway.New(be, cat, gateway.Options{Logger: quiet})
	return env{gw: gw, dir: dir}.restart(t)
}

// restart serves the same gateway and directories through a new S3
// handler, as a restarted server would.
func (e env) restart(t *testing.T) env {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := s3api.New(e.gw, s3api.Config{UploadDir: e.dir + "/multipart", UploadExpiry: e.uploadExpiry, Authenticate: testAuth, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.cli = s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", ""),
	})
	e.url = srv.URL
	return e
}

// asUser makes an SDK call as another user (testAuth).
func asUser(user string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("X-Test-User", user))
	}
}

var ctx = context.Background()

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return ""
}

func (e env) put(t *testing.T, bucket, key, body string) *s3.PutObjectOutput {
	t.Helper()
	out, err := e.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

func (e env) get(t *testing.T, bucket, key string) string {
	t.Helper()
	out, err := e.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return string(b)
}

func TestBucketsAndObjects(t *testing.T) {
	e := newEnv(t)
	if _, err := e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	// Creating it again is BucketAlreadyOwnedByYou, in every region (AWS's
	// behaviour outside us-east-1's legacy 200; s3conf checks it).
	if _, err := e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); code(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("second CreateBucket in the default region: %v; want BucketAlreadyOwnedByYou", err)
	}
	if _, err := e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos"), CreateBucketConfiguration: &types.CreateBucketConfiguration{
		LocationConstraint: types.BucketLocationConstraintEuWest1}}); code(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("second CreateBucket in eu-west-1: %v; want BucketAlreadyOwnedByYou", err)
	}
	if _, err := e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("by-date")}); code(err) != "InvalidBucketName" {
		t.Errorf("CreateBucket by-date: %v; want InvalidBucketName", err)
	}
	body := "jpeg bytes"
	sum := md5.Sum([]byte(body))
	out := e.put(t, "photos", "2019/trip/DSC 0042+1%.jpg", body)
	if *out.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("PUT ETag %s; want the MD5", *out.ETag)
	}
	if got := e.get(t, "photos", "2019/trip/DSC 0042+1%.jpg"); got != body {
		t.Errorf("GET = %q", got)
	}
	// The same object through the gateway (what WebDAV serves).
	o, err := e.gw.Stat(ctx, "alice", "photos", "2019/trip/DSC 0042+1%.jpg")
	if err != nil || o.Size != int64(len(body)) {
		t.Errorf("gateway Stat = %+v, %v", o, err)
	}
	rng, err := e.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("2019/trip/DSC 0042+1%.jpg"), Range: aws.String("bytes=5-9")})
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(rng.Body)
	if string(rb) != "bytes" {
		t.Errorf("Range GET = %q; want bytes", rb)
	}
	// Bob does not see alice's buckets.
	req, _ := http.NewRequest("GET", e.url+"/", nil)
	req.Header.Set("X-Test-User", "bob")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(lb), "photos") {
		t.Errorf("bob's ListBuckets shows alice's bucket: %s", lb)
	}
	if _, err := e.cli.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("photos")}); code(err) != "BucketNotEmpty" {
		t.Errorf("DeleteBucket non-empty: %v; want BucketNotEmpty", err)
	}
	if _, err := e.cli.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("2019/trip/DSC 0042+1%.jpg")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cli.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Errorf("DeleteBucket after its only key went (implicit folders remain): %v", err)
	}
}

func TestFoldersAndConflicts(t *testing.T) {
	e := newEnv(t)
	e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")})
	e.put(t, "bkt", "empty/", "")
	o, err := e.gw.Stat(ctx, "alice", "bkt", "empty")
	if err != nil || !o.IsDir() || !o.Explicit {
		t.Errorf("zero-byte PUT of empty/ = %+v, %v; want an explicit folder", o, err)
	}
	if err := e.gw.Mkdir(ctx, "alice", "bkt", "made-by-mkcol", false, true); err != nil {
		t.Fatal(err)
	}
	e.put(t, "bkt", "a", "file a")
	_, err = e.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a/b"), Body: strings.NewReader("x")})
	if code(err) != "KeyConflict" {
		t.Errorf("PUT a/b over file a: %v; want KeyConflict", err)
	}
	e.put(t, "bkt", "dir/inner", "x")
	_, err = e.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir"), Body: strings.NewReader("x")})
	if code(err) != "KeyConflict" {
		t.Errorf("PUT dir over folder dir/: %v; want KeyConflict", err)
	}
	if got := e.get(t, "bkt", "a"); got != "file a" {
		t.Errorf("a after conflicts = %q", got)
	}
	list, err := e.cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, *c.Key)
	}
	want := []string{"a", "dir/inner", "empty/", "made-by-mkcol/"}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("keys = %v; want %v (implicit folder dir/ is not a key)", keys, want)
	}
}

func TestListPaging(t *testing.T) {
	e := newEnv(t)
	e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")})
	var all []string
	for _, d := range []string{"x", "y", "z"} {
		for i := range 7 {
			k := fmt.Sprintf("%s/%02d.jpg", d, i)
			e.put(t, "bkt", k, k)
			all = append(all, k)
		}
	}
	e.put(t, "bkt", "top.txt", "t")
	all = append(all, "top.txt")
	sort.Strings(all)
	// v2 without delimiter, pages of 5.
	var got []string
	var token *string
	for pages := 0; ; pages++ {
		out, err := e.cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(5), ContinuationToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range out.Contents {
			got = append(got, *c.Key)
		}
		if !*out.IsTruncated {
			break
		}
		token = out.NextContinuationToken
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(all) {
		t.Errorf("paged keys = %v; want %v", got, all)
	}
	// Delimiter: common prefixes, paged two at a time.
	var prefixes, keys []string
	var marker *string
	for {
		out, err := e.cli.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("bkt"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, *p.Prefix)
		}
		for _, c := range out.Contents {
			keys = append(keys, *c.Key)
		}
		if !*out.IsTruncated {
			break
		}
		marker = out.NextMarker
	}
	if fmt.Sprint(prefixes) != "[x/ y/ z/]" || fmt.Sprint(keys) != "[top.txt]" {
		t.Errorf("delimited listing: prefixes %v keys %v; want [x/ y/ z/] [top.txt]", prefixes, keys)
	}
	out, err := e.cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("y/0"), StartAfter: aws.String("y/03.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 3 || *out.Contents[0].Key != "y/04.jpg" {
		t.Errorf("prefix+start-after: %d keys, first %v", len(out.Contents), out.Contents)
	}
}

func TestCopyAndMetadata(t *testing.T) {
	e := newEnv(t)
	for _, b := range []string{"src", "dst"} {
		e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
	}
	_, err := e.cli.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("src"), Key: aws.String("k"), Body: strings.NewReader("content"),
		ContentType: aws.String("image/jpeg"), Metadata: map[string]string{"camera": "x100"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("deep/copy"), CopySource: aws.String("src/k")})
	if err != nil {
		t.Fatal(err)
	}
	h, err := e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("deep/copy")})
	if err != nil {
		t.Fatal(err)
	}
	if *h.ContentType != "image/jpeg" || h.Metadata["camera"] != "x100" {
		t.Errorf("COPY directive: type %q meta %v", *h.ContentType, h.Metadata)
	}
	_, err = e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("k"), CopySource: aws.String("src/k"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/plain"), Metadata: map[string]string{"new": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	h, _ = e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("src"), Key: aws.String("k")})
	if *h.ContentType != "text/plain" || h.Metadata["new"] != "1" || h.Metadata["camera"] != "" {
		t.Errorf("REPLACE directive: type %q meta %v", *h.ContentType, h.Metadata)
	}
	if got := e.get(t, "src", "k"); got != "content" {
		t.Errorf("content after metadata replace = %q", got)
	}
	del, err := e.cli.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("dst"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("deep/copy")}, {Key: aws.String("missing")}}}})
	if err != nil || len(del.Deleted) != 2 {
		t.Errorf("DeleteObjects: %v, %+v", err, del)
	}
}

func TestMultipart(t *testing.T) {
	e := newEnv(t)
	e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")})
	parts := [][]byte{make([]byte, 5<<20), make([]byte, 5<<20), []byte("tail")}
	for _, p := range parts[:2] {
		rand.Read(p)
	}
	cr, err := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("video.mp4"), ContentType: aws.String("video/mp4")})
	if err != nil {
		t.Fatal(err)
	}
	var done []types.CompletedPart
	etagSum := md5.New()
	for i, p := range parts {
		up, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("video.mp4"), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		s := md5.Sum(p)
		etagSum.Write(s[:])
		done = append(done, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	comp, err := e.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("video.mp4"), UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`"%s-3"`, hex.EncodeToString(etagSum.Sum(nil)))
	if *comp.ETag != want {
		t.Errorf("Complete ETag %s; want %s", *comp.ETag, want)
	}
	h, err := e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("video.mp4")})
	if err != nil {
		t.Fatal(err)
	}
	if *h.ETag != want || *h.ContentLength != int64(10<<20+4) || *h.ContentType != "video/mp4" {
		t.Errorf("HEAD after multipart: etag %s len %d type %s", *h.ETag, *h.ContentLength, *h.ContentType)
	}
	got := e.get(t, "bkt", "video.mp4")
	if got != string(bytes.Join(parts, nil)) {
		t.Errorf("assembled object differs (%d bytes)", len(got))
	}
	// A small non-last part is refused.
	cr2, _ := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("small")})
	var small []types.CompletedPart
	for i := range 2 {
		up, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("small"), UploadId: cr2.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader("tiny")})
		if err != nil {
			t.Fatal(err)
		}
		small = append(small, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	_, err = e.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("small"), UploadId: cr2.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: small}})
	if code(err) != "EntityTooSmall" {
		t.Errorf("Complete with a small first part: %v; want EntityTooSmall", err)
	}
	if _, err := e.cli.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("small"), UploadId: cr2.UploadId}); err != nil {
		t.Errorf("Abort: %v", err)
	}
	if _, err := e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("small")}); err == nil {
		t.Error("aborted upload left an object")
	}
}

// TestContinueOnEmptyBody: a body-less request that expects 100-continue
// gets the 100 before its final status (botocore loses its connection's
// framing otherwise).
func TestContinueOnEmptyBody(t *testing.T) {
	e := newEnv(t)
	e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")})
	c, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "PUT /bkt/empty HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(c)
	first, _ := br.ReadString('\n')
	if !strings.HasPrefix(first, "HTTP/1.1 100") {
		t.Fatalf("first status line %q; want 100 Continue", first)
	}
	for line := ""; line != "\r\n"; {
		if line, err = br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("final response %v, %v; want 200", resp, err)
	}
}

func TestConditionsLocationPartCopy(t *testing.T) {
	e := newEnv(t)
	e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")})
	put := e.put(t, "bkt", "k", "hello world")
	if _, err := e.cli.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("bkt")}); err != nil {
		t.Errorf("GetBucketLocation: %v", err)
	}
	_, err := e.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfMatch: aws.String(`"nope"`)})
	if code(err) != "PreconditionFailed" {
		t.Errorf("If-Match mismatch: %v; want PreconditionFailed", err)
	}
	if _, err := e.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfMatch: put.ETag}); err != nil {
		t.Errorf("If-Match with the ETag: %v", err)
	}
	_, err = e.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfNoneMatch: put.ETag})
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 304 {
		t.Errorf("If-None-Match with the ETag: %v; want 304", err)
	}
	// Another user's bucket: AccessDenied; a missing one: NoSuchBucket.
	req, _ := http.NewRequest("GET", e.url+"/bkt/k", nil)
	req.Header.Set("X-Test-User", "mallory")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "AccessDenied") {
		t.Errorf("other user's bucket: %d %s; want 403 AccessDenied", resp.StatusCode, body)
	}
	if _, err := e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k")}); err == nil {
		t.Error("HEAD in a missing bucket succeeded")
	}
	// UploadPartCopy, ListParts, ListMultipartUploads.
	big := bytes.Repeat([]byte("0123456789abcdef"), (5<<20)/16)
	e.put(t, "bkt", "src", string(big))
	cr, err := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("assembled")})
	if err != nil {
		t.Fatal(err)
	}
	ups, err := e.cli.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("bkt")})
	if err != nil || len(ups.Uploads) != 1 {
		t.Errorf("ListMultipartUploads: %v, %d uploads; want 1", err, len(ups.Uploads))
	}
	pc, err := e.cli.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("bkt"), Key: aws.String("assembled"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String("bkt/src")})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("assembled"), UploadId: cr.UploadId, PartNumber: aws.Int32(2), Body: strings.NewReader("end")})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := e.cli.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("bkt"), Key: aws.String("assembled"), UploadId: cr.UploadId})
	if err != nil || len(lp.Parts) != 2 {
		t.Errorf("ListParts: %v, %d parts; want 2", err, len(lp.Parts))
	}
	_, err = e.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("assembled"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{ETag: pc.CopyPartResult.ETag, PartNumber: aws.Int32(1)}, {ETag: p2.ETag, PartNumber: aws.Int32(2)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, "bkt", "assembled"); got != string(big)+"end" {
		t.Errorf("assembled from a copied part: %d bytes", len(got))
	}
}

// TestSameBucketNameTwoUsers: buckets are per user; a name taken by one
// user can still be created by another, and each sees only their own.
func TestSameBucketNameTwoUsers(t *testing.T) {
	e := newEnv(t)
	e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("phone")})
	e.put(t, "phone", "alice.jpg", "a")
	do := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, e.url+path, nil)
		req.Header.Set("X-Test-User", "bob")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if st, body := do("PUT", "/phone"); st != 200 {
		t.Fatalf("bob creates his own phone: %d %s", st, body)
	}
	if st, body := do("GET", "/phone?list-type=2"); st != 200 || strings.Contains(body, "alice.jpg") {
		t.Errorf("bob lists his phone: %d %s", st, body)
	}
	if got := e.get(t, "phone", "alice.jpg"); got != "a" {
		t.Errorf("alice's file = %q", got)
	}
}

// TestDeletePrunesImplicitFolders: deleting the last key under a prefix
// removes the folders made only to hold it, not explicit ones.
func TestDeletePrunesImplicitFolders(t *testing.T) {
	e := newEnv(t)
	e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")})
	e.put(t, "bkt", "keep/", "")
	e.put(t, "bkt", "keep/a/b/c.jpg", "x")
	e.put(t, "bkt", "gone/x/y.jpg", "y")
	for _, k := range []string{"keep/a/b/c.jpg", "gone/x/y.jpg"} {
		if _, err := e.cli.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	for k, want := range map[string]bool{"keep": true, "keep/a": false, "gone": false, "gone/x": false} {
		_, err := e.gw.Stat(ctx, "alice", "bkt", k)
		if (err == nil) != want {
			t.Errorf("folder %s exists = %v; want %v", k, err == nil, want)
		}
	}
}

// TestWebDAVBucketNames: a bucket made over WebDAV with a name S3 would
// not create (upper case, like "Phone") is still served over S3.
func TestWebDAVBucketNames(t *testing.T) {
	e := newEnv(t)
	if err := e.gw.MakeBucket(ctx, "alice", "Phone"); err != nil {
		t.Fatal(err)
	}
	e.put(t, "Phone", "IMG_0001.HEIC", "heic")
	if got := e.get(t, "Phone", "IMG_0001.HEIC"); got != "heic" {
		t.Errorf("GET = %q", got)
	}
	out, err := e.cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("Phone")})
	if err != nil || len(out.Contents) != 1 {
		t.Errorf("list: %v, %d keys", err, len(out.Contents))
	}
}

// TestMultipartSurvivesRestart: an upload's state is on disk, so a new
// server over the same directory lists the upload and its parts, takes
// more parts, and completes it; completing again gives the same answer.
func TestMultipartSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	bkt, key := aws.String("bkt"), aws.String("dir/big file+%.bin")
	e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bkt})
	cr, err := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bkt, Key: key, ContentType: aws.String("application/x-test"), Metadata: map[string]string{"who": "me"}})
	if err != nil {
		t.Fatal(err)
	}
	p1 := make([]byte, 5<<20)
	rand.Read(p1)
	u1, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: bkt, Key: key, UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(p1)})
	if err != nil {
		t.Fatal(err)
	}
	// A part cut short by a crash leaves a temp file behind.
	stale := filepath.Join(e.dir, "multipart", *cr.UploadId, ".tmp-part-crashed")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}

	e2 := e.restart(t)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("temp file of a broken part still there after restart: %v", err)
	}
	ups, err := e2.cli.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bkt})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 1 || *ups.Uploads[0].UploadId != *cr.UploadId || *ups.Uploads[0].Key != *key {
		t.Fatalf("uploads after restart: %+v; want %s", ups.Uploads, *cr.UploadId)
	}
	lp, err := e2.cli.ListParts(ctx, &s3.ListPartsInput{Bucket: bkt, Key: key, UploadId: cr.UploadId})
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Parts) != 1 || *lp.Parts[0].ETag != *u1.ETag || *lp.Parts[0].Size != int64(len(p1)) {
		t.Fatalf("parts after restart: %+v; want part 1 %s", lp.Parts, *u1.ETag)
	}
	u2, err := e2.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: bkt, Key: key, UploadId: cr.UploadId, PartNumber: aws.Int32(2), Body: strings.NewReader("tail")})
	if err != nil {
		t.Fatal(err)
	}
	in := &s3.CompleteMultipartUploadInput{Bucket: bkt, Key: key, UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
		{ETag: u1.ETag, PartNumber: aws.Int32(1)}, {ETag: u2.ETag, PartNumber: aws.Int32(2)}}}}
	comp, err := e2.cli.CompleteMultipartUpload(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e2.cli.CompleteMultipartUpload(ctx, in)
	if err != nil || *again.ETag != *comp.ETag {
		t.Errorf("completing again: %v, %v; want ETag %s", err, again, *comp.ETag)
	}
	h, err := e2.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bkt, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if *h.ContentLength != int64(len(p1)+4) || *h.ContentType != "application/x-test" || h.Metadata["who"] != "me" || *h.ETag != *comp.ETag {
		t.Errorf("object: len %d type %s meta %v etag %s", *h.ContentLength, *h.ContentType, h.Metadata, *h.ETag)
	}
	if got := e2.get(t, "bkt", *key); got != string(p1)+"tail" {
		t.Errorf("assembled object differs (%d bytes)", len(got))
	}
	ups, err = e2.cli.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bkt})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("uploads after completion: %v, %+v; want none", err, ups.Uploads)
	}
	if _, err := e2.cli.ListParts(ctx, &s3.ListPartsInput{Bucket: bkt, Key: key, UploadId: cr.UploadId}); code(err) != "NoSuchUpload" {
		t.Errorf("ListParts of a completed upload: %v; want NoSuchUpload", err)
	}
	// Another user does not see, list or complete the upload.
	cr3, _ := e2.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bkt, Key: aws.String("mine")})
	_, err = e2.cli.ListParts(ctx, &s3.ListPartsInput{Bucket: bkt, Key: aws.String("mine"), UploadId: cr3.UploadId}, asUser("bob"))
	if code(err) != "AccessDenied" && code(err) != "NoSuchUpload" {
		t.Errorf("bob lists alice's parts: %v; want AccessDenied", err)
	}
}

// TestMultipartChecksums: an upload with a checksum algorithm keeps each
// part's checksum and gives the object S3's composite checksum (of the
// parts' checksums, "-N"), on completion and on HEAD; a wrong composite
// sent with the completion is refused.
func TestMultipartChecksums(t *testing.T) {
	e := newEnv(t)
	bkt := aws.String("sums")
	e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bkt})
	parts := [][]byte{bytes.Repeat([]byte("a"), 5<<20), []byte("tail")}
	composite := sha256.New()
	upload := func(key string) (*string, []types.CompletedPart) {
		cr, err := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bkt, Key: aws.String(key), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
		if err != nil {
			t.Fatal(err)
		}
		var done []types.CompletedPart
		for i, p := range parts {
			sum := sha256.Sum256(p)
			b64 := base64.StdEncoding.EncodeToString(sum[:])
			up, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: bkt, Key: aws.String(key), UploadId: cr.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumSHA256: aws.String(b64)})
			if err != nil {
				t.Fatal(err)
			}
			done = append(done, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumSHA256: aws.String(b64)})
		}
		return cr.UploadId, done
	}
	for _, p := range parts {
		s := sha256.Sum256(p)
		composite.Write(s[:])
	}
	want := base64.StdEncoding.EncodeToString(composite.Sum(nil)) + "-2"

	id, done := upload("good")
	comp, err := e.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bkt, Key: aws.String("good"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatal(err)
	}
	if comp.ChecksumSHA256 == nil || *comp.ChecksumSHA256 != want {
		t.Errorf("complete: checksum %v; want %s", aws.ToString(comp.ChecksumSHA256), want)
	}
	h, err := e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bkt, Key: aws.String("good"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || aws.ToString(h.ChecksumSHA256) != want {
		t.Errorf("HEAD with checksum mode: %v, %v; want %s", err, aws.ToString(h.ChecksumSHA256), want)
	}

	id, done = upload("bad")
	_, err = e.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bkt, Key: aws.String("bad"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}, ChecksumSHA256: aws.String("Ok6Cs5b96ux6+MWQkJO7UBT5sKPBeXBLwvj/hK89smg=-2")})
	if code(err) != "BadDigest" {
		t.Errorf("complete with a wrong composite checksum: %v; want BadDigest", err)
	}
	// A part whose checksum does not match its bytes is refused.
	cr, _ := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bkt, Key: aws.String("x"), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	_, err = e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: bkt, Key: aws.String("x"), UploadId: cr.UploadId, PartNumber: aws.Int32(1),
		Body: strings.NewReader("data"), ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(make([]byte, 32)))})
	if code(err) != "BadDigest" {
		t.Errorf("part with a wrong checksum: %v; want BadDigest", err)
	}
}

// TestMultipartExpiry: an upload no part of which was written for
// UploadExpiry is removed at start-up; a fresh one is kept.
func TestMultipartExpiry(t *testing.T) {
	e := newEnv(t)
	bkt := aws.String("bkt")
	e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bkt})
	ids := map[string]string{}
	for _, k := range []string{"old", "fresh"} {
		cr, err := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bkt, Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: bkt, Key: aws.String(k), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("p")}); err != nil {
			t.Fatal(err)
		}
		ids[k] = *cr.UploadId
	}
	weekAgo := time.Now().Add(-8 * 24 * time.Hour)
	if err := os.Chtimes(filepath.Join(e.dir, "multipart", ids["old"]), weekAgo, weekAgo); err != nil {
		t.Fatal(err)
	}
	e.uploadExpiry = 7 * 24 * time.Hour
	e = e.restart(t)
	ups, err := e.cli.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bkt})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 1 || *ups.Uploads[0].UploadId != ids["fresh"] {
		t.Errorf("uploads after a restart: %+v; want only the fresh one %s", ups.Uploads, ids["fresh"])
	}
	if _, err := os.Stat(filepath.Join(e.dir, "multipart", ids["old"])); !os.IsNotExist(err) {
		t.Errorf("the expired upload's folder is still there: %v", err)
	}
}
