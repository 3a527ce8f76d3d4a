package catalog

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Live Photos: an iPhone still (HEIC or JPEG) and its motion half (a MOV)
// are two files that make one item. They are paired when the second of
// the two is enriched (CompleteJob, in the same transaction as its
// record, so two halves completing at once conflict and one retries: the
// pair is found whichever arrives first):
//
//	ixcid|U|CID|B|KEY   files by Apple content identifier (Media.ContentID)
//	ixcid|U|CID         a marker that orders the pairings of one identifier
//
// Candidates are the files of the same bucket that share the content
// identifier, and the files of the same folder with the same base name
// (IMG_0001.HEIC, IMG_0001.MOV). A candidate is the partner when one is a
// photo and the other a video, it is not paired with another file, and
// either both have a content identifier and they are equal, or (by name
// only) one of them has none and their capture times are at most
// LiveMaxGap apart. Both records then name each other (LivePair,
// LiveRole); the motion half's listing rows are dropped (indexRows).
//
// A half deleted, moved away from its partner, or re-enriched into
// another pairing leaves its former partner unpaired (and listed again);
// a half moved with its partner (a folder move, the trash) stays paired,
// and one moved alone (renamed, restored from the trash) is paired again
// where it lands, from its record (movePairs).
const pfxIxLive = "ixcid|"

// LiveMaxGap is the largest difference between the capture times of a
// still and a video paired by name only (an iPhone's video starts about
// 1.5 s before the still).
const LiveMaxGap = 5 * time.Second

// livePair pairs the file whose new record is m with the other half of
// its Live Photo, inside txn, and unpairs the partner its old record
// named (old may be nil) when that is no longer it.
func livePair(txn *badger.Txn, user, bucket, key string, m, old *Media) error {
	m.LivePair, m.LiveRole = "", ""
	if bucket != TrashBucket && (m.Kind == "photo" || m.Kind == "video") {
		if m.ContentID != "" {
			// Read and write the identifier's marker row: two halves
			// completing at once conflict here (Badger tracks the keys a
			// transaction reads, not the ranges its iterators cover),
			// and the one that retries sees the other's ixcid| row.
			mk := []byte(pfxIxLive + user + sep + m.ContentID)
			if _, err := txn.Get(mk); err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			if err := txn.Set(mk, nil); err != nil {
				return err
			}
		}
		cands, err := liveCandidates(txn, user, bucket, key, m)
		if err != nil {
			return err
		}
		for _, c := range cands {
			var pm Media
			if err := getJSON(txn, keyMedia(user, bucket, c.key), &pm); err != nil {
				if errors.Is(err, ErrNotFound) {
					continue // not enriched yet: it pairs when it is
				}
				return err
			}
			if !liveMatch(*m, pm, c.byName) || (pm.LivePair != "" && pm.LivePair != key) {
				continue
			}
			role, prole := LiveStill, LiveMotion
			if m.Kind == "video" {
				role, prole = LiveMotion, LiveStill
			}
			m.LivePair, m.LiveRole = c.key, role
			if pm.LivePair != key || pm.LiveRole != prole {
				pm.LivePair, pm.LiveRole = key, prole
				if err := reindex(txn, user, bucket, c.key, pm); err != nil {
					return err
				}
			}
			break
		}
	}
	if old != nil && old.LivePair != "" && old.LivePair != m.LivePair {
		return unpair(txn, user, bucket, old.LivePair, key)
	}
	return nil
}

type liveCandidate struct {
	key    string
	byName bool
}

// liveCandidates lists the files that may be the other half of key: same
// content identifier first, then same folder and base name.
func liveCandidates(txn *badger.Txn, user, bucket, key string, m *Media) ([]liveCandidate, error) {
	var out []liveCandidate
	seen := map[string]bool{key: true}
	if m.ContentID != "" {
		pfx := []byte(pfxIxLive + user + sep + m.ContentID + sep + bucket + sep)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		for it.Rewind(); it.Valid() && len(out) < 16; it.Next() {
			k := string(it.Item().Key()[len(pfx):])
			if !seen[k] {
				seen[k] = true
				out = append(out, liveCandidate{key: k})
			}
		}
		it.Close()
	}
	stem := strings.TrimSuffix(key, path.Ext(key))
	pfx := keyObject(user, bucket, stem+".")
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid() && n < 64; it.Next() {
		n++
		rest := string(it.Item().Key()[len(pfx):])
		if k := stem + "." + rest; !seen[k] && rest != "" && !strings.ContainsAny(rest, "./") {
			seen[k] = true
			out = append(out, liveCandidate{key: k, byName: true})
		}
	}
	return out, nil
}

