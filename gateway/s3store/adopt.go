package s3store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"shoebox/catalog"
)

// AdoptReport is what Adopt brought back into the map.
type AdoptReport struct {
	// Adopted lists the blobs put back in the map ("user/bucket/key").
	Adopted []string
	// Renames is the number of journal renames replayed on the map.
	Renames int
}

// Adopt is for the first start on a catalog restored from a backup taken
// at time since, before ReconcileAtStart (which would delete, as orphans,
// every blob uploaded after the backup). It brings the map up to what the
// bucket holds, replaying in time order:
//
//   - every blob no map row refers to, uploaded at or after since minus
//     the grace period (Config.OrphanGrace: an upload may have started
//     before the backup and committed after it), is put at the path of
//     its metadata, or of its "link" journal entry, at its upload time
//     (or the link's); it replaces a row at that path only if that row was
//     written before the blob's upload started (an older blob left behind
//     by a failed delete never replaces the newer file);
//   - every journal "rename" at or after since whose source is in the map
//     is applied to the map (its destination cleared first, as Rename did).
//
// Files deleted after the backup have no blob: ReconcileAtStart then drops
// their rows. Adopt is meant to run once per restore: a second run would
// replay the renames again on what the first brought back. Blobs left out stay unreferenced, for Reconcile. It costs a
// LIST of the blobs, a HEAD per unreferenced blob and a GET per journal
// entry since the backup.
func (s *Store) Adopt(ctx context.Context, since time.Time) (AdoptReport, error) {
	var rep AdoptReport
	if err := s.finishMoves(ctx); err != nil {
		return rep, err
	}
	known := map[string]bool{}
	if err := s.m.WalkBlobs(ctx, func(b catalog.Blob) error {
		if b.ID != "" {
			known[b.ID] = true
		}
		return nil
	}); err != nil {
		return rep, err
	}
	type event struct {
		ns   int64
		blob *catalog.Blob // adopt this
		up   int64         // adopt: when its upload started
		mv   *journalEntry // or replay this rename
	}
	var events []event
	from := since.Add(-s.grace)
	if epoch := time.Unix(0, 0); from.Before(epoch) { // no time known: every blob
		from = epoch
	}
	pfx := s.prefix + "blobs/"
	pg := s3.NewListObjectsV2Paginator(s.s3, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &pfx})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return rep, s.upErr("list blobs", err)
		}
		for _, o := range out.Contents {
			id := strings.TrimPrefix(aws.ToString(o.Key), pfx)
			if id == "" || strings.Contains(id, "/") || known[id] || aws.ToTime(o.LastModified).Before(from) {
				continue
			}
			key := s.BlobKey(id)
			h, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
			if isNotFound(err) {
				continue // deleted since the listing
			}
			if err != nil {
				return rep, s.upErr("read the metadata of blob "+id, err)
			}
			md := lowerKeys(h.Metadata)
			p, perr := url.PathUnescape(md["shoebox-path"])
			up, uerr := strconv.ParseInt(md["shoebox-uploaded"], 10, 64)
			if perr != nil || uerr != nil || p == "" || time.Unix(0, up).Before(from) {
				continue // not one of ours, or older than the window
			}
			b, ok := splitPath(p)
			if !ok {
				continue
			}
			b.ID, b.Size, b.ModNs = id, aws.ToInt64(h.ContentLength), up
			if mt, err := strconv.ParseInt(md["shoebox-mtime"], 10, 64); err == nil {
				b.ModNs = mt
			}
			events = append(events, event{ns: up, blob: &b, up: up})
		}
	}
	// The journal since the backup (names start with the entry's time).
	links := map[string]journalEntry{}
	jpfx := s.journalPrefix()
	start := s.journalName(from.UnixNano())
	start = start[:len(jpfx)+19]
	jg := s3.NewListObjectsV2Paginator(s.s3, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &jpfx, StartAfter: &start})
	for jg.HasMorePages() {
		out, err := jg.NextPage(ctx)
		if err != nil {
			return rep, s.upErr("list the journal", err)
		}
		for _, o := range out.Contents {
			e, err := s.readJournal(ctx, aws.ToString(o.Key))
			if err != nil {
				return rep, err
			}
			switch {
			case e.Op == "link" && e.ID != "":
				if l, ok := links[e.ID]; !ok || e.Ns > l.Ns {
					links[e.ID] = e
				}
			case e.Op == "rename" && e.Ns >= since.UnixNano():
				events = append(events, event{ns: e.Ns, mv: &e})
			}
		}
	}
	for i, e := range events {
		if e.blob == nil {
			continue
		}
		if l, ok := links[e.blob.ID]; ok {
			if b, ok := splitPath(l.Path); ok {
				b.ID, b.Size, b.ModNs = e.blob.ID, e.blob.Size, e.blob.ModNs
				events[i].blob, events[i].ns = &b, l.Ns
			}
		}
	}
	slices.SortStableFunc(events, func(a, b event) int {
		if a.ns != b.ns {
			return cmp.Compare(a.ns, b.ns)
		}
		return cmp.Compare(boolInt(a.mv != nil), boolInt(b.mv != nil)) // an upload of the same instant first
	})
	for _, e := range events {
		if e.mv != nil {
			src, ok1 := splitPath(e.mv.From)
			dst, ok2 := splitPath(e.mv.To)
			if !ok1 || !ok2 || src.User != dst.User {
				continue
			}
			if _, err := s.m.GetBlob(ctx, src.User, src.Bucket, src.Key); err != nil {
				continue // already applied in the backup, or its source never came back
			}
			_, err := s.m.BlobMoveRun(ctx, catalog.BlobMove{Name: fmt.Sprintf("adopt-%019d", e.ns), User: src.User,
				SrcBucket: src.Bucket, Src: src.Key, DstBucket: dst.Bucket, Dst: dst.Key})
			if err != nil {
				return rep, fmt.Errorf("s3store: replay rename %s to %s: %w", e.mv.From, e.mv.To, err)
			}
			// The blobs of the rows it replaced are left for Reconcile.
			rep.Renames++
			continue
		}
		b := *e.blob
		if cur, err := s.m.GetBlob(ctx, b.User, b.Bucket, b.Key); err == nil && cur.WNs > e.up {
			continue // the row there is newer than this blob
		}
		b.WNs = time.Now().UnixNano()
		if _, err := s.m.PutBlob(ctx, b); errors.Is(err, catalog.ErrExists) {
			s.log.Warn("blob not adopted: a folder has its name", "path", b.User+"/"+b.Bucket+"/"+b.Key, "blob", s.BlobKey(b.ID))
			continue
		} else if err != nil {
			return rep, fmt.Errorf("s3store: adopt blob %s at %s/%s/%s: %w", b.ID, b.User, b.Bucket, b.Key, err)
		}
		rep.Adopted = append(rep.Adopted, b.User+"/"+b.Bucket+"/"+b.Key)
	}
	return rep, nil
}

// readJournal reads one journal entry.
func (s *Store) readJournal(ctx context.Context, key string) (journalEntry, error) {
	var e journalEntry
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return e, s.upErr("read journal entry "+key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, 1<<20))
	if err != nil {
		return e, s.upErr("read journal entry "+key, err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("s3store: journal entry %s: %w", key, err)
	}
	return e, nil
}

// splitPath reads "user/bucket/key" into a Blob's path.
func splitPath(p string) (catalog.Blob, bool) {
	parts := strings.SplitN(p, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return catalog.Blob{}, false
	}
	return catalog.Blob{User: parts[0], Bucket: parts[1], Key: parts[2]}, true
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
