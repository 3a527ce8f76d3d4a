package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shoebox/catalog"
)

func openDisk(t *testing.T, dir string) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Open(dir, catalog.Options{SyncWrites: true})
	if err != nil {
		t.Fatalf("Open %s: %v", dir, err)
	}
	return c
}

// TestBackupRestore: a backup taken while writers run holds every row
// committed before it started; restored into a new directory, the catalog
// opens and lists them. An incremental backup on top brings what came
// after, deletions included, and an increment alone is refused.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	src := openDisk(t, filepath.Join(t.TempDir(), "catalog"))
	defer src.Close()
	if err := src.CreateBucket(ctx, user, "b", time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := src.PutFile(ctx, user, catalog.Object{Bucket: "b", Key: fmt.Sprintf("before/%02d", i), Size: 1, SHA256: fmt.Sprintf("%064d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.CreateAlbum(ctx, user, "Paris", 1); err != nil {
		t.Fatal(err)
	}
	// Writers run during the backup.
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				if err := src.PutFile(ctx, user, catalog.Object{Bucket: "b", Key: fmt.Sprintf("during/%d/%d", w, i), Size: 1}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var full bytes.Buffer
	next, err := src.Backup(ctx, &full, 0)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if next == 0 {
		t.Fatalf("Backup returned next version 0")
	}
	// After the full backup: one more file, and the album goes.
	if err := src.PutFile(ctx, user, catalog.Object{Bucket: "b", Key: "after", Size: 1}); err != nil {
		t.Fatal(err)
	}
	if err := src.DeleteAlbum(ctx, user, "Paris"); err != nil {
		t.Fatal(err)
	}
	var inc bytes.Buffer
	next2, err := src.Backup(ctx, &inc, next)
	if err != nil {
		t.Fatalf("incremental Backup: %v", err)
	}
	// What the writers added after the snapshot is in the increment, so
	// it is compared with a full backup of the same moment, not the first.
	var full2 bytes.Buffer
	if _, err := src.Backup(ctx, &full2, 0); err != nil {
		t.Fatalf("second full Backup: %v", err)
	}
	if next2 <= next || inc.Len() >= full2.Len() {
		t.Errorf("incremental backup: next %d after %d, %d bytes beside a full one of the same moment %d; want a later version and fewer bytes", next2, next, inc.Len(), full2.Len())
	}

	// The full backup alone.
	dir := filepath.Join(t.TempDir(), "catalog")
	if err := catalog.Restore(ctx, dir, bytes.NewReader(full.Bytes()), nil); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	c := openDisk(t, dir)
	for i := range 50 {
		if _, err := c.Stat(ctx, user, "b", fmt.Sprintf("before/%02d", i)); err != nil {
			t.Errorf("restored catalog: before/%02d: %v", i, err)
		}
	}
	if al, err := c.Albums(ctx, user); err != nil || len(al) != 1 {
		t.Errorf("restored albums = %v, %v; want Paris", al, err)
	}
	if _, err := c.Stat(ctx, user, "b", "after"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("a file written after the backup: %v; want ErrNotFound", err)
	}
	c.Close()

	// Then the increment on top.
	if err := catalog.Restore(ctx, dir, bytes.NewReader(inc.Bytes()), nil); err != nil {
		t.Fatalf("Restore of the increment: %v", err)
	}
	c = openDisk(t, dir)
	if _, err := c.Stat(ctx, user, "b", "after"); err != nil {
		t.Errorf("after the increment: %v; want the file", err)
	}
	if al, err := c.Albums(ctx, user); err != nil || len(al) != 0 {
		t.Errorf("albums after the increment = %v, %v; want none", al, err)
	}
	c.Close()

	// An increment alone is not a catalog.
	if err := catalog.Restore(ctx, filepath.Join(t.TempDir(), "catalog"), bytes.NewReader(inc.Bytes()), nil); err == nil {
		t.Errorf("Restore of an increment into an empty directory: no error; want one")
	}
}
