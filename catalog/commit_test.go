package catalog

import (
	"context"
	"errors"
	"fmt"
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
