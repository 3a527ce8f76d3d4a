// Package syncfile writes small files so that a crash leaves the old
// content or the new one, never a torn file: through a synced temporary
// file in the same folder, renamed into place. Multipart and chunked
// upload records (s3api, davfs/ncupload) and backup outputs use it.
package syncfile
