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
//	user|<user>                      → userRow JSON                 (primary)
//	bkt|<user>|<bucket>              → bucketRow JSON               (primary)
//	obj|<user>|<bucket>|<key>        → Object JSON                  (primary)
//	prop|<user>|<bucket>|<key>       → dead properties JSON         (primary)
//	job|<user>|<bucket>|<key>        → Job JSON: enrichment queue   (primary: written with the file row)
//	media|<user>|<bucket>|<key>      → Media JSON                   (derived: rebuilt by enrichment)
//	akey|<accessKeyID>               → AccessKey JSON               (primary)
//
// A folder is an object row whose key ends in '/' ("Camera/2019/"). Every
// folder on disk has one, so Stat of a folder is one lookup and a folder
// carries its own modification time and dead properties. Folders made
// explicitly (WebDAV MKCOL, S3 zero-byte PUT of "name/") are marked
// Explicit; S3 lists only those as keys.
//
// An access key row holds the owner and the S3 secret sealed (encrypted) by
// gateway/auth with a key kept outside the catalog, so the catalog alone
// does not give out secrets.
//
// Listing one level of a folder is a prefix scan that seeks past each
// subfolder's subtree, so its cost follows the size of the folder listed, not
// of the bucket.
//
// Primary data is never dropped. Derived data (media records and indexes,
// added by the enrichment work) carries the schema version and can be rebuilt.
package catalog
