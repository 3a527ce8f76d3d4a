package s3api_test

// More conformance cases in the manner of third-party S3 suites: canned
// ACLs as read back, anonymous requests through the real authentication
// (with PublicAccess), presigned URL lifetimes, conditional requests and
// stored headers. Written from S3's documented behaviour.

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/localfs"
	"shoebox/s3api"
)

// authEnv is a server with real SigV4 authentication: alice and bob have
// one key each, and anonymous requests go through PublicAccess.
type authEnv struct {
	url        string
	alice, bob *s3.Client
	anon       *s3.Client
}

func newAuthEnv(t *testing.T) authEnv {
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
	for _, u := range []string{"alice", "bob"} {
		if err := cat.PutUser(context.Background(), catalog.User{Name: u, PasswordHash: "h"}, true); err != nil {
			t.Fatal(err)
		}
	}
	keys := map[string][2]string{"AKALICE": {"alice", "alice-secret"}, "AKBOB": {"bob", "bob-secret"}}
	lookup := func(ctx context.Context, id string) (string, string, error) {
		if k, ok := keys[id]; ok {
			return k[0], k[1], nil
		}
		return "", "", s3api.ErrUnknownAccessKey
	}
	h, err := s3api.New(gw, s3api.Config{UploadDir: dir + "/multipart", Logger: quiet,
		Authenticate: func(next http.Handler) http.Handler {
			return s3api.Authenticate(lookup, next, s3api.AuthLogger(quiet), s3api.PublicAccess(gw))
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := func(id, secret string) *s3.Client {
		o := s3.Options{BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", UsePathStyle: true}
		if id != "" {
			o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
		}
		return s3.New(o)
	}
	return authEnv{url: srv.URL, alice: client("AKALICE", "alice-secret"), bob: client("AKBOB", "bob-secret"), anon: client("", "")}
}

func status(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	if err != nil {
		return -1
	}
	return 200
}

func wantErr(t *testing.T, what string, err error, st int, c string) {
	t.Helper()
	if status(err) != st || (c != "" && code(err) != c) {
		t.Errorf("%s: %v; want %d %s", what, err, st, c)
	}
}

type grant struct{ typ, id, uri, perm string }

func grantsOf(gs []types.Grant) []grant {
	var out []grant
	for _, g := range gs {
		out = append(out, grant{string(g.Grantee.Type), aws.ToString(g.Grantee.ID), aws.ToString(g.Grantee.URI), string(g.Permission)})
	}
	return out
}

func TestConformanceCannedACL(t *testing.T) {
	e := newEnv(t)
	owner := grant{"CanonicalUser", "alice", "", "FULL_CONTROL"}
	allRead := grant{"Group", "", "http://acs.amazonaws.com/groups/global/AllUsers", "READ"}
	allWrite := grant{"Group", "", "http://acs.amazonaws.com/groups/global/AllUsers", "WRITE"}
	authRead := grant{"Group", "", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "READ"}
	bucketGrants := func(t *testing.T, b string, want ...grant) {
		t.Helper()
		out, err := e.cli.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(grantsOf(out.Grants)) != fmt.Sprint(want) || aws.ToString(out.Owner.ID) != "alice" {
			t.Errorf("bucket %s grants %v owner %v; want %v", b, grantsOf(out.Grants), aws.ToString(out.Owner.ID), want)
		}
	}
	objectGrants := func(t *testing.T, b, k string, want ...grant) {
		t.Helper()
		out, err := e.cli.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(grantsOf(out.Grants)) != fmt.Sprint(want) {
			t.Errorf("object %s/%s grants %v; want %v", b, k, grantsOf(out.Grants), want)
		}
	}
	t.Run("bucket default", func(t *testing.T) {
		e.mkBucket(t, "acl-default")
		bucketGrants(t, "acl-default", owner)
	})
	t.Run("bucket canned during create", func(t *testing.T) {
		for acl, want := range map[types.BucketCannedACL][]grant{
			types.BucketCannedACLPublicRead:        {allRead, owner},
			types.BucketCannedACLPublicReadWrite:   {allRead, allWrite, owner},
			types.BucketCannedACLAuthenticatedRead: {authRead, owner},
			types.BucketCannedACLPrivate:           {owner},
		} {
			b := "acl-create-" + string(acl)
			if _, err := e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b), ACL: acl}); err != nil {
				t.Fatal(err)
			}
			bucketGrants(t, b, want...)
		}
	})
	t.Run("bucket put acl", func(t *testing.T) {
		e.mkBucket(t, "acl-put")
		if _, err := e.cli.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("acl-put"), ACL: types.BucketCannedACLPublicRead}); err != nil {
			t.Fatal(err)
		}
		bucketGrants(t, "acl-put", allRead, owner)
		if b, err := e.gw.Catalog().GetBucket(ctx, "alice", "acl-put"); err != nil || !b.Public {
			t.Errorf("public-read bucket not public: %+v %v", b, err)
		}
		if _, err := e.cli.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("acl-put"), ACL: types.BucketCannedACLPrivate}); err != nil {
			t.Fatal(err)
		}
		bucketGrants(t, "acl-put", owner)
		if b, _ := e.gw.Catalog().GetBucket(ctx, "alice", "acl-put"); b.Public {
			t.Errorf("private bucket still public")
		}
		// A policy body of group grants is a canned ACL too.
		_, err := e.cli.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("acl-put"), AccessControlPolicy: &types.AccessControlPolicy{
			Owner: &types.Owner{ID: aws.String("alice")},
			Grants: []types.Grant{
				{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String("http://acs.amazonaws.com/groups/global/AllUsers")}, Permission: types.PermissionRead},
				{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String("alice")}, Permission: types.PermissionFullControl},
			}}})
		if err != nil {
			t.Fatal(err)
		}
		bucketGrants(t, "acl-put", allRead, owner)
		_, err = e.cli.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("acl-put"), AccessControlPolicy: &types.AccessControlPolicy{
			Owner: &types.Owner{ID: aws.String("alice")},
			Grants: []types.Grant{
				{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String("bob")}, Permission: types.PermissionRead},
			}}})
		if err == nil {
			t.Errorf("grant to another user accepted")
		}
		bucketGrants(t, "acl-put", allRead, owner)
		e.cli.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("acl-put"), ACL: types.BucketCannedACLPrivate})
		// Made public by the CLI: read back as public-read.
		e.gw.Catalog().SetBucketPublic(ctx, "alice", "acl-put", true)
		bucketGrants(t, "acl-put", allRead, owner)
		wantStatus(t, "bad canned ACL", e.raw(t, "PUT", "/acl-put?acl", map[string]string{"x-amz-acl": "nonsense"}, nil), 400, "InvalidArgument")
	})
	t.Run("object canned", func(t *testing.T) {
		e.mkBucket(t, "acl-obj")
		e.put(t, "acl-obj", "plain", "bar")
		objectGrants(t, "acl-obj", "plain", owner)
		for acl, want := range map[types.ObjectCannedACL][]grant{
			types.ObjectCannedACLPublicRead:        {allRead, owner},
			types.ObjectCannedACLPublicReadWrite:   {allRead, allWrite, owner},
			types.ObjectCannedACLAuthenticatedRead: {authRead, owner},
		} {
			k := "obj-" + string(acl)
			if _, err := e.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acl-obj"), Key: aws.String(k), ACL: acl, Body: strings.NewReader("bar")}); err != nil {
				t.Fatal(err)
			}
			objectGrants(t, "acl-obj", k, want...)
		}
		if _, err := e.cli.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("acl-obj"), Key: aws.String("obj-public-read"), ACL: types.ObjectCannedACLPrivate}); err != nil {
			t.Fatal(err)
		}
		objectGrants(t, "acl-obj", "obj-public-read", owner)
		if _, err := e.cli.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("acl-obj"), Key: aws.String("plain"), ACL: types.ObjectCannedACLPublicRead}); err != nil {
			t.Fatal(err)
		}
		objectGrants(t, "acl-obj", "plain", allRead, owner)
		// The ACL is no metadata.
		h, err := e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("acl-obj"), Key: aws.String("plain")})
		if err != nil || len(h.Metadata) != 0 {
			t.Errorf("metadata %v %v", h.Metadata, err)
		}
		// A copy gets the ACL it is given, not the source's.
		if _, err := e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("acl-obj"), Key: aws.String("copy"), CopySource: aws.String("acl-obj/plain")}); err != nil {
			t.Fatal(err)
		}
		objectGrants(t, "acl-obj", "copy", owner)
		if _, err := e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("acl-obj"), Key: aws.String("copy2"), CopySource: aws.String("acl-obj/copy"), ACL: types.ObjectCannedACLPublicRead}); err != nil {
			t.Fatal(err)
		}
		objectGrants(t, "acl-obj", "copy2", allRead, owner)
		// Overwriting resets it.
		e.put(t, "acl-obj", "copy2", "new")
		objectGrants(t, "acl-obj", "copy2", owner)
	})
}

