package gateway

import (
	"errors"
	"fmt"
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

// CheckBucket validates a bucket name for creation.
func CheckBucket(name string) error {
	if IsReserved(name) {
		return fmt.Errorf("bucket %q: %w", name, ErrReserved)
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
