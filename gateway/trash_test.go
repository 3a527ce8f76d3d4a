package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
)

// TestTrash: deleting a photo moves it to the trash (out of its bucket and
// of bucket listings); other files are deleted; Restore brings it back
// with its bytes; PurgeExpired deletes what outlived the retention.
func TestTrash(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, gateway.Options{TrashRetention: 30 * 24 * time.Hour, Now: clock})
	e.mkBucket(t, "b")
	put := func(key, ct, body string) {
		t.Helper()
		if _, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: key, ContentType: ct, Body: strings.NewReader(body), MakeParents: true}); err != nil {
			t.Fatal(err)
		}
	}
	put("p.jpg", "image/jpeg", "photo bytes")
	put("n.txt", "text/plain", "notes")
	put("d/v.mp4", "video/mp4", "video bytes")
	for _, k := range []string{"p.jpg", "n.txt", "d/"} {
		if err := e.g.Remove(ctx, user, "b", k); err != nil {
			t.Fatalf("Remove %s: %v", k, err)
		}
		if _, err := e.g.Stat(ctx, user, "b", k); !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("%s still in its bucket: %v", k, err)
		}
	}
	var items []catalog.TrashItem
	e.cat.Trash(ctx, user, func(it catalog.TrashItem) error { items = append(items, it); return nil })
	// The clock stood still: put them in deletion order.
	slices.SortFunc(items, func(a, b catalog.TrashItem) int { return strings.Compare(b.Key, a.Key) })
	if len(items) != 2 || items[0].Key != "p.jpg" || items[1].Key != "d/" {
		t.Fatalf("trash = %+v; want p.jpg and d/ (n.txt is not a photo)", items)
	}
	if bs, _ := e.g.Buckets(ctx, user); len(bs) != 1 {
		t.Errorf("buckets = %+v; the trash must not show", bs)
	}
	// A restart's reconciliation keeps the trash as it is.
	if st, err := e.g.Reconcile(ctx); err != nil || st != (gateway.ReconcileStats{}) {
		t.Errorf("Reconcile = %+v, %v; want nothing to do", st, err)
	}
	if _, o, err := e.g.TrashItem(ctx, user, items[1].ID); err != nil || !o.IsDir() {
		t.Errorf("trashed folder after Reconcile: %+v, %v", o, err)
	}
	if err := e.g.Restore(ctx, user, items[0].ID, "", ""); err != nil {
		t.Fatal(err)
	}
	if got := e.read(t, "b", "p.jpg"); got != "photo bytes" {
		t.Errorf("restored p.jpg = %q", got)
	}
	// Deleting a whole bucket keeps its photos too; restoring makes the
	// bucket again.
	e.mkBucket(t, "c")
	if _, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "c", Key: "q.jpg", ContentType: "image/jpeg", Body: strings.NewReader("q")}); err != nil {
		t.Fatal(err)
	}
	if err := e.g.RemoveBucket(ctx, user, "c", true); err != nil {
		t.Fatal(err)
	}
	var qid string
	e.cat.Trash(ctx, user, func(it catalog.TrashItem) error {
		if it.Bucket == "c" {
			qid = it.ID
		}
		return nil
	})
	if err := e.g.Restore(ctx, user, qid, "", ""); err != nil {
		t.Fatalf("restore into a deleted bucket: %v", err)
	}
	if got := e.read(t, "c", "q.jpg"); got != "q" {
		t.Errorf("restored c/q.jpg = %q", got)
	}
	mu.Lock()
	now = now.Add(31 * 24 * time.Hour)
	mu.Unlock()
	if n, err := e.g.PurgeExpired(ctx); err != nil || n != 1 {
		t.Errorf("PurgeExpired = %d, %v; want 1", n, err)
	}
	if err := e.g.Restore(ctx, user, items[1].ID, "", ""); !errors.Is(err, gateway.ErrNotInTrash) {
		t.Errorf("Restore after the purge = %v; want ErrNotInTrash", err)
	}
}

// TestVersions: an upload, COPY or MOVE that replaces a photo keeps its
// previous content as a trash item marked as a version (per the policy),
// which Restore brings back; the same bytes again, or a policy that
// excludes the file, keep nothing.
func TestVersions(t *testing.T) {
	ctx := context.Background()
	versions := func(e env) map[string]string { // trash id → the version's bytes
		got := map[string]string{}
		e.cat.Trash(ctx, user, func(it catalog.TrashItem) error {
			if it.Version {
				got[it.ID] = e.read(t, gateway.TrashBucket, it.ID)
			}
			return nil
		})
		return got
	}
	for _, tc := range []struct {
		policy     gateway.Versions
		ctype      string
		wantKept   bool
		retainDays int
	}{
		{gateway.VersionsMedia, "image/jpeg", true, 30},
		{gateway.VersionsMedia, "text/plain", false, 30},
		{gateway.VersionsAll, "text/plain", true, 30},
		{gateway.VersionsOff, "image/jpeg", false, 30},
		{gateway.VersionsMedia, "image/jpeg", false, 0}, // no trash, no versions
	} {
		t.Run(fmt.Sprintf("%d-%s-%d", tc.policy, tc.ctype, tc.retainDays), func(t *testing.T) {
			e := newEnv(t, gateway.Options{TrashRetention: time.Duration(tc.retainDays) * 24 * time.Hour, Versions: tc.policy})
			e.mkBucket(t, "b")
			put := func(key, body string) {
				t.Helper()
				if _, err := e.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: key, ContentType: tc.ctype, Body: strings.NewReader(body)}); err != nil {
					t.Fatal(err)
				}
			}
			put("f", "first")
			put("f", "first") // the same bytes: nothing to keep
			put("f", "second")
			got := versions(e)
			if !tc.wantKept {
				if len(got) != 0 {
					t.Fatalf("versions kept: %v; want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("versions after two different uploads: %v; want one, \"first\"", got)
			}
			var id string
			for k, v := range got {
				if id = k; v != "first" {
					t.Errorf("the version holds %q; want \"first\"", v)
				}
			}
			// Restoring it replaces the current content, which is kept in turn.
			if err := e.g.Restore(ctx, user, id, "", ""); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if got := e.read(t, "b", "f"); got != "first" {
				t.Errorf("after restoring the version: %q; want \"first\"", got)
			}
			if got := versions(e); len(got) != 1 || !slices.Contains(mapValues(got), "second") {
				t.Errorf("versions after the restore: %v; want the replaced \"second\"", got)
			}
			// A MOVE onto the file keeps what it replaces too.
			put("g", "moved in")
			if err := e.g.Move(ctx, user, "b", "g", "b", "f"); err != nil {
				t.Fatal(err)
			}
			if got := versions(e); len(got) != 2 || !slices.Contains(mapValues(got), "first") {
				t.Errorf("versions after a MOVE onto the file: %v; want \"second\" and \"first\"", got)
			}
		})
	}
}

func mapValues(m map[string]string) []string {
	var vs []string
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}
