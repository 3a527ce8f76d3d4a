// Package s3api is Shoebox's S3 front end: a backend for rclone's fork of
// gofakes3 (github.com/rclone/gofakes3) over the same gateway as WebDAV, so
// an object written through S3 is the file WebDAV shows, at once, and the
// reverse.
//
// Why the rclone fork rather than github.com/johannesboyne/gofakes3 v1.2.0:
// its backend methods take a context (how a call learns its user), it has
// fewer S3 divergences to fix around it, and it is maintained. Neither
// keeps multipart uploads anywhere but in memory, so this package serves
// those itself. gofakes3 is confined to server.go and backend.go (and a few
// of its exported XML and error types), behind the Backend it calls, so the
// choice is easy to revisit.
//
// One request pipeline (pipeline.go), built by New and the only way in:
// the request's bucket and key (its Target) are resolved once, from its
// Host (virtual-host style, bucket.Config.Domain) or its path; then it is
// authenticated on the request as sent; then authorized on that Target
// (which user it acts as, if any); then rewritten path-style from that
// same Target, checked to read back as it, and served. Nothing after
// resolution reads the bucket and key from anywhere else.
//
// What this package adds around gofakes3:
//   - Authentication (auth.go, sigv2.go): AWS Signature V4 in headers and
//     presigned URLs, and V2 in headers and presigned URLs (GET, HEAD, PUT,
//     DELETE; the signed sub-resources as botocore or as minio-go sign
//     them), checked against
//     per-user access keys; browser-based uploads (postobject.go), whose
//     form carries a signed policy; the caller's user goes in
//     the request context and every backend call acts as that user. Buckets
//     are per user. An unknown access key or a signature that does not match
//     is a failed login for the shared auth.Limiter (LoginLimiter); a
//     request from an address, or for a key's owner, that must wait is
//     answered 503 SlowDown with Retry-After, its signature unchecked.
//   - Public access (public.go, acl.go): canned ACLs make a bucket public
//     (anonymous GET and HEAD) or private, and an object public-read or
//     private, and are read back by GetBucketAcl and GetObjectAcl (an
//     object's own ACL, whatever its bucket's).
//     Anonymous requests never write, but for a browser upload into a
//     bucket made public-read-write; naming a bucket no one has they are
//     told NoSuchBucket. Other users read what anyone may read.
//   - Storage classes (storageclass.go): checked (400
//     InvalidStorageClass), kept per object, reported as AWS does; one
//     tier underneath, so GLACIER-class objects read without a restore.
//   - Paged listings (catalog.ListKeys): a page costs what it returns; keys
//     rolled into a common prefix are skipped by seeking.
//   - Multipart uploads are served by this package (multipart.go), not by
//     gofakes3, whose uploader keeps them in memory: an upload's record, its
//     parts (streamed to <data>/multipart/<upload>/, fsynced) and their
//     ETags and checksums are files, so uploads in progress survive a
//     restart and a part once acknowledged is never lost. Completion
//     assembles the parts into the gateway as one stream, hashing as it
//     goes; the ETag is S3's "md5-of-part-md5s-N", and an upload with a
//     checksum algorithm gets S3's composite checksum ("…-N", accepted
//     on completion with or without its "-N", as minio-go sends it) or a
//     FULL_OBJECT one; a part copied into such an upload (UploadPartCopy)
//     gets its checksum computed. Uploads
//     no part of which was written for Config.UploadExpiry are removed.
//   - Folders: S3 keys are files and folders on disk. A zero-byte PUT of
//     "name/" makes a folder, listed back as the key "name/" (as are folders
//     made with WebDAV MKCOL); folders Shoebox made only to hold files are
//     not keys. A key that would need a file and a folder at the same path
//     ("a" and "a/b") is refused with 409 KeyConflict, never a corrupted
//     tree. Names between slashes may be as long as the key (1,024 bytes):
//     backends keep names longer than file systems do (gateway/localfs).
//   - Checksums of PutObject bodies (checksum.go): any of the
//     x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256} headers, several
//     at once, and x-amz-checksum-algorithm beside them or alone (the
//     checksum is then computed), verified as the body is read (BadDigest
//     and nothing stored), kept and answered; aws-chunked checksum
//     trailers as the AWS SDKs and minio-go frame them (auth.go). A
//     CopyObject with x-amz-checksum-algorithm gets that checksum of the
//     content; other copies keep the source's; the CopyObjectResult
//     carries the copy's checksums and their type (compat.go).
//   - S3 semantics gofakes3 gets wrong are fixed around it (compat.go):
//     copy sources decoded as paths, Range headers S3 ignores, ListParts
//     markers, re-creating one's bucket (409 BucketAlreadyOwnedByYou
//     everywhere), the calling user as the owner in listings and ACLs,
//     checksum types, GetObjectAttributes of multipart objects; in backend.go, suffix ranges longer
//     than the object, "bytes */size" on 416, GET by part number, and
//     metadata values that are not UTF-8.
//   - Error codes gofakes3 does not know (AccessDenied,
//     BucketAlreadyOwnedByYou, EntityTooSmall, KeyConflict) get their
//     proper status through a small per-request state; so do the "-N" ETags
//     of multipart objects on GET and HEAD.
package s3api
