package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"shoebox/catalog"
)

// TrashBucket is the hidden bucket holding a user's trash, seen through
// the /trash virtual folder.
const TrashBucket = catalog.TrashBucket

// ErrNotInTrash is returned for a trash id that is not there.
var ErrNotInTrash = errors.New("not in the trash")

// trashes reports whether deleting key should move it to the trash: a
// photo or video, or a folder holding one. Other files are deleted.
func (g *Gateway) trashes(ctx context.Context, user, bucket, key string, o catalog.Object) bool {
	if g.retention <= 0 || bucket == TrashBucket {
		return false
	}
	if !o.IsDir() {
		return g.isMedia(ctx, user, bucket, o)
	}
	found := errors.New("found")
	err := g.cat.Walk(ctx, user, bucket, key, "", func(c catalog.Object) error {
		if !c.IsDir() && g.isMedia(ctx, user, bucket, c) {
			return found
		}
		return nil
	})
	return errors.Is(err, found)
}

func (g *Gateway) isMedia(ctx context.Context, user, bucket string, o catalog.Object) bool {
	if m, err := g.cat.MediaOf(ctx, user, bucket, o.Key); err == nil {
		return m.Kind == "photo" || m.Kind == "video"
	}
	// Not enriched yet: its content type says.
	return strings.HasPrefix(o.ContentType, "image/") || strings.HasPrefix(o.ContentType, "video/")
}

// newTrashID names a trash item: its time, then random bytes.
func newTrashID(now time.Time) string {
	var rnd [4]byte
	rand.Read(rnd[:])
	return fmt.Sprintf("%016x%s", now.UnixNano(), hex.EncodeToString(rnd[:]))
}

// toTrashLocked moves a file or folder into the user's trash; the caller
// holds the tree lock. The
// trash row is written before the move, so a crash between the two leaves
// a row without bytes, which Reconcile drops, never bytes that no row
// lists (hidden, never purged).
func (g *Gateway) toTrashLocked(ctx context.Context, user, bucket, key string, o catalog.Object) error {
	now := g.now()
	id := newTrashID(now)
	dst := id
	if o.IsDir() {
		dst += "/"
	}
	if err := g.ensureTrash(ctx, user); err != nil {
		return err
	}
	if err := g.cat.PutTrash(ctx, catalog.TrashItem{User: user, ID: id, Bucket: bucket, Key: key, DeletedNs: now.UnixNano()}); err != nil {
		return fmt.Errorf("move %s/%s to the trash: %w", bucket, key, err)
	}
	if err := g.transferLocked(ctx, Transfer{Op: OpMove, User: user, Bucket: bucket, Key: key, DstBucket: TrashBucket, DstKey: dst}); err != nil {
		if derr := g.cat.DeleteTrash(context.WithoutCancel(ctx), user, id); derr != nil {
			g.log.Error("forget a trash row after a failed move", "bucket", bucket, "key", key, "id", id, "err", derr)
		}
		return fmt.Errorf("move %s/%s to the trash: %w", bucket, key, err)
	}
	g.log.Info("moved to the trash", "user", user, "bucket", bucket, "key", key, "id", id)
	g.notify(ctx, Event{Op: OpDelete, User: user, Bucket: bucket, Key: key, Object: o})
	return nil
}

// ensureTrash makes the user's trash bucket. No client reaches that bucket
// by name, so making it needs no tree lock: the caller may hold it, shared
// or exclusively, or not.
func (g *Gateway) ensureTrash(ctx context.Context, user string) error {
	if _, err := g.cat.GetBucket(ctx, user, TrashBucket); err == nil {
		return nil
	}
	g.trashMu.Lock()
	defer g.trashMu.Unlock()
	if err := g.be.Mkdir(ctx, Path{user, TrashBucket, ""}); err != nil {
		return fmt.Errorf("make the trash: %w", err)
	}
	if err := g.cat.CreateBucket(ctx, user, TrashBucket, g.now()); err != nil && !errors.Is(err, catalog.ErrExists) {
		return err
	}
	return nil
}

// keepsVersions reports whether overwrites in bucket may keep versions.
func (g *Gateway) keepsVersions(bucket string) bool {
	return g.retention > 0 && g.versions != VersionsOff && bucket != TrashBucket
}

// keepsVersion reports whether replacing the file o keeps its content as a
// version.
func (g *Gateway) keepsVersion(ctx context.Context, user, bucket string, o catalog.Object) bool {
	if !g.keepsVersions(bucket) || o.IsDir() || o.Size == 0 {
		return false
	}
	// A file named or typed as a photo or video counts even when its
	// bytes are not one (a broken upload is worth undoing too).
	return g.versions == VersionsAll || strings.HasPrefix(o.ContentType, "image/") ||
		strings.HasPrefix(o.ContentType, "video/") || g.isMedia(ctx, user, bucket, o)
}

