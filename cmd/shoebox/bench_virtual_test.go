package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/localfs"
)

// BenchmarkVirtualFolders builds a library of BENCH_PHOTOS (default
// 100,000) synthetic photos over ten years (files on disk, rows and media
// records in the catalog, as enrichment leaves them), starts the server on
// it, and times PROPFIND Depth 1 of a day folder, a month folder and
// /by-date: median and p99 in ms, and the server's peak RSS after start-up
// and at the end. With BENCH_PPROF=host:port the server serves pprof there
// and its heap profile is saved to $TMPDIR/shoebox-heap.pprof.
//
//	go test -run '^$' -bench VirtualFolders -benchtime 1x ./cmd/shoebox
func BenchmarkVirtualFolders(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_PHOTOS")); err == nil && v > 0 {
		n = v
	}
	data := b.TempDir()
	days := fillLibrary(b, data, n)
	s := &server{t: b, data: data, scheme: "http", client: &http.Client{}}
	if a := os.Getenv("BENCH_PPROF"); a != "" {
		s.args = []string{"--pprof-addr", a}
	}
	s.start()
	defer s.stop()
	b.ReportMetric(float64(peakRSS(b, s.cmd.Process.Pid))/(1<<20), "server-start-peak-RSS-MiB")
	if a := os.Getenv("BENCH_PPROF"); a != "" {
		defer func() {
			resp, err := http.Get("http://" + a + "/debug/pprof/heap")
			if err == nil {
				f, _ := os.Create(filepath.Join(os.TempDir(), "shoebox-heap.pprof"))
				io.Copy(f, resp.Body)
				f.Close()
				resp.Body.Close()
			}
		}()
	}
	mid := days[len(days)/2]
	targets := []struct{ name, path string }{
		{"day", "/dav/by-date/" + mid[:4] + "/" + mid[:7] + "/" + mid + "/"},
		{"month", "/dav/by-date/" + mid[:4] + "/" + mid[:7] + "/"},
		{"by-date", "/dav/by-date/"},
	}
	b.ResetTimer()
	for range b.N {
		for _, tg := range targets {
			var lat []time.Duration
			for range 200 {
				start := time.Now()
				resp, body := s.do("PROPFIND", tg.path, nil, "Depth", "1")
				lat = append(lat, time.Since(start))
				if resp.StatusCode != 207 {
					b.Fatalf("%s: %d %s", tg.path, resp.StatusCode, body)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, tg.name+"-p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, tg.name+"-p99-ms")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peakRSS(b, s.cmd.Process.Pid))/(1<<20), "server-peak-RSS-MiB")
	b.Logf("%d photos over %d days; day folder %s", n, len(days), targets[0].path)
}

// fillLibrary writes n photos of one user into data, dated over ten years
// (about 27 a day), from 5 cameras, and returns the days used, in order.
func fillLibrary(b *testing.B, data string, n int) []string {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open(filepath.Join(data, "catalog"), catalog.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	be, err := localfs.New(filepath.Join(data, "objects"), localfs.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	gw := gateway.New(be, cat, gateway.Options{Logger: quiet})
	if err := gw.MakeBucket(ctx, "admin", "photos"); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	cams := []string{"Canon|Canon EOS R5", "Apple|iPhone 13 Pro", "SONY|ILCE-7M3", "Google|Pixel 7", "NIKON CORPORATION|NIKON D750"}
	start := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for i := range n {
		taken := start.Add(time.Duration(rng.Int64N(int64(10 * 365 * 24 * time.Hour))))
		key := fmt.Sprintf("%s/IMG_%06d.jpg", taken.Format("2006/01"), i)
		_, err := gw.Put(ctx, gateway.PutInput{User: "admin", Bucket: "photos", Key: key, Body: strings.NewReader(key), MakeParents: true})
		if err != nil {
			b.Fatal(err)
		}
		j, err := cat.JobOf(ctx, "admin", "photos", key)
		if err != nil {
			b.Fatal(err)
		}
		j.User, j.Bucket, j.Key = "admin", "photos", key
		mk, md, _ := strings.Cut(cams[i%len(cams)], "|")
		m := catalog.Media{Kind: "photo", TakenLocal: taken.Format("2006-01-02T15:04:05"), DateSource: "exif",
			Make: mk, Model: md, Width: 4000, Height: 3000, PHash: fmt.Sprintf("%016x", rng.Uint64())}
		if err := cat.CompleteJob(ctx, j, m); err != nil {
			b.Fatal(err)
		}
		seen[taken.Format("2006-01-02")] = true
	}
	days := make([]string, 0, len(seen))
	for d := range seen {
		days = append(days, d)
	}
	slices.Sort(days)
	return days
}

// peakRSS reads a process's peak resident set (VmHWM), in bytes.
func peakRSS(b *testing.B, pid int) int64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