func TestConformanceAnonymous(t *testing.T) {
	e := newAuthEnv(t)
	mk := func(t *testing.T, name string, acl types.BucketCannedACL) {
		t.Helper()
		if _, err := e.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name), ACL: acl}); err != nil {
			t.Fatalf("CreateBucket %s: %v", name, err)
		}
	}
	put := func(t *testing.T, b, k string, acl types.ObjectCannedACL) {
		t.Helper()
		if _, err := e.alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), ACL: acl, Body: strings.NewReader(k)}); err != nil {
			t.Fatalf("PutObject %s/%s: %v", b, k, err)
		}
	}
	get := func(c *s3.Client, b, k string) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err == nil {
			out.Body.Close()
		}
		return err
	}
	t.Run("list buckets", func(t *testing.T) {
		mk(t, "anon-lb", "")
		_, err := e.anon.ListBuckets(ctx, &s3.ListBucketsInput{})
		wantErr(t, "anonymous ListBuckets", err, 403, "AccessDenied")
	})
	t.Run("list objects", func(t *testing.T) {
		mk(t, "anon-pub", types.BucketCannedACLPublicRead)
		mk(t, "anon-priv", "")
		if _, err := e.anon.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("anon-pub")}); err != nil {
			t.Errorf("public v1: %v", err)
		}
		if _, err := e.anon.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("anon-pub")}); err != nil {
			t.Errorf("public v2: %v", err)
		}
		_, err := e.anon.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("anon-priv")})
		wantErr(t, "private v1", err, 403, "AccessDenied")
		_, err = e.anon.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("anon-priv")})
		wantErr(t, "private v2", err, 403, "AccessDenied")
		// Made public with PutBucketAcl.
		if _, err := e.alice.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("anon-priv"), ACL: types.BucketCannedACLPublicRead}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.anon.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("anon-priv")}); err != nil {
			t.Errorf("after PutBucketAcl public-read: %v", err)
		}
	})
	t.Run("objects", func(t *testing.T) {
		mk(t, "anon-objs", types.BucketCannedACLPublicRead)
		put(t, "anon-objs", "pub", types.ObjectCannedACLPublicRead)
		put(t, "anon-objs", "priv", "")
		put(t, "anon-objs", "plain", types.ObjectCannedACLPrivate)
		if _, err := e.alice.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("anon-objs"), Key: aws.String("priv"), ACL: types.ObjectCannedACLPrivate}); err != nil {
			t.Fatal(err)
		}
		// Uploaded "private" (clients send it by default): as the bucket.
		if err := get(e.anon, "anon-objs", "plain"); err != nil {
			t.Errorf("object uploaded private in public bucket: %v", err)
		}
		if err := get(e.anon, "anon-objs", "pub"); err != nil {
			t.Errorf("public object in public bucket: %v", err)
		}
		wantErr(t, "private object in public bucket", get(e.anon, "anon-objs", "priv"), 403, "AccessDenied")
		wantErr(t, "missing object in public bucket", get(e.anon, "anon-objs", "nope"), 404, "NoSuchKey")
		_, err := e.anon.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("anon-objs"), Key: aws.String("w"), Body: strings.NewReader("x")})
		wantErr(t, "anonymous put", err, 403, "AccessDenied")

		mk(t, "anon-privb", types.BucketCannedACLPrivate)
		put(t, "anon-privb", "pub", types.ObjectCannedACLPublicRead)
		put(t, "anon-privb", "priv", "")
		if err := get(e.anon, "anon-privb", "pub"); err != nil {
			t.Errorf("public object in private bucket: %v", err)
		}
		wantErr(t, "private object in private bucket", get(e.anon, "anon-privb", "priv"), 403, "AccessDenied")
		_, err = e.anon.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("anon-privb"), Key: aws.String("pub")})
		wantErr(t, "anonymous GetObjectAcl", err, 403, "AccessDenied")
	})
	t.Run("bucket gone", func(t *testing.T) {
		mk(t, "anon-gone", types.BucketCannedACLPublicRead)
		put(t, "anon-gone", "foo", types.ObjectCannedACLPublicRead)
		e.alice.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("anon-gone"), Key: aws.String("foo")})
		wantErr(t, "object gone", get(e.anon, "anon-gone", "foo"), 404, "NoSuchKey")
		if _, err := e.alice.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("anon-gone")}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "GET in deleted bucket", get(e.anon, "anon-gone", "foo"), 404, "NoSuchBucket")
		_, err := e.anon.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("anon-gone"), Key: aws.String("foo")})
		wantErr(t, "DELETE in deleted bucket", err, 404, "NoSuchBucket")
		_, err = e.anon.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("anon-new")})
		wantErr(t, "anonymous CreateBucket", err, 403, "AccessDenied")
		if _, err := e.bob.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("anon-new")}); status(err) != 404 {
			t.Errorf("anonymous CreateBucket made a bucket: %v", err)
		}
	})
	t.Run("authenticated", func(t *testing.T) {
		mk(t, "anon-auth", types.BucketCannedACLPublicRead)
		put(t, "anon-auth", "foo", types.ObjectCannedACLPublicRead)
		if err := get(e.alice, "anon-auth", "foo"); err != nil {
			t.Errorf("owner: %v", err)
		}
		_, err := e.bob.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil {
			t.Errorf("bob ListBuckets: %v", err)
		}
		// Another user reads what anyone may read, and no more.
		mk(t, "shared-priv", "")
		put(t, "shared-priv", "pub", types.ObjectCannedACLPublicRead)
		put(t, "shared-priv", "priv", "")
		if err := get(e.bob, "shared-priv", "pub"); err != nil {
			t.Errorf("bob reading a public-read object: %v", err)
		}
		wantErr(t, "bob reading a private object", get(e.bob, "shared-priv", "priv"), 403, "AccessDenied")
		_, err = e.bob.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("shared-priv")})
		wantErr(t, "bob listing a private bucket", err, 403, "AccessDenied")
		_, err = e.bob.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared-priv"), Key: aws.String("pub"), Body: strings.NewReader("x")})
		wantErr(t, "bob writing", err, 403, "AccessDenied")
		// A bucket of his own by the same name is his.
		if _, err := e.bob.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("anon-auth")}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "bob's own bucket", get(e.bob, "anon-auth", "foo"), 404, "NoSuchKey")
	})
	t.Run("bad credentials", func(t *testing.T) {
		bad := s3.New(s3.Options{BaseEndpoint: aws.String(e.url), Region: "us-east-1", UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("AKNOBODY", "x", "")})
		_, err := bad.ListBuckets(ctx, &s3.ListBucketsInput{})
		wantErr(t, "unknown key", err, 403, "InvalidAccessKeyId")
		bad = s3.New(s3.Options{BaseEndpoint: aws.String(e.url), Region: "us-east-1", UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("AKALICE", "wrong", "")})
		_, err = bad.ListBuckets(ctx, &s3.ListBucketsInput{})
		wantErr(t, "wrong secret", err, 403, "SignatureDoesNotMatch")
	})
	t.Run("presigned expiry", func(t *testing.T) {
		mk(t, "anon-presign", "")
		put(t, "anon-presign", "foo", "")
		ps := s3.NewPresignClient(e.alice)
		for _, c := range []struct {
			exp    time.Duration
			status int
		}{{100000 * time.Second, 200}, {609901 * time.Second, 403}} {
			req, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("anon-presign"), Key: aws.String("foo")}, s3.WithPresignExpires(c.exp))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get(req.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("expires %v: %d; want %d", c.exp, resp.StatusCode, c.status)
			}
		}
		for _, q := range []string{"0", "-7"} {
			req, _ := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("anon-presign"), Key: aws.String("foo")}, s3.WithPresignExpires(time.Hour))
			u := strings.Replace(req.URL, "X-Amz-Expires=3600", "X-Amz-Expires="+q, 1)
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 403 {
				t.Errorf("expires %s: %d; want 403", q, resp.StatusCode)
			}
		}
		req, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("anon-presign"), Key: aws.String("foo")}, func(o *s3.PresignOptions) {
			o.Presigner = expiredPresigner{o.Presigner}
		})
		if err != nil {
			t.Fatal(err)
		}
		hr, _ := http.NewRequest("PUT", req.URL, strings.NewReader("foo"))
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("expired presigned PUT: %d; want 403", resp.StatusCode)
		}
	})
}

