package catalog_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"shoebox/catalog"
)

// BenchmarkPutFileParallel measures durable commits of object rows from
// many writers at once (16, like the S3 bench's small PUTs): the rate at
// which the catalog acknowledges uploads when its commits are fsynced.
func BenchmarkPutFileParallel(b *testing.B) {
	ctx := context.Background()
	c, err := catalog.Open(b.TempDir(), catalog.Options{SyncWrites: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.CreateBucket(ctx, "u", "b", time.Now()); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			o := catalog.Object{Bucket: "b", Key: fmt.Sprintf("d/k%08d", i), Size: 4096, SHA256: "ab", MD5: "cd", ModNs: i, UploadNs: i}
			if err := c.PutFile(ctx, "u", o); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}
