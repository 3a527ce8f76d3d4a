package catalog

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestLivePairs: a still and its video pair whichever is enriched first,
// by content identifier or by name and time; the motion half leaves the
// day's listing; deleting or moving one half away unpairs the other.
func TestLivePairs(t *testing.T) {
	ctx := context.Background()
	const day = "2024-05-01"
	still := Media{Kind: "photo", SHA256: "s", TakenLocal: day + "T10:00:02", TakenUTC: day + "T08:00:02Z", Offset: "+02:00"}
	motion := Media{Kind: "video", SHA256: "m", TakenLocal: day + "T10:00:00", TakenUTC: day + "T08:00:00Z", Offset: "+02:00"}
	withID := func(m Media, id string) Media { m.ContentID = id; return m }
	later := func(m Media, d time.Duration) Media {
		t, _ := time.Parse(time.RFC3339, m.TakenUTC)
		m.TakenUTC = t.Add(d).Format(time.RFC3339)
		return m
	}
	type file struct {
		key string
		m   Media
	}
	tests := []struct {
		name  string
		files []file
		pairs map[string]string // key → partner; unlisted keys are unpaired
	}{
		{"by name and time, still first", []file{{"DCIM/IMG_1.HEIC", still}, {"DCIM/IMG_1.MOV", motion}},
			map[string]string{"DCIM/IMG_1.HEIC": "DCIM/IMG_1.MOV", "DCIM/IMG_1.MOV": "DCIM/IMG_1.HEIC"}},
		{"by name and time, video first", []file{{"DCIM/IMG_1.MOV", motion}, {"DCIM/IMG_1.HEIC", still}},
			map[string]string{"DCIM/IMG_1.HEIC": "DCIM/IMG_1.MOV", "DCIM/IMG_1.MOV": "DCIM/IMG_1.HEIC"}},
		{"by name, too far apart", []file{{"IMG_1.JPG", still}, {"IMG_1.MOV", later(motion, time.Minute)}}, nil},
		{"by name, other folder", []file{{"a/IMG_1.JPG", still}, {"b/IMG_1.MOV", motion}}, nil},
		{"two photos", []file{{"IMG_1.JPG", still}, {"IMG_1.HEIC", still}}, nil},
		{"by content identifier, other names", []file{{"x/still.heic", withID(still, "ID1")}, {"y/clip.mov", withID(later(motion, time.Hour), "ID1")}},
			map[string]string{"x/still.heic": "y/clip.mov", "y/clip.mov": "x/still.heic"}},
		{"content identifiers differ", []file{{"IMG_1.HEIC", withID(still, "ID1")}, {"IMG_1.MOV", withID(motion, "ID2")}}, nil},
		{"one half with an identifier", []file{{"IMG_1.HEIC", withID(still, "ID1")}, {"IMG_1.MOV", motion}},
			map[string]string{"IMG_1.HEIC": "IMG_1.MOV", "IMG_1.MOV": "IMG_1.HEIC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openLive(t)
			for _, f := range tt.files {
				enrichOne(t, c, f.key, f.m)
			}
			for _, f := range tt.files {
				m, err := c.MediaOf(ctx, "u", "b", f.key)
				if err != nil {
					t.Fatal(err)
				}
				if m.LivePair != tt.pairs[f.key] {
					t.Errorf("%s: LivePair = %q; want %q", f.key, m.LivePair, tt.pairs[f.key])
				}
			}
			var listed []string
			for _, f := range tt.files {
				if p := tt.pairs[f.key]; p == "" || f.m.Kind == "photo" {
					listed = append(listed, f.key)
				}
			}
			if got := onDay(t, c, day); !sameSet(got, listed) {
				t.Errorf("listed on %s: %q; want %q", day, got, listed)
			}
		})
	}

	t.Run("delete one half", func(t *testing.T) {
		c := openLive(t)
		enrichOne(t, c, "IMG_1.HEIC", still)
		enrichOne(t, c, "IMG_1.MOV", motion)
		if err := c.Delete(ctx, "u", "b", "IMG_1.HEIC"); err != nil {
			t.Fatal(err)
		}
		m, _ := c.MediaOf(ctx, "u", "b", "IMG_1.MOV")
		if m.LivePair != "" || m.LiveRole != "" {
			t.Errorf("video after its still was deleted: LivePair, LiveRole = %q, %q; want none", m.LivePair, m.LiveRole)
		}
		if got := onDay(t, c, day); !sameSet(got, []string{"IMG_1.MOV"}) {
			t.Errorf("listed: %q; want the video", got)
		}
	})
	t.Run("trash one half, restore it, move the folder", func(t *testing.T) {
		c := openLive(t)
		enrichOne(t, c, "d/IMG_1.HEIC", still)
		enrichOne(t, c, "d/IMG_1.MOV", motion)
		if err := c.Move(ctx, "u", "b", "d/IMG_1.MOV", TrashBucket, "t1", false, nil); err != nil {
			t.Fatal(err)
		}
		if m, _ := c.MediaOf(ctx, "u", "b", "d/IMG_1.HEIC"); m.LivePair != "" {
			t.Errorf("still after its video was trashed: LivePair = %q; want none", m.LivePair)
		}
		if got := onDay(t, c, day); !sameSet(got, []string{"d/IMG_1.HEIC"}) {
			t.Errorf("listed with the video in the trash: %q; want the still", got)
		}
		if err := c.Move(ctx, "u", TrashBucket, "t1", "b", "d/IMG_1.MOV", false, nil); err != nil {
			t.Fatal(err)
		}
		if m, _ := c.MediaOf(ctx, "u", "b", "d/IMG_1.HEIC"); m.LivePair != "d/IMG_1.MOV" {
			t.Fatalf("still after its video was restored: LivePair = %q", m.LivePair)
		}
		if got := onDay(t, c, day); !sameSet(got, []string{"d/IMG_1.HEIC"}) {
			t.Errorf("listed after the restore: %q; want the still", got)
		}
		if err := c.Move(ctx, "u", "b", "d/", "b", "e/", false, nil); err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{"e/IMG_1.HEIC": "e/IMG_1.MOV", "e/IMG_1.MOV": "e/IMG_1.HEIC"} {
			if m, _ := c.MediaOf(ctx, "u", "b", k); m.LivePair != want {
				t.Errorf("%s after a folder move: LivePair = %q; want %q", k, m.LivePair, want)
			}
		}
	})
}

