package gateway

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"shoebox/catalog"
)

// ReconcileStats counts what Reconcile changed in the catalog.
type ReconcileStats struct {
	Added, Updated, Removed int
	// Symlinks counts the entries the backend reported as never served
	// (Entry.Symlink: symbolic links in localfs's store); each is logged
	// with a warning naming it. A catalog row whose file became one is
	// removed (and counted in Removed).
	Symlinks int
}

// Reconcile makes the catalog agree with the backend, which holds the truth
// about which bytes exist: files written while Shoebox was down (or before a
// crash let it record them) are hashed and cataloged, files changed behind
// its back (other size or modification time) are hashed again, and rows
// whose bytes are gone are removed. Before that it replays the journal of
// small files (journal.go). Unchanged files are not read. It runs at
// start-up, before the listeners open, and from `shoebox fsck`.
func (g *Gateway) Reconcile(ctx context.Context) (ReconcileStats, error) {
	g.tree.Lock()
	defer g.tree.Unlock()
	var st ReconcileStats
	start := time.Now()
	// First the small files a crash left in the journal only: the walk
	// below would take what is on disk for the truth.
	if err := g.replayJournal(ctx); err != nil {
		return st, fmt.Errorf("reconcile: %w", err)
	}
	err := g.be.Walk(ctx, func(e Entry) error {
		p := e.Path
		if e.Symlink {
			st.Symlinks++
			g.log.Warn("reconcile: a symbolic link in the store is never followed nor served; remove it, or put there what it points to",
				"path", strings.TrimRight(p.String(), "/"))
			return nil
		}
		if !catalog.ValidName(p.User) || (!catalog.ValidName(p.Bucket) && p.Bucket != TrashBucket) || CheckKey(p.Key) != nil {
			g.log.Warn("reconcile: skipping a name Shoebox cannot serve", "path", p.String())
			if p.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p.Key == "" {
			if _, err := g.cat.GetBucket(ctx, p.User, p.Bucket); errors.Is(err, catalog.ErrNotFound) {
				st.Added++
				return g.cat.CreateBucket(ctx, p.User, p.Bucket, e.ModTime)
			}
			return nil
		}
		cur, err := g.cat.Stat(ctx, p.User, p.Bucket, p.Key)
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		found := err == nil
		if p.IsDir() {
			if !found {
				st.Added++
				ns := e.ModTime.UnixNano()
				return g.cat.Put(ctx, p.User, catalog.Object{Bucket: p.Bucket, Key: p.Key, ModNs: ns, UploadNs: ns, Explicit: true})
			}
			return nil
		}
		if found && cur.Size == e.Size && sameTime(cur.ModTime(), e.ModTime) {
			return nil
		}
		o, err := g.hashFile(ctx, p, e)
		if err != nil {
			g.log.Error("reconcile: cannot read file", "path", p.String(), "err", err)
			return nil
		}
		if found {
			st.Updated++
			o.Meta, o.ContentType, o.HasProps = cur.Meta, cur.ContentType, cur.HasProps
		} else {
			st.Added++
		}
		return g.cat.PutFile(ctx, p.User, o)
	})
	if err != nil {
		return st, fmt.Errorf("reconcile: walk backend: %w", err)
	}

	// Rows whose bytes are gone, for every bucket row (accounts removed included).
	buckets, err := g.cat.AllBuckets(ctx)
	if err != nil {
		return st, err
	}
	for _, ub := range buckets {
		u, b := ub.User, ub.Bucket
		if _, err := g.be.Stat(ctx, Path{u, b, ""}); errors.Is(err, fs.ErrNotExist) {
			if err := g.cat.Delete(ctx, u, b, ""); err != nil {
				return st, err
			}
			if err := g.cat.DeleteBucket(ctx, u, b); err != nil {
				return st, err
			}
			st.Removed++
			continue
		}
		var gone []string
		err := g.cat.Walk(ctx, u, b, "", "", func(o catalog.Object) error {
			if _, err := g.be.Stat(ctx, Path{u, b, o.Key}); errors.Is(err, fs.ErrNotExist) {
				gone = append(gone, o.Key)
			}
			return nil
		})
		if err != nil {
			return st, err
		}
		for _, k := range gone {
			if err := g.cat.Delete(ctx, u, b, k); err != nil {
				return st, err
			}
			st.Removed++
		}
	}
	if err := g.reconcileTrash(ctx, &st); err != nil {
		return st, fmt.Errorf("reconcile the trash: %w", err)
	}
	g.log.Info("reconciled catalog with storage", "added", st.Added, "updated", st.Updated, "removed", st.Removed, "symlinks", st.Symlinks, "took", time.Since(start).Round(time.Millisecond))
	return st, nil
}

// sameTime compares modification times, allowing for filesystems that keep
// whole seconds only.
func sameTime(a, b time.Time) bool {
	return a.Equal(b) || (b.Nanosecond() == 0 && a.Unix() == b.Unix())
}

func (g *Gateway) hashFile(ctx context.Context, p Path, e Entry) (catalog.Object, error) {
	f, err := g.be.Open(ctx, p)
	if err != nil {
		return catalog.Object{}, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	head, _ := br.Peek(512)
	ctype := mime.TypeByExtension(path.Ext(p.Key))
	if ctype == "" {
		ctype = http.DetectContentType(head)
	}
	hr := newTeeHasher(br, true) // the same parallel hashing as uploads
	n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, hr, make([]byte, hashChunk))
	sha, md := hr.sums()
	if err != nil {
		return catalog.Object{}, err
	}
	return catalog.Object{
		Bucket: p.Bucket, Key: p.Key, Size: n,
		SHA256: hex.EncodeToString(sha), MD5: hex.EncodeToString(md),
		ContentType: ctype, ModNs: e.ModTime.UnixNano(), UploadNs: g.now().UnixNano(),
	}, nil
}

// reconcileTrash makes the trash rows agree with the trash buckets: a row
// whose bytes are gone (a crash between writing the row and the move, or
// between a purge and forgetting its row) is dropped; bytes in a trash
// bucket that no row lists (left by an older version) get a row, so they
// are listed, restorable and purged like any other item.
func (g *Gateway) reconcileTrash(ctx context.Context, st *ReconcileStats) error {
	listed := map[[2]string]bool{}
	var gone []catalog.TrashItem
	err := g.cat.Trash(ctx, "", func(t catalog.TrashItem) error {
		k := t.ID
		if strings.HasSuffix(t.Key, "/") {
			k += "/"
		}
		if _, err := g.cat.Stat(ctx, t.User, TrashBucket, k); errors.Is(err, catalog.ErrNotFound) {
			gone = append(gone, t)
		} else if err != nil {
			return err
		}
		listed[[2]string{t.User, t.ID}] = true
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range gone {
		if err := g.cat.DeleteTrash(ctx, t.User, t.ID); err != nil {
			return err
		}
		st.Removed++
	}
	buckets, err := g.cat.AllBuckets(ctx)
	if err != nil {
		return err
	}
	for _, ub := range buckets {
		if ub.Bucket != TrashBucket {
			continue
		}
		var lost []catalog.Object
		err := g.cat.List(ctx, ub.User, TrashBucket, "", "", func(o catalog.Object) error {
			if !listed[[2]string{ub.User, strings.TrimSuffix(o.Key, "/")}] {
				lost = append(lost, o)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, o := range lost {
			id := strings.TrimSuffix(o.Key, "/")
			key := "recovered-" + id
			if o.IsDir() {
				key += "/"
			}
			g.log.Warn("reconcile: a trashed item had no trash row; listed again, to be restored to the bucket recovered", "user", ub.User, "id", id)
			if err := g.cat.PutTrash(ctx, catalog.TrashItem{User: ub.User, ID: id, Bucket: "recovered", Key: key, DeletedNs: o.ModNs}); err != nil {
				return err
			}
			st.Added++
		}
	}
	return nil
}
