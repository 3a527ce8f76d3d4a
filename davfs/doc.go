// Package davfs is Shoebox's WebDAV front end (RFC 4918 classes 1 and 2).
//
// FS is a user's library as a golang.org/x/net/webdav FileSystem: the root
// lists the user's buckets, MKCOL at the root makes one, and files carry
// their dead properties in the catalog. Handler serves the protocol over the
// gateway. It answers most methods itself, because x/net/webdav's handler
// truncates files in place on PUT, ignores entity tags in If headers,
// refuses shared locks, reads whole folders into memory for PROPFIND and
// copies folders file by file. Here:
//
//   - PUT stages, hashes and commits atomically through the gateway; an
//     aborted upload changes nothing. If-Match, If-None-Match,
//     If-Unmodified-Since and the WebDAV If header (lock tokens and ETags,
//     tagged and untagged lists) are honoured on PUT, DELETE, COPY, MOVE,
//     PROPPATCH and LOCK. The ownCloud conventions are honoured: X-OC-Mtime
//     (answered with X-OC-MTime: accepted), OC-Checksum (MD5, SHA1, SHA256,
//     ADLER32) and oc:checksums/oc:permissions in PROPFIND, so rclone's
//     owncloud vendor keeps modification times and compares MD5s.
//   - Locks (locks.go) are shared or exclusive, depth 0 or infinity, kept in
//     memory; a lock on a folder protects its membership.
//   - PROPFIND streams: entries are written as the catalog is scanned, so
//     memory does not grow with the folder. Depth: infinity is answered up
//     to a configurable number of entries and refused beyond it with
//     DAV:propfind-finite-depth.
//   - COPY and MOVE of a folder are one backend operation and a batched
//     catalog rewrite, whatever the folder holds.
//   - PROPPATCH is parsed by x/net/webdav over FS (its XML namespace handling
//     is good), after Handler has checked locks and conditions.
//
// The virtual folders of package virtualdirs are shown beside the buckets
// (virtual.go): reads answer with the originals; albums, the trash and
// /duplicates take the writes listed in virtual.go; the edits of person
// folders (rename, merge, reassign, "not this person", forget, a person
// made by MKCOL, a photo put into a person) are handed to Config.People, the owner of people state, which serializes them with
// the grouping; everything else there answers 403 with a reason. Depth: infinity is refused on them.
// Entries of /trash carry their original location and deletion time as
// live properties (trashprops.go: sb: and nc:trashbin-*); files in the
// other virtual folders carry the capture time virtualdirs gives them as
// getlastmodified and Last-Modified.
//
// Paths with "..", "." or empty segments, or NUL, are answered 400 before
// anything is touched. Errors from FS are *fs.PathError so x/net maps them.
package davfs
