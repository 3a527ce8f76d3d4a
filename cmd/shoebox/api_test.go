package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (s *server) apiObject(t *testing.T, p string) apiObject {
	t.Helper()
	resp, body := s.do("GET", "/api/v1/objects/"+p, nil)
	want(t, resp, body, 200)
	var o apiObject
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return o
}

// waitDone polls the API until the file's enrichment is no longer pending.
func (s *server) waitDone(t *testing.T, p string) apiObject {
	t.Helper()
	var o apiObject
	waitUntil(t, 2*time.Minute, "the enrichment of "+p, func() bool {
		o = s.apiObject(t, p)
		return o.Enrichment != nil && (o.Enrichment.State == "done" || o.Enrichment.State == "failed")
	})
	return o
}

// TestEnrichmentQueueAndAPI: every write queues a job that a worker does;
// the API reports the object, its media record and the job's state; a bad
// file fails its own job with a readable error; files added while the
// server was down are found and enriched after the restart.
func TestEnrichmentQueueAndAPI(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/pics")
	s.put("/dav/pics/wide.png", string(pngBytes(t, 64, 32)))
	var jb bytes.Buffer
	jpeg.Encode(&jb, image.NewRGBA(image.Rect(0, 0, 30, 40)), nil)
	s.put("/dav/pics/tall.jpg", jb.String(), "X-OC-Mtime", "1530699300")
	s.put("/dav/pics/broken.jpg", "this is not a jpeg")
	s.put("/dav/pics/notes.txt", "text")
	s.put("/dav/pics/PXL_20230115_083000123.png", string(pngBytes(t, 2, 2)), "X-OC-Mtime", "1530699300")

	o := s.waitDone(t, "pics/wide.png")
	if o.Media == nil || o.Media.Kind != "photo" || o.Media.Width != 64 || o.Media.Height != 32 || o.Media.DateSource != "upload" {
		t.Errorf("wide.png: %+v %+v", o, o.Media)
	}
	o = s.waitDone(t, "pics/tall.jpg")
	if o.Media == nil || o.Media.Width != 30 || o.Media.Height != 40 || o.Media.DateSource != "mtime" || o.Media.TakenUTC != "2018-07-04T10:15:00Z" {
		t.Errorf("tall.jpg: %+v", o.Media)
	}
	if o.SHA256 == "" || o.ETag == "" || o.Size != int64(jb.Len()) {
		t.Errorf("tall.jpg object fields: %+v", o)
	}
	o = s.waitDone(t, "pics/broken.jpg")
	if o.Enrichment.State != "failed" || o.Enrichment.Error == "" {
		t.Errorf("broken.jpg enrichment = %+v; want failed with an error", o.Enrichment)
	}
	if o := s.waitDone(t, "pics/PXL_20230115_083000123.png"); o.Media == nil || o.Media.DateSource != "filename" || o.Media.TakenLocal != "2023-01-15T08:30:00.123" {
		t.Errorf("phone-named file media = %+v; want dated from its name", o.Media)
	}
	if o := s.waitDone(t, "pics/notes.txt"); o.Media == nil || o.Media.Kind != "other" {
		t.Errorf("notes.txt media = %+v", o.Media)
	}
	resp, body := s.doAs("admin", "wrong", "GET", "/api/v1/status", nil)
	want(t, resp, body, 401)

	// Files written while the server is down are queued at start-up.
	s.stop()
	dir := filepath.Join(s.data, "objects", "admin", "pics", "offline")
	os.MkdirAll(dir, 0o755)
	for i := range 50 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%02d.png", i)), pngBytes(t, 8+i, 8), 0o644)
	}
	s.start()
	st := s.waitQueue(t, 2*time.Minute)
	if st.Objects != 55 || st.Photos != 53 || st.Queue.Failed != 1 {
		t.Errorf("status = %+v; want 55 objects, 53 photos (broken.jpg failed, so no media), 1 failed", st)
	}
	if o := s.apiObject(t, "pics/offline/p49.png"); o.Media == nil || o.Media.Width != 57 {
		t.Errorf("offline file media = %+v", o.Media)
	}
	// A job leaves the queue before its try is counted: wait for the count.
	if n := s.waitMetric(t, `shoebox_enrich_jobs_total{kind="photo",result="done"}`, 50); n != 50 {
		t.Errorf("shoebox_enrich_jobs_total{photo,done} = %v; want 50", n)
	}
	resp, body = s.doAs("", "", "GET", "/metrics", nil)
	want(t, resp, body, 200)
	for _, w := range []string{`shoebox_enrich_queue_jobs{state="failed"} 1`, `shoebox_enrich_queue_jobs{state="pending"} 0`, `shoebox_enrich_duration_seconds_bucket{kind="photo",result="done"`} {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}

