// Package s3api is Shoebox's S3 front end: a backend for rclone's fork of
// gofakes3 (github.com/rclone/gofakes3) over the same gateway as WebDAV, so
// an object written through S3 is the file WebDAV shows, at once, and the
// reverse.
//
// Why the rclone fork rather than github.com/johannesboyne/gofakes3 v1.2.0:
// its backend methods take a context (how a call learns its user), it lets
// a backend stream multipart parts itself (v1.2.0 keeps every part in
// memory), supports UploadPartCopy, and exports a SigV4 verifier that can
// look secrets up per request. gofakes3 is confined to server.go and
// backend.go, behind the Backend it calls, so the choice is easy to revisit.
//
// What this package adds around gofakes3:
//   - Authentication (auth.go): AWS Signature V4 in headers and presigned
//     URLs, checked against per-user access keys; the caller's user goes in
//     the request context and every backend call acts as that user. Buckets
//     are per user.
//   - Paged listings (catalog.ListKeys): a page costs what it returns; keys
//     rolled into a common prefix are skipped by seeking.
//   - Multipart parts are streamed to <data>/multipart/<upload>/ and
//     assembled into the gateway on completion, hashing as they go; the
//     object's ETag is the S3 "md5-of-part-md5s-N". Uploads in progress do
//     not survive a restart.
//   - Folders: S3 keys are files and folders on disk. A zero-byte PUT of
//     "name/" makes a folder, listed back as the key "name/" (as are folders
//     made with WebDAV MKCOL); folders Shoebox made only to hold files are
//     not keys. A key that would need a file and a folder at the same path
//     ("a" and "a/b") is refused with 409 KeyConflict, and so is a name
//     segment over 255 bytes (400), never a corrupted tree.
//   - S3 semantics gofakes3 gets wrong are fixed around it (compat.go):
//     copy sources decoded as paths, Range headers S3 ignores, ListParts
//     markers, re-creating one's bucket in us-east-1, the calling user as
//     the owner in listings and ACLs; in backend.go, suffix ranges longer
//     than the object, "bytes */size" on 416, GET by part number, and
//     metadata values that are not UTF-8.
//   - Error codes gofakes3 does not know (AccessDenied,
//     BucketAlreadyOwnedByYou, EntityTooSmall, KeyConflict) get their
//     proper status through a small per-request state; so do the "-N" ETags
//     of multipart objects on GET and HEAD.
package s3api