// expiredPresigner signs as of two hours ago.
type expiredPresigner struct{ s3.HTTPPresignerV4 }

func (p expiredPresigner) PresignHTTP(ctx context.Context, cr aws.Credentials, r *http.Request, payloadHash, service, region string, at time.Time, opts ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.HTTPPresignerV4.PresignHTTP(ctx, cr, r, payloadHash, service, region, at.Add(-2*time.Hour), opts...)
}

func TestConformanceMore(t *testing.T) {
	e := newEnv(t)
	e.mkBucket(t, "more")
	t.Run("put conditions", func(t *testing.T) {
		out := e.put(t, "more", "pc", "bar")
		etag := strings.Trim(*out.ETag, `"`)
		wantStatus(t, "If-Match unquoted", e.raw(t, "PUT", "/more/pc", map[string]string{"If-Match": etag}, []byte("zar")), 200, "")
		wantStatus(t, "If-Match * existing", e.raw(t, "PUT", "/more/pc", map[string]string{"If-Match": "*"}, []byte("zar2")), 200, "")
		wantStatus(t, "If-Match * missing", e.raw(t, "PUT", "/more/pc-missing", map[string]string{"If-Match": "*"}, []byte("x")), 404, "NoSuchKey")
		wantStatus(t, "If-Match * missing leaves nothing", e.raw(t, "GET", "/more/pc-missing", nil, nil), 404, "NoSuchKey")
		for _, m := range []string{"GET", "HEAD"} {
			if r := e.raw(t, m, "/more/pc-missing", nil, nil); r.header.Get("X-Amz-Delete-Marker") != "false" {
				t.Errorf("%s of a missing key: x-amz-delete-marker %q; want false", m, r.header.Get("X-Amz-Delete-Marker"))
			}
		}
		if r := e.raw(t, "HEAD", "/no-such-bucket/k", nil, nil); r.header.Get("X-Amz-Delete-Marker") != "" {
			t.Errorf("HEAD in a missing bucket: x-amz-delete-marker %q; want none", r.header.Get("X-Amz-Delete-Marker"))
		}
		cur := strings.Trim(e.raw(t, "HEAD", "/more/pc", nil, nil).header.Get("ETag"), `"`)
		wantStatus(t, "If-None-Match current unquoted", e.raw(t, "PUT", "/more/pc", map[string]string{"If-None-Match": cur}, []byte("no")), 412, "PreconditionFailed")
		wantStatus(t, "If-None-Match other", e.raw(t, "PUT", "/more/pc", map[string]string{"If-None-Match": "ABCORZ"}, []byte("yes")), 200, "")
		if got := e.get(t, "more", "pc"); got != "yes" {
			t.Errorf("body %q", got)
		}
	})
	t.Run("get conditions", func(t *testing.T) {
		out := e.put(t, "more", "gc", "bar")
		wantStatus(t, "If-Match bogus", e.raw(t, "GET", "/more/gc", map[string]string{"If-Match": `"ABCORZ"`}, nil), 412, "PreconditionFailed")
		r := e.raw(t, "GET", "/more/gc", map[string]string{"If-None-Match": *out.ETag}, nil)
		wantStatus(t, "If-None-Match current", r, 304, "")
		wantStatus(t, "If-None-Match other", e.raw(t, "GET", "/more/gc", map[string]string{"If-None-Match": "ABCORZ"}, nil), 200, "")
		wantStatus(t, "If-Modified-Since past", e.raw(t, "GET", "/more/gc", map[string]string{"If-Modified-Since": "Sat, 29 Oct 1994 19:43:31 GMT"}, nil), 200, "")
		lm, _ := http.ParseTime(r.header.Get("Last-Modified"))
		if r.header.Get("Last-Modified") == "" {
			lm, _ = http.ParseTime(e.raw(t, "HEAD", "/more/gc", nil, nil).header.Get("Last-Modified"))
		}
		after := lm.Add(time.Second).UTC().Format(http.TimeFormat)
		wantStatus(t, "If-Modified-Since after", e.raw(t, "GET", "/more/gc", map[string]string{"If-Modified-Since": after}, nil), 304, "")
		wantStatus(t, "If-Unmodified-Since past", e.raw(t, "GET", "/more/gc", map[string]string{"If-Unmodified-Since": "Sat, 29 Oct 1994 19:43:31 GMT"}, nil), 412, "PreconditionFailed")
		wantStatus(t, "If-Unmodified-Since future", e.raw(t, "GET", "/more/gc", map[string]string{"If-Unmodified-Since": "Sat, 29 Oct 2100 19:43:31 GMT"}, nil), 200, "")
	})
	t.Run("copy conditions", func(t *testing.T) {
		out := e.put(t, "more", "cc", "bar")
		src := map[string]string{"x-amz-copy-source": "/more/cc"}
		with := func(k, v string) map[string]string {
			m := map[string]string{k: v}
			for a, b := range src {
				m[a] = b
			}
			return m
		}
		wantStatus(t, "if-match good", e.raw(t, "PUT", "/more/cc2", with("x-amz-copy-source-if-match", *out.ETag), nil), 200, "")
		wantStatus(t, "if-match bad", e.raw(t, "PUT", "/more/cc3", with("x-amz-copy-source-if-match", "ABCORZ"), nil), 412, "PreconditionFailed")
		wantStatus(t, "if-none-match current", e.raw(t, "PUT", "/more/cc4", with("x-amz-copy-source-if-none-match", *out.ETag), nil), 412, "PreconditionFailed")
		wantStatus(t, "if-none-match other", e.raw(t, "PUT", "/more/cc5", with("x-amz-copy-source-if-none-match", "ABCORZ"), nil), 200, "")
	})
	t.Run("stored headers", func(t *testing.T) {
		exp := time.Now().Add(6000 * time.Second).UTC().Truncate(time.Second)
		_, err := e.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("more"), Key: aws.String("hdr"), Body: strings.NewReader("bar"),
			CacheControl: aws.String("public, max-age=14400"), Expires: aws.Time(exp), ContentType: aws.String("text/bla")})
		if err != nil {
			t.Fatal(err)
		}
		r := e.raw(t, "HEAD", "/more/hdr", nil, nil)
		if r.header.Get("Cache-Control") != "public, max-age=14400" || r.header.Get("Content-Type") != "text/bla" {
			t.Errorf("headers %v", r.header)
		}
		if got, err := http.ParseTime(r.header.Get("Expires")); err != nil || !got.Equal(exp) {
			t.Errorf("Expires %q; want %v", r.header.Get("Expires"), exp)
		}
		r = e.raw(t, "GET", "/more/hdr?response-expires=123&response-content-type=foo/bar&response-cache-control=no-cache", nil, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "foo/bar" || r.header.Get("Cache-Control") != "no-cache" {
			t.Errorf("overrides %d %v", r.status, r.header)
		}
	})
	t.Run("copy", func(t *testing.T) {
		_, err := e.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("more"), Key: aws.String("src"), Body: strings.NewReader("foo"),
			ContentType: aws.String("audio/ogg"), Metadata: map[string]string{"key1": "value1", "key2": "value2"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("more"), Key: aws.String("src"), CopySource: aws.String("more/src")})
		wantErr(t, "copy to itself", err, 400, "InvalidRequest")
		_, err = e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("more"), Key: aws.String("src"), CopySource: aws.String("more/src"),
			MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"foo": "bar"}})
		if err != nil {
			t.Fatal(err)
		}
		g, err := e.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("more"), Key: aws.String("src")})
		if err != nil || fmt.Sprint(g.Metadata) != "map[foo:bar]" {
			t.Errorf("after copy to itself with REPLACE: %v %v", g, err)
		}
		_, err = e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("more"), Key: aws.String("dst"), CopySource: aws.String("more-fake/src")})
		wantErr(t, "missing source bucket", err, 404, "")
		_, err = e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("more"), Key: aws.String("dst"), CopySource: aws.String("more/nope")})
		wantErr(t, "missing source key", err, 404, "")
	})
	t.Run("checksums", func(t *testing.T) {
		body := strings.Repeat("A", 1024)
		sum := "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0="
		out, err := e.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("more"), Key: aws.String("ck"), Body: strings.NewReader(body),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(sum)})
		if err != nil || aws.ToString(out.ChecksumSHA256) != sum {
			t.Fatalf("put: %v %v", err, out)
		}
		h, err := e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("more"), Key: aws.String("ck")})
		if err != nil || h.ChecksumSHA256 != nil {
			t.Errorf("head without mode: %v %v", err, aws.ToString(h.ChecksumSHA256))
		}
		h, err = e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("more"), Key: aws.String("ck"), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil || aws.ToString(h.ChecksumSHA256) != sum {
			t.Errorf("head with mode: %v %v", err, aws.ToString(h.ChecksumSHA256))
		}
		r := e.raw(t, "PUT", "/more/ck2", map[string]string{"x-amz-checksum-sha256": "bad"}, []byte(body))
		wantStatus(t, "bad checksum value", r, 400, "BadDigest") // as s3-tests has it
		r = e.raw(t, "PUT", "/more/ck2", map[string]string{"x-amz-checksum-sha256": "Ok6Cs5b96ux6+MWQkJO7UBT5sKPBeXBLwvj/hK89smg="}, []byte(body))
		wantStatus(t, "wrong checksum", r, 400, "BadDigest")
		wantStatus(t, "nothing stored", e.raw(t, "HEAD", "/more/ck2", nil, nil), 404, "")
	})
	t.Run("misc", func(t *testing.T) {
		e.raw(t, "PUT", "/more/empty", nil, nil)
		wantStatus(t, "range on empty", e.raw(t, "GET", "/more/empty", map[string]string{"Range": "bytes=40-50"}, nil), 416, "InvalidRange")
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "PUT /more/meta HTTP/1.1\r\nHost: x\r\nX-Amz-Meta-Meta1: \x04mymeta\r\nContent-Length: 1\r\n\r\nx")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != 400 {
			t.Errorf("control character in metadata: %v %v", resp, err)
		}
		wantStatus(t, "head missing bucket", e.raw(t, "HEAD", "/nosuchbucket-x", nil, nil), 404, "")
	})
}

