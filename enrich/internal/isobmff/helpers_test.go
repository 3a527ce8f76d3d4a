package isobmff

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// mediaDir is the shared test media (/work/shared/testdata/media).
const mediaDir = "../../../../shared/testdata/media"

// needTool skips the test when an external program is missing, except
// under CI, where a missing tool is a failure.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

// run runs a program, failing the test with its output when it fails.
func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(needTool(t, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

// ffmpeg makes a short test video at path (160x120, 1 s) with the extra
// output arguments given.
func ffmpeg(t testing.TB, path string, size string, extra ...string) {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc=size=" + size + ":rate=10", "-t", "1",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}
	run(t, "ffmpeg", append(append(args, extra...), path)...)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	return readFile(t, filepath.Join(mediaDir, name))
}

func readVideo(b []byte) (*Video, error) { return ReadVideo(bytes.NewReader(b), int64(len(b))) }
func readHEIF(b []byte) (*Image, error)  { return ReadHEIF(bytes.NewReader(b), int64(len(b))) }

// allocated is the number of bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// Box building.

func bx(typ string, parts ...[]byte) []byte {
	n := 8
	for _, p := range parts {
		n += len(p)
	}
	out := binary.BigEndian.AppendUint32(make([]byte, 0, n), uint32(n))
	out = append(out, typ...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func be16(v ...uint16) []byte {
	var out []byte
	for _, x := range v {
		out = binary.BigEndian.AppendUint16(out, x)
	}
	return out
}

func be32(v ...uint32) []byte {
	var out []byte
	for _, x := range v {
		out = binary.BigEndian.AppendUint32(out, x)
	}
	return out
}

func be64(v ...uint64) []byte {
	var out []byte
	for _, x := range v {
		out = binary.BigEndian.AppendUint64(out, x)
	}
	return out
}

// beN is v in n bytes (0, 4 or 8).
func beN(n int, v uint64) []byte {
	switch n {
	case 0:
		return nil
	case 4:
		return be32(uint32(v))
	}
	return be64(v)
}

func full(version uint8, flags uint32) []byte { return be32(uint32(version)<<24 | flags&0xFFFFFF) }

func zeros(n int) []byte { return make([]byte, n) }

func str(s string) []byte { return []byte(s) }

// topLevel lists a file's top-level box types (for checking test files).
func topLevel(b []byte) []string {
	var out []string
	for pos := 0; pos+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[pos:]))
		out = append(out, string(b[pos+4:pos+8]))
		if size == 1 && pos+16 <= len(b) {
			size = int(binary.BigEndian.Uint64(b[pos+8:]))
		}
		if size < 8 {
			break
		}
		pos += size
	}
	return out
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func fmtPtr(p *float64) any {
	if p == nil {
		return "nil"
	}
	return *p
}