// liveMatch says whether a and b are the two halves of one Live Photo.
func liveMatch(a, b Media, byName bool) bool {
	if !(a.Kind == "photo" && b.Kind == "video" || a.Kind == "video" && b.Kind == "photo") {
		return false
	}
	if a.ContentID != "" && b.ContentID != "" {
		return a.ContentID == b.ContentID
	}
	if !byName {
		return false
	}
	d, ok := takenGap(a, b)
	return ok && d <= LiveMaxGap
}

// takenGap is the difference between two capture times: UTC when both
// know it, else the local clock's.
func takenGap(a, b Media) (time.Duration, bool) {
	parse := func(layout, s string) (time.Time, bool) {
		t, err := time.Parse(layout, s)
		return t, err == nil
	}
	var ta, tb time.Time
	var oka, okb bool
	if a.TakenUTC != "" && b.TakenUTC != "" {
		ta, oka = parse(time.RFC3339Nano, a.TakenUTC)
		tb, okb = parse(time.RFC3339Nano, b.TakenUTC)
	} else {
		ta, oka = parse("2006-01-02T15:04:05.999999999", a.TakenLocal)
		tb, okb = parse("2006-01-02T15:04:05.999999999", b.TakenLocal)
	}
	if !oka || !okb {
		return 0, false
	}
	d := ta.Sub(tb)
	if d < 0 {
		d = -d
	}
	return d, true
}

// unpair clears the pairing of key when it names self, and lists it again.
func unpair(txn *badger.Txn, user, bucket, key, self string) error {
	var pm Media
	if err := getJSON(txn, keyMedia(user, bucket, key), &pm); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	if pm.LivePair != self {
		return nil
	}
	pm.LivePair, pm.LiveRole = "", ""
	return reindex(txn, user, bucket, key, pm)
}

// reindex rewrites a file's record and index rows (see index), when the
// file is there.
func reindex(txn *badger.Txn, user, bucket, key string, m Media) error {
	var o Object
	if err := getJSON(txn, keyObject(user, bucket, key), &o); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	return index(txn, user, bucket, key, m, o.ModNs)
}

// movePairs fixes the pairings of files moved (or copied, when keep) from
// src in bucket to dst in dstBucket, after Move: a half moved with its
// partner names the partner's new key; one moved without it leaves the
// partner unpaired (unless it was copied), and every photo or video that
// lands outside the trash without its partner is paired where it lands
// (a half restored from the trash finds its partner again).
func (c *Catalog) movePairs(ctx context.Context, user, bucket, src, dstBucket, dst string, keep bool, rows []mediaRow) error {
	moved := map[string]bool{}
	var media []mediaRow
	for _, r := range rows {
		moved[r.key] = true
		if r.m.Kind == "photo" || r.m.Kind == "video" {
			media = append(media, r)
		}
	}
	if dstBucket == TrashBucket {
		// Only the pairs matter: the trash has no listings to pair in.
		media = slices.DeleteFunc(media, func(r mediaRow) bool { return r.m.LivePair == "" })
	}
	return c.inChunks(ctx, media, func(txn *badger.Txn, r mediaRow) error {
		key := dst + strings.TrimPrefix(r.key, src)
		var m Media
		if err := getJSON(txn, keyMedia(user, dstBucket, key), &m); err != nil {
			return nil // gone meanwhile
		}
		if m.LivePair != "" && moved[m.LivePair] {
			m.LivePair = dst + strings.TrimPrefix(m.LivePair, src)
			return reindex(txn, user, dstBucket, key, m)
		}
		if m.LivePair != "" && !keep {
			if err := unpair(txn, user, bucket, m.LivePair, r.key); err != nil {
				return err
			}
		}
		pair, role := m.LivePair, m.LiveRole
		m.LivePair, m.LiveRole = "", ""
		if dstBucket != TrashBucket {
			if err := livePair(txn, user, dstBucket, key, &m, nil); err != nil {
				return err
			}
		}
		if m.LivePair == pair && m.LiveRole == role {
			return nil
		}
		return reindex(txn, user, dstBucket, key, m)
	})
}
