package localfs_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"shoebox/gateway"
	"shoebox/gateway/localfs"
)

// linkStore is a store where bob (and carol) planted symbolic links to
// alice's files and folders and outside the data directory, behind
// Shoebox's back:
//
//	objects/bob/b/stolen.jpg  -> ../../alice/photos/secret.jpg  (another user's file)
//	objects/bob/b/linkdir     -> ../../alice/photos             (another user's folder)
//	objects/bob/b/outside.jpg -> <dir>/outside.txt              (outside the data directory, absolute)
//	objects/bob/b/up.jpg      -> ../../../outside.txt           (outside, relative)
//	objects/bob/b/real/l.jpg  -> ../../../alice/photos/secret.jpg (in a real folder)
//	objects/bob/lb            -> ../alice/photos                (a bucket)
//	objects/carol             -> alice                          (a user's folder)
type linkStore struct {
	t       *testing.T
	dir     string // holds objects/ and outside.txt
	be      *localfs.FS
	targets map[string]string // disk path (under dir) → content, for files that must not change
	times   map[string]time.Time
}

var ctx = context.Background()

func bob(key string) gateway.Path { return gateway.Path{User: "bob", Bucket: "b", Key: key} }

// modes runs fn with openat2 (where there is) and with the Lstat fallback.
func modes(t *testing.T, fn func(t *testing.T, s *linkStore)) {
	t.Run("openat2", func(t *testing.T) {
		s := newLinkStore(t, localfs.New)
		if !s.be.UsesOpenat2() {
			t.Skip("no openat2 here: the fallback is tested below")
		}
		fn(t, s)
	})
	t.Run("lstat", func(t *testing.T) { fn(t, newLinkStore(t, localfs.NewLstatOnly)) })
}

