// Package enrich will hold the enrichment workers (EXIF and video metadata,
// thumbnails, perceptual hashes, faces) that lease jobs from the catalog's
// queue (see the enrichment issue). Nothing is implemented here yet; the
// directory is part of the fixed layout.
package enrich
