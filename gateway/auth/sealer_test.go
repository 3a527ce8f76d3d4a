package auth_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"shoebox/gateway/auth"
)

func TestSealerCreatesKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	s, err := auth.OpenSealer(path)
	if err != nil {
		t.Fatalf("OpenSealer on a missing file: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file not created: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: got %04o; want 0600", st.Mode().Perm())
	}
	if st.Size() != auth.KeySize {
		t.Errorf("key file size: got %d; want %d", st.Size(), auth.KeySize)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after creating the key; want 1 (no temporary file left)", len(entries))
	}

	// A second OpenSealer reads the same key: what one sealed, the other opens.
	sealed := s.Seal([]byte("the secret"))
	s2, err := auth.OpenSealer(path)
	if err != nil {
		t.Fatalf("OpenSealer on the existing file: %v", err)
	}
	got, err := s2.Open(sealed)
	if err != nil || string(got) != "the secret" {
		t.Errorf("Open with the reloaded key: got %q, %v; want %q, nil", got, err, "the secret")
	}
}

func TestSealRoundTripAndTamper(t *testing.T) {
	dir := t.TempDir()
	s, err := auth.OpenSealer(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	a, b := s.Seal(plain), s.Seal(plain)
	if bytes.Equal(a, b) {
		t.Errorf("two seals of the same secret are equal; want different (random nonce)")
	}
	if bytes.Contains(a, plain) {
		t.Errorf("the sealed value contains the clear secret")
	}
	for _, sealed := range [][]byte{a, b} {
		got, err := s.Open(sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open: got %q, %v; want %q, nil", got, err, plain)
		}
	}

	for i := range a {
		bad := bytes.Clone(a)
		bad[i] ^= 0x01
		if got, err := s.Open(bad); !errors.Is(err, auth.ErrUnseal) {
			t.Errorf("Open with byte %d flipped: got %q, %v; want ErrUnseal", i, got, err)
		}
	}
	for _, bad := range [][]byte{nil, a[:len(a)-1], a[:5], append(bytes.Clone(a), 0)} {
		if _, err := s.Open(bad); !errors.Is(err, auth.ErrUnseal) {
			t.Errorf("Open of %d bytes: got %v; want ErrUnseal", len(bad), err)
		}
	}

	// Another key cannot open it.
	other, err := auth.OpenSealer(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(a); !errors.Is(err, auth.ErrUnseal) {
		t.Errorf("Open with another key: got %v; want ErrUnseal", err)
	}
}

func TestSealerRefusesBadKeyFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		mode os.FileMode
		want string
	}{
		{"short", make([]byte, 31), 0o600, "bytes"},
		{"long", make([]byte, 33), 0o600, "bytes"},
		{"empty", nil, 0o600, "bytes"},
		{"group-readable", make([]byte, 32), 0o640, "chmod 600"},
		{"world-readable", make([]byte, 32), 0o604, "chmod 600"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tc.mode); err != nil { // umask-proof
			t.Fatal(err)
		}
		s, err := auth.OpenSealer(path)
		if err == nil || s != nil {
			t.Errorf("OpenSealer(%s): got %v, %v; want an error", tc.name, s, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("OpenSealer(%s): error %q; want it to name the file and say %q", tc.name, err, tc.want)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, tc.data) {
			t.Errorf("OpenSealer(%s) changed the refused file", tc.name)
		}
	}
	if _, err := auth.OpenSealer(dir); err == nil {
		t.Errorf("OpenSealer(a directory): got nil error; want one")
	}
	if _, err := auth.OpenSealer(filepath.Join(dir, "no-such-dir", "secret.key")); err == nil {
		t.Errorf("OpenSealer in a missing directory: got nil error; want one")
	}
}

func TestNewAccessKeyFormat(t *testing.T) {
	idRE := regexp.MustCompile(`^SB[A-Z0-9]{18}$`)
	secretRE := regexp.MustCompile(`^[A-Za-z0-9]{40}$`)
	seen := map[string]bool{}
	counts := map[byte]int{}
	for i := 0; i < 200; i++ {
		id, secret := auth.NewAccessKey()
		if !idRE.MatchString(id) {
			t.Fatalf("NewAccessKey id %q; want SB and 18 of [A-Z0-9]", id)
		}
		if !secretRE.MatchString(secret) {
			t.Fatalf("NewAccessKey secret %q; want 40 of [A-Za-z0-9]", secret)
		}
		if seen[id] || seen[secret] {
			t.Fatalf("NewAccessKey repeated a value after %d calls", i)
		}
		seen[id], seen[secret] = true, true
		for j := 0; j < len(secret); j++ {
			counts[secret[j]]++
		}
	}
	// 8,000 secret characters over 62 symbols: every symbol shows up.
	if len(counts) != 62 {
		t.Errorf("secrets used %d distinct characters; want 62", len(counts))
	}
}
