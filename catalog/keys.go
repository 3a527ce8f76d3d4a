package catalog

import (
	"encoding/binary"
	"strings"
)

// SchemaVersion is the version of the key layout and row encodings below.
// A catalog written with another version is refused at Open until migrated.
const SchemaVersion = 1

const sep = "|"

// Key prefixes, one per row kind (see doc.go for the table).
const (
	pfxMeta   = "meta|"
	pfxUser   = "user|"
	pfxBucket = "bkt|"
	pfxObject = "obj|"
	pfxProp   = "prop|"
	pfxJob    = "job|"
	// Failed jobs are kept apart, so leasing never scans past them.
	pfxJobFailed   = "jobf|"
	pfxMedia       = "media|"
	pfxAKey        = "akey|"
	pfxAppPassword = "apw|"
	pfxJournal     = "jnl|"
)

func keySchema() []byte { return []byte(pfxMeta + "schema") }

// keyFileIDSeq holds the file id sequence's leased high mark (fileid.go).
func keyFileIDSeq() []byte { return []byte(pfxMeta + "fileid") }

func keyUser(user string) []byte { return []byte(pfxUser + user) }

func keyBucket(user, bucket string) []byte {
	return []byte(pfxBucket + user + sep + bucket)
}

func keyBucketPrefix(user string) []byte { return []byte(pfxBucket + user + sep) }

// keyObjectPrefix is the prefix of every object row in one bucket.
func keyObjectPrefix(user, bucket string) []byte {
	return []byte(pfxObject + user + sep + bucket + sep)
}

func keyObject(user, bucket, key string) []byte {
	return append(keyObjectPrefix(user, bucket), key...)
}

func keyPropPrefix(user, bucket string) []byte {
	return []byte(pfxProp + user + sep + bucket + sep)
}

func keyJobPrefix(user, bucket string) []byte {
	return []byte(pfxJob + user + sep + bucket + sep)
}

func keyJob(user, bucket, key string) []byte { return append(keyJobPrefix(user, bucket), key...) }

func keyJobFailedPrefix(user, bucket string) []byte {
	return []byte(pfxJobFailed + user + sep + bucket + sep)
}

func keyJobFailed(user, bucket, key string) []byte {
	return append(keyJobFailedPrefix(user, bucket), key...)
}

func keyMediaPrefix(user, bucket string) []byte {
	return []byte(pfxMedia + user + sep + bucket + sep)
}

func keyMedia(user, bucket, key string) []byte { return append(keyMediaPrefix(user, bucket), key...) }

func keyProp(user, bucket, key string) []byte {
	return append(keyPropPrefix(user, bucket), key...)
}

// keyAccessKey is the row of one S3 access key.
func keyAccessKey(id string) []byte { return []byte(pfxAKey + id) }

// ValidName reports whether s can be a user or bucket name in the catalog:
// 1 to 63 bytes of letters, digits, '.', '_' and '-', not starting with '.'.
func ValidName(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '.' {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return !strings.Contains(s, "..")
}

func keyJournalSeg(seg uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(pfxJournal), seg)
}

func keyJournal(m JournalMark) []byte {
	return binary.BigEndian.AppendUint64(keyJournalSeg(m.Seg), uint64(m.Off))
}
