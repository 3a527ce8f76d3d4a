package diskspace

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeFS is a filesystem whose free space the test sets.
type fakeFS struct{ free atomic.Int64 }

func (f *fakeFS) statfs(string) (int64, error) { return f.free.Load(), nil }

func TestAdmit(t *testing.T) {
	fs := &fakeFS{}
	fs.free.Store(100 << 20)
	g, err := New(t.TempDir(), Options{Reserve: 40 << 20, Statfs: fs.statfs, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    int64
		want bool
	}{{0, true}, {60 << 20, true}, {60<<20 + 1, false}} {
		if err := g.Admit(tc.n); (err == nil) != tc.want || (err != nil && !errors.Is(err, ErrInsufficientStorage)) {
			t.Errorf("Admit(%d) = %v; want admitted %v", tc.n, err, tc.want)
		}
	}
	// Below the reserve nothing is admitted; when space returns (after the
	// TTL, or Maintain) writes are again.
	fs.free.Store(39 << 20)
	g.Maintain()
	if err := g.Admit(0); !errors.Is(err, ErrInsufficientStorage) {
		t.Errorf("Admit(0) at 39 MiB free = %v; want ErrInsufficientStorage", err)
	}
	fs.free.Store(50 << 20)
	g.Maintain()
	if err := g.Admit(0); err != nil {
		t.Errorf("Admit(0) at 50 MiB free = %v; want nil", err)
	}
}

// TestCountedBurst: concurrent uploads of unknown size share the space
// above the reserve; together they never overshoot it.
func TestCountedBurst(t *testing.T) {
	fs := &fakeFS{}
	fs.free.Store(50 << 20)
	g, err := New(t.TempDir(), Options{Reserve: 40 << 20, Statfs: fs.statfs, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		staged atomic.Int64
		full   atomic.Int32
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := io.Copy(io.Discard, g.Counted(bytes.NewReader(make([]byte, 4<<20))))
			staged.Add(n)
			if errors.Is(err, ErrInsufficientStorage) {
				full.Add(1)
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := staged.Load(); got > 10<<20 {
		t.Errorf("staged %d bytes; want at most the 10 MiB above the reserve", got)
	}
	if full.Load() == 0 {
		t.Errorf("no upload was refused; want some")
	}
}

func TestBallast(t *testing.T) {
	dir := t.TempDir()
	ballast := filepath.Join(dir, "ballast")
	fs := &fakeFS{}
	fs.free.Store(100 << 20)
	g, err := New(dir, Options{Reserve: 8 << 20, Ballast: ballast, Statfs: fs.statfs, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(ballast); err != nil || fi.Size() != 4<<20 {
		t.Fatalf("ballast after New: %v %v; want a 4 MiB file", fi, err)
	}
	// The ballast counts as reserve kept: 5 MiB free + 4 MiB held is 1 MiB above.
	fs.free.Store(5 << 20)
	g.Maintain()
	if a, _ := g.Available(); a != 1<<20 {
		t.Errorf("Available = %d; want %d", a, 1<<20)
	}
	// Nearly full: the ballast goes.
	fs.free.Store(1 << 20)
	g.Maintain()
	if _, err := os.Stat(ballast); !os.IsNotExist(err) {
		t.Errorf("ballast at 1 MiB free: %v; want it deleted", err)
	}
	// A restart finds it gone and does not make it until there is room.
	fs.free.Store(7 << 20)
	if _, err := New(dir, Options{Reserve: 8 << 20, Ballast: ballast, Statfs: fs.statfs}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ballast); !os.IsNotExist(err) {
		t.Errorf("ballast at 7 MiB free: %v; want none yet", err)
	}
	fs.free.Store(8 << 20)
	g.Maintain()
	if _, err := os.Stat(ballast); err != nil {
		t.Errorf("ballast at 8 MiB free: %v; want it made again", err)
	}
}
