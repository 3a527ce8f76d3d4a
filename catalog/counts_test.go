package catalog

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// scanCounts counts the way /api/v1/status did before counts.go: every
// file of every bucket but the trash, its media record, and QueueOf.
func scanCounts(ctx context.Context, c *Catalog, now time.Time, user string) (Counts, error) {
	var cnt Counts
	bs, err := c.Buckets(ctx, user)
	if err != nil {
		return cnt, err
	}
	for _, b := range bs {
		if b.Name == TrashBucket {
			continue
		}
		err := c.Walk(ctx, user, b.Name, "", "", func(o Object) error {
			if o.IsDir() {
				return nil
			}
			cnt.Objects++
			if m, err := c.MediaOf(ctx, user, b.Name, o.Key); err == nil {
				switch m.Kind {
				case "photo":
					cnt.Photos++
				case "video":
					cnt.Videos++
				}
			}
			return nil
		})
		if err != nil {
			return cnt, err
		}
	}
	cnt.Queue, err = c.QueueOf(ctx, now, user)
	return cnt, err
}

// TestCountsExact checks CountsOf against a full scan after every kind of
// change: the cache must never answer with counts a write made stale.
func TestCountsExact(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	for _, b := range []string{"b", "c", TrashBucket} {
		if err := c.CreateBucket(ctx, "u", b, now); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step string, want Counts) {
		t.Helper()
		scan, err := scanCounts(ctx, c, now, "u")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ { // counted, then cached
			got, err := c.CountsOf(ctx, now, "u")
			if err != nil {
				t.Fatal(err)
			}
			if got != scan || got != want {
				t.Errorf("after %s: CountsOf = %+v; scan = %+v; want %+v", step, got, scan, want)
			}
		}
	}
	gen := int64(0)
	put := func(bucket, key string) {
		t.Helper()
		gen++
		if err := c.PutFile(ctx, "u", Object{Bucket: bucket, Key: key, Size: 10, UploadNs: gen}); err != nil {
			t.Fatal(err)
		}
	}
	lease := func(n int) []Job {
		t.Helper()
		js, err := c.LeaseJobs(ctx, now, time.Minute, n)
		if err != nil || len(js) != n {
			t.Fatalf("LeaseJobs = %d, %v; want %d", len(js), err, n)
		}
		return js
	}
	check("nothing", Counts{})
	if err := c.Put(ctx, "u", Object{Bucket: "b", Key: "d/", Explicit: true}); err != nil {
		t.Fatal(err)
	}
	put("b", "d/a.jpg")
	put("b", "d/b.jpg")
	put("b", "d/v.mp4")
	put("b", "x.txt")
	check("put", Counts{Objects: 4, Queue: QueueStats{Pending: 4}})
	put("b", "x.txt")
	check("overwrite", Counts{Objects: 4, Queue: QueueStats{Pending: 4}})
	js := lease(4)
	check("lease", Counts{Objects: 4, Queue: QueueStats{Running: 4}})
	for _, j := range js {
		kind := map[string]string{"d/a.jpg": "photo", "d/b.jpg": "photo", "d/v.mp4": "video"}[j.Key]
		if kind == "" {
			if err := c.FailJob(ctx, j, now, errors.New("bad"), false, nil); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := c.CompleteJob(ctx, j, Media{Kind: kind, SHA256: j.Key}); err != nil {
			t.Fatal(err)
		}
	}
	check("complete and fail", Counts{Objects: 4, Photos: 2, Videos: 1, Queue: QueueStats{Failed: 1}})
	if err := c.Move(ctx, "u", "b", "d/", "c", "e/", false, nil); err != nil {
		t.Fatal(err)
	}
	check("move", Counts{Objects: 4, Photos: 2, Videos: 1, Queue: QueueStats{Failed: 1}})
	if err := c.Move(ctx, "u", "c", "e/a.jpg", "b", "copy.jpg", true, nil); err != nil {
		t.Fatal(err)
	}
	check("copy", Counts{Objects: 5, Photos: 3, Videos: 1, Queue: QueueStats{Failed: 1}})
	if err := c.Move(ctx, "u", "c", "e/v.mp4", TrashBucket, "1/v.mp4", false, nil); err != nil {
		t.Fatal(err)
	}
	check("trash", Counts{Objects: 4, Photos: 3, Queue: QueueStats{Failed: 1}})
	if err := c.Delete(ctx, "u", "b", "copy.jpg"); err != nil {
		t.Fatal(err)
	}
	check("delete a file", Counts{Objects: 3, Photos: 2, Queue: QueueStats{Failed: 1}})
	if err := c.Requeue(ctx, "u", "b", "x.txt"); err != nil {
		t.Fatal(err)
	}
	check("requeue", Counts{Objects: 3, Photos: 2, Queue: QueueStats{Pending: 1}})
	if err := c.Delete(ctx, "u", "c", "e/"); err != nil {
		t.Fatal(err)
	}
	check("delete a folder", Counts{Objects: 1, Queue: QueueStats{Pending: 1}})
	lease(1)
	check("lease again", Counts{Objects: 1, Queue: QueueStats{Running: 1}})
	now = now.Add(2 * time.Minute) // the lease runs out without a write
	check("lease expired", Counts{Objects: 1, Queue: QueueStats{Pending: 1}})
	for i := range 3 {
		put("c", fmt.Sprintf("n%d.jpg", i))
	}
	check("more puts", Counts{Objects: 4, Queue: QueueStats{Pending: 4}})
}