// keepVersion keeps the current content of the file o, about to be
// replaced, as a trash item marked as a version: a copy (a hard link on
// local disk) with its catalog rows, listed in /trash and restored like a
// deleted file. The caller holds the file's lock (or the tree lock). The
// trash row is written first, as for deletes.
func (g *Gateway) keepVersion(ctx context.Context, user, bucket string, o catalog.Object) error {
	p := Path{user, bucket, o.Key}
	// A journaled file's record names its path: it is made durable where
	// it is before it is copied.
	if g.journal.inLog(p) {
		if err := g.journal.barrier(ctx); err != nil {
			return fmt.Errorf("keep the replaced version of %s/%s: %w", bucket, o.Key, err)
		}
	}
	if err := g.ensureTrash(ctx, user); err != nil {
		return err
	}
	now := g.now()
	id := newTrashID(now)
	item := catalog.TrashItem{User: user, ID: id, Bucket: bucket, Key: o.Key, DeletedNs: now.UnixNano(), Version: true}
	if err := g.cat.PutTrash(ctx, item); err != nil {
		return fmt.Errorf("keep the replaced version of %s/%s: %w", bucket, o.Key, err)
	}
	err := g.be.Copy(ctx, p, Path{user, TrashBucket, id})
	if err == nil {
		// The version keeps the file's id (a copy would get a new one): it
		// is a version of that file, and restoring it keeps the id.
		fid := catalog.FileIDOf(user, o)
		err = g.cat.Move(context.WithoutCancel(ctx), user, bucket, o.Key, TrashBucket, id, true, func(v *catalog.Object) { v.ID = fid })
	}
	if err != nil {
		if derr := g.cat.DeleteTrash(context.WithoutCancel(ctx), user, id); derr != nil {
			g.log.Error("forget a trash row after a failed copy", "bucket", bucket, "key", o.Key, "id", id, "err", derr)
		}
		return fmt.Errorf("keep the replaced version of %s/%s: %w", bucket, o.Key, err)
	}
	g.log.Info("kept the replaced version", "user", user, "bucket", bucket, "key", o.Key, "id", id)
	return nil
}

// TrashRetention is how long a trashed item is kept before it is purged
// (0: deletes are final, nothing goes to the trash).
func (g *Gateway) TrashRetention() time.Duration { return g.retention }

// TrashItem returns a trashed item with the row of its bytes in TrashBucket.
func (g *Gateway) TrashItem(ctx context.Context, user, id string) (catalog.TrashItem, catalog.Object, error) {
	item, err := g.cat.GetTrash(ctx, user, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return item, catalog.Object{}, fmt.Errorf("%s: %w", id, ErrNotInTrash)
	}
	if err != nil {
		return item, catalog.Object{}, err
	}
	k := id
	if strings.HasSuffix(item.Key, "/") {
		k += "/"
	}
	o, err := g.cat.Stat(ctx, user, TrashBucket, k)
	if errors.Is(err, catalog.ErrNotFound) {
		return item, o, fmt.Errorf("%s: %w", id, ErrNotInTrash)
	}
	return item, o, err
}

// Restore moves a trashed item back: to where it was when bucket is "",
// else to bucket/key. Missing parent folders are made again.
func (g *Gateway) Restore(ctx context.Context, user, id, bucket, key string) error {
	if err := g.admit("restore", bucket, key, 0); err != nil {
		return err
	}
	item, o, err := g.TrashItem(ctx, user, id)
	if err != nil {
		return err
	}
	if bucket == "" {
		bucket, key = item.Bucket, item.Key
	}
	if o.IsDir() != strings.HasSuffix(key, "/") {
		key = strings.TrimSuffix(key, "/")
		if o.IsDir() {
			key += "/"
		}
	}
	if _, err := g.cat.GetBucket(ctx, user, bucket); err != nil {
		// A bucket that went with its contents comes back under its old
		// name, even one made before the rule for new names; another
		// bucket is a new one.
		mk := g.MakeBucket
		if bucket != item.Bucket {
			mk = g.CreateBucket
		}
		err := mk(ctx, user, bucket)
		if err != nil && !errors.Is(err, ErrExists) {
			return fmt.Errorf("restore %s: %w", id, err)
		}
	}
	if err := g.MakeParents(ctx, user, bucket, key); err != nil {
		return fmt.Errorf("restore %s: %w", id, err)
	}
	if err := g.Transfer(ctx, Transfer{Op: OpMove, User: user, Bucket: TrashBucket, Key: o.Key, DstBucket: bucket, DstKey: key}); err != nil {
		return fmt.Errorf("restore %s to %s/%s: %w", id, bucket, key, err)
	}
	// The restored files are enriched again: their index rows went with them.
	if err := g.cat.DeleteTrash(context.WithoutCancel(ctx), user, id); err != nil {
		return err
	}
	g.log.Info("restored from the trash", "user", user, "bucket", bucket, "key", key, "id", id)
	return nil
}

// Purge deletes a trashed item for good.
func (g *Gateway) Purge(ctx context.Context, user, id string) error {
	_, o, err := g.TrashItem(ctx, user, id)
	if err != nil {
		return err
	}
	if err := g.Remove(ctx, user, TrashBucket, o.Key); err != nil {
		return err
	}
	return g.cat.DeleteTrash(context.WithoutCancel(ctx), user, id)
}

// PurgeExpired deletes what has been in any user's trash longer than the
// retention; it returns how many items went.
func (g *Gateway) PurgeExpired(ctx context.Context) (int, error) {
	if g.retention <= 0 {
		return 0, nil
	}
	cut := g.now().Add(-g.retention).UnixNano()
	n := 0
	err := g.cat.Trash(ctx, "", func(t catalog.TrashItem) error {
		if t.DeletedNs > cut {
			return nil
		}
		if err := g.Purge(ctx, t.User, t.ID); err != nil && !errors.Is(err, ErrNotInTrash) {
			return err
		}
		n++
		return nil
	})
	return n, err
}

// RunTrashPurger purges expired trash every interval until ctx ends.
func (g *Gateway) RunTrashPurger(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := g.PurgeExpired(ctx); err != nil {
			g.log.Error("purge the trash", "err", err)
		} else if n > 0 {
			g.log.Info("purged expired trash", "items", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
