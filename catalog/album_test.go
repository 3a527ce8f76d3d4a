package catalog

import (
	"context"
	"testing"
	"time"
)

// TestAlbumListsTheFileAdded: an album lists the file that was added
// (under its own name), not another file with the same bytes; it follows
// that file's moves; once that file has other content, or for a row
// written before albums named files, it lists the first file with the
// content.
func TestAlbumListsTheFileAdded(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	now := time.Now()
	gen := int64(0)
	put := func(key, sha string) {
		t.Helper()
		gen++
		if err := c.PutFile(ctx, "u", Object{Bucket: "b", Key: key, Size: 10, SHA256: sha, UploadNs: gen}); err != nil {
			t.Fatal(err)
		}
		js, err := c.LeaseJobs(ctx, now, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			o, err := c.Stat(ctx, "u", j.Bucket, j.Key)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.CompleteJob(ctx, j, Media{Kind: "photo", SHA256: o.SHA256}); err != nil {
				t.Fatal(err)
			}
		}
	}
	members := func(album string) []string {
		t.Helper()
		var keys []string
		if err := c.AlbumMembers(ctx, "u", album, func(o Object) error { keys = append(keys, o.Key); return nil }); err != nil {
			t.Fatal(err)
		}
		return keys
	}
	check := func(when, album string, want ...string) {
		t.Helper()
		if got := members(album); len(got) != len(want) || (len(got) > 0 && got[0] != want[0]) {
			t.Errorf("%s: album %s lists %q; want %q", when, album, got, want)
		}
	}
	put("a/IMG_0001.jpg", "s1")
	put("b/copy of IMG_0001.jpg", "s1")
	for _, a := range []string{"Trip", "Old"} {
		if err := c.CreateAlbum(ctx, "u", a, 1); err != nil {
			t.Fatal(err)
		}
	}
	o, err := c.Stat(ctx, "u", "b", "b/copy of IMG_0001.jpg")
	if err != nil {
		t.Fatal(err)
	}
	o.Bucket, o.Key = "b", "b/copy of IMG_0001.jpg"
	if err := c.AddFileToAlbum(ctx, "u", "Trip", o); err != nil {
		t.Fatal(err)
	}
	if err := c.AlbumAdd(ctx, "u", "Old", "s1"); err != nil { // as rows were before
		t.Fatal(err)
	}
	check("added", "Trip", "b/copy of IMG_0001.jpg")
	check("old row", "Old", "a/IMG_0001.jpg")
	if err := c.Move(ctx, "u", "b", "b/copy of IMG_0001.jpg", "b", "c/renamed.jpg", false, nil); err != nil {
		t.Fatal(err)
	}
	check("after a move", "Trip", "c/renamed.jpg")
	if err := c.RenameAlbum(ctx, "u", "Trip", "Voyage"); err != nil {
		t.Fatal(err)
	}
	check("after renaming the album", "Voyage", "c/renamed.jpg")
	put("c/renamed.jpg", "s2") // overwritten: the photo is the other copy now
	check("after an overwrite", "Voyage", "a/IMG_0001.jpg")
}
