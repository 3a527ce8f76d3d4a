// Package backup owns the file format of a Shoebox backup: one stream
// holding a manifest, the server's secret.key (unless left out) and a
// consistent snapshot of the catalog, written by `shoebox backup` and the
// server's scheduled backups and read by `shoebox restore`. The originals
// are not in it: they are plain files (or upstream blobs) backed up apart.
//
// # Format (version 1)
//
// Integers are big-endian. A backup is, in order:
//
//	"SHOEBOX-BACKUP 1\n"        magic line, with the format version
//	manifest JSON "\n"          one line: Manifest
//	secret: uint32 n, n bytes   only when Manifest.Secret: the data
//	                            directory's secret.key, in the clear
//	catalog: frames             uint32 n, n bytes, ...; a frame with n = 0
//	                            ends it. The frames' bytes, put together,
//	                            are the catalog's backup stream (Badger's
//	                            backup format: catalog.Backup / Restore)
//	trailer JSON "\n"           one line: Trailer (the catalog's version to
//	                            continue from, its byte count and SHA-256)
//
// A backup that stops early (a cut connection, a full disk) has no trailer
// or a wrong checksum, and Reader.Finish says so; restore then removes
// what it loaded.
//
// # secret.key
//
// secret.key seals the S3 access keys' secrets in the catalog: without the
// same key a restored server still has every user and access key, but no
// S3 client can sign with those keys (they must be created again). It is
// therefore included by default, in the clear, and Manifest.Secret says
// so: keep backups where only who may read the data directory can read
// them. `shoebox backup --no-secret` leaves it out (back secret.key up on
// its own, once: it never changes).
//
// # Incremental backups
//
// Manifest.Since is 0 for a full backup; an incremental backup holds the
// catalog rows written since that version, which is the Trailer.Next of
// the backup it follows. `shoebox restore FULL INC1 INC2 ...` loads a
// chain in order and checks each link (catalog.Backup describes the one
// thing an increment can miss).
package backup
