// Package enrich runs the enrichment workers: they lease jobs from the
// catalog's queue (catalog.LeaseJobs), read the file through the gateway,
// run the extractors, and record a media record (catalog.CompleteJob) or
// the failure (catalog.FailJob; retried with backoff, then kept as failed
// with its error). An extractor's panic is recovered and fails its own job
// only. Extractors read headers, never decode whole images, so a
// decompression bomb costs nothing.
//
// What is here is the queue's machinery and the first extractor (kind,
// pixel dimensions from the image header, the date's fallback source); EXIF,
// HEIC, video metadata, thumbnails, hashes and faces are still to come (see
// the enrichment issue).
package enrich
