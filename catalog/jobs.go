package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The enrichment queue: one job row per file version, written in the same
// transaction as the file's row (PutFile), so a write that was acknowledged
// always has its job. A worker leases a job for a while; a worker that dies
// (even kill -9) lets its lease run out and the job is leased again. A job
// that fails is retried with backoff and, after MaxAttempts, kept as failed
// with its error, out of everyone's way. Overwriting a file replaces its
// job (a new Gen); deleting or moving it deletes or moves the job, like the
// file's other rows.

// MaxAttempts is how often a job is tried before it is marked failed.
const MaxAttempts = 3

// Job is one file version waiting for enrichment.
type Job struct {
	User   string `json:"-"`
	Bucket string `json:"-"`
	Key    string `json:"-"`

	Gen         int64  `json:"g"`            // the file version: its UploadNs
	Attempts    int    `json:"a,omitempty"`  // tries so far
	NotBeforeNs int64  `json:"nb,omitempty"` // no try before this (backoff)
	LeaseNs     int64  `json:"l,omitempty"`  // leased to a worker until this
	Failed      bool   `json:"f,omitempty"`
	Err         string `json:"e,omitempty"`
}

// PutFile records a file row and queues its enrichment, in one transaction.
func (c *Catalog) PutFile(ctx context.Context, user string, o Object) error {
	if o.IsDir() {
		return c.Put(ctx, user, o)
	}
	return c.commit(ctx, func(txn *badger.Txn) error { return c.putFile(txn, user, o) })
}

func (c *Catalog) putFile(txn *badger.Txn, user string, o Object) error {
	if err := c.assignID(txn, user, &o); err != nil {
		return err
	}
	if err := setFileID(txn, user, o); err != nil {
		return err
	}
	if err := setModIndex(txn, user, o); err != nil {
		return err
	}
	if err := setJSON(txn, keyObject(user, o.Bucket, o.Key), o); err != nil {
		return err
	}
	if err := refreshMember(txn, user, o); err != nil {
		return err
	}
	if err := txn.Delete(keyJobFailed(user, o.Bucket, o.Key)); err != nil {
		return err
	}
	return setJSON(txn, keyJob(user, o.Bucket, o.Key), Job{Gen: o.UploadNs})
}

// LeaseJobs leases up to max jobs that are due, for lease, and returns them.
func (c *Catalog) LeaseJobs(ctx context.Context, now time.Time, lease time.Duration, max int) ([]Job, error) {
	var due []Job
	// The scan resumes where the last one stopped and wraps around: rows
	// before that point are mostly leased or done (deleted rows, which an
	// iterator still steps over), so starting from the first row every
	// time made leasing a large queue quadratic.
	c.leaseMu.Lock()
	from := c.leaseFrom
	c.leaseMu.Unlock()
	var next []byte
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxJob), PrefetchValues: true, PrefetchSize: max})
		defer it.Close()
		scan := func(start, stop []byte) error {
			for it.Seek(start); it.Valid() && len(due) < max; it.Next() {
				k := it.Item().Key()
				if stop != nil && bytes.Compare(k, stop) >= 0 {
					return nil
				}
				var j Job
				if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &j) }); err != nil {
					return err
				}
				if j.Failed || j.NotBeforeNs > now.UnixNano() || j.LeaseNs > now.UnixNano() {
					continue
				}
				if err := parseJobKey(k, &j); err != nil {
					return err
				}
				due = append(due, j)
				next = append(it.Item().KeyCopy(nil), 0)
			}
			return nil
		}
		start := from
		if start == nil {
			start = []byte(pfxJob)
		}
		if err := scan(start, nil); err != nil {
			return err
		}
		if len(due) < max && len(from) > 0 {
			return scan([]byte(pfxJob), from)
		}
		return nil
	})
	c.leaseMu.Lock()
	c.leaseFrom = next // nil, when nothing was due: from the start next time
	c.leaseMu.Unlock()
	if err != nil {
		return nil, err
	}
	var leased []Job
	for _, j := range due {
		err := c.db.Update(func(txn *badger.Txn) error {
			var cur Job
			if err := getJSON(txn, keyJob(j.User, j.Bucket, j.Key), &cur); err != nil {
				return err
			}
			if cur.Gen != j.Gen || cur.Failed || cur.LeaseNs > now.UnixNano() {
				return ErrExists // taken or changed meanwhile
			}
			cur.LeaseNs = now.Add(lease).UnixNano()
			if err := setJSON(txn, keyJob(j.User, j.Bucket, j.Key), cur); err != nil {
				return err
			}
			cur.User, cur.Bucket, cur.Key = j.User, j.Bucket, j.Key
			j = cur
			return nil
		})
		c.counts.changed()
		switch {
		case err == nil:
			leased = append(leased, j)
		case errors.Is(err, ErrExists), errors.Is(err, ErrNotFound), errors.Is(err, badger.ErrConflict):
		default:
			return leased, err
		}
	}
	return leased, nil
}

