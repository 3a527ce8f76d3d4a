// Package catalog is Shoebox's embedded database: users, buckets, object rows
// and dead WebDAV properties, kept in Badger v4. It is the only package that
// imports Badger.
//
// # Key table
//
// Every key is built by a helper in keys.go from the table below. Parts are
// separated by '|'; user and bucket names cannot contain '|' (names are
// validated before they reach the catalog) and the object key, which can, is
// always last.
//
//	meta|schema                      → schema version, uvarint      (primary)
//	meta|fileid                      → file id sequence's high mark (primary: Badger Sequence)
//	meta|fidix                       → empty: every row is in the file id index
//	fid|<user>|<id 8B BE>            → "<bucket>|<key>": the row with that file id (derived from obj rows)
//	meta|mtix                        → empty: every file row is in the mtime index
//	ixm|<user>|<^mtime, 16 hex>|<bucket>|<key> → empty: files newest first (derived from obj rows; modindex.go)
//	user|<user>                      → userRow JSON                 (primary)
//	bkt|<user>|<bucket>              → bucketRow JSON               (primary)
//	obj|<user>|<bucket>|<key>        → Object JSON                  (primary)
//	prop|<user>|<bucket>|<key>       → dead properties JSON         (primary)
//	job|<user>|<bucket>|<key>        → Job JSON: enrichment queue   (primary: written with the file row)
//	jobf|<user>|<bucket>|<key>       → Job JSON: a job that failed  (kept apart: leasing never scans it)
//	media|<user>|<bucket>|<key>      → Media JSON                   (derived: rebuilt by enrichment)
//	akey|<accessKeyID>               → AccessKey JSON               (primary)
//	apw|<user>|<id>                  → AppPassword JSON             (primary)
//	jnl|<segment 8B>|<offset 8B>     → empty: a small file's row committed with its log record (journalmarks.go)
//	alb|<user>|<album>               → creation time, 8 bytes BE    (primary)
//	albm|<user>|<album>|<sha256>     → file id of the file added, 8 bytes BE, or empty (old rows): a member (primary)
//	trash|<user>|<id>                → TrashItem JSON               (primary)
//	blob|<user>|<bucket>|<key>       → Blob JSON: s3store's path→blob map (primary)
//	blobmv|<name>                    → BlobMove JSON: a rename in progress (primary)
//	ixd|<user>|<YYYY-MM-DD>|<bucket>|<key>  → empty                 (derived: by taken day)
//	ixdm|<user>|<YYYY-MM-DD>         → newest mtime, 8 bytes BE     (derived)
//	ixc|<user>|<camera>|<bucket>|<key>      → empty                 (derived: by camera)
//	ixcm|<user>|<camera>             → newest mtime, 8 bytes BE     (derived)
//	ixl|<user>|<country>|<city>|<bucket>|<key> → empty              (derived: by place; places.go)
//	ixlm|<user>|<country>|<city>     → newest mtime, 8 bytes BE     (derived)
//	meta|places                      → places data version the records were placed with (derived marker)
//	ixs|<user>|<sha256>|<bucket>|<key>      → empty                 (derived: exact duplicates)
//	ixp|<user>|<i>:<chunk>|<bucket>|<key>   → phash, 8 bytes BE     (derived: near duplicates)
//	dupm|<user>|<bucket>|<key>       → duplicate group id           (derived)
//	ixcid|<user>|<content id>|<bucket>|<key> → empty                (derived: Live Photo halves by Apple content identifier; live.go)
//	ixcid|<user>|<content id>        → empty: marker that serializes pairings by that identifier (derived)
//	dupg|<user>|<gid>|<bucket>|<key> → member: pixels, size, mtime (8 bytes BE each), day; empty in old rows (derived)
//	dups|<user>|<gid>                → group summary: count, newest mtime, best copy and its member value (derived; dupgroups.go)
//	meta|dupsum                      → empty: every group has its summary and every member its value
//	ixt|<user>|<tag>|<bucket>|<key>        → empty                 (derived: by XMP keyword, tags.go)
//	ixtm|<user>|<tag>                → newest mtime, 8 bytes BE     (derived)
//	ixr|<user>|<rating>|<bucket>|<key>     → empty                 (derived: by XMP rating, "-1".."5")
//	rgn|<user>|<bucket>|<key>        → empty: a photo with named XMP regions and faces (derived)
//	meta|derived                     → DerivedVersion, uvarint: what enrichment records (tags.go)
//	pface|<user>|<pid>|<bucket>|<key> → empty: a person's photos    (derived)
//	fwait|<user>|<bucket>|<key>      → empty: waiting for face models (derived)
//	twait|<user>|<bucket>|<key>      → empty: a video waiting for ffmpeg (derived)
//	fnew|<user>|<bucket>|<key>       → empty: faces not yet grouped (derived)
//	pstat|<user>                     → PeopleStats JSON: last full grouping (derived)
//	fkind|                           → face descriptor kind last requeued for (derived)
//
// The derived index rows (index.go) are written in the transaction that
// stores a media record (CompleteJob, FailJob), moved and deleted with the
// file, and dropped by RequeueAll (`shoebox reindex`). Each serves one
// virtual folder's listing as a prefix scan; distinct days and cameras are
// listed by skip-scanning (one seek per value). Near duplicates use
// multi-index hashing: the 64-bit perceptual hash is cut into 7 chunks, and
// hashes within NearDistance (6) bits share at least one chunk exactly, so 7
// prefix scans find every candidate without scanning the library. A file
// joins the group of its exact and near duplicates, merging groups it
// bridges. Each group keeps a summary (dupgroups.go: member count, newest
// modification time, best copy and its day), updated in the transaction
// that changes the group or a member's row (Put and PutFile refresh a
// member's size and mtime), so /duplicates reads one row per group and
// opening a group reads its members; a catalog from before is summed up
// once at Open (meta|dupsum). Albums and the trash are primary: albums refer to photos by
// content, so a reference survives moves; the trash's files live in the
// hidden bucket ".trash" (TrashBucket), which has no index rows.
//
// A folder is an object row whose key ends in '/' ("Camera/2019/"). Every
// folder on disk has one, so Stat of a folder is one lookup and a folder
// carries its own modification time and dead properties. Folders made
// explicitly (WebDAV MKCOL, S3 zero-byte PUT of "name/") are marked
// Explicit; S3 lists only those as keys.
//
// The web gallery's timeline is a Search with the zero Query (the
// capture-order index ixq read backwards from the cursor); Files
// (timeline.go) then reads each hit's object row and media record in one
// snapshot. No key prefix of its own.
//
// # File ids
//
// Every object row carries a file id (Object.ID, WebDAV oc:fileid), stable
// across moves, overwrites and restarts. A new row gets the next number of
// a Badger sequence (meta|fileid, leased 1000 at a time: a crash skips at
// most that many, and none is handed out twice); a row written over an
// existing one keeps that one's id; Move carries it with the row (moveRows
// copies the row), while a copy (Move with keep) is a new file with a new
// id. Rows written before ids existed have none stored: FileIDOf derives
// one from the row's place, a hash of user, bucket and key in [2^52, 2^53)
// (assigned ids never get there), and the first move or overwrite stores
// that derived id in the row, so the id stays what clients saw. A new row
// later made at the old place gets a sequence id, never the derived one.
// The one exception to "a copy is a new file": a version the gateway keeps
// of an overwritten file (a trash item) keeps that file's id, so a
// version is found by its file's id and restoring it keeps the id.
//
// FileByID finds a row by its id through the index fid|<user>|<id>,
// written in the transaction or batch that writes the row (Put, PutFile,
// Move) and deleted with the file; trash rows are not indexed. A lookup
// reads the row the entry points to and checks its id, so an entry left
// behind (a folder delete does not read its rows' ids) is "not found",
// never another file. A catalog from before the index is indexed once at
// Open (meta|fidix marks it done).
//
// ByModTime lists a user's files newest first through the index
// ixm|<user>|<inverted mtime>|<bucket>|<key> (modindex.go), kept exactly
// like the file id index: written with the row (Put, PutFile, Move and
// copies; an overwrite or a move that changes the mtime replaces the
// entry), deleted with the file or its folder, never for folders or the
// trash, and built once at Open for older catalogs (meta|mtix). It serves
// WebDAV SEARCH: a page of n files reads about n rows.
//
// Live Photos (live.go): CompleteJob pairs a still and its motion video
// (same Apple content identifier, through ixcid|, or same folder and base
// name with capture times within LiveMaxGap) in the transaction that
// stores the second half's record, writing Media.LivePair/LiveRole in both;
// the motion half keeps only its ixcid| (and twait|) rows, so it is left
// out of every listing the still is in. Deleting a half, or moving it away
// from its partner, unpairs the partner in the same transaction (Move:
// movePairs), and a half moved alone (a rename, a restore from the trash)
// is paired again where it lands.
//
// Places (places.go): a record's Place (set by enrichment from its
// position) files it under ixl|U|COUNTRY|CITY (the folder names of
// Media.PlaceFolders: English country name, or AtSea), kept like the
// camera index. FillPlaces places again every record with a position when
// the places data changes (meta|places holds the version they were placed
// with), reading media records, not files, and rewriting each changed one
// with its index rows.
//
// An access key row holds the owner and the S3 secret sealed (encrypted) by
// gateway/auth with a key kept outside the catalog, so the catalog alone
// does not give out secrets. A user's keys are deleted with the user, in
// the same transaction (DeleteUser), and a user created under a name
// starts with none (PutUser), so a removed account's keys never come back.
// App passwords (one per device signed in with Nextcloud's Login Flow)
// hold a hash of the secret only, and go with the user the same way.
//
// Listing one level of a folder is a prefix scan that seeks past each
// subfolder's subtree, so its cost follows the size of the folder listed, not
// of the bucket.
//
// Writes of object rows (Put, PutFile: every upload) go through a group
// commit (commit.go): concurrent callers share one transaction and its
// sync, each still getting its own result. Badger runs without SyncWrites;
// the catalog syncs every write itself (durable.go), so that the rows of
// small files, which the gateway's write-ahead log keeps safe, can be
// committed without waiting for the disk (PutFileLogged, journalmarks.go).
//
// # Status counts
//
// CountsOf (counts.go: files, photos, videos, jobs by state, as
// /api/v1/status reports them) is counted in one snapshot and cached in
// memory until the next write: every write path (update, the group
// commit, write batches, leases, DropPrefix) bumps a generation after it
// commits, and an entry counted under an older generation, or past the
// first lease it saw running out, is counted again. Nothing is stored, so
// counts cannot drift from the rows, after a crash or a batch cut short
// (write batches and folder moves are not one transaction, so counter
// rows written beside them could). A recount reads object keys only and
// the kind at the front of each media record: 39 ms at 20,000 photos
// against 400 ms for the old per-file scan; a cached answer takes µs.
//
// Backup streams a consistent snapshot of every row (Badger's backup
// format, at one read timestamp) while writes go on, full or incremental;
// Restore loads such streams into a new catalog directory (backup.go says
// how increments chain, and their limit). The framing around it, with
// secret.key, is package backup's.
//
// Primary data is never dropped. Derived data (media records and indexes)
// carries the schema version and is rebuilt by `shoebox reindex`.
package catalog
