package enrich_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"shoebox/gateway"
)

// TestXMPFormats: exiftool writes XMP (a rating and a keyword) into each
// container Shoebox reads it from (WebP "XMP " chunk, TIFF tag 700, HEIC
// mime item, QuickTime and MP4, a JPEG whose packet is too large for one
// segment: extended XMP), and enrichment finds it in each.
func TestXMPFormats(t *testing.T) {
	needTool(t, "ffmpeg")
	needTool(t, "exiftool")
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	copyShared := func(src, dst string) {
		b, err := os.ReadFile(filepath.Join("../../shared/testdata/media", src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p(dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", p("a.webp"))
	run(t, "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:duration=1", "-c:v", "mpeg4", p("a.mov"))
	run(t, "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:duration=1", "-c:v", "mpeg4", p("a.mp4"))
	run(t, "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", p("big.jpg"))
	copyShared("scan.tif", "a.tif")
	copyShared("iphone_golden_gate.heic", "a.heic")
	files := []string{"a.webp", "a.mov", "a.mp4", "a.tif", "a.heic", "big.jpg"}
	for i, n := range files {
		args := []string{"-q", "-q", "-overwrite_original", "-XMP-xmp:Rating=" + strconv.Itoa(i%5+1), "-XMP-dc:Subject=kw-" + n}
		if n == "big.jpg" {
			// 100 KB of description: exiftool moves it to extended XMP.
			args = append(args, "-XMP-dc:Description="+strings.Repeat("long ", 20_000), "-XMP-dc:Subject=extended")
		}
		run(t, "exiftool", append(args, p(n))...)
	}
	lib, ctx := newLibrary(t)
	for _, n := range files {
		b, err := os.ReadFile(p(n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lib.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "b", Key: n, Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	lib.drain(t, ctx)
	for i, n := range files {
		m, err := lib.cat.MediaOf(ctx, "u", "b", n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if m.Rating == nil || *m.Rating != i%5+1 {
			t.Errorf("%s: rating %v; want %d", n, m.Rating, i%5+1)
		}
		if !slices.Contains(m.Tags, "kw-"+n) {
			t.Errorf("%s: tags %q; want kw-%s", n, m.Tags, n)
		}
		if n == "big.jpg" && !slices.Contains(m.Tags, "extended") {
			t.Errorf("%s: tags %q; want \"extended\" too", n, m.Tags)
		}
	}
}