func TestConformanceConcurrentCannedACL(t *testing.T) {
	e := newEnv(t)
	e.mkBucket(t, "acl-conc")
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		go func() {
			_, err := e.cli.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("acl-conc"), ACL: types.BucketCannedACLPublicRead})
			errs <- err
		}()
	}
	for i := 0; i < 50; i++ {
		if err := <-errs; err != nil {
			t.Errorf("concurrent PutBucketAcl: %v", err)
		}
	}
}

// A checksum sent as the trailer of an aws-chunked body is kept as one
// sent as a header.
func TestConformanceTrailerChecksum(t *testing.T) {
	e := newAuthEnv(t)
	if _, err := e.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trailer")}); err != nil {
		t.Fatal(err)
	}
	body := "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
	req, _ := http.NewRequest("PUT", e.url+"/trailer/k", strings.NewReader(body))
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", "5")
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "AKALICE", SecretAccessKey: "alice-secret"}, req,
		"STREAMING-UNSIGNED-PAYLOAD-TRAILER", "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Checksum-Crc32") != "NhCmhg==" {
		t.Errorf("PUT: %d, checksum header %q", resp.StatusCode, resp.Header.Get("X-Amz-Checksum-Crc32"))
	}
	h, err := e.alice.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("trailer"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || aws.ToString(h.ChecksumCRC32) != "NhCmhg==" || aws.ToInt64(h.ContentLength) != 5 {
		t.Errorf("HEAD: %v %q", err, aws.ToString(h.ChecksumCRC32))
	}
	// A wrong trailer stores nothing (even where the gateway sniffs the
	// content type from the first bytes).
	req, _ = http.NewRequest("PUT", e.url+"/trailer/bad", strings.NewReader(strings.Replace(body, "NhCmhg==", "AAAAAA==", 1)))
	for k, v := range map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "5", "X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"} {
		req.Header.Set(k, v)
	}
	v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "AKALICE", SecretAccessKey: "alice-secret"}, req,
		"STREAMING-UNSIGNED-PAYLOAD-TRAILER", "s3", "us-east-1", time.Now())
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("wrong trailer: %d", resp.StatusCode)
	}
	if _, err := e.alice.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("trailer"), Key: aws.String("bad")}); status(err) != 404 {
		t.Errorf("wrong trailer stored: %v", err)
	}
}

