package s3api

import (
	"context"
	"net/http"

	"shoebox/gateway"
)

// nobody is the user anonymous requests act as when they may go on only to
// be told that a bucket does not exist: it owns nothing, and no real user
// can have its name (user names are letters, digits, '.', '_' and '-').
const nobody = "*anonymous*"

// PublicAccess lets requests without credentials through Authenticate as
// far as S3 would let them (an AllowAnonymous):
//
//   - GET and HEAD of a public bucket and its objects act as its owner,
//     but for objects made private with PutObjectAcl (see acl.go), and
//     but for sub-resources such as ?acl or ?uploads;
//   - GET and HEAD of an object whose canned ACL is public-read(-write)
//     act as its owner in a private bucket too;
//   - a request naming a bucket no user has (but CreateBucket) goes on, as
//     nobody, to be answered 404 NoSuchBucket, as S3 does;
//   - a browser upload (POST Object, postobject.go) without a policy goes
//     into a bucket whose canned ACL is public-read-write, as its owner:
//     the one write an anonymous request can make, and only where the
//     owner asked for it; a signed one goes there too when its user has
//     no bucket of that name;
//   - anything else, ListBuckets included, is refused (403 AccessDenied).
//
// Bucket names are per user: a name that several users made public, or a
// public object in a bucket whose name several users have, is served to
// nobody anonymously. Every decision is made on the request's Target (its
// bucket and key, virtual-host style included), which is what is then
// served (pipeline.go).
//
// Authenticated users can read what anonymous users can: a GET or HEAD
// naming a bucket the user does not have acts as its owner when an
// anonymous request would.
func PublicAccess(gw *gateway.Gateway) AuthOption {
	return func(a *authenticator) {
		a.anonymous = func(r *http.Request, t Target) (string, bool) { return anonymousOwner(gw, r, t) }
		a.hasBucket = func(ctx context.Context, user, bucket string) bool {
			_, err := gw.Catalog().GetBucket(ctx, user, bucket)
			return err == nil
		}
		a.postOwner = func(r *http.Request, bucket string) (string, bool) {
			owners, err := bucketOwners(r.Context(), gw, bucket)
			if err != nil {
				return "", false
			}
			switch {
			case len(owners) == 0:
				return nobody, true // to be told NoSuchBucket
			case len(owners) == 1 && (&backend{gw: gw}).bucketACL(r.Context(), owners[0], bucket) == "public-read-write":
				return owners[0], true
			}
			return "", false
		}
		a.shared = func(r *http.Request, t Target, user string) (string, bool) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				return "", false
			}
			if t.Bucket == "" {
				return "", false
			}
			if _, err := gw.Catalog().GetBucket(r.Context(), user, t.Bucket); err == nil {
				return "", false // the user's own
			}
			owner, ok := anonymousOwner(gw, r, t)
			return owner, ok && owner != nobody
		}
	}
}

// bucketOwners lists the users who have a bucket of that name.
func bucketOwners(ctx context.Context, gw *gateway.Gateway, bucket string) ([]string, error) {
	all, err := gw.Catalog().AllBuckets(ctx)
	if err != nil {
		return nil, err
	}
	var owners []string
	for _, ub := range all {
		if ub.Bucket == bucket {
			owners = append(owners, ub.User)
		}
	}
	return owners, nil
}

// anonymousOwner is the user a request without credentials for t acts as,
// if it may go on (see PublicAccess).
func anonymousOwner(gw *gateway.Gateway, r *http.Request, t Target) (string, bool) {
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	bucket, key := t.Bucket, t.Key
	ctx := r.Context()
	if bucket == "" {
		return "", false // ListBuckets: AWS refuses it (s3-tests' 200 is RGW's)
	}
	owners, err := bucketOwners(ctx, gw, bucket)
	if err != nil {
		return "", false
	}
	if len(owners) == 0 {
		if r.Method == http.MethodPut && key == "" {
			return "", false // never create a bucket
		}
		return nobody, true
	}
	if !read {
		return "", false
	}
	q := r.URL.Query()
	for _, sub := range []string{"acl", "uploads", "uploadId", "tagging", "policy", "versioning", "cors", "lifecycle"} {
		if q.Has(sub) {
			return "", false
		}
	}
	if owner, ok, err := gw.Catalog().PublicBucketOwner(ctx, bucket); err == nil && ok {
		if key != "" {
			if o, err := gw.Catalog().Stat(ctx, owner, bucket, key); err == nil && objectACL(o) == "private" {
				return "", false
			}
		}
		return owner, true
	}
	if key != "" && len(owners) == 1 {
		if o, err := gw.Catalog().Stat(ctx, owners[0], bucket, key); err == nil && publicACL(objectACL(o)) {
			return owners[0], true
		}
	}
	return "", false
}
