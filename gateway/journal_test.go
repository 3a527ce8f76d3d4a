package gateway_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/memfs"
	"shoebox/gateway/wal"
)

// journalEnv is a gateway over a Volatile backend whose journal never
// flushes by itself (only barriers and Flush do), so a test decides what a
// crash finds.
type journalEnv struct {
	env
	vol memfs.Volatile
	dir string   // the write-ahead log's
	log *wal.Log // the current gateway's
}

func newJournalEnv(t *testing.T) *journalEnv {
	t.Helper()
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	ctx := context.Background()
	if err := cat.PutUser(ctx, catalog.User{Name: user, PasswordHash: "h"}, true); err != nil {
		t.Fatal(err)
	}
	vol := memfs.NewVolatile()
	je := &journalEnv{vol: vol, dir: t.TempDir()}
	je.env = env{be: vol.FS, cat: cat}
	je.restart(t)
	je.mkBucket(t, "b")
	return je
}

// restart is a new gateway and log over the same catalog, backend and log
// directory, as after a restart (a crash first, when the test calls
// vol.Crash: the old log is then left as it was).
func (je *journalEnv) restart(t *testing.T) {
	t.Helper()
	log, err := wal.Open(je.dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := gateway.New(je.vol, je.cat, gateway.Options{Logger: quiet, Journal: log, JournalLimit: 16, JournalFlushEvery: time.Hour})
	t.Cleanup(func() { g.Flush(context.Background()) })
	je.g, je.log = g, log
}

// segments counts the log's segment files.
func (je *journalEnv) segments(t *testing.T) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(je.dir, "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// TestJournalReplay: small files acknowledged but lost by a crash before
// their flush come back from the journal; stale entries do not undo later
// changes; large files never depend on it.
func TestJournalReplay(t *testing.T) {
	je := newJournalEnv(t)
	ctx := context.Background()
	je.put(t, "b", "small.txt", "tiny")                      // journaled
	je.put(t, "b", "big.txt", "larger than sixteen bytes")   // synced at once
	je.put(t, "b", "replaced.txt", "old")                    // journaled, then
	je.put(t, "b", "replaced.txt", "new, and not journaled") // replaced by a synced version
	je.put(t, "b", "deleted.txt", "gone")                    // journaled, then deleted
	if err := je.g.Remove(ctx, user, "b", "deleted.txt"); err != nil {
		t.Fatal(err)
	}
	je.put(t, "b", "twice.txt", "one")
	je.put(t, "b", "twice.txt", "two")
	if got := je.log.Live(); got != 5 { // small, replaced, deleted, twice (two)
		t.Errorf("log records before the crash: got %d; want 5", got)
	}

	je.vol.Crash()
	for _, k := range []string{"small.txt", "twice.txt"} {
		if je.inBackend("b", k) {
			t.Fatalf("%s survived the simulated crash: the test would prove nothing", k)
		}
	}
	je.restart(t)
	if _, err := je.g.Reconcile(ctx); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	for k, want := range map[string]string{
		"small.txt": "tiny", "big.txt": "larger than sixteen bytes",
		"replaced.txt": "new, and not journaled", "twice.txt": "two",
	} {
		if got := je.read(t, "b", k); got != want {
			t.Errorf("%s after the crash: got %q; want %q", k, got, want)
		}
	}
	if je.inBackend("b", "deleted.txt") || je.inCatalog("b", "deleted.txt") {
		t.Errorf("deleted.txt came back after the crash")
	}
	if got := je.segments(t); got != 1 {
		t.Errorf("log segments after the replay: got %d; want 1 (the new one)", got)
	}
}

// TestJournalLostCommit: the catalog commits a journaled file's row without
// waiting for the disk, so a crash of the machine can lose it; the log's
// record (its row, its bytes) is then the truth, and brings back both.
func TestJournalLostCommit(t *testing.T) {
	je := newJournalEnv(t)
	ctx := context.Background()
	old := je.put(t, "b", "replaced.txt", "the first version, not journaled")
	je.put(t, "b", "replaced.txt", "second")
	je.put(t, "b", "new.txt", "new")
	je.put(t, "b", "twice.txt", "one")
	want := je.put(t, "b", "twice.txt", "two")

	// What a crash that lost the catalog's commits would leave: the rows
	// as they were before them, and no marks.
	je.vol.Crash()
	if err := je.cat.Put(ctx, user, old); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"new.txt", "twice.txt"} {
		if err := je.cat.Delete(ctx, user, "b", k); err != nil {
			t.Fatal(err)
		}
	}
	if err := je.cat.DropJournalMarksBefore(ctx, 1<<62); err != nil {
		t.Fatal(err)
	}
	je.restart(t)
	if _, err := je.g.Reconcile(ctx); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	for k, want := range map[string]string{"replaced.txt": "second", "new.txt": "new", "twice.txt": "two"} {
		if got := je.read(t, "b", k); got != want {
			t.Errorf("%s after losing its commit: got %q; want %q", k, got, want)
		}
	}
	got, err := je.cat.Stat(ctx, user, "b", "twice.txt")
	if err != nil || got.SHA256 != want.SHA256 || got.ModNs != want.ModNs || got.MD5 != want.MD5 {
		t.Errorf("twice.txt's row after the replay: got %+v, %v; want %+v", got, err, want)
	}
}

// TestJournalBarrier: a move or copy of a journaled file first makes it
// durable, so a crash after the move loses nothing; Flush does the same
// for everything, and the log keeps no record.
func TestJournalBarrier(t *testing.T) {
	je := newJournalEnv(t)
	ctx := context.Background()
	je.put(t, "b", "a.txt", "moved")
	je.put(t, "b", "c.txt", "copied")
	if err := je.g.Move(ctx, user, "b", "a.txt", "b", "moved.txt"); err != nil {
		t.Fatal(err)
	}
	if err := je.g.Copy(ctx, user, "b", "c.txt", "b", "copy.txt"); err != nil {
		t.Fatal(err)
	}
	je.vol.Crash()
	je.restart(t)
	if st, err := je.g.Reconcile(ctx); err != nil || st != (gateway.ReconcileStats{}) {
		t.Errorf("Reconcile after a crash that lost nothing: got %+v, %v; want no changes", st, err)
	}
	for k, want := range map[string]string{"moved.txt": "moved", "c.txt": "copied", "copy.txt": "copied"} {
		if got := je.read(t, "b", k); got != want {
			t.Errorf("%s after the crash: got %q; want %q", k, got, want)
		}
	}

	je.put(t, "b", "d.txt", "flushed")
	if err := je.g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := je.log.Live(); got != 0 {
		t.Errorf("log records after Flush: got %d; want 0", got)
	}
	if got := je.segments(t); got != 1 {
		t.Errorf("log segments after Flush: got %d; want 1 (the one appended to)", got)
	}
	je.vol.Crash()
	if got := je.read(t, "b", "d.txt"); got != "flushed" {
		t.Errorf("d.txt after Flush and a crash: got %q; want %q", got, "flushed")
	}
}

// TestJournalConcurrent: many small uploads at once share commits and
// flushes; every one is readable, and after Flush none is left in the
// journal.
func TestJournalConcurrent(t *testing.T) {
	je := newJournalEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := "f/" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26))
			if _, err := je.g.Put(ctx, gateway.PutInput{User: user, Bucket: "b", Key: k, Body: strings.NewReader(k), MakeParents: true}); err != nil {
				t.Errorf("Put %s: %v", k, err)
			}
		}()
	}
	wg.Wait()
	if got := len(je.rows(t, "b")); got != 65 { // 64 files and their folder
		t.Errorf("rows: got %d; want 65", got)
	}
	if err := je.g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	je.vol.Crash()
	if got := len(je.files(t, "b")); got != 65 {
		t.Errorf("files after Flush and a crash: got %d; want 65", got)
	}
	if got := je.log.Live(); got != 0 {
		t.Errorf("log records after Flush: got %d; want 0", got)
	}
}

