package davfs

import (
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"strings"

	"shoebox/catalog"
)

// The ownCloud/Nextcloud properties (oc:, nc:) the Nextcloud clients read.
// They are live properties given only when asked for by name, on /dav/ as
// on the Nextcloud mounts:
//
//   - oc:fileid: catalog.FileIDOf the row (stable across moves, overwrites
//     and restarts; see catalog/doc.go). Buckets and the root have no row:
//     their id is derived from their name. Entries of virtual folders get
//     an id derived from their virtual path, so a photo seen in /by-date
//     never shares the fileid of its original (clients take equal fileids
//     for one file moved).
//   - oc:id: the fileid zero-padded to 8 digits and the instance id, as
//     Nextcloud writes it.
//   - oc:permissions: what this server lets the user do, no more: G (read),
//     D (delete), N (rename), V (move), W (write, files), C and K (create
//     files and folders, folders). No R, S or M: there is no sharing. The
//     root takes new buckets (K) but no files; virtual folders and their
//     files are G.
//   - oc:size and d:quota-used-bytes of a folder: the bytes of the files
//     below it; getetag of a folder, when asked for by name: a digest of
//     every row below it (key, ETag, size, mtime) and their count, so a
//     change anywhere below — a write, delete, rename or touch — changes
//     it, and nothing else does. Both come from one catalog Walk of the
//     folder's subtree per folder answered: O(n) in the subtree, cached
//     for the request. allprop (Windows, litmus) gets the cheap row ETag.
//   - oc:checksums: SHA256 and MD5 of files, from the catalog.
//   - nc:has-preview: true for photos and videos (enrichment makes their
//     thumbnails).
//   - d:quota-available-bytes of folders: Config.Free (the data disk's
//     free bytes), else -3 (unknown, as Nextcloud says).
const nsNC = "http://nextcloud.org/ns"

// defaultInstanceID is Config.InstanceID's default.
const defaultInstanceID = "ocshoebox0"

// folderStats is what a folder's subtree adds up to.
type folderStats struct {
	size  int64  // bytes of the files
	count int64  // rows, folders included
	sum   uint64 // XOR of the rows' digests
}

func (s folderStats) etag() string { return fmt.Sprintf(`"%x-%x"`, s.sum, s.count) }

// rowDigest is the digest of one row below a folder, rel its key relative
// to the folder.
func rowDigest(rel string, o catalog.Object) uint64 {
	h := fnv.New64a()
	h.Write([]byte(rel))
	h.Write([]byte{0})
	h.Write([]byte(o.ETag()))
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(o.Size))
	binary.BigEndian.PutUint64(b[8:], uint64(o.ModNs))
	h.Write(b[:])
	return h.Sum64()
}

// stats returns the folder stats of res (the root, a bucket or a folder),
// walking its subtree once per request.
func (p *propWriter) stats(res resource) (folderStats, error) {
	if s, ok := p.statCache[res.path]; ok {
		return s, nil
	}
	var s folderStats
	if res.isRoot() {
		bs, err := p.h.gw.Buckets(p.ctx, p.user)
		if err != nil {
			return s, err
		}
		for _, b := range bs {
			bst, err := p.stats(resource{path: "/" + b.Name, bucket: b.Name})
			if err != nil {
				return s, err
			}
			s.size += bst.size
			s.count += bst.count + 1
			s.sum ^= rowDigest(b.Name, catalog.Object{Size: bst.size, ModNs: int64(bst.sum), ETagValue: bst.etag()})
		}
	} else {
		prefix := ""
		if res.key != "" {
			prefix = res.key + "/"
		}
		err := p.h.gw.Walk(p.ctx, p.user, res.bucket, prefix, "", func(o catalog.Object) error {
			if !o.IsDir() {
				s.size += o.Size
			}
			s.count++
			s.sum ^= rowDigest(strings.TrimPrefix(o.Key, prefix), o)
			return nil
		})
		if err != nil {
			return s, err
		}
	}
	if p.statCache == nil {
		p.statCache = map[string]folderStats{}
	}
	p.statCache[res.path] = s
	return s, nil
}

// fileID is the oc:fileid of res.
func (p *propWriter) fileID(res resource, o catalog.Object) uint64 {
	if res.virtual || res.key == "" {
		return catalog.FileIDOf(p.user, catalog.Object{Bucket: res.bucket, Key: res.key})
	}
	return catalog.FileIDOf(p.user, o)
}

func permissions(res resource, dir bool) string {
	switch {
	case res.isRoot():
		return "GK"
	case res.virtual:
		return "G"
	case dir:
		return "GDNVCK"
	default:
		return "GDNVW"
	}
}

func hasPreview(o catalog.Object) bool {
	return strings.HasPrefix(o.ContentType, "image/") || strings.HasPrefix(o.ContentType, "video/")
}

// extra returns live properties only given when asked for by name.
func (p *propWriter) extra(res resource, o catalog.Object, n xml.Name) (string, bool) {
	dir := isDirObj(res, o)
	switch {
	case n.Space == nsOC && n.Local == "checksums" && !dir && (o.MD5 != "" || o.SHA256 != ""):
		var cs []string
		if o.SHA256 != "" {
			cs = append(cs, "SHA256:"+o.SHA256)
		}
		if o.MD5 != "" {
			cs = append(cs, "MD5:"+o.MD5)
		}
		return "<oc:checksum>" + strings.Join(cs, " ") + "</oc:checksum>", true
	case n.Space == nsOC && n.Local == "permissions":
		return permissions(res, dir), true
	case n.Space == nsOC && n.Local == "fileid":
		return fmt.Sprint(p.fileID(res, o)), true
	case n.Space == nsOC && n.Local == "id":
		return fmt.Sprintf("%08d%s", p.fileID(res, o), p.h.cfg.InstanceID), true
	case n.Space == nsOC && n.Local == "size", n.Space == nsDAV && n.Local == "quota-used-bytes":
		if !dir {
			if n.Space == nsDAV {
				return "", false
			}
			return fmt.Sprint(o.Size), true
		}
		if res.virtual {
			return "0", true
		}
		s, err := p.stats(res)
		if err != nil {
			p.h.log.Warn("folder size", "path", res.path, "err", err)
			return "", false
		}
		return fmt.Sprint(s.size), true
	case n.Space == nsDAV && n.Local == "quota-available-bytes" && dir:
		if p.h.cfg.Free != nil {
			if free, err := p.h.cfg.Free(); err == nil {
				return fmt.Sprint(max(free, 0)), true
			}
		}
		return "-3", true
	case n.Space == nsNC && n.Local == "has-preview":
		return fmt.Sprint(!dir && hasPreview(o)), true
	}
	return "", false
}

// named returns the value of a property asked for by name that differs from
// its allprop value: a folder's getetag, which follows its subtree.
func (p *propWriter) named(res resource, o catalog.Object, n xml.Name) (string, bool) {
	if n.Space != nsDAV || n.Local != "getetag" || res.virtual || !isDirObj(res, o) {
		return "", false
	}
	s, err := p.stats(res)
	if err != nil {
		p.h.log.Warn("folder etag", "path", res.path, "err", err)
		return "", false
	}
	return xmlEscape(s.etag()), true
}