// A body that does not match its signed hash stores nothing, whatever the
// key and content type.
func TestConformanceSignedPayloadMismatchStoresNothing(t *testing.T) {
	e := newAuthEnv(t)
	if _, err := e.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("payload")}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"noext", "with.txt"} {
		req, _ := http.NewRequest("PUT", e.url+"/payload/"+key, strings.NewReader("hello"))
		wrong := "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" // sha256("hello")
		req.Body = io.NopCloser(strings.NewReader("jello"))
		req.Header.Set("X-Amz-Content-Sha256", wrong)
		v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "AKALICE", SecretAccessKey: "alice-secret"}, req, wrong, "s3", "us-east-1", time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d; want 400", key, resp.StatusCode)
		}
		if _, err := e.alice.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("payload"), Key: aws.String(key)}); status(err) != 404 {
			t.Errorf("%s stored: %v", key, err)
		}
	}
}

// A bucket deleted while an object is being written to it stays gone, and
// the write fails with NoSuchBucket.
func TestConformanceBucketGoneMidPut(t *testing.T) {
	e := newEnv(t)
	e.mkBucket(t, "gone")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", e.url+"/gone/foo", pr)
	req.ContentLength = 1 << 20
	done := make(chan *http.Response)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		done <- resp
	}()
	pw.Write(make([]byte, 1<<19))
	waitStaging(t, e.dir+"/objects/.tmp")
	_, err := e.cli.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("gone")})
	if err != nil {
		t.Fatalf("delete bucket mid-put: %v", err)
	}
	pw.Write(make([]byte, 1<<19))
	pw.Close()
	resp := <-done
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), "NoSuchBucket") {
		t.Errorf("put into a deleted bucket: %d %s", resp.StatusCode, b)
	}
	if _, err := e.cli.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("gone")}); status(err) != 404 {
		t.Errorf("bucket back: %v", err)
	}
}

