package enrich_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"shoebox/gateway"
)

// needTool returns the path of a command-line tool the test needs; under
// CI=true a missing tool fails the test, elsewhere it skips it.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is needed (make deps installs it): %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// TestFormats: WebP (lossy with EXIF, lossless), GIF, and a QuickTime MOV
// made with ffmpeg and exiftool, enriched end to end.
func TestFormats(t *testing.T) {
	needTool(t, "ffmpeg")
	needTool(t, "exiftool")
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	run(t, "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x480", "-frames:v", "1", p("lossy.webp"))
	run(t, "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2018:05:06 07:08:09", "-OffsetTimeOriginal=+01:00",
		"-Make=FUJIFILM", "-Model=X-T3", "-Orientation#=6", p("lossy.webp"))
	run(t, "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=300x200", "-frames:v", "1", "-lossless", "1", p("lossless.webp"))
	run(t, "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x200", "-frames:v", "1", p("anim.gif"))
	run(t, "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:duration=2", "-metadata", "creation_time=2019-03-04T05:06:07Z",
		"-metadata", "location=+35.6586+139.7454/", "-c:v", "mpeg4", p("clip.mov"))
	lib, ctx := newLibrary(t)
	for _, n := range []string{"lossy.webp", "lossless.webp", "anim.gif", "clip.mov"} {
		b, err := os.ReadFile(p(n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lib.gw.Put(ctx, gateway.PutInput{User: "u", Bucket: "b", Key: n, Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	lib.drain(t, ctx)
	for name, want := range map[string]manifestEntry{
		"lossy.webp": {"kind": "photo", "taken_local": "2018-05-06T07:08:09", "offset": "+01:00", "taken_utc": "2018-05-06T06:08:09Z",
			"make": "FUJIFILM", "model": "X-T3", "orientation": 6.0, "width": 480.0, "height": 640.0, "date_source": "exif"},
		"lossless.webp": {"kind": "photo", "width": 300.0, "height": 200.0},
		"anim.gif":      {"kind": "photo", "width": 320.0, "height": 200.0},
		"clip.mov": {"kind": "video", "taken_utc": "2019-03-04T05:06:07Z", "date_source": "exif", "width": 640.0, "height": 360.0,
			"duration_s": 2.0, "lat": 35.6586, "lon": 139.7454},
	} {
		t.Run(name, func(t *testing.T) {
			if j, err := lib.cat.JobOf(ctx, "u", "b", name); err == nil {
				t.Errorf("job not done: %+v", j)
			}
			m, err := lib.cat.MediaOf(ctx, "u", "b", name)
			if err != nil {
				t.Fatal(err)
			}
			CheckManifest(t, m, want)
			if m.Kind == "photo" {
				checkThumbs(t, lib, ctx, name, m, want)
			}
		})
	}
}
