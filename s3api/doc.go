// Package s3api will be Shoebox's S3 front end over the same gateway as
// WebDAV (see the S3 issue). Nothing is implemented here yet; the directory
// is part of the fixed layout.
package s3api
