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

func names(t *testing.T, tr *virtualdirs.Tree, p string) []string {
	t.Helper()
	var out []string
	if err := tr.List(context.Background(), "u", p, func(e virtualdirs.Entry) error {
		n := e.Name
		if e.Dir {
			n += "/"
		}
		out = append(out, n)
		return nil
	}); err != nil {
		t.Fatalf("List %s: %v", p, err)
	}
	return out
}

// TestTree lists the date and camera trees, tells clashing names apart
// the same way whatever the order, and groups near duplicates.
func TestTree(t *testing.T) {
	ctx := context.Background()
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	add := func(bucket, key, taken, phash string) {
		t.Helper()
		o := catalog.Object{Bucket: bucket, Key: key, Size: 1, SHA256: phash + phash + phash + phash, UploadNs: 1, ModNs: 1}
		if err := cat.PutFile(ctx, "u", o); err != nil {
			t.Fatal(err)
		}
		j := catalog.Job{User: "u", Bucket: bucket, Key: key, Gen: 1}
		m := catalog.Media{Kind: "photo", TakenLocal: taken, Make: "Canon", Model: "Canon EOS R5", PHash: phash, SHA256: o.SHA256}
		if err := cat.CompleteJob(ctx, j, m); err != nil {
			t.Fatal(err)
		}
	}
	add("a", "IMG_0001.jpg", "2019-06-12T10:00:00", "00000000000000ff")
	add("b", "x/IMG_0001.jpg", "2019-06-12T11:00:00", "00000000000000fe") // near duplicate of the first
	add("a", "other.jpg", "2019-07-01T09:00:00", "ffff0000ffff0000")
	add("a", "old.jpg", "2001-01-01T00:00:00", "0f0f0f0f0f0f0f0f")
	tr := virtualdirs.New(cat, virtualdirs.Options{})
	if got := names(t, tr, "by-date"); !slices.Equal(got, []string{"2001/", "2019/"}) {
		t.Errorf("by-date = %q", got)
	}
	if got := names(t, tr, "by-date/2019"); !slices.Equal(got, []string{"2019-06/", "2019-07/"}) {
		t.Errorf("by-date/2019 = %q", got)
	}
	day := names(t, tr, "by-date/2019/2019-06/2019-06-12")
	want := []string{virtualdirs.Disambiguate("IMG_0001.jpg", "a", "IMG_0001.jpg"), virtualdirs.Disambiguate("IMG_0001.jpg", "b", "x/IMG_0001.jpg")}
	slices.Sort(want)
	if !slices.Equal(day, want) || day[0] == day[1] {
		t.Errorf("day folder = %q; want %q", day, want)
	}
	if got := names(t, tr, "by-camera"); !slices.Equal(got, []string{"Canon EOS R5/"}) {
		t.Errorf("by-camera = %q", got)
	}
	dups := names(t, tr, "duplicates")
	if len(dups) != 1 || dups[0] != "2019-06-12 IMG_0001.jpg (2 copies)/" {
		t.Fatalf("duplicates = %q", dups)
	}
	if got := names(t, tr, "duplicates/"+dups[0][:len(dups[0])-1]); len(got) != 2 {
		t.Errorf("group = %q", got)
	}
	for _, p := range []string{"by-date/2018", "by-date/2019/2018-06", "nowhere", "by-camera/Nikon"} {
		if err := tr.List(ctx, "u", p, func(virtualdirs.Entry) error { return nil }); err == nil {
			t.Errorf("List %s succeeded; want ErrNotFound", p)
		}
	}
	// Deleting one copy dissolves the group.
	if err := cat.Delete(ctx, "u", "b", "x/IMG_0001.jpg"); err != nil {
		t.Fatal(err)
	}
	if got := names(t, tr, "duplicates"); len(got) != 0 {
		t.Errorf("duplicates after a delete = %q", got)
	}
	if got := names(t, tr, "by-date/2019/2019-06/2019-06-12"); !slices.Equal(got, []string{"IMG_0001.jpg"}) {
		t.Errorf("day folder after a delete = %q", got)
	}
}