func TestConformanceDeleteIfMatch(t *testing.T) {
	e := newEnv(t)
	e.mkBucket(t, "delcond")
	out := e.put(t, "delcond", "k", "v")
	r := e.raw(t, "DELETE", "/delcond/k", map[string]string{"If-Match": `"0123"`}, nil)
	wantStatus(t, "wrong etag", r, 412, "PreconditionFailed")
	if id := r.header.Get("X-Amz-Request-Id"); id == "" || !strings.Contains(r.body, "<RequestId>"+id+"</RequestId>") {
		t.Errorf("request id %q not in the error: %s", id, r.body)
	}
	wantStatus(t, "still there", e.raw(t, "HEAD", "/delcond/k", nil, nil), 200, "")
	wantStatus(t, "missing key", e.raw(t, "DELETE", "/delcond/nope", map[string]string{"If-Match": "*"}, nil), 404, "NoSuchKey")
	wantStatus(t, "right etag", e.raw(t, "DELETE", "/delcond/k", map[string]string{"If-Match": *out.ETag}, nil), 204, "")
	wantStatus(t, "gone", e.raw(t, "HEAD", "/delcond/k", nil, nil), 404, "")
	wantStatus(t, "no condition, missing key", e.raw(t, "DELETE", "/delcond/k", nil, nil), 204, "")
}

// TestConformanceObjectTagging: tags set on upload (PutObject, multipart)
// or later (PutObjectTagging) read back, and DeleteObjectTagging clears
// them without touching the object.
func TestConformanceObjectTagging(t *testing.T) {
	e := newEnv(t)
	if _, err := e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tags")}); err != nil {
		t.Fatal(err)
	}
	tagsOf := func(key string) string {
		t.Helper()
		out, err := e.cli.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObjectTagging %s: %v", key, err)
		}
		var s []string
		for _, tg := range out.TagSet {
			s = append(s, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return strings.Join(s, ",")
	}
	if _, err := e.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("a.jpg"), Body: strings.NewReader("img"), Tagging: aws.String("place=Lisbon&year=2024")}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf("a.jpg"); got != "place=Lisbon,year=2024" {
		t.Errorf("tags from PutObject: %q", got)
	}
	_, err := e.cli.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("a.jpg"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("who"), Value: aws.String("Alice & Bob")}}}})
	if err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	if got := tagsOf("a.jpg"); got != "who=Alice & Bob" {
		t.Errorf("tags after PutObjectTagging: %q", got)
	}
	if out, err := e.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tags"), Key: aws.String("a.jpg")}); err != nil || aws.ToInt32(out.TagCount) != 1 {
		t.Errorf("GetObject after PutObjectTagging: %v, tag count %v", err, out)
	} else {
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(b) != "img" {
			t.Errorf("PutObjectTagging changed the bytes: %q", b)
		}
	}
	if _, err := e.cli.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("a.jpg")}); err != nil {
		t.Fatalf("DeleteObjectTagging: %v", err)
	}
	if got := tagsOf("a.jpg"); got != "" {
		t.Errorf("tags after DeleteObjectTagging: %q", got)
	}
	_, err = e.cli.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("missing"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}})
	wantErr(t, "PutObjectTagging of a missing key", err, 404, "NoSuchKey")

	up, err := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("tags"), Key: aws.String("mp"), Tagging: aws.String("k=v")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("tags"), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("tags"), Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf("mp"); got != "k=v" {
		t.Errorf("tags from CreateMultipartUpload: %q", got)
	}
}

