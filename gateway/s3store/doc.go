// Package s3store is a gateway.Backend that keeps originals in an upstream
// S3-compatible service (AWS S3, MinIO, Ceph RGW, Garage, versitygw, ...),
// configured by endpoint, region, bucket, key prefix, credentials and
// path-style or virtual-host addressing (Config).
//
// # What it owns
//
// Upstream, under Config.Prefix in Config.Bucket, and nothing else there:
//
//	<prefix>blobs/<id>                       the bytes of one file version
//	<prefix>journal/<unixnano>-<rand>.json   one entry per rename (and rare "link")
//
// (The server's scheduled backups may also live under <prefix>backups/,
// written through Objects; the store never lists nor deletes there.)
//
// Locally, in the catalog (catalog/blobs.go), the path→blob map:
//
//	blob|<user>|<bucket>|<key>  → {id, size, mtime ns, written ns}
//	                               (folders: key ending in '/', no id;
//	                                the bucket itself: key "")
//	blobmv|<name>               → a rename in progress
//
// # Key mapping
//
// Upstream keys are by blob id, never by path: every write uploads a fresh
// random 128-bit id (hex), and blobs are immutable. So a WebDAV MOVE of a
// folder of 10,000 photos is a batched rewrite of the local map plus ONE
// small upstream PUT (the journal entry), not 10,000 copies and deletes.
// Each blob carries, as user metadata, the path it was written under and
// times:
//
//	x-amz-meta-shoebox-path      url.PathEscape("user/bucket/key")
//	x-amz-meta-shoebox-mtime     modification time, Unix ns (upload time;
//	                             the map holds the time the client set)
//	x-amz-meta-shoebox-uploaded  when the upload started, Unix ns
//
// Operations:
//
//   - Create streams the body upstream: one PutObject when it fits in a
//     part (Config.PartSize, 16 MiB), else a multipart upload that reads the
//     next part while the previous one is sent (at most two part buffers).
//     Create returns once the upstream has acknowledged every byte.
//   - Commit writes the map row (creating missing parent folders) in one
//     catalog transaction, then deletes the blob it replaced. Abort deletes
//     the uploaded blob (a failed Create has already aborted its multipart
//     upload).
//   - Rename records an intent row, PUTs the journal entry
//     {"op":"rename","from":"u/b/dir/","to":"u/b/dir2/","ns":...}, then
//     rewrites the map in WriteBatches (the destination's rows first removed
//     and their blobs deleted afterwards). A crash in the middle is finished
//     by New (or Reconcile): the intent holds the journal entry, written
//     again under the same name, and the move is idempotent.
//   - Copy copies every file server-side (CopyObject) to a fresh id with the
//     new path in its metadata, then writes the rows: copies are independent
//     but not cheap.
//   - Remove deletes the map rows, then the blobs (DeleteObjects, 1000 a
//     request; one by one where the service lacks it).
//   - SetModTime and Mkdir (of a bucket or folder) touch the map only.
//   - Open makes no request; the File issues ranged GETs lazily: ReadAt asks
//     for exactly its range, Read streams one GET from the current offset
//     and starts another after a Seek (or once after a broken stream).
//   - Walk, Stat: from the map.
//   - Adopt, on the first start after the catalog was restored from a
//     backup: the blobs uploaded since the backup that no row refers to
//     are put back at their metadata path (or their "link" entry's), and
//     the journal's renames since are replayed on the map, in time order,
//     before Reconcile would delete those blobs as orphans.
//
// Objects is a second, small user of the same client: whole named objects
// under the prefix (Put streams with the same multipart machinery, and the
// object appears only when the reader ends cleanly), for the catalog's
// backups.
//
// Every request is retried by the SDK's standard retryer (5xx, throttling,
// network errors; exponential backoff with jitter, Config.MaxAttempts,
// Config.MaxBackoff, no retry quota). Errors from the service wrap
// ErrUpstream and name the endpoint ("service unreachable at ..." when it
// cannot be reached). Checksums: request checksums are only sent where the
// API requires them, which every S3-compatible service accepts; Content-MD5
// on uploads is optional (Config.ContentMD5). Over plain http SigV4 signs the
// body's SHA-256.
//
// # Guarantees
//
//   - A write is acknowledged (Commit returns) only after the upstream has
//     the whole blob and the map row is in the catalog. Nothing is visible
//     under the path before Commit; a failed or aborted write leaves the old
//     file as it was.
//   - A blob is never referenced by two rows, and the blob of a row is never
//     deleted while the row exists: rows are removed or replaced before their
//     blob is deleted.
//   - A crash between upload and commit, or a failed upstream delete, leaves
//     an unreferenced blob; Reconcile deletes those older than
//     Config.OrphanGrace (default 24 h), aborts multipart uploads as old,
//     and removes (and reports) map rows whose blob has disappeared upstream.
//
// # Recovery without Shoebox
//
// If the catalog is lost, the tree can be rebuilt from the bucket alone:
//
//  1. List <prefix>blobs/. For each blob, HEAD it: its path is
//     url.PathUnescape(x-amz-meta-shoebox-path), its upload time
//     x-amz-meta-shoebox-uploaded. Blobs that are not the newest for their
//     path may be stale versions whose delete failed; keep the newest by
//     upload time.
//  2. List <prefix>journal/ and replay the entries in name order (the name
//     starts with the entry's time, zero-padded). For a "rename" entry at
//     time T, every blob uploaded before T whose current path is From (a
//     file) or starts with From (a folder, From ends in '/') moves to To
//     (the rest of the path kept); a blob already at To, or below it when To
//     is a folder, uploaded before T, is dropped (the rename replaced it).
//     A "link" entry {"op":"link","path":P,"id":ID} sets the path of blob
//     ID to P (written when an upload overlapped a rename, whose replay
//     would otherwise move it).
//  3. Copy each blob to its final path with any S3 tool, e.g.
//     `aws s3 cp s3://bucket/<prefix>blobs/<id> ./<user>/<bucket>/<key>`.
//
// Lost by such a recovery: empty folders, modification times set after
// upload (SetModTime, PROPPATCH), and files removed after a rename whose
// blob deletion failed (they reappear; Reconcile would have removed them).
// Copies are exact (fresh blobs with their own path).
package s3store
