// Package gateway is Shoebox's interception layer: every read and write that
// a front end (WebDAV in davfs, S3 in s3api) makes passes through a
// *Gateway, and front ends hold nothing else.
//
// A write goes: the Backend stages the bytes while the gateway hashes them
// (SHA-256 for identity, MD5 for S3 ETags) → checks (checksums, If-Match and
// the like, under a per-object lock) → Backend commit (atomic, durable) →
// catalog row (Badger, synced) → hooks → only then does the call return and
// the client get its 2xx. A failure at any step before the commit leaves
// nothing behind; a crash between the commit and the catalog row is repaired
// by Reconcile at the next start-up, which treats the backend as the truth
// about which bytes exist.
//
// Small files (up to 64 KiB) take a shorter durable path when the gateway
// has a write-ahead log (Options.Journal, package wal) and the backend can
// defer durability (Flusher: localfs on Linux): their bytes and row are
// appended to the log (one fdatasync shared by concurrent uploads), the row
// committed to the catalog without waiting for the disk, then the file is
// renamed into place without an fsync and the client answered; a
// background flush every 100 ms (one syncfs, one catalog Sync) makes a
// batch of them durable and releases their records. Reconcile replays what
// a crash left in the log before it looks at the disk, and moves and
// copies wait for the pending flush first (journal.go).
//
// A free-space reserve (space.go, Options.Space; gateway/diskspace over
// statfs): every write asks the SpaceGuard at its very top, before anything
// is staged, and an upload's body is counted as it is read, so that the
// disk under Badger and the journal never fills (Badger writes through
// mmap: a full disk is a SIGBUS there, not an error). Below the reserve a
// write fails with ErrInsufficientStorage (507); reads and deletes never
// ask. Writers outside the gateway (enrichment, S3 multipart parts) ask
// Admit and Counted.
//
// Reads of metadata (Stat, List, Walk, ETags, content types) come from the
// catalog, never from re-reading files.
//
// Backend is the storage contract (bytes only, no metadata); every
// implementation passes gateway/storetest. Implementations: localfs (disk,
// the default) and memfs (memory, for tests).
//
// The trash (trash.go): with Options.TrashRetention set, Remove of a photo
// or video, or of a folder holding one, moves it into the user's hidden
// bucket TrashBucket under a fresh id (one backend rename and a batched
// catalog rewrite, like any move) and records where it was; Restore moves
// it back, Purge deletes it, PurgeExpired deletes what outlived the
// retention. Other files are deleted at once. The trash row is written
// before the move, and Reconcile drops rows whose bytes are gone. Versions
// (Options.Versions): an upload, COPY or MOVE that replaces a photo or
// video (or any file, with VersionsAll) first keeps its content as a trash
// item marked Version (a hard link on local disk), restored the same way.
//
// Ordering: folder-wide operations (MOVE, COPY and DELETE of folders,
// buckets, trashing) hold the tree lock exclusively; a file's write holds
// it shared plus the file's stripe, and checks its parent folder again
// under them, so an upload and a MOVE or DELETE of a folder above it are
// ordered. Once the backend has committed a change, the catalog's commit
// runs without the client's context (context.WithoutCancel).
//
// Names: buckets are per user. A new one is made by CreateBucket, the one
// entry of every front end, which enforces S3's rule (BucketRule,
// ValidBucketName) and refuses the virtual roots in ReservedNames, with a
// *BucketNameError that states the rule; buckets named before the rule
// keep working (MakeBucket, for a bucket restored from the trash, takes
// the older catalog.ValidName). A write into a missing bucket is
// ErrNoBucket. Keys are checked by CheckKey (no "..", ".", empty
// segments, NUL or control bytes, at most 1,024 bytes). A folder's key ends
// in '/'.
package gateway