// TestConformanceObjectAttributes: GetObjectAttributes answers the ETag
// clients saw (a multipart object's "…-N" one), the size and the parts.
func TestConformanceObjectAttributes(t *testing.T) {
	e := newEnv(t)
	if _, err := e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("attrs")}); err != nil {
		t.Fatal(err)
	}
	single := e.put(t, "attrs", "single", "one part")
	up, err := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("attrs"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, body := range []string{strings.Repeat("a", 5<<20), "tail"} {
		p, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("attrs"), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: p.ETag})
	}
	done, err := e.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("attrs"), Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	attrs := []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectSize, types.ObjectAttributesObjectParts}
	for _, c := range []struct {
		key, etag string
		size      int64
		parts     int32
	}{
		{"single", strings.Trim(aws.ToString(single.ETag), `"`), 8, 0},
		{"mp", strings.Trim(aws.ToString(done.ETag), `"`), 5<<20 + 4, 2},
	} {
		out, err := e.cli.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String(c.key), ObjectAttributes: attrs})
		if err != nil {
			t.Fatalf("GetObjectAttributes %s: %v", c.key, err)
		}
		if got := strings.Trim(aws.ToString(out.ETag), `"`); got != c.etag || aws.ToInt64(out.ObjectSize) != c.size {
			t.Errorf("%s: ETag %q size %d; want %q %d", c.key, got, aws.ToInt64(out.ObjectSize), c.etag, c.size)
		}
		if n := int32(0); out.ObjectParts != nil {
			n = aws.ToInt32(out.ObjectParts.TotalPartsCount)
			if n != c.parts {
				t.Errorf("%s: %d parts; want %d", c.key, n, c.parts)
			}
		} else if c.parts != 0 {
			t.Errorf("%s: no parts; want %d", c.key, c.parts)
		}
	}
}

// TestConformanceMultipartChecksumType: an upload's checksum is of its
// parts' checksums (COMPOSITE, "…-N") or of the whole object (FULL_OBJECT,
// as if put in one part), as created; both are answered with their type.
func TestConformanceMultipartChecksumType(t *testing.T) {
	e := newEnv(t)
	if _, err := e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cksum")}); err != nil {
		t.Fatal(err)
	}
	bodies := []string{strings.Repeat("x", 5<<20), "the tail"}
	whole := crc32.ChecksumIEEE([]byte(bodies[0] + bodies[1]))
	wholeB64 := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, whole))
	upload := func(key string, alg types.ChecksumAlgorithm, typ types.ChecksumType, sum string) (*s3.CompleteMultipartUploadOutput, error) {
		t.Helper()
		up, err := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cksum"), Key: aws.String(key), ChecksumAlgorithm: alg, ChecksumType: typ})
		if err != nil {
			return nil, err
		}
		var parts []types.CompletedPart
		for i, b := range bodies {
			p, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("cksum"), Key: aws.String(key), UploadId: up.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader(b), ChecksumAlgorithm: alg})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32, ChecksumSHA256: p.ChecksumSHA256})
		}
		in := &s3.CompleteMultipartUploadInput{Bucket: aws.String("cksum"), Key: aws.String(key), UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}
		if sum != "" {
			in.ChecksumCRC32, in.ChecksumType = aws.String(sum), typ
		}
		return e.cli.CompleteMultipartUpload(ctx, in)
	}
	out, err := upload("full", types.ChecksumAlgorithmCrc32, types.ChecksumTypeFullObject, wholeB64)
	if err != nil {
		t.Fatalf("FULL_OBJECT upload: %v", err)
	}
	if aws.ToString(out.ChecksumCRC32) != wholeB64 || out.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("FULL_OBJECT complete: checksum %q type %q; want %q FULL_OBJECT", aws.ToString(out.ChecksumCRC32), out.ChecksumType, wholeB64)
	}
	h, err := e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cksum"), Key: aws.String("full"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || aws.ToString(h.ChecksumCRC32) != wholeB64 || h.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("HEAD of the FULL_OBJECT upload: %v, %q %q", err, aws.ToString(h.ChecksumCRC32), h.ChecksumType)
	}
	out, err = upload("composite", types.ChecksumAlgorithmCrc32, "", "")
	if err != nil {
		t.Fatalf("COMPOSITE upload: %v", err)
	}
	if !strings.HasSuffix(aws.ToString(out.ChecksumCRC32), "-2") || out.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("COMPOSITE complete: checksum %q type %q; want …-2 COMPOSITE", aws.ToString(out.ChecksumCRC32), out.ChecksumType)
	}
	h, err = e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cksum"), Key: aws.String("composite"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || h.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("HEAD of the COMPOSITE upload: %v, type %q", err, h.ChecksumType)
	}
	_, err = upload("wrong", types.ChecksumAlgorithmCrc32, types.ChecksumTypeFullObject, "AAAAAA==")
	wantErr(t, "FULL_OBJECT upload with a wrong checksum", err, 400, "BadDigest")
	if _, err := e.cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cksum"), Key: aws.String("wrong")}); status(err) != 404 {
		t.Errorf("a refused completion stored the object: %v", err)
	}
	_, err = e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cksum"), Key: aws.String("x"), ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumType: types.ChecksumTypeFullObject})
	wantErr(t, "FULL_OBJECT with SHA-256", err, 400, "InvalidRequest")
}

