package gateway

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode/utf8"

	"shoebox/catalog"
)

// ErrBadPath is returned (wrapped) for keys and names that cannot be stored:
// ".." or "." segments, NUL, empty segments, absolute paths, invalid UTF-8.
var ErrBadPath = errors.New("invalid path")

// ErrReserved is returned (wrapped) for bucket names that belong to the
// virtual folders.
var ErrReserved = errors.New("reserved name")

// MaxKeyLen is the longest object key, in bytes (the S3 limit).
const MaxKeyLen = 1024

// ReservedNames are the virtual roots shown beside a user's buckets; no
// bucket may take one of these names.
var ReservedNames = []string{"by-date", "by-person", "by-camera", "by-place", "by-tag", "duplicates", "albums", "search", "trash"}

// IsReserved reports whether name is a virtual root's name (case-insensitively,
// since Windows and macOS clients treat names that way).
func IsReserved(name string) bool {
	for _, r := range ReservedNames {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// BucketRule states the rule for new bucket names, in the words every
// refusal uses. It is S3's rule, so that every S3 client can use every
// bucket made over WebDAV.
const BucketRule = "a bucket name has 3 to 63 characters: lowercase letters, digits, dots and hyphens, " +
	"starting and ending with a letter or digit, and is not an IP address"

// BucketNameError is the refusal of a new bucket's name. It wraps
// ErrReserved when the name is a virtual folder's, ErrBadPath otherwise,
// and its text states the rule.
type BucketNameError struct {
	Name     string
	Reserved bool // the name is a virtual folder's (IsReserved)
}

func (e *BucketNameError) Error() string {
	if e.Reserved {
		return fmt.Sprintf("bucket name %q is not allowed: it is the name of a virtual folder (%s)", e.Name, strings.Join(ReservedNames, ", "))
	}
	return fmt.Sprintf("bucket name %q is not allowed: %s", e.Name, BucketRule)
}

// Unwrap gives ErrReserved or ErrBadPath.
func (e *BucketNameError) Unwrap() error {
	if e.Reserved {
		return ErrReserved
	}
	return ErrBadPath
}

// ValidBucketName applies S3's rule for new bucket names (BucketRule): 3
// to 63 characters of a-z, 0-9, '.' and '-', in labels separated by
// single dots that start and end with a letter or digit, and not an IP
// address. It does not check IsReserved.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 || net.ParseIP(name) != nil {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// CheckBucket validates the name of a NEW bucket (made or renamed to):
// not reserved, and S3's rule (ValidBucketName). It gives a
// *BucketNameError. Buckets made before the rule, with other names that
// catalog.ValidName takes, keep working: only new names are checked.
func CheckBucket(name string) error {
	if IsReserved(name) {
		return &BucketNameError{Name: name, Reserved: true}
	}
	if !ValidBucketName(name) {
		return &BucketNameError{Name: name}
	}
	return nil
}

// checkOldBucket validates the name of a bucket that existed before (one
// restored from the trash): not reserved, and catalog.ValidName.
func checkOldBucket(name string) error {
	if IsReserved(name) {
		return &BucketNameError{Name: name, Reserved: true}
	}
	if !catalog.ValidName(name) {
		return fmt.Errorf("bucket %q (letters, digits, '.', '_', '-'; at most 63): %w", name, ErrBadPath)
	}
	return nil
}

// CheckKey validates an object key: relative, '/'-separated, no empty, "."
// or ".." segment (a trailing '/' marks a folder), no NUL or control bytes
// but tab, newline and carriage return, valid UTF-8, at most MaxKeyLen
// bytes. A name between slashes may be as long as the key: backends keep
// names longer than their file system allows (see gateway/localfs).
func CheckKey(key string) error {
	if key == "" {
		return nil
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("key of %d bytes (max %d): %w", len(key), MaxKeyLen, ErrBadPath)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("key %q is not UTF-8: %w", key, ErrBadPath)
	}
	if key[0] == '/' || key[0] == '\\' {
		return fmt.Errorf("key %q is absolute: %w", key, ErrBadPath)
	}
	for i := 0; i < len(key); i++ {
		// Tab, newline and carriage return are valid S3 keys, file names and
		// XML; other control bytes cannot be written in a WebDAV answer.
		if c := key[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return fmt.Errorf("key %q has a control byte: %w", key, ErrBadPath)
		}
	}
	segs := strings.Split(strings.TrimSuffix(key, "/"), "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return fmt.Errorf("key %q has an empty, '.' or '..' segment: %w", key, ErrBadPath)
		}
	}
	return nil
}

// Parent returns the folder key holding key ("" for the bucket root).
func Parent(key string) string {
	k := strings.TrimSuffix(key, "/")
	i := strings.LastIndexByte(k, '/')
	if i < 0 {
		return ""
	}
	return k[:i+1]
}