func openLive(t *testing.T) *Catalog {
	t.Helper()
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.CreateBucket(context.Background(), "u", "b", time.Now()); err != nil {
		t.Fatal(err)
	}
	return c
}

// enrichOne writes a file and completes its job with m.
func enrichOne(t *testing.T, c *Catalog, key string, m Media) {
	t.Helper()
	ctx := context.Background()
	ns := time.Now().UnixNano()
	if err := c.PutFile(ctx, "u", Object{Bucket: "b", Key: key, Size: 10, SHA256: m.SHA256, UploadNs: ns, ModNs: ns}); err != nil {
		t.Fatal(err)
	}
	js, err := c.LeaseJobs(ctx, time.Now(), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		if j.Key != key {
			t.Fatalf("job for %s, want only %s", j.Key, key)
		}
		if err := c.CompleteJob(ctx, j, m); err != nil {
			t.Fatal(err)
		}
	}
}

func onDay(t *testing.T, c *Catalog, day string) []string {
	t.Helper()
	var keys []string
	if err := c.OnDay(context.Background(), "u", day, func(o Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	return keys
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestLivePairsAtOnce: two halves whose jobs complete at the same time
// pair, by content identifier (other names) and by name.
func TestLivePairsAtOnce(t *testing.T) {
	ctx := context.Background()
	still := Media{Kind: "photo", SHA256: "s", TakenLocal: "2024-05-01T10:00:02"}
	motion := Media{Kind: "video", SHA256: "m", TakenLocal: "2024-05-01T10:00:00"}
	for i := range 20 {
		c := openLive(t)
		files := map[string]Media{"a/IMG_1.HEIC": still, "a/IMG_1.MOV": motion}
		if i%2 == 1 {
			s, m := still, motion
			s.ContentID, m.ContentID = "ID", "ID"
			files = map[string]Media{"x/still.heic": s, "y/clip.mov": m}
		}
		ns := time.Now().UnixNano()
		for k, m := range files {
			if err := c.PutFile(ctx, "u", Object{Bucket: "b", Key: k, Size: 1, SHA256: m.SHA256, UploadNs: ns, ModNs: ns}); err != nil {
				t.Fatal(err)
			}
		}
		js, err := c.LeaseJobs(ctx, time.Now(), time.Minute, 10)
		if err != nil || len(js) != 2 {
			t.Fatalf("LeaseJobs = %d, %v", len(js), err)
		}
		start := make(chan struct{})
		errs := make(chan error, 2)
		for _, j := range js {
			go func() {
				<-start
				errs <- c.CompleteJob(ctx, j, files[j.Key])
			}()
		}
		close(start)
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for k := range files {
			if m, _ := c.MediaOf(ctx, "u", "b", k); m.LivePair == "" {
				t.Errorf("try %d: %s unpaired", i, k)
			}
		}
	}
}