// TestInLog: a file is "in the log" while a segment holding a record of it
// exists (a replay would meet it), released or not; a remove of such a
// file commits its catalog delete durably, others need not (the backend's
// removal is durable, and Reconcile drops a row without a file).
func TestInLog(t *testing.T) {
	je := newJournalEnv(t)
	ctx := context.Background()
	small, big := gateway.Path{User: user, Bucket: "b", Key: "small"}, gateway.Path{User: user, Bucket: "b", Key: "big"}
	je.put(t, "b", "small", "tiny")
	je.put(t, "b", "big", "more than sixteen bytes")
	if !je.g.InLog(small) || je.g.InLog(big) {
		t.Errorf("after the puts: InLog small %v, big %v; want true, false", je.g.InLog(small), je.g.InLog(big))
	}
	je.g.ReleaseWaiting(ctx)
	if !je.g.InLog(small) {
		t.Errorf("released, but its segment is still there: InLog false; want true")
	}
	je.put(t, "b", "other", "tiny") // a flush has something to do
	if err := je.g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if je.g.InLog(small) {
		t.Errorf("after Flush (its segment deleted): InLog true; want false")
	}
}

// TestRemoveLostCommit: a removed file's row may be committed without
// waiting for the disk; should a crash lose that commit, Reconcile drops
// the row, since the file is gone for good.
func TestRemoveLostCommit(t *testing.T) {
	je := newJournalEnv(t)
	ctx := context.Background()
	o := je.put(t, "b", "big.txt", "larger than sixteen bytes")
	if err := je.g.Remove(ctx, user, "b", "big.txt"); err != nil {
		t.Fatal(err)
	}
	je.vol.Crash()
	if err := je.cat.Put(ctx, user, o); err != nil { // the lost commit
		t.Fatal(err)
	}
	je.restart(t)
	if st, err := je.g.Reconcile(ctx); err != nil || st.Removed != 1 {
		t.Errorf("Reconcile: %+v, %v; want one row removed", st, err)
	}
	if je.inCatalog("b", "big.txt") || je.inBackend("b", "big.txt") {
		t.Errorf("big.txt came back after its remove")
	}
}
