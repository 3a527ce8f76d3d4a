package localfs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shoebox/gateway"
	"shoebox/gateway/localfs"
	"shoebox/gateway/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gateway.Backend {
		b, err := localfs.New(t.TempDir(), localfs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	})
}

// TestLongNamesAfterRestart: a segment too long for the file system is
// found again, by its real name, by a new FS over the same directory (as
// at start-up, when the catalog is reconciled with the disk).
func TestLongNamesAfterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := localfs.New(dir, localfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := "a/" + strings.Repeat("é", 150) + "/" + strings.Repeat("n", 256) + ".jpg"
	p := gateway.Path{User: "u", Bucket: "b", Key: key}
	pending, err := b.Create(ctx, p, strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pending.Commit(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	// No name on disk is longer than file systems keep.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if len(d.Name()) > 255 {
			t.Errorf("a name of %d bytes on disk", len(d.Name()))
		}
		return nil
	})
	b2, err := localfs.New(dir, localfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	var keys []string
	if err := b2.Walk(ctx, func(e gateway.Entry) error { keys = append(keys, e.Path.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range keys {
		found = found || k == key
	}
	if !found || len(keys) != 4 { // "", a/, a/ééé/, the file
		t.Errorf("Walk after a restart: %d keys %q; want the bucket, two folders and %q", len(keys), keys, key)
	}
}

// TestFlusher: a file committed unsynced is in place at once and Flush
// (syncfs) succeeds; the gateway relies on Flush making it durable.
func TestFlusher(t *testing.T) {
	ctx := context.Background()
	b, err := localfs.New(t.TempDir(), localfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fl, ok := any(b).(gateway.Flusher)
	if !ok {
		t.Skip("localfs is a Flusher on Linux only")
	}
	p := gateway.Path{User: "u", Bucket: "b", Key: "d/small.txt"}
	pending, err := fl.CreateUnsynced(ctx, p, strings.NewReader("small"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pending.Commit(ctx, time.Unix(1e9, 0)); err != nil {
		t.Fatal(err)
	}
	if err := fl.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	f, err := b.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make([]byte, 10)
	n, _ := f.Read(got)
	if string(got[:n]) != "small" {
		t.Errorf("read back %q; want %q", got[:n], "small")
	}
}
