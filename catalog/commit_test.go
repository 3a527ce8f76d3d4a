package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

// TestGroupCommit: concurrent commits share transactions, yet each caller
// gets its own result: a function that fails (after writing) leaves
// nothing behind and does not fail the others of its batch.
func TestGroupCommit(t *testing.T) {
	c, err := Open(t.TempDir(), Options{SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.commit(ctx, func(txn *badger.Txn) error {
				if err := txn.Set(fmt.Appendf(nil, "test|%03d", i), []byte("v")); err != nil {
					return err
				}
				if i%10 == 3 {
					return fmt.Errorf("function %d fails", i)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		want := i%10 == 3
		if (err != nil) != want {
			t.Errorf("commit %d: got error %v; want an error: %v", i, err, want)
		}
		if err != nil && err.Error() != fmt.Sprintf("function %d fails", i) {
			t.Errorf("commit %d: got %v; want its own error", i, err)
		}
		err = c.db.View(func(txn *badger.Txn) error {
			_, err := txn.Get(fmt.Appendf(nil, "test|%03d", i))
			return err
		})
		if found := err == nil; found == want {
			t.Errorf("row %d: found %v; want %v", i, found, !want)
		}
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			t.Fatal(err)
		}
	}
}

// TestRotatedLogs: the files a durable commit fsyncs besides Badger's own
// Sync are the memtables and value logs that are not the newest of their
// kind.
func TestRotatedLogs(t *testing.T) {
	names := []string{"000001.sst", "00007.mem", "00009.mem", "MANIFEST", "000003.vlog", "000004.vlog", "00010.mem", "DISCARD", "x.mem"}
	got := rotatedLogs(names)
	want := []string{"00007.mem", "00009.mem", "000003.vlog"}
	if !slices.Equal(got, want) {
		t.Errorf("rotatedLogs: got %q; want %q", got, want)
	}
}

// TestLazyCommit: a commit that does not wait for the disk is visible at
// once, and a durable commit after it (or Sync) returns without error on
// a catalog that syncs.
func TestLazyCommit(t *testing.T) {
	ctx := context.Background()
	c, err := Open(t.TempDir(), Options{SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := JournalMark{Seg: 3, Off: 8}
	o := Object{Bucket: "b", Key: "k", Size: 1, SHA256: "aa", ModNs: 1, UploadNs: 1}
	if err := c.PutFileLogged(ctx, "u", o, m); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Stat(ctx, "u", "b", "k"); err != nil || got.SHA256 != "aa" {
		t.Errorf("Stat after PutFileLogged: got %+v, %v; want the row", got, err)
	}
	if ok, err := c.JournalMarked(ctx, m); !ok || err != nil {
		t.Errorf("JournalMarked after PutFileLogged: got %v, %v; want true", ok, err)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.DropJournalMarks(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.JournalMarked(ctx, m); !ok {
		t.Errorf("DropJournalMarks of another segment dropped the mark")
	}
	if err := c.DropJournalMarks(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.JournalMarked(ctx, m); ok {
		t.Errorf("the mark outlived DropJournalMarks of its segment")
	}
	if err := c.PutFileLogged(ctx, "u", o, JournalMark{Seg: 5}); err != nil {
		t.Fatal(err)
	}
	if err := c.DropJournalMarksBefore(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.JournalMarked(ctx, JournalMark{Seg: 5}); !ok {
		t.Errorf("DropJournalMarksBefore(5) dropped segment 5's mark")
	}
	if err := c.DropJournalMarksBefore(ctx, 6); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.JournalMarked(ctx, JournalMark{Seg: 5}); ok {
		t.Errorf("DropJournalMarksBefore(6) kept segment 5's mark")
	}
}
