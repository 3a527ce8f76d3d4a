package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// KeySize is the size in bytes of a Sealer's key file.
const KeySize = 32

// sealVersion is the first byte of every sealed value, so that another
// scheme (or a key rotation) can be told apart later.
const sealVersion = 1

// ErrUnseal is returned by Open for a value that was not sealed with this
// key or was altered.
var ErrUnseal = errors.New("sealed secret: wrong server key or corrupted value")

// Sealer encrypts secrets at rest with AES-256-GCM under a server key kept
// in a file outside the catalog. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// OpenSealer loads the server key from path, creating the file with mode
// 0600 and 32 random bytes when it does not exist. A key file of another
// size, or that group or others may access, is refused.
func OpenSealer(path string) (*Sealer, error) {
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKeyFile(path)
		if errors.Is(err, fs.ErrExist) { // created meanwhile by another process
			key, err = readKeyFile(path)
		}
	}
	if err != nil {
		return nil, err
	}
	return newSealer(key)
}

func newSealer(key []byte) (*Sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("server key %s: not a regular file", path)
	case st.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("server key %s: mode %04o lets group or others read it; run chmod 600 %s", path, st.Mode().Perm(), path)
	case st.Size() != KeySize:
		return nil, fmt.Errorf("server key %s: %d bytes; want %d (the file is damaged or not a Shoebox key)", path, st.Size(), KeySize)
	}
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(f, key); err != nil {
		return nil, fmt.Errorf("server key %s: %w", path, err)
	}
	return key, nil
}

// createKeyFile writes a new random key durably: a crash never leaves a
// short key file behind that later refuses to load, and never a key that
// sealed secrets but was not kept.
func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".secret.key-*")
	if err != nil {
		return nil, fmt.Errorf("create server key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create server key: %w", err)
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create server key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create server key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("create server key: %w", err)
	}
	// Link, unlike rename, fails when path exists: a key made meanwhile by
	// another process is never replaced.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		// A file system without hard links: create in place instead.
		if err := writeKeyExcl(path, key); err != nil {
			return nil, err
		}
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return key, nil
}

func writeKeyExcl(path string, key []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("create server key: %w", err)
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("create server key: %w", err)
	}
	return nil
}

// Seal encrypts plain: a version byte, a random nonce, then the ciphertext
// and its tag.
func (s *Sealer) Seal(plain []byte) []byte {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return s.aead.Seal(out, out[1:], plain, out[:1])
}

// Open decrypts a value made by Seal with the same key: ErrUnseal if the
// key differs or the value was altered.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrUnseal
	}
	plain, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealed[:1])
	if err != nil {
		return nil, ErrUnseal
	}
	return plain, nil
}

const (
	keyIDChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// NewAccessKey returns a new S3 access key ID ("SB" and 18 characters of
// A-Z and 0-9) and secret (40 characters of A-Z, a-z and 0-9, about 238
// bits), both from crypto/rand.
func NewAccessKey() (id, secret string) {
	return "SB" + randomString(keyIDChars, 18), randomString(secretChars, 40)
}

// randomString returns n characters drawn uniformly from alphabet
// (rejection sampling, so no character is favoured).
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("auth: crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