func parseJobKey(k []byte, j *Job) error {
	var ok bool
	j.User, j.Key, ok = strings.Cut(string(k[len(pfxJob):]), sep)
	if ok {
		j.Bucket, j.Key, ok = strings.Cut(j.Key, sep)
	}
	if !ok {
		return fmt.Errorf("malformed job key %q", k)
	}
	return nil
}

// State is the job's state at now: "failed", "running" (leased) or "pending".
func (j Job) State(now time.Time) string {
	switch {
	case j.Failed:
		return "failed"
	case j.LeaseNs > now.UnixNano():
		return "running"
	default:
		return "pending"
	}
}

// CompleteJob stores the media record of the job's file version and removes
// the job, unless the file changed meanwhile (then only the new job stays).
func (c *Catalog) CompleteJob(ctx context.Context, j Job, m Media) error {
	return c.updateIndex(ctx, func(txn *badger.Txn) error {
		var cur Job
		if err := getJSON(txn, keyJob(j.User, j.Bucket, j.Key), &cur); err != nil || cur.Gen != j.Gen {
			return nil // deleted or overwritten: nothing to record
		}
		var o Object
		if err := getJSON(txn, keyObject(j.User, j.Bucket, j.Key), &o); err != nil {
			return nil // deleted meanwhile
		}
		var old Media
		oldp := &old
		if err := getJSON(txn, keyMedia(j.User, j.Bucket, j.Key), &old); err == nil {
			keepPersons(&m, &old)
		} else {
			oldp = nil
		}
		if err := livePair(txn, j.User, j.Bucket, j.Key, &m, oldp); err != nil {
			return err
		}
		if err := index(txn, j.User, j.Bucket, j.Key, m, o.ModNs); err != nil {
			return err
		}
		o.Bucket, o.Key = j.Bucket, j.Key
		if err := xmpAlbums(txn, j.User, o, m); err != nil {
			return err
		}
		return txn.Delete(keyJob(j.User, j.Bucket, j.Key))
	})
}

// xmpAlbums adds a file to the albums its XMP names (Media.XMPAlbums),
// making the missing ones; a photo whose content is in an album already
// stays as it is.
func xmpAlbums(txn *badger.Txn, user string, o Object, m Media) error {
	if len(m.XMPAlbums) == 0 || o.SHA256 == "" || o.Bucket == TrashBucket || (m.Kind != "photo" && m.Kind != "video") {
		return nil
	}
	for _, name := range m.XMPAlbums {
		if name = CleanTag(name); name == "" {
			continue
		}
		ak := []byte(pfxAlbum + user + sep + name)
		if _, err := txn.Get(ak); errors.Is(err, badger.ErrKeyNotFound) {
			if err := txn.Set(ak, u64(time.Now().UnixNano())); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		mk := []byte(pfxAlbumMember + user + sep + name + sep + o.SHA256)
		if _, err := txn.Get(mk); errors.Is(err, badger.ErrKeyNotFound) {
			if err := txn.Set(mk, u64(int64(FileIDOf(user, o)))); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	return nil
}

// FailJob records a failed try: the job is retried after a backoff, or
// marked failed with its error once out of attempts (or when retry is false).
func (c *Catalog) FailJob(ctx context.Context, j Job, now time.Time, cause error, retry bool, partial *Media) error {
	return c.updateIndex(ctx, func(txn *badger.Txn) error {
		var cur Job
		if err := getJSON(txn, keyJob(j.User, j.Bucket, j.Key), &cur); err != nil || cur.Gen != j.Gen {
			return nil
		}
		cur.Attempts++
		cur.LeaseNs = 0
		cur.Err = cause.Error()
		if !retry || cur.Attempts >= MaxAttempts {
			cur.Failed = true
		} else {
			cur.NotBeforeNs = now.Add(time.Duration(cur.Attempts*cur.Attempts) * 5 * time.Second).UnixNano()
		}
		if partial != nil {
			var o Object
			if err := getJSON(txn, keyObject(j.User, j.Bucket, j.Key), &o); err == nil {
				var old Media
				oldp := &old
				if err := getJSON(txn, keyMedia(j.User, j.Bucket, j.Key), &old); err != nil {
					oldp = nil
				}
				if err := livePair(txn, j.User, j.Bucket, j.Key, partial, oldp); err != nil {
					return err
				}
				if err := index(txn, j.User, j.Bucket, j.Key, *partial, o.ModNs); err != nil {
					return err
				}
			}
		}
		if cur.Failed {
			if err := txn.Delete(keyJob(j.User, j.Bucket, j.Key)); err != nil {
				return err
			}
			return setJSON(txn, keyJobFailed(j.User, j.Bucket, j.Key), cur)
		}
		return setJSON(txn, keyJob(j.User, j.Bucket, j.Key), cur)
	})
}

// Requeue queues a file's enrichment again (a sidecar arrived, or
// `shoebox reindex`). It is a no-op for a file that is gone or a folder.
func (c *Catalog) Requeue(ctx context.Context, user, bucket, key string) error {
	return c.update(ctx, func(txn *badger.Txn) error {
		var o Object
		if err := getJSON(txn, keyObject(user, bucket, key), &o); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			return err
		}
		if o.IsDir() {
			return nil
		}
		if err := txn.Delete(keyJobFailed(user, bucket, key)); err != nil {
			return err
		}
		return setJSON(txn, keyJob(user, bucket, key), Job{Gen: o.UploadNs})
	})
}

// QueueStats counts jobs by state at now.
type QueueStats struct {
	Pending int `json:"pending"`
	Running int `json:"running"`
	Failed  int `json:"failed"`
}

// Queue returns the queue's counts.
func (c *Catalog) Queue(ctx context.Context, now time.Time) (QueueStats, error) {
	return c.QueueOf(ctx, now, "")
}

// QueueOf counts one user's jobs by state ("" for everyone's).
func (c *Catalog) QueueOf(ctx context.Context, now time.Time, user string) (QueueStats, error) {
	var q QueueStats
	err := c.db.View(func(txn *badger.Txn) error {
		var err error
		q, _, err = queueIn(txn, now, user)
		return err
	})
	return q, err
}

// queueIn is QueueOf in txn; nextNs is when the first running job's lease
// runs out (the counts change then without a write).
func queueIn(txn *badger.Txn, now time.Time, user string) (q QueueStats, nextNs int64, err error) {
	nextNs = 1<<63 - 1
	pfx, fpfx := pfxJob, pfxJobFailed
	if user != "" {
		pfx += user + sep
		fpfx += user + sep
	}
	fit := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(fpfx)})
	for fit.Rewind(); fit.Valid(); fit.Next() {
		q.Failed++
	}
	fit.Close()
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), PrefetchValues: true})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var j Job
		if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &j) }); err != nil {
			return q, nextNs, err
		}
		switch j.State(now) {
		case "failed":
			q.Failed++
		case "running":
			q.Running++
			nextNs = min(nextNs, j.LeaseNs)
		default:
			q.Pending++
		}
	}
	return q, nextNs, nil
}

