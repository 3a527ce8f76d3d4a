package s3api

import (
	"context"
	"strings"

	"github.com/rclone/gofakes3"

	"shoebox/gateway/auth"
)

// Conditions on writes and deletes that gofakes3 does not check as S3
// servers do (see compat).

// keyExists reports whether the user's bucket exists and holds key; a
// missing bucket counts as holding it (the request goes on to be told
// NoSuchBucket).
func (b *backend) keyExists(ctx context.Context, bucket, key string) bool {
	user := auth.User(ctx)
	if user == "" || b.bucketExists(ctx, user, bucket) != nil {
		return true
	}
	o, err := b.gw.Catalog().Stat(ctx, user, bucket, key)
	return err == nil && (!o.IsDir() || o.Explicit)
}

// checkDeleteMatch checks the If-Match condition of a DeleteObject: the
// key must exist with one of the ETags listed (or "*").
func (b *backend) checkDeleteMatch(ctx context.Context, bucket, key, ifMatch string) error {
	user := auth.User(ctx)
	if user == "" {
		return nil // refused further on
	}
	if err := b.bucketExists(ctx, user, bucket); err != nil {
		return err
	}
	o, err := b.gw.Catalog().Stat(ctx, user, bucket, key)
	if err != nil || (o.IsDir() && !o.Explicit) {
		return gofakes3.KeyNotFound(key)
	}
	etag := strings.Trim(o.ETag(), `"`)
	for _, v := range strings.Split(ifMatch, ",") {
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if v == "*" || v == etag {
			return nil
		}
	}
	return gofakes3.ErrorMessage(gofakes3.ErrPreconditionFailed, "At least one of the pre-conditions you specified did not hold")
}
