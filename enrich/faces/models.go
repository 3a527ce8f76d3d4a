package faces

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Pinned model source: the MIT-licensed npm package @vladmandic/face-api.
const (
	PackageName    = "@vladmandic/face-api"
	PackageVersion = "1.7.15"
	// PackageIntegrity is the npm dist.integrity (SRI, sha512) of the pinned tarball.
	PackageIntegrity = "sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw=="
	// DefaultRegistry is the public npm registry.
	DefaultRegistry = "https://registry.npmjs.org"

	maxTarball   = 64 << 20 // the 1.7.15 tarball is 12.7 MB
	maxModelFile = 32 << 20
)

// Model file base names (TF.js layers-free weight manifests + one shard each).
const (
	ModelTinyFaceDetector = "tiny_face_detector_model"
	ModelLandmark68       = "face_landmark_68_model"
	ModelRecognition      = "face_recognition_model"
	ModelSSDMobilenetV1   = "ssd_mobilenetv1_model"
)

// RequiredModels are the models Load needs.
var RequiredModels = []string{ModelTinyFaceDetector, ModelLandmark68, ModelRecognition}

// Find checks that dir holds the manifest and weight shard of every required
// model and reports everything that is missing in one error.
func Find(dir string) error {
	var missing []string
	for _, m := range RequiredModels {
		for _, f := range []string{m + "-weights_manifest.json", m + ".bin"} {
			st, err := os.Stat(filepath.Join(dir, f))
			if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
				missing = append(missing, f)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("faces: model dir %q is missing %s (install %s@%s model/ with faces.Install)",
			dir, strings.Join(missing, ", "), PackageName, PackageVersion)
	}
	return nil
}

// Install downloads the pinned face-api tarball from the npm registry at
// registryURL (DefaultRegistry if empty), verifies its sha512 SRI integrity
// against PackageIntegrity, and unpacks package/model/* into dir. dir is
// created atomically (temp dir next to it, then rename). If dir already holds
// the models, Install does nothing.
func Install(ctx context.Context, registryURL, dir string, client *http.Client) error {
	return install(ctx, registryURL, dir, client, PackageIntegrity)
}

func install(ctx context.Context, registryURL, dir string, client *http.Client, pinned string) error {
	if Find(dir) == nil {
		return nil
	}
	if registryURL == "" {
		registryURL = DefaultRegistry
	}
	if client == nil {
		client = http.DefaultClient
	}
	registryURL = strings.TrimRight(registryURL, "/")
	tarURL, integrity, err := lookupTarball(ctx, client, registryURL)
	if err != nil {
		return err
	}
	if integrity != pinned {
		return fmt.Errorf("faces: registry integrity %q for %s@%s differs from pinned %q", integrity, PackageName, PackageVersion, pinned)
	}
	body, err := httpGet(ctx, client, tarURL, maxTarball)
	if err != nil {
		return err
	}
	if err := checkSRI(body, pinned); err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("faces: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".face-api-install-*")
	if err != nil {
		return fmt.Errorf("faces: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := unpackModels(body, tmp); err != nil {
		return err
	}
	if err := Find(tmp); err != nil {
		return fmt.Errorf("faces: tarball incomplete: %w", err)
	}
	// An empty leftover dir would block the rename; remove it (Remove fails on non-empty dirs).
	_ = os.Remove(dir)
	if err := os.Rename(tmp, dir); err != nil {
		if Find(dir) == nil { // a concurrent installer won
			return nil
		}
		return fmt.Errorf("faces: %w", err)
	}
	return nil
}

// lookupTarball reads dist.tarball and dist.integrity from the registry's
// version document (GET /<name>/<version>), falling back to the package
// document's versions[<version>] for registries without the former.
func lookupTarball(ctx context.Context, client *http.Client, registryURL string) (tarURL, integrity string, err error) {
	type dist struct {
		Tarball   string `json:"tarball"`
		Integrity string `json:"integrity"`
	}
	name := strings.Replace(PackageName, "/", "%2f", 1)
	var d dist
	b, err := httpGet(ctx, client, registryURL+"/"+name+"/"+PackageVersion, 4<<20)
	if err == nil {
		var doc struct {
			Dist dist `json:"dist"`
		}
		if jerr := json.Unmarshal(b, &doc); jerr != nil {
			err = fmt.Errorf("faces: registry version document: %w", jerr)
		}
		d = doc.Dist
	}
	if err != nil || d.Tarball == "" {
		b, err2 := httpGet(ctx, client, registryURL+"/"+name, 64<<20)
		if err2 != nil {
			if err == nil {
				err = err2
			}
			return "", "", err
		}
		var doc struct {
			Versions map[string]struct {
				Dist dist `json:"dist"`
			} `json:"versions"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return "", "", fmt.Errorf("faces: registry package document: %w", err)
		}
		d = doc.Versions[PackageVersion].Dist
	}
	if d.Tarball == "" || d.Integrity == "" {
		return "", "", fmt.Errorf("faces: registry has no dist.tarball/dist.integrity for %s@%s", PackageName, PackageVersion)
	}
	return d.Tarball, d.Integrity, nil
}

func httpGet(ctx context.Context, client *http.Client, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("faces: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("faces: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("faces: GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("faces: GET %s: %w", url, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("faces: GET %s: response larger than %d bytes", url, limit)
	}
	return b, nil
}

func checkSRI(data []byte, sri string) error {
	want, ok := strings.CutPrefix(sri, "sha512-")
	if !ok {
		return fmt.Errorf("faces: unsupported integrity %q", sri)
	}
	sum := sha512.Sum512(data)
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("faces: tarball integrity mismatch: got sha512-%s, want %s", got, sri)
	}
	return nil
}

// unpackModels extracts regular files package/model/<name> into dir.
// Any entry under package/model/ that is not a plain file name is refused.
func unpackModels(tgz []byte, dir string) error {
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return fmt.Errorf("faces: tarball: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("faces: tarball: %w", err)
		}
		rest, ok := strings.CutPrefix(h.Name, "package/model/")
		if !ok {
			continue // never written, so no traversal risk
		}
		if h.Typeflag == tar.TypeDir && rest == "" {
			continue
		}
		if rest == "" || rest != path.Base(rest) || rest == "." || rest == ".." || strings.ContainsAny(rest, `/\`) {
			return fmt.Errorf("faces: tarball: refusing entry %q", h.Name)
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("faces: tarball: refusing non-regular entry %q", h.Name)
		}
		if h.Size > maxModelFile {
			return fmt.Errorf("faces: tarball: entry %q too large", h.Name)
		}
		f, err := os.OpenFile(filepath.Join(dir, rest), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("faces: %w", err)
		}
		_, err = io.Copy(f, io.LimitReader(tr, maxModelFile))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("faces: %w", err)
		}
	}
}