// JobOf returns the job of a file, or ErrNotFound when it has none (done).
func (c *Catalog) JobOf(ctx context.Context, user, bucket, key string) (Job, error) {
	var j Job
	err := c.db.View(func(txn *badger.Txn) error {
		err := getJSON(txn, keyJob(user, bucket, key), &j)
		if errors.Is(err, ErrNotFound) {
			err = getJSON(txn, keyJobFailed(user, bucket, key), &j)
		}
		return err
	})
	j.User, j.Bucket, j.Key = user, bucket, key
	return j, err
}

// ReleaseLeases frees every leased job. A catalog has one process (Badger
// locks its directory), so at start-up any lease is a dead worker's: its
// job is due again at once rather than when the lease would have run out.
func (c *Catalog) ReleaseLeases(ctx context.Context) (int, error) {
	n := 0
	err := c.update(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxJob), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var j Job
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &j) }); err != nil {
				return err
			}
			if j.LeaseNs == 0 {
				continue
			}
			j.LeaseNs = 0
			if err := setJSON(txn, it.Item().KeyCopy(nil), j); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// keepPersons carries the persons of a photo's faces over when it is
// enriched again (a new detector or descriptor, a requeue): a new face
// takes the person of the old face whose box it overlaps most, when they
// overlap by more than half (intersection over union) and the content is
// the same. Grouping then finds its persons again by these faces.
func keepPersons(m, old *Media) {
	if m.SHA256 == "" || m.SHA256 != old.SHA256 {
		return
	}
	for i := range m.Faces {
		if m.Faces[i].Person != "" {
			continue
		}
		best, bestIoU := -1, 0.5
		for j, of := range old.Faces {
			if of.Person == "" {
				continue
			}
			if v := iou(m.Faces[i].Box, of.Box); v > bestIoU {
				best, bestIoU = j, v
			}
		}
		if best >= 0 {
			m.Faces[i].Person = old.Faces[best].Person
		}
	}
}

// iou is the intersection over union of two boxes (x, y, width, height).
func iou(a, b [4]float64) float64 {
	x0, y0 := max(a[0], b[0]), max(a[1], b[1])
	x1, y1 := min(a[0]+a[2], b[0]+b[2]), min(a[1]+a[3], b[1]+b[3])
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	in := (x1 - x0) * (y1 - y0)
	return in / (a[2]*a[3] + b[2]*b[3] - in)
}
