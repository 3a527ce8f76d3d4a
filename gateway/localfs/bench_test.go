package localfs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"shoebox/gateway"
	"shoebox/gateway/localfs"
)

// The hot paths of the backend, for comparing changes to how paths are
// resolved: a 4 KiB upload (Create, Commit, Sync) into an existing folder,
// and the Open and Stat a GET makes. Run with -benchtime and compare
// before/after on the same machine; with sync the numbers are the disk's.
func BenchmarkPut4K(b *testing.B) {
	for _, noSync := range []bool{true, false} {
		b.Run(fmt.Sprintf("nosync=%v", noSync), func(b *testing.B) {
			ctx := context.Background()
			be, err := localfs.New(b.TempDir(), localfs.Options{NoSync: noSync})
			if err != nil {
				b.Fatal(err)
			}
			defer be.Close()
			data := strings.Repeat("x", 4096)
			if err := be.Mkdir(ctx, gateway.Path{User: "u", Bucket: "b", Key: "2024/06/"}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				p := gateway.Path{User: "u", Bucket: "b", Key: fmt.Sprintf("2024/06/img%d.jpg", i%512)}
				pd, err := be.Create(ctx, p, strings.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				if err := pd.Commit(ctx, time.Time{}); err != nil {
					b.Fatal(err)
				}
				if err := pd.Sync(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpenStat(b *testing.B) {
	ctx := context.Background()
	be, err := localfs.New(b.TempDir(), localfs.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	p := gateway.Path{User: "u", Bucket: "b", Key: "2024/06/img.jpg"}
	pd, err := be.Create(ctx, p, strings.NewReader("data"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pd.Commit(ctx, time.Time{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := be.Stat(ctx, p); err != nil {
			b.Fatal(err)
		}
		f, err := be.Open(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
