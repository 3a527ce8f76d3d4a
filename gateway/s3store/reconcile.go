package s3store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"shoebox/catalog"
)

// ReconcileReport is what Reconcile found and fixed.
type ReconcileReport struct {
	// Orphans is the number of upstream blobs no map row referred to, older
	// than the grace period, that were deleted (uploads a crash left
	// uncommitted, or blobs whose deletion failed).
	Orphans int
	// Young is the number of unreferenced blobs kept because they are
	// younger than the grace period (uploads possibly in progress).
	Young int
	// StaleUploads is the number of unfinished multipart uploads of blobs,
	// older than the grace period, that were aborted (an upload cut short
	// while the upstream was unreachable).
	StaleUploads int
	// Missing lists the map rows ("user/bucket/key") whose blob was gone
	// upstream; their rows were removed.
	Missing []string
}

// Reconcile compares the map with the upstream blobs: it finishes
// interrupted renames, deletes unreferenced blobs older than the grace
// period (Config.OrphanGrace), and removes map rows whose blob is gone
// (objects deleted behind Shoebox's back). Rows committed after Reconcile
// started are never counted as missing. It costs one LIST request per
// 1000 upstream blobs and a walk of the map.
func (s *Store) Reconcile(ctx context.Context) (ReconcileReport, error) {
	return s.reconcile(ctx, s.grace)
}

// ReconcileAtStart is Reconcile with no grace period, for start-up, when
// no upload of this process can be in flight (the catalog has one writer):
// every blob a crash left uncommitted is deleted at once.
func (s *Store) ReconcileAtStart(ctx context.Context) (ReconcileReport, error) {
	return s.reconcile(ctx, 0)
}

func (s *Store) reconcile(ctx context.Context, grace time.Duration) (ReconcileReport, error) {
	var rep ReconcileReport
	if err := s.finishMoves(ctx); err != nil {
		return rep, err
	}
	start := time.Now()
	upstream := map[string]time.Time{}
	pfx := s.prefix + "blobs/"
	pg := s3.NewListObjectsV2Paginator(s.s3, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &pfx})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return rep, s.upErr("list blobs", err)
		}
		for _, o := range out.Contents {
			id := strings.TrimPrefix(*o.Key, pfx)
			if id == "" || strings.Contains(id, "/") {
				continue
			}
			var mod time.Time
			if o.LastModified != nil {
				mod = *o.LastModified
			}
			upstream[id] = mod
		}
	}
	if err := s.abortStaleUploads(ctx, start.Add(-grace), &rep); err != nil {
		return rep, err
	}
	var missing []catalog.Blob
	err := s.m.WalkBlobs(ctx, func(b catalog.Blob) error {
		if b.ID == "" {
			return nil
		}
		if _, ok := upstream[b.ID]; ok {
			delete(upstream, b.ID) // what remains is unreferenced
			return nil
		}
		if b.WNs != 0 && b.WNs >= start.UnixNano() {
			return nil // committed after the listing began
		}
		missing = append(missing, b)
		return nil
	})
	if err != nil {
		return rep, err
	}
	// A row committed (or renamed) during the walk may refer to a blob the
	// walk did not see: check the unreferenced ones again, one by one, only
	// when they are old enough to be deleted.
	var orphans []string
	for id, mod := range upstream {
		if !mod.IsZero() && start.Sub(mod) < grace {
			rep.Young++
			continue
		}
		orphans = append(orphans, id)
	}
	if len(orphans) > 0 {
		still := map[string]bool{}
		for _, id := range orphans {
			still[id] = true
		}
		if err := s.m.WalkBlobs(ctx, func(b catalog.Blob) error {
			delete(still, b.ID)
			return nil
		}); err != nil {
			return rep, err
		}
		orphans = orphans[:0]
		for id := range still {
			orphans = append(orphans, id)
		}
		if err := s.deleteBlobs(ctx, orphans); err != nil {
			return rep, err
		}
		rep.Orphans = len(orphans)
	}
	for _, b := range missing {
		// The blob may have appeared since the listing (it cannot: ids are
		// fresh per write, and rows are written after their blob), but a
		// row may have been replaced since the walk: ForgetBlob checks the id.
		ok, err := s.m.ForgetBlob(ctx, b.User, b.Bucket, b.Key, b.ID)
		if err != nil {
			return rep, err
		}
		if ok {
			p := b.User + "/" + b.Bucket + "/" + b.Key
			rep.Missing = append(rep.Missing, p)
			s.log.Warn("blob gone upstream; file dropped from the map", "path", p, "blob", s.BlobKey(b.ID))
		}
	}
	return rep, nil
}

func (s *Store) abortStaleUploads(ctx context.Context, before time.Time, rep *ReconcileReport) error {
	n, err := s.abortUploads(ctx, s.prefix+"blobs/", before)
	rep.StaleUploads += n
	return err
}

// abortUploads aborts the multipart uploads of keys under pfx (the whole
// key) started before before, and returns how many.
func (s *Store) abortUploads(ctx context.Context, pfx string, before time.Time) (int, error) {
	n := 0
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &pfx}
	for {
		out, err := s.s3.ListMultipartUploads(ctx, in)
		if err != nil {
			return n, s.upErr("list multipart uploads", err)
		}
		for _, u := range out.Uploads {
			if u.Initiated != nil && u.Initiated.After(before) {
				continue
			}
			if _, err := s.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId}); err != nil && !isNotFound(err) {
				return n, s.upErr("abort multipart upload", err)
			}
			n++
		}
		if out.IsTruncated == nil || !*out.IsTruncated {
			return n, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// String summarizes the report.
func (r ReconcileReport) String() string {
	return fmt.Sprintf("%d orphan blobs deleted, %d young kept, %d stale multipart uploads aborted, %d rows without blob removed",
		r.Orphans, r.Young, r.StaleUploads, len(r.Missing))
}