// TestConformanceRequestChecks: x-amz-expected-bucket-owner is held to the
// bucket's owner, and an OPTIONS that is not a CORS preflight is 400.
func TestConformanceRequestChecks(t *testing.T) {
	e := newAuthEnv(t)
	if _, err := e.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("owned")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("owned"), Key: aws.String("k"), Body: strings.NewReader("v"), ExpectedBucketOwner: aws.String("alice")}); err != nil {
		t.Errorf("PutObject expecting the right owner: %v", err)
	}
	_, err := e.alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("owned"), Key: aws.String("k2"), Body: strings.NewReader("v"), ExpectedBucketOwner: aws.String("bob")})
	wantErr(t, "PutObject expecting another owner", err, 403, "AccessDenied")
	_, err = e.alice.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("owned"), ExpectedBucketOwner: aws.String("123456789012")})
	wantErr(t, "ListObjectsV2 expecting another owner", err, 403, "AccessDenied")

	req, _ := http.NewRequest(http.MethodOptions, e.url+"/owned/k", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("OPTIONS without Origin: %d; want 400", resp.StatusCode)
	}
}

// TestConformanceUserGrants: an ACL body granting to another user is
// accepted (and keeps only what the group grants say); grants to an e-mail
// address or to an ID no user has are refused.
func TestConformanceUserGrants(t *testing.T) {
	e := newAuthEnv(t)
	if _, err := e.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("granted")}); err != nil {
		t.Fatal(err)
	}
	owner := &types.Owner{ID: aws.String("alice")}
	put := func(grantee types.Grantee) error {
		_, err := e.alice.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("granted"), AccessControlPolicy: &types.AccessControlPolicy{Owner: owner,
			Grants: []types.Grant{
				{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String("alice")}, Permission: types.PermissionFullControl},
				{Grantee: &grantee, Permission: types.PermissionRead},
			}}})
		return err
	}
	if err := put(types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String("bob")}); err != nil {
		t.Errorf("grant to another user: %v", err)
	}
	wantErr(t, "grant to an unknown ID", put(types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String("nosuchuser")}), 400, "InvalidArgument")
	wantErr(t, "grant to an e-mail address", put(types.Grantee{Type: types.TypeAmazonCustomerByEmail, EmailAddress: aws.String("bob@example.com")}), 400, "UnresolvableGrantByEmailAddress")
	out, err := e.alice.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("granted")})
	if err != nil || len(out.Grants) != 1 || aws.ToString(out.Grants[0].Grantee.ID) != "alice" {
		t.Errorf("ACL after the grants: %v %+v; want the owner's only", err, out)
	}
}

// TestPutObjectChecksumHeaders: a PutObject may carry several checksum
// headers (each verified, stored and answered) and x-amz-checksum-algorithm
// beside them, or alone (the checksum is computed); one wrong value is
// BadDigest and nothing is stored.
func TestPutObjectChecksumHeaders(t *testing.T) {
	e := newEnv(t)
	e.mkBucket(t, "sums")
	data := []byte("checksummed bytes")
	r := e.raw(t, "PUT", "/sums/two", map[string]string{"X-Amz-Checksum-Crc32": extSum("crc32", data),
		"X-Amz-Checksum-Sha256": extSum("sha256", data), "X-Amz-Checksum-Algorithm": "SHA256"}, data)
	wantStatus(t, "PUT with two checksums and the algorithm", r, 200, "")
	if r.header.Get("X-Amz-Checksum-Crc32") != extSum("crc32", data) || r.header.Get("X-Amz-Checksum-Sha256") != extSum("sha256", data) {
		t.Errorf("PUT answered checksums %v", r.header)
	}
	r = e.raw(t, "HEAD", "/sums/two", map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}, nil)
	if r.header.Get("X-Amz-Checksum-Crc32") != extSum("crc32", data) || r.header.Get("X-Amz-Checksum-Sha256") != extSum("sha256", data) {
		t.Errorf("HEAD with checksum mode: %v", r.header)
	}
	r = e.raw(t, "PUT", "/sums/named", map[string]string{"X-Amz-Checksum-Algorithm": "CRC64NVME"}, data)
	wantStatus(t, "PUT naming an algorithm only", r, 200, "")
	if got := e.raw(t, "HEAD", "/sums/named", map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}, nil).header.Get("X-Amz-Checksum-Crc64nvme"); got != extSum("crc64nvme", data) {
		t.Errorf("computed CRC64NVME: %q; want %q", got, extSum("crc64nvme", data))
	}
	r = e.raw(t, "PUT", "/sums/bad", map[string]string{"X-Amz-Checksum-Crc32c": extSum("crc32c", data),
		"X-Amz-Checksum-Sha1": extSum("sha1", []byte("other bytes"))}, data)
	wantStatus(t, "PUT with one wrong checksum of two", r, 400, "BadDigest")
	wantStatus(t, "GET of what a BadDigest PUT left", e.raw(t, "GET", "/sums/bad", nil, nil), 404, "NoSuchKey")
	r = e.raw(t, "PUT", "/sums/bad", map[string]string{"X-Amz-Checksum-Algorithm": "MD4"}, data)
	wantStatus(t, "PUT naming an unknown algorithm", r, 400, "InvalidRequest")
}

// extSum is the base64 checksum name (crc32, crc32c, crc64nvme, sha1,
// sha256) of data.
func extSum(name string, data []byte) string {
	h := map[string]func() hash.Hash{
		"crc32":     func() hash.Hash { return crc32.NewIEEE() },
		"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
		"crc64nvme": func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) },
		"sha1":      sha1.New,
		"sha256":    sha256.New,
	}[name]()
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// waitStaging waits until this process (the server is in it) has a file
// open under dir: an upload being staged. Linux shows open files in
// /proc/self/fd; elsewhere it returns at once.
func waitStaging(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, dir) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no upload was staged under %s in 2 minutes", dir)
		}
		time.Sleep(time.Millisecond)
	}
}