func newLinkStore(t *testing.T, open func(string, localfs.Options) (*localfs.FS, error)) *linkStore {
	t.Helper()
	dir := t.TempDir()
	be, err := open(filepath.Join(dir, "objects"), localfs.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	s := &linkStore{t: t, dir: dir, be: be, targets: map[string]string{}, times: map[string]time.Time{}}
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, f := range []struct{ user, bucket, key, data string }{
		{"alice", "photos", "secret.jpg", "alice's secret"},
		{"alice", "photos", "sub/deep.jpg", "alice's deep secret"},
		{"bob", "b", "own.jpg", "bob's own"},
		{"bob", "b", "real/x.jpg", "bob's x"},
	} {
		p := gateway.Path{User: f.user, Bucket: f.bucket, Key: f.key}
		pd, err := be.Create(ctx, p, strings.NewReader(f.data))
		if err != nil {
			t.Fatal(err)
		}
		if err := pd.Commit(ctx, old); err != nil {
			t.Fatal(err)
		}
		if f.user == "alice" {
			s.targets[filepath.Join("objects", f.user, f.bucket, f.key)] = f.data
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "outside.txt"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.targets["outside.txt"] = "outside"
	for _, d := range []string{"objects/alice/photos", "objects/alice/photos/sub", "objects/alice", "outside.txt"} {
		if err := os.Chtimes(filepath.Join(dir, d), old, old); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []struct{ at, to string }{
		{"objects/bob/b/stolen.jpg", "../../alice/photos/secret.jpg"},
		{"objects/bob/b/linkdir", "../../alice/photos"},
		{"objects/bob/b/outside.jpg", filepath.Join(dir, "outside.txt")},
		{"objects/bob/b/up.jpg", "../../../outside.txt"},
		{"objects/bob/b/real/l.jpg", "../../../alice/photos/secret.jpg"},
		{"objects/bob/lb", "../alice/photos"},
		{"objects/carol", "alice"},
	} {
		if err := os.Symlink(l.to, filepath.Join(dir, l.at)); err != nil {
			if runtime.GOOS == "windows" {
				t.Skipf("cannot make symbolic links here: %v", err)
			}
			t.Fatal(err)
		}
	}
	for _, d := range []string{"objects/alice", "objects/alice/photos", "objects/alice/photos/sub", "objects/alice/photos/secret.jpg", "objects/alice/photos/sub/deep.jpg", "outside.txt"} {
		st, err := os.Stat(filepath.Join(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		s.times[d] = st.ModTime()
	}
	t.Cleanup(s.unchanged)
	return s
}

// unchanged checks that the targets of the links kept their bytes and
// times and that nothing was added to alice's folders or next to
// outside.txt.
func (s *linkStore) unchanged() {
	t := s.t
	t.Helper()
	for p, want := range s.targets {
		b, err := os.ReadFile(filepath.Join(s.dir, p))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q unchanged", p, b, err, want)
		}
	}
	for p, want := range s.times {
		st, err := os.Stat(filepath.Join(s.dir, p))
		if err != nil || !st.ModTime().Equal(want) {
			t.Errorf("%s: modified %v, %v; want %v unchanged", p, st.ModTime(), err, want)
		}
	}
	var names []string
	filepath.WalkDir(filepath.Join(s.dir, "objects", "alice"), func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			rel, _ := filepath.Rel(s.dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	want := []string{"objects/alice", "objects/alice/photos", "objects/alice/photos/secret.jpg", "objects/alice/photos/sub", "objects/alice/photos/sub/deep.jpg"}
	if !slices.Equal(names, want) {
		t.Errorf("alice's folder holds %q; want %q", names, want)
	}
	ents, _ := os.ReadDir(s.dir)
	if len(ents) != 2 {
		t.Errorf("the data directory holds %d entries; want objects and outside.txt", len(ents))
	}
}

// refused checks that err is a refusal for a link: not found, ErrSymlink.
func refused(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error; want a refusal (a symbolic link is on the way)", what)
		return
	}
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, localfs.ErrSymlink) {
		t.Errorf("%s: %v; want an error satisfying fs.ErrNotExist and localfs.ErrSymlink", what, err)
	}
}

// isLink checks that the entry at disk path p (under objects/) is still a link.
func (s *linkStore) isLink(p string) {
	s.t.Helper()
	st, err := os.Lstat(filepath.Join(s.dir, "objects", p))
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		s.t.Errorf("%s: %v, %v; want the link left in place", p, st, err)
	}
}

func (s *linkStore) missing(p string) {
	s.t.Helper()
	if _, err := os.Lstat(filepath.Join(s.dir, "objects", p)); !errors.Is(err, fs.ErrNotExist) {
		s.t.Errorf("%s exists (%v); want nothing there", p, err)
	}
}

// linked are paths whose resolution meets a link.
var linked = []gateway.Path{
	bob("stolen.jpg"), bob("linkdir/secret.jpg"), bob("linkdir/sub/deep.jpg"), bob("outside.jpg"), bob("up.jpg"), bob("real/l.jpg"),
	{User: "bob", Bucket: "lb", Key: "secret.jpg"},
	{User: "carol", Bucket: "photos", Key: "secret.jpg"},
}

var linkedDirs = []gateway.Path{
	bob("linkdir/"), bob("linkdir/sub/"),
	{User: "bob", Bucket: "lb"}, {User: "bob", Bucket: "lb", Key: "sub/"},
	{User: "carol", Bucket: "photos"},
}

func TestSymlinkOpenStat(t *testing.T) {
	modes(t, func(t *testing.T, s *linkStore) {
		for _, p := range linked {
			f, err := s.be.Open(ctx, p)
			if err == nil {
				b, _ := io.ReadAll(f)
				f.Close()
				t.Errorf("Open %s served %q", p, b)
			}
			refused(t, "Open "+p.String(), err)
			_, err = s.be.Stat(ctx, p)
			refused(t, "Stat "+p.String(), err)
		}
		for _, p := range linkedDirs {
			_, err := s.be.Stat(ctx, p)
			refused(t, "Stat "+p.String(), err)
		}
		// What is no link is served.
		if _, err := s.be.Stat(ctx, bob("real/x.jpg")); err != nil {
			t.Errorf("Stat of a real file beside a link: %v", err)
		}
		if _, err := s.be.Stat(ctx, gateway.Path{User: "alice", Bucket: "photos", Key: "secret.jpg"}); err != nil {
			t.Errorf("alice's Stat of her own file: %v", err)
		}
	})
}

func TestSymlinkWalk(t *testing.T) {
	modes(t, func(t *testing.T, s *linkStore) {
		var links, entries []string
		err := s.be.Walk(ctx, func(e gateway.Entry) error {
			if e.Symlink {
				links = append(links, e.Path.String())
				return fs.SkipDir // ignored for links
			}
			entries = append(entries, e.Path.String())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(links)
		wantLinks := []string{"bob/b/linkdir", "bob/b/outside.jpg", "bob/b/real/l.jpg", "bob/b/stolen.jpg", "bob/b/up.jpg", "bob/lb/", "carol//"}
		if !slices.Equal(links, wantLinks) {
			t.Errorf("Walk reported the links %q; want %q", links, wantLinks)
		}
		slices.Sort(entries)
		wantEntries := []string{"alice/photos/", "alice/photos/secret.jpg", "alice/photos/sub/", "alice/photos/sub/deep.jpg", "bob/b/", "bob/b/own.jpg", "bob/b/real/", "bob/b/real/x.jpg"}
		if !slices.Equal(entries, wantEntries) {
			t.Errorf("Walk reported %q; want %q", entries, wantEntries)
		}
	})
}

func TestSymlinkCreate(t *testing.T) {
	modes(t, func(t *testing.T, s *linkStore) {
		put := func(p gateway.Path) error {
			pd, err := s.be.Create(ctx, p, strings.NewReader("bob's write"))
			if err != nil {
				return err
			}
			return pd.Commit(ctx, time.Now())
		}
		for _, p := range []gateway.Path{bob("linkdir/new.jpg"), bob("linkdir/secret.jpg"), bob("linkdir/sub/new/deep.jpg"),
			{User: "bob", Bucket: "lb", Key: "new.jpg"}, {User: "carol", Bucket: "photos", Key: "new.jpg"}} {
			refused(t, "Create "+p.String(), put(p))
		}
		// A file written at the name of a link replaces the link.
		if err := put(bob("stolen.jpg")); err != nil {
			t.Fatalf("Create over a link: %v", err)
		}
		if st, err := os.Lstat(filepath.Join(s.dir, "objects/bob/b/stolen.jpg")); err != nil || !st.Mode().IsRegular() {
			t.Errorf("bob/b/stolen.jpg after a write: %v, %v; want bob's file", st, err)
		}
		s.isLink("bob/b/linkdir")
		s.isLink("bob/lb")
	})
}

func TestSymlinkMkdir(t *testing.T) {
	modes(t, func(t *testing.T, s *linkStore) {
		for _, p := range []gateway.Path{bob("linkdir/"), bob("linkdir/new/"), bob("linkdir/sub/new/"), bob("stolen.jpg/"),
			{User: "bob", Bucket: "lb"}, {User: "bob", Bucket: "lb", Key: "new/"}, {User: "carol", Bucket: "photos"}, {User: "carol", Bucket: "new"}} {
			refused(t, "Mkdir "+p.String(), s.be.Mkdir(ctx, p))
		}
		s.isLink("bob/b/linkdir")
		s.isLink("bob/b/stolen.jpg")
	})
}

func TestSymlinkRename(t *testing.T) {
	modes(t, func(t *testing.T, s *linkStore) {
		for _, c := range []struct{ src, dst gateway.Path }{
			{bob("stolen.jpg"), bob("moved.jpg")},        // a link is not moved
			{bob("linkdir/secret.jpg"), bob("mine.jpg")}, // nor what is behind one
			{bob("linkdir/"), bob("mine/")},              // a linked folder
			{bob("own.jpg"), bob("linkdir/own.jpg")},     // nor moved into one
			{bob("real/"), bob("linkdir/sub/real/")},     // a folder neither
			{bob("own.jpg"), gateway.Path{User: "bob", Bucket: "lb", Key: "own.jpg"}},
		} {
			refused(t, "Rename "+c.src.String()+" to "+c.dst.String(), s.be.Rename(ctx, c.src, c.dst))
		}
		s.missing("bob/b/moved.jpg")
		s.missing("bob/b/mine.jpg")
		s.missing("bob/b/mine")
		s.isLink("bob/b/stolen.jpg")
		s.isLink("bob/b/linkdir")
		if _, err := s.be.Stat(ctx, bob("own.jpg")); err != nil {
			t.Errorf("bob's file after refused moves: %v", err)
		}
		// Moved onto a link, a file replaces the link.
		if err := s.be.Rename(ctx, bob("own.jpg"), bob("stolen.jpg")); err != nil {
			t.Fatalf("Rename onto a link: %v", err)
		}
		if st, err := os.Lstat(filepath.Join(s.dir, "objects/bob/b/stolen.jpg")); err != nil || !st.Mode().IsRegular() {
			t.Errorf("bob/b/stolen.jpg after a move onto it: %v, %v; want bob's file", st, err)
		}
	})
}

func TestSymlinkCopy(t *testing.T) {
	modes(t, func(t *testing.T, s *linkStore) {
		for _, c := range []struct{ src, dst gateway.Path }{
			{bob("stolen.jpg"), bob("copy.jpg")},
			{bob("linkdir/secret.jpg"), bob("copy.jpg")},
			{bob("linkdir/"), bob("copy/")},
			{bob("own.jpg"), bob("linkdir/own.jpg")},
			{gateway.Path{User: "bob", Bucket: "lb"}, gateway.Path{User: "bob", Bucket: "copy"}},
		} {
			refused(t, "Copy "+c.src.String()+" to "+c.dst.String(), s.be.Copy(ctx, c.src, c.dst))
		}
		s.missing("bob/b/copy.jpg")
		s.missing("bob/b/copy")
		s.missing("bob/copy")
		// A folder holding a link is copied without it.
		if err := s.be.Copy(ctx, bob("real/"), bob("real2/")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.be.Stat(ctx, bob("real2/x.jpg")); err != nil {
			t.Errorf("the copy of a folder lacks its file: %v", err)
		}
		s.missing("bob/b/real2/l.jpg")
	})
}

func TestSymlinkRemove(t *testing.T) {
	modes(t, func(t *testing.T, s *linkStore) {
		for _, p := range []gateway.Path{bob("linkdir/secret.jpg"), bob("linkdir/sub/"), bob("linkdir/"),
			{User: "bob", Bucket: "lb"}, {User: "bob", Bucket: "lb", Key: "secret.jpg"}, {User: "carol", Bucket: "photos", Key: "secret.jpg"}} {
			refused(t, "Remove "+p.String(), s.be.Remove(ctx, p))
		}
		s.isLink("bob/b/linkdir")
		s.isLink("bob/lb")
		// Removing a file's name that is a link removes the link only.
		if err := s.be.Remove(ctx, bob("stolen.jpg")); err != nil {
			t.Fatalf("Remove of a link: %v", err)
		}
		s.missing("bob/b/stolen.jpg")
		// A folder holding links goes with them, their targets stay.
		if err := s.be.Remove(ctx, bob("real/")); err != nil {
			t.Fatal(err)
		}
		s.missing("bob/b/real")
	})
}

func TestSymlinkSetModTime(t *testing.T) {
	modes(t, func(t *testing.T, s *linkStore) {
		now := time.Now()
		for _, p := range append(append([]gateway.Path{}, linked...), linkedDirs...) {
			refused(t, "SetModTime "+p.String(), s.be.SetModTime(ctx, p, now))
		}
	})
}

// TestConfined: a path the gateway would never pass (it checks them
// first) still cannot leave the user's folder.
func TestConfined(t *testing.T) {
	modes(t, func(t *testing.T, s *linkStore) {
		for _, p := range []gateway.Path{
			bob("../../alice/photos/secret.jpg"), bob("a/../../../alice/photos/secret.jpg"), bob("./own.jpg"), bob("a//b"),
			{User: "bob", Bucket: "..", Key: "alice/photos/secret.jpg"},
			{User: "..", Bucket: "objects", Key: "alice/photos/secret.jpg"},
			{User: "bob/../alice", Bucket: "photos", Key: "secret.jpg"},
			{User: "bob", Bucket: "b/../../alice/photos", Key: "secret.jpg"},
			{User: ".tmp", Bucket: "x", Key: "y"},
			{User: "", Bucket: "alice", Key: "photos/secret.jpg"},
		} {
			if f, err := s.be.Open(ctx, p); !errors.Is(err, gateway.ErrBadPath) {
				if err == nil {
					f.Close()
				}
				t.Errorf("Open %q: %v; want ErrBadPath", p, err)
			}
			if err := s.be.Remove(ctx, p); !errors.Is(err, gateway.ErrBadPath) {
				t.Errorf("Remove %q: %v; want ErrBadPath", p, err)
			}
		}
	})
}
