package virtualdirs_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"shoebox/catalog"
	"shoebox/virtualdirs"
)

// TestTagFolders: /by-tag lists one folder per keyword, keywords that
// differ only in case being one folder (named as the first in byte order
// spells it) holding the files of every spelling; a missing tag is not
// found.
func TestTagFolders(t *testing.T) {
	ctx := context.Background()
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	add := func(key string, tags ...string) {
		t.Helper()
		o := catalog.Object{Bucket: "a", Key: key, Size: 1, SHA256: key, UploadNs: 1, ModNs: 1}
		if err := cat.PutFile(ctx, "u", o); err != nil {
			t.Fatal(err)
		}
		j := catalog.Job{User: "u", Bucket: "a", Key: key, Gen: 1}
		if err := cat.CompleteJob(ctx, j, catalog.Media{Kind: "photo", SHA256: key, Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	add("1.jpg", "Beach", "Zoo")
	add("2.jpg", "beach")
	add("3.jpg", "Alps")
	tr := virtualdirs.New(cat, virtualdirs.Options{})
	if got := names(t, tr, "by-tag"); !slices.Equal(got, []string{"Alps/", "Beach/", "Zoo/"}) {
		t.Errorf("by-tag = %q; want [Alps/ Beach/ Zoo/]", got)
	}
	if got := names(t, tr, "by-tag/Beach"); !slices.Equal(got, []string{"1.jpg", "2.jpg"}) {
		t.Errorf("by-tag/Beach = %q; want both spellings' files", got)
	}
	if e, err := tr.Stat(ctx, "u", "by-tag/Zoo/1.jpg"); err != nil || e.Object.Key != "1.jpg" {
		t.Errorf("Stat by-tag/Zoo/1.jpg = %+v, %v", e, err)
	}
	for _, p := range []string{"by-tag/Nope", "by-tag/Beach/x"} {
		if err := tr.List(ctx, "u", p, func(virtualdirs.Entry) error { return nil }); err == nil {
			t.Errorf("List %s succeeded; want ErrNotFound", p)
		}
	}
}
