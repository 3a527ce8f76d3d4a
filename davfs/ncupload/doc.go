// Package ncupload serves the parts of the Nextcloud client protocol that
// are not the file tree itself: chunked upload v2
// (/remote.php/dav/uploads/USER/…), the trash bin
// (/remote.php/dav/trashbin/USER/…) and file versions
// (/remote.php/dav/versions/USER/…). The Nextcloud front door
// (davfs/nextcloud) mounts its handlers; each takes the authenticated user
// from the request (gateway/auth.User) and refuses a USER in the path that
// is not that user.
//
// # Chunked upload v2
//
// A client makes a transfer collection with MKCOL
// /remote.php/dav/uploads/USER/<transfer-id> (a Destination header names
// the final file under /remote.php/dav/files/USER/), PUTs numbered chunks
// into it (…/<transfer-id>/<n>; any size, numbered 1…10000 by current
// clients, by byte offset or "START-END" byte range by older ones and v1:
// they are assembled in the numeric order of their first number), then MOVEs …/<transfer-id>/.file to the destination with
// OC-Total-Length, X-OC-Mtime and OC-Checksum. The assembled bytes stream
// into gateway.Gateway.Put, like every other upload: hashed, checked
// against OC-Total-Length and OC-Checksum (a mismatch stores nothing and
// answers 400), durable and cataloged before the MOVE is answered. DELETE
// of the collection aborts the transfer.
//
// Every piece of a transfer's state is a file, so a transfer survives a
// restart of the server (a chunk that was acknowledged is never lost) and
// nothing grows in memory with the number or size of transfers. On disk,
// under the directory Options.Dir (<data>/uploads, beside S3's
// <data>/multipart):
//
//	<dir>/<tid>/transfer.json   who, the client's transfer id, destination, total, when (transferRecord)
//	<dir>/<tid>/chunk-<n>       the bytes of chunk n, named by its number as the client sent it
//	                            (written to .tmp-chunk-*, fsynced, renamed, the folder fsynced:
//	                            only then is the PUT answered)
//
// <tid> is hex(SHA-256(user NUL transfer-id))[:32]: a client's transfer id
// may be any string, and two users' ids never meet. A chunk's rename
// touches the folder, so the folder's modification time is the time of the
// last chunk: a transfer with no new chunk for Options.Expiry (24 h by
// default) is removed by Sweep, which the server runs periodically
// (Run) and at start-up, when it also removes the temp files of chunks a
// crash cut short. A completed transfer is removed once its file is
// committed.
//
// # Trash bin and versions
//
// The trash bin lists the user's deleted items (gateway trash items that
// are not versions) as /remote.php/dav/trashbin/USER/trash/<name>.d<id>,
// with nc:trashbin-filename, nc:trashbin-original-location and
// nc:trashbin-deletion-time; MOVE to …/restore/<name> restores an item
// where it was, DELETE purges it, DELETE of trash/ purges them all.
//
// The versions endpoint lists, under
// /remote.php/dav/versions/USER/versions/<fileid>/<id>, the content that
// overwrites of a file replaced (trash items marked Version); MOVE of one
// to …/versions/USER/restore/target puts it back, the current content
// being kept as a version in turn. File ids come from Options.FileID; the
// default (DefaultFileID) is a stable hash of the user, bucket and key, so
// that versions, which remember their bucket and key, are matched to their
// file without any reverse index.
package ncupload
