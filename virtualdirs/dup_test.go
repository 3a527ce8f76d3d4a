package virtualdirs

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strconv"
	"testing"
	"time"

	"shoebox/catalog"
)

// recomputedGroups is how /duplicates was listed before groups had
// summaries: every member of every group read (object row and media
// record) on every listing. It is the reference the summaries must
// match (TestDuplicatesMatchRecomputed) and the "before" of
// BenchmarkDuplicates.
func (t *Tree) recomputedGroups(ctx context.Context, user string) ([]group, map[string][]catalog.Object, error) {
	var out []group
	members := map[string][]catalog.Object{}
	err := t.cat.Groups(ctx, user, func(gid string, refs []catalog.Ref) error {
		g := group{gid: gid}
		var ms []catalog.Object
		var rep catalog.Object
		var repM catalog.Media
		for _, r := range refs {
			o, err := t.cat.Stat(ctx, user, r.Bucket, r.Key)
			if err != nil {
				continue
			}
			o.Bucket, o.Key = r.Bucket, r.Key
			m, _ := t.cat.MediaOf(ctx, user, r.Bucket, r.Key)
			ms = append(ms, o)
			g.newest = max(g.newest, o.ModNs)
			if len(ms) == 1 || betterRecomputed(o, m, rep, repM) {
				rep, repM = o, m
			}
		}
		if len(ms) < 2 {
			return nil
		}
		day := repM.Day()
		if day == "" {
			day = "undated"
		}
		g.name = fmt.Sprintf("%s %s (%d copies)", day, path.Base(rep.Key), len(ms))
		members[gid] = ms
		out = append(out, g)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	names := map[string]int{}
	for _, g := range out {
		names[g.name]++
	}
	for i := range out {
		if names[out[i].name] > 1 {
			out[i].name += " ~" + out[i].gid[:8]
		}
	}
	slices.SortFunc(out, func(a, b group) int { return cmp.Compare(a.name, b.name) })
	return out, members, nil
}

func betterRecomputed(a catalog.Object, am catalog.Media, b catalog.Object, bm catalog.Media) bool {
	if pa, pb := am.Width*am.Height, bm.Width*bm.Height; pa != pb {
		return pa > pb
	}
	if a.Size != b.Size {
		return a.Size > b.Size
	}
	if na, nb := len(path.Base(a.Key)), len(path.Base(b.Key)); na != nb {
		return na < nb
	}
	return a.Bucket+"/"+a.Key < b.Bucket+"/"+b.Key
}

// listRecomputed is listDuplicates over recomputedGroups.
func (t *Tree) listRecomputed(ctx context.Context, user string, segs []string, fn func(Entry) error) error {
	gs, members, err := t.recomputedGroups(ctx, user)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if len(segs) == 0 {
			if err := fn(t.dir(g.name, g.newest)); err != nil {
				return err
			}
			continue
		}
		if g.name == segs[0] {
			return t.files(ctx, user, func(f func(catalog.Object) error) error {
				for _, o := range members[g.gid] {
					if err := f(o); err != nil {
						return err
					}
				}
				return nil
			}, fn)
		}
	}
	if len(segs) == 1 {
		return ErrNotFound
	}
	return nil
}

func entries(t testing.TB, list func(segs []string, fn func(Entry) error) error, segs ...string) []string {
	t.Helper()
	var out []string
	if err := list(segs, func(e Entry) error {
		out = append(out, fmt.Sprintf("%s %d %s/%s", e.Name, e.ModTime.UnixNano(), e.Object.Bucket, e.Object.Key))
		return nil
	}); err != nil {
		t.Fatalf("list %q: %v", segs, err)
	}
	return out
}

func quietCatalog(t testing.TB, dir string) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Open(dir, catalog.Options{InMemory: dir == "", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestDuplicatesMatchRecomputed: after every change of a random run of
// uploads, overwrites, touches, moves, copies and deletes (of files and
// folders), /duplicates and each of its groups list exactly what
// recomputing the groups from their members lists: names, order,
// modification times and files.
func TestDuplicatesMatchRecomputed(t *testing.T) {
	ctx := context.Background()
	cat := quietCatalog(t, "")
	defer cat.Close()
	tr := New(cat, Options{Location: time.UTC})
	rng := rand.New(rand.NewPCG(3, 5))
	bases := []uint64{0x0123456789abcdef, 0xfedcba9876543210, 0x0f0f0f0f0f0f0f0f, 0xf0f0f0f0f0f0f0f0, 0x3c3c3c3c3c3c3c3c}
	var files []catalog.Ref
	clock := int64(1)
	now := func() int64 { clock += int64(rng.IntN(3)); return clock } // ties happen
	enrich := func(r catalog.Ref, o catalog.Object) {
		t.Helper()
		b := rng.IntN(len(bases))
		h := bases[b] ^ (1 << rng.IntN(64)) // a near copy of base b
		if rng.IntN(2) == 0 {
			h = bases[b] // an exact copy
		}
		w := []int{640, 1024, 4000}[rng.IntN(3)]
		m := catalog.Media{Kind: "photo", PHash: fmt.Sprintf("%016x", h), SHA256: o.SHA256, Width: w, Height: w * 3 / 4}
		if rng.IntN(4) > 0 {
			m.TakenLocal = fmt.Sprintf("2019-06-%02dT10:00:00", 1+rng.IntN(3))
		}
		j := catalog.Job{User: "u", Bucket: r.Bucket, Key: r.Key, Gen: o.UploadNs}
		if err := cat.CompleteJob(ctx, j, m); err != nil {
			t.Fatal(err)
		}
	}
	put := func(r catalog.Ref) catalog.Object {
		t.Helper()
		ns := now()
		o := catalog.Object{Bucket: r.Bucket, Key: r.Key, Size: int64(1 + rng.IntN(3)), SHA256: strconv.Itoa(rng.IntN(1000)), UploadNs: ns, ModNs: ns}
		if err := cat.PutFile(ctx, "u", o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	pick := func() (int, catalog.Ref) { i := rng.IntN(len(files)); return i, files[i] }
	seen := 0 // groups compared, over all steps
	for step := range 400 {
		op := rng.IntN(10)
		if len(files) < 4 {
			op = 0
		}
		what := ""
		switch op {
		case 0, 1, 2: // a new file
			r := catalog.Ref{Bucket: []string{"a", "b"}[rng.IntN(2)], Key: fmt.Sprintf("d%d/IMG_%d.jpg", rng.IntN(3), rng.IntN(12))}
			if !slices.Contains(files, r) {
				files = append(files, r)
			}
			enrich(r, put(r))
			what = "put " + r.Key
		case 3: // overwritten, enriched later or not
			_, r := pick()
			o := put(r)
			if rng.IntN(2) == 0 {
				enrich(r, o)
			}
			what = "overwrite " + r.Key
		case 4: // touched
			_, r := pick()
			o, err := cat.Stat(ctx, "u", r.Bucket, r.Key)
			if err != nil {
				t.Fatal(err)
			}
			o.ModNs = now()
			if err := cat.Put(ctx, "u", o); err != nil {
				t.Fatal(err)
			}
			what = "touch " + r.Key
		case 5: // deleted
			i, r := pick()
			if err := cat.Delete(ctx, "u", r.Bucket, r.Key); err != nil {
				t.Fatal(err)
			}
			files = slices.Delete(files, i, i+1)
			what = "delete " + r.Key
		case 6, 7: // moved or copied
			i, r := pick()
			d := catalog.Ref{Bucket: r.Bucket, Key: fmt.Sprintf("d%d/IMG_%d%s.jpg", rng.IntN(3), rng.IntN(12), []string{"", "_copy"}[rng.IntN(2)])}
			if d == r {
				continue
			}
			keep := op == 7
			if err := cat.Move(ctx, "u", r.Bucket, r.Key, d.Bucket, d.Key, keep, nil); err != nil {
				t.Fatal(err)
			}
			if !keep {
				files = slices.Delete(files, i, i+1)
			}
			if !slices.Contains(files, d) {
				files = append(files, d)
			}
			what = fmt.Sprintf("move %s to %s (keep %v)", r.Key, d.Key, keep)
		case 8: // a folder deleted
			_, r := pick()
			dir := path.Dir(r.Key) + "/"
			if err := cat.Delete(ctx, "u", r.Bucket, dir); err != nil {
				t.Fatal(err)
			}
			files = slices.DeleteFunc(files, func(f catalog.Ref) bool { return f.Bucket == r.Bucket && path.Dir(f.Key)+"/" == dir })
			what = "delete folder " + dir
		case 9: // a folder moved
			_, r := pick()
			dir := path.Dir(r.Key) + "/"
			to := fmt.Sprintf("d%d/", 3+rng.IntN(3))
			if to == dir {
				continue
			}
			if err := cat.Move(ctx, "u", r.Bucket, dir, r.Bucket, to, false, nil); err != nil {
				t.Fatal(err)
			}
			files = slices.DeleteFunc(files, func(f catalog.Ref) bool {
				return (f.Bucket == r.Bucket && path.Dir(f.Key)+"/" == dir) || (f.Bucket == r.Bucket && path.Dir(f.Key)+"/" == to)
			})
			_ = cat.List(ctx, "u", r.Bucket, to, "", func(o catalog.Object) error {
				files = append(files, catalog.Ref{Bucket: r.Bucket, Key: o.Key})
				return nil
			})
			what = "move folder " + dir + " to " + to
		}
		got := entries(t, func(s []string, fn func(Entry) error) error {
			return tr.List(ctx, "u", path.Join(append([]string{"duplicates"}, s...)...), fn)
		})
		want := entries(t, func(s []string, fn func(Entry) error) error { return tr.listRecomputed(ctx, "u", s, fn) })
		if !slices.Equal(got, want) {
			t.Fatalf("step %d (%s): /duplicates = %q; want %q", step, what, got, want)
		}
		var groups []string
		if err := tr.List(ctx, "u", "duplicates", func(e Entry) error { groups = append(groups, e.Name); return nil }); err != nil {
			t.Fatal(err)
		}
		seen += len(groups)
		for _, name := range groups {
			got := entries(t, func(s []string, fn func(Entry) error) error { return tr.List(ctx, "u", "duplicates/"+name, fn) })
			want := entries(t, func(s []string, fn func(Entry) error) error { return tr.listRecomputed(ctx, "u", []string{name}, fn) })
			if !slices.Equal(got, want) {
				t.Fatalf("step %d (%s): /duplicates/%s = %q; want %q", step, what, name, got, want)
			}
		}
	}
	if seen < 400 {
		t.Errorf("%d groups compared in 400 steps; want the run to make groups", seen)
	}
}

// BenchmarkDuplicates times listing /duplicates and opening one group of
// 100 copies in a library of BENCH_PHOTOS (default 100,000) photos that
// are all duplicates: BENCH_PHOTOS/100 pictures, 100 copies each, as in
// the library of issue 22. "recomputed" is the listing as it was (every
// member of every group read per listing), "summary" as it is (one row
// per group, then one group's members), in the same run on the same
// catalog (on disk).
//
//	go test -run '^$' -bench Duplicates -benchtime 20x ./virtualdirs
func BenchmarkDuplicates(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_PHOTOS")); err == nil && v > 0 {
		n = v
	}
	const copies = 100
	ctx := context.Background()
	cat := quietCatalog(b, b.TempDir())
	defer cat.Close()
	rng := rand.New(rand.NewPCG(7, 7))
	start := time.Now()
	pics := n / copies
	hashes := make([]uint64, pics)
	for i := range hashes {
		hashes[i] = rng.Uint64()
	}
	for i := range n {
		pic, c := i%pics, i/pics
		key := fmt.Sprintf("copy%03d/IMG_%05d.jpg", c, pic)
		o := catalog.Object{Bucket: "photos", Key: key, Size: int64(100_000 + c), SHA256: fmt.Sprintf("%064x", pic), UploadNs: int64(i + 1), ModNs: int64(i + 1)}
		if err := cat.PutFile(ctx, "u", o); err != nil {
			b.Fatal(err)
		}
		m := catalog.Media{Kind: "photo", TakenLocal: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, pic%3650).Format("2006-01-02T15:04:05"),
			Width: 4000, Height: 3000, PHash: fmt.Sprintf("%016x", hashes[pic]), SHA256: o.SHA256}
		if err := cat.CompleteJob(ctx, catalog.Job{User: "u", Bucket: "photos", Key: key, Gen: o.UploadNs}, m); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d photos in %d groups of %d built in %s", n, pics, copies, time.Since(start).Round(time.Second))
	tr := New(cat, Options{Location: time.UTC})
	root := entries(b, func(s []string, fn func(Entry) error) error { return tr.listDuplicates(ctx, "u", s, fn) })
	if want := entries(b, func(s []string, fn func(Entry) error) error { return tr.listRecomputed(ctx, "u", s, fn) }); !slices.Equal(root, want) || len(root) != pics {
		b.Fatalf("/duplicates: %d groups listed, %d recomputed, %d pictures (or names differ)", len(root), len(want), pics)
	}
	var gname string
	_ = tr.listDuplicates(ctx, "u", nil, func(e Entry) error { gname = e.Name; return nil }) // the last
	for _, v := range []struct {
		name string
		list func(segs []string, fn func(Entry) error) error
	}{
		{"recomputed", func(s []string, fn func(Entry) error) error { return tr.listRecomputed(ctx, "u", s, fn) }},
		{"summary", func(s []string, fn func(Entry) error) error { return tr.listDuplicates(ctx, "u", s, fn) }},
	} {
		b.Run("list/"+v.name, func(b *testing.B) {
			for range b.N {
				if got := entries(b, v.list); len(got) != pics {
					b.Fatalf("%d groups; want %d", len(got), pics)
				}
			}
		})
		b.Run("open/"+v.name, func(b *testing.B) {
			for range b.N {
				if got := entries(b, v.list, gname); len(got) != copies {
					b.Fatalf("%d files in %s; want %d", len(got), gname, copies)
				}
			}
		})
	}
}

// TestDuplicatesConcurrent: copies of one picture enriched by many
// workers at once all end up in one group whose summary counts them all
// (concurrent updates of the summary row conflict and are retried).
func TestDuplicatesConcurrent(t *testing.T) {
	ctx := context.Background()
	cat := quietCatalog(t, "")
	defer cat.Close()
	const workers, each = 8, 25
	for i := range workers * each {
		o := catalog.Object{Bucket: "b", Key: fmt.Sprintf("d%d/IMG_%03d.jpg", i%workers, i), Size: int64(100 + i), SHA256: "same", UploadNs: 1, ModNs: int64(1 + i)}
		if err := cat.PutFile(ctx, "u", o); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := w; i < workers*each; i += workers {
				key := fmt.Sprintf("d%d/IMG_%03d.jpg", i%workers, i)
				m := catalog.Media{Kind: "photo", TakenLocal: "2020-01-01T00:00:00", Width: 10, Height: 10, PHash: "00000000000000ff", SHA256: "same"}
				if err := cat.CompleteJob(ctx, catalog.Job{User: "u", Bucket: "b", Key: key, Gen: 1}, m); err != nil {
					errs <- fmt.Errorf("%s: %w", key, err)
					return
				}
			}
			errs <- nil
		}()
	}
	var failed error
	for range workers { // all of them, before the catalog closes
		if err := <-errs; err != nil {
			failed = err
		}
	}
	if failed != nil {
		t.Fatal(failed)
	}
	tr := New(cat, Options{Location: time.UTC})
	got := entries(t, func(s []string, fn func(Entry) error) error { return tr.listDuplicates(ctx, "u", s, fn) })
	want := entries(t, func(s []string, fn func(Entry) error) error { return tr.listRecomputed(ctx, "u", s, fn) })
	if !slices.Equal(got, want) || len(got) != 1 {
		t.Fatalf("/duplicates = %q; want %q, one group", got, want)
	}
	if wantName := fmt.Sprintf("2020-01-01 IMG_%03d.jpg (%d copies) %d /", workers*each-1, workers*each, workers*each); got[0] != wantName {
		t.Errorf("/duplicates = %q; want %q", got[0], wantName)
	}
}