// TestMediaManifest uploads every file of ../shared/testdata/media with
// rclone, through WebDAV (vendor owncloud: modification times sent) and
// through S3, and checks each media record against manifest.json, the
// thumbnails (orientation applied; HEIC decoded) and the status counts.
func TestMediaManifest(t *testing.T) {
	needTool(t, "rclone")
	const media = "../../../shared/testdata/media"
	mb, err := os.ReadFile(filepath.Join(media, "manifest.json"))
	if err != nil {
		t.Fatalf("the shared test media are needed: %v", err)
	}
	var man struct {
		Files map[string]map[string]any `json:"files"`
	}
	if err := json.Unmarshal(mb, &man); err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	id, secret := s3Keys(t, s)
	env := append(rcloneEnv(s, "owncloud"),
		"RCLONE_CONFIG_SBS3_TYPE=s3", "RCLONE_CONFIG_SBS3_PROVIDER=Other",
		"RCLONE_CONFIG_SBS3_ENDPOINT="+s.s3url(), "RCLONE_CONFIG_SBS3_ACCESS_KEY_ID="+id,
		"RCLONE_CONFIG_SBS3_SECRET_ACCESS_KEY="+secret, "RCLONE_CONFIG_SBS3_FORCE_PATH_STYLE=true",
	)
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "AWS_CA_BUNDLE=") })
	rclone(t, env, "copy", media, "sb:viadav/media")
	rclone(t, env, "mkdir", "sbs3:vias3")
	rclone(t, env, "copy", media, "sbs3:vias3/media")

	for _, bucket := range []string{"viadav", "vias3"} {
		for name, want := range man.Files {
			t.Run(bucket+"/"+name, func(t *testing.T) {
				p := bucket + "/media/" + name
				o := s.waitDone(t, p)
				raw := s.apiRaw(t, p)
				if _, hostile := want["hostile"]; hostile {
					if o.Enrichment.State != "failed" || o.Enrichment.Error == "" {
						t.Errorf("enrichment = %+v; want failed with an error", o.Enrichment)
					}
					return
				}
				if o.Enrichment.State != "done" {
					t.Errorf("enrichment = %+v; want done", o.Enrichment)
				}
				m, _ := raw["media"].(map[string]any)
				for k, w := range want {
					switch k {
					case "note", "stored_width", "stored_height":
					case "date_folder":
						if tl, _ := m["taken_local"].(string); !strings.HasPrefix(tl, w.(string)) {
							t.Errorf("taken_local = %v; want the day %v", m["taken_local"], w)
						}
					default:
						g := m[k]
						wf, isNum := w.(float64)
						gf, _ := g.(float64)
						tol := 1e-3
						if k == "lat" || k == "lon" {
							tol = 1e-5
						}
						if isNum && (g == nil || math.Abs(gf-wf) > tol) || !isNum && g != w {
							t.Errorf("media.%s = %v; want %v", k, g, w)
						}
					}
				}
			})
		}
	}
	// Thumbnails: portrait for the orientation-6 photo, made for HEIC, and
	// for the video when ffmpeg is there (make test installs it; without
	// it the video waits for it: 404).
	clipW, clipH, clipStatus := 250, 187, 200
	if os.Getenv("CI") == "true" {
		needTool(t, "ffmpeg")
	} else if _, err := exec.LookPath("ffmpeg"); err != nil {
		clipW, clipH, clipStatus = 0, 0, 404
	}
	for _, c := range []struct {
		name   string
		w, h   int
		size   string
		status int
	}{
		{"rotated_orientation6.jpg", 480, 640, "preview", 200},
		{"rotated_orientation6.jpg", 187, 250, "small", 200},
		{"iphone_golden_gate.heic", 1024, 768, "preview", 200},
		{"iphone_golden_gate.heic", 250, 187, "", 200},
		{"clip.mp4", clipW, clipH, "small", clipStatus},
		{"bomb_20000x20000.png", 0, 0, "small", 404},
		{"canon_eos.jpg", 0, 0, "huge", 400},
	} {
		resp, body := s.do("GET", "/api/v1/objects/viadav/media/"+c.name+"/thumbnail?size="+c.size, nil)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s thumbnail: %d %s; want %d", c.name, c.size, resp.StatusCode, body, c.status)
			continue
		}
		if c.status != 200 {
			continue
		}
		cfg, err := jpeg.DecodeConfig(strings.NewReader(body))
		// The short side may round either way.
		if err != nil || resp.Header.Get("Content-Type") != "image/jpeg" || absInt(cfg.Width-c.w) > 1 || absInt(cfg.Height-c.h) > 1 || max(cfg.Width, cfg.Height) != max(c.w, c.h) {
			t.Errorf("%s %s thumbnail: %s %dx%d %v; want a %dx%d JPEG", c.name, c.size, resp.Header.Get("Content-Type"), cfg.Width, cfg.Height, err, c.w, c.h)
		}
	}
	// Files the manifest does not list (the sidecar, the manifest) and
	// photos a late sidecar queued again may still be in the queue.
	st := s.waitQueue(t, 3*time.Minute)
	// 23 files per bucket: 19 photos, a video, and garbage.jpg, the
	// Takeout sidecar and the manifest, which are not media.
	if st.Objects != 46 || st.Videos != 2 || st.Photos != 38 || st.Queue.Failed != 6 {
		t.Errorf("status = %+v; want 46 objects, 38 photos, 2 videos, 6 failed (truncated, garbage, bomb)", st)
	}
}

func (s *server) apiRaw(t *testing.T, p string) map[string]any {
	t.Helper()
	resp, body := s.do("GET", "/api/v1/objects/"+p, nil)
	want(t, resp, body, 200)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func absInt(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
