package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

func TestJobQueue(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	put := func(key string, gen int64) {
		t.Helper()
		if err := c.PutFile(ctx, "u", Object{Bucket: "b", Key: key, UploadNs: gen}); err != nil {
			t.Fatal(err)
		}
	}
	put("a.jpg", 1)
	put("b.jpg", 2)
	if q, _ := c.Queue(ctx, now); q.Pending != 2 {
		t.Fatalf("queue after two files = %+v; want 2 pending", q)
	}
	jobs, err := c.LeaseJobs(ctx, now, time.Minute, 10)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("LeaseJobs = %d, %v; want 2", len(jobs), err)
	}
	if again, _ := c.LeaseJobs(ctx, now, time.Minute, 10); len(again) != 0 {
		t.Errorf("leased jobs were leased again: %d", len(again))
	}
	if q, _ := c.Queue(ctx, now); q.Running != 2 {
		t.Errorf("queue = %+v; want 2 running", q)
	}
	// A worker that died: its lease runs out and the job comes back.
	if back, _ := c.LeaseJobs(ctx, now.Add(2*time.Minute), time.Minute, 10); len(back) != 2 {
		t.Errorf("after the lease ran out, %d jobs came back; want 2", len(back))
	}
	var a, b Job
	for _, j := range jobs {
		if j.Key == "a.jpg" {
			a = j
		} else {
			b = j
		}
	}
	if err := c.CompleteJob(ctx, a, Media{Kind: "photo", Width: 4}); err != nil {
		t.Fatal(err)
	}
	if m, err := c.MediaOf(ctx, "u", "b", "a.jpg"); err != nil || m.Width != 4 {
		t.Errorf("media after complete = %+v, %v", m, err)
	}
	if _, err := c.JobOf(ctx, "u", "b", "a.jpg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("job after complete: %v; want ErrNotFound", err)
	}
	// Failures back off, then stick as failed with their error.
	later := now.Add(3 * time.Minute)
	for i := 1; i <= MaxAttempts; i++ {
		if err := c.FailJob(ctx, b, later, errors.New("bad bytes"), true, nil); err != nil {
			t.Fatal(err)
		}
		j, _ := c.JobOf(ctx, "u", "b", "b.jpg")
		if j.Attempts != i || j.Err != "bad bytes" || j.Failed != (i == MaxAttempts) {
			t.Fatalf("after failure %d: %+v", i, j)
		}
		if !j.Failed {
			if got, _ := c.LeaseJobs(ctx, later, time.Minute, 10); len(got) != 0 {
				t.Fatalf("a failed job was leased again before its backoff")
			}
			later = time.Unix(0, j.NotBeforeNs)
			if got, _ := c.LeaseJobs(ctx, later, time.Minute, 10); len(got) != 1 {
				t.Fatalf("job not leased after its backoff")
			}
		}
	}
	if q, _ := c.Queue(ctx, later); q.Failed != 1 || q.Pending != 0 {
		t.Errorf("queue = %+v; want 1 failed", q)
	}
	// Overwriting redoes the job; a stale completion records nothing.
	put("c.jpg", 3)
	stale, _ := c.LeaseJobs(ctx, later, time.Minute, 10)
	put("c.jpg", 4)
	if err := c.CompleteJob(ctx, stale[0], Media{Kind: "stale"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.MediaOf(ctx, "u", "b", "c.jpg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a stale job's result was recorded: %v", err)
	}
	if j, err := c.JobOf(ctx, "u", "b", "c.jpg"); err != nil || j.Gen != 4 {
		t.Errorf("job after overwrite = %+v, %v; want gen 4", j, err)
	}
	// Moving moves the job and media; deleting removes them.
	if err := c.Move(ctx, "u", "b", "a.jpg", "b", "moved.jpg", false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.MediaOf(ctx, "u", "b", "moved.jpg"); err != nil {
		t.Errorf("media did not move with its file: %v", err)
	}
	if err := c.Delete(ctx, "u", "b", "c.jpg"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.JobOf(ctx, "u", "b", "c.jpg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("job of a deleted file: %v; want ErrNotFound", err)
	}
}

// TestRequeueFacesNotOf: photos with faces of another descriptor kind are
// queued again once per kind, and when they are enriched again their
// faces keep their persons, matched by box.
func TestRequeueFacesNotOf(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	if err := c.PutFile(ctx, "u", Object{Bucket: "b", Key: "p.jpg", UploadNs: 1}); err != nil {
		t.Fatal(err)
	}
	jobs, _ := c.LeaseJobs(ctx, now, time.Minute, 10)
	old := Media{Kind: "photo", SHA256: "s", Faces: []Face{
		{Detector: "old", Box: [4]float64{0.1, 0.1, 0.2, 0.2}},
		{Detector: "old", Box: [4]float64{0.6, 0.6, 0.2, 0.2}},
	}}
	if err := c.CompleteJob(ctx, jobs[0], old); err != nil {
		t.Fatal(err)
	}
	if err := c.SetFacePersons(ctx, "u", "b", "p.jpg", []string{"alice", "bob"}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.RequeueFacesNotOf(ctx, "new"); n != 1 || err != nil {
		t.Fatalf("RequeueFacesNotOf = %d, %v; want 1", n, err)
	}
	if n, _ := c.RequeueFacesNotOf(ctx, "new"); n != 0 {
		t.Errorf("second RequeueFacesNotOf = %d; want 0 (done for this kind)", n)
	}
	jobs, _ = c.LeaseJobs(ctx, now, time.Minute, 10)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs after the requeue; want 1", len(jobs))
	}
	again := Media{Kind: "photo", SHA256: "s", Faces: []Face{
		{Detector: "new", Box: [4]float64{0.11, 0.1, 0.2, 0.21}}, // alice, moved a little
		{Detector: "new", Box: [4]float64{0.3, 0.6, 0.1, 0.1}},   // a face not seen before
	}}
	if err := c.CompleteJob(ctx, jobs[0], again); err != nil {
		t.Fatal(err)
	}
	m, _ := c.MediaOf(ctx, "u", "b", "p.jpg")
	if m.Faces[0].Person != "alice" || m.Faces[1].Person != "" {
		t.Errorf("persons after enriching again: %q, %q; want alice and none", m.Faces[0].Person, m.Faces[1].Person)
	}
}

// TestLeaseJobsResumes: leasing resumes after the last job it leased and
// wraps around, so every due job is found, one added before that point too.
func TestLeaseJobsResumes(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	for i, k := range []string{"b", "c", "d", "e", "f"} {
		if err := c.PutFile(ctx, "u", Object{Bucket: "b", Key: k, UploadNs: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(js []Job) string {
		var s string
		for _, j := range js {
			s += j.Key
		}
		return s
	}
	first, _ := c.LeaseJobs(ctx, now, time.Minute, 2)
	second, _ := c.LeaseJobs(ctx, now, time.Minute, 2)
	if keys(first) != "bc" || keys(second) != "de" {
		t.Fatalf("leased %q then %q; want bc then de", keys(first), keys(second))
	}
	c.PutFile(ctx, "u", Object{Bucket: "b", Key: "a", UploadNs: 9}) // before the resume point
	rest, _ := c.LeaseJobs(ctx, now, time.Minute, 10)
	if keys(rest) != "fa" {
		t.Fatalf("then leased %q; want f, then a after wrapping around", keys(rest))
	}
	if none, _ := c.LeaseJobs(ctx, now, time.Minute, 10); len(none) != 0 {
		t.Fatalf("leased %q with every job leased; want none", keys(none))
	}
}

// TestDeleteFileLeavesNoRow: deleting one enriched file (its own
// transaction) removes every row that names it, index rows and duplicate
// group included, and leaves its duplicate's rows alone.
func TestDeleteFileLeavesNoRow(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	for _, k := range []string{"del.jpg", "keep.jpg"} {
		if err := c.PutFile(ctx, "u", Object{Bucket: "b", Key: k, SHA256: "same", UploadNs: 1}); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := c.LeaseJobs(ctx, now, time.Minute, 10)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("LeaseJobs: %d jobs, %v", len(jobs), err)
	}
	for _, j := range jobs {
		m := Media{Kind: "photo", SHA256: "same", TakenLocal: "2024-06-15T10:00:00", Make: "Cam", Model: "One",
			PHash: "8f0f0f0f0f0f0f0f", Faces: []Face{{Detector: "tiny416a", Box: [4]float64{0.1, 0.1, 0.2, 0.2}}}}
		if err := c.CompleteJob(ctx, j, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PatchProps(ctx, "u", "b", "del.jpg", []PropOp{{Prop: Prop{Space: "urn:x", Local: "p", Inner: "v"}}}); err != nil {
		t.Fatal(err)
	}
	rows := func(name string) []string {
		var out []string
		c.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				if k := string(it.Item().Key()); strings.Contains(k, name) {
					out = append(out, k)
				}
			}
			return nil
		})
		return out
	}
	before := len(rows("keep.jpg"))
	if len(rows("del.jpg")) < 4 {
		t.Fatalf("rows naming del.jpg before the delete: %q; the test needs its index rows", rows("del.jpg"))
	}
	if err := c.Delete(ctx, "u", "b", "del.jpg"); err != nil {
		t.Fatal(err)
	}
	if got := rows("del.jpg"); len(got) != 0 {
		t.Errorf("rows naming del.jpg after the delete: %q", got)
	}
	if got := len(rows("keep.jpg")); got < before-1 || got == 0 {
		t.Errorf("rows naming keep.jpg: %d after the delete, %d before", got, before)
	}
}
