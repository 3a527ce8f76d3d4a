// Package enrich runs the enrichment workers: they lease jobs from the
// catalog's queue (catalog.LeaseJobs), read the file through the gateway,
// run the extractors, and record a media record (catalog.CompleteJob) or
// the failure (catalog.FailJob; retried with backoff, then kept as failed
// with its error, and with whatever was learnt before the failure). An
// extractor's panic is recovered and fails its own job only. Clients come
// first: while requests are being served (Options.Busy), a worker waits up
// to 250 ms before its next job.
//
// Metadata is the extractor. It tells the format from the first bytes
// (Sniff), never the name, and reads metadata without decoding pixels
// (probe.go): JPEG markers, PNG chunks (eXIf), WebP RIFF chunks, HEIF
// boxes (internal/isobmff: ispe, irot, the Exif item), TIFF and the
// TIFF-based raws (internal/exif reads every TIFF structure, including the
// raws' embedded previews), MP4/MOV containers (creation time, duration,
// size, ISO 6709 location). Dates follow the order documented on Metadata;
// takeout.go reads Google Takeout sidecars and re-queues a photo when its
// sidecar arrives after it. xmpmeta.go does the same for XMP (embedded,
// found by probe.go and the container readers; or in IMG_1.jpg.xmp /
// IMG_1.xmp sidecars, parsed by internal/xmp): dates after EXIF's,
// rating, keywords, named face regions, GPS when EXIF has none; and
// regions.go (People.NameFromRegions) names the persons of the faces those
// regions cover.
//
// Live Photos and motion photos: Metadata records Apple's content
// identifier (Media.ContentID: the still's MakerNote, read by
// internal/exif; the MOV's QuickTime keys, by internal/isobmff), and the
// catalog pairs the two halves when the second is completed
// (catalog/live.go); an Android motion photo's XMP (GCamera MicroVideo or
// MotionPhoto with a Container directory) locates its appended MP4, which
// is recorded (Media.MotionPhoto) only when an ftyp box starts there.
//
// Places (placer.go) runs after Metadata: a record with a position gets
// its Place from package places (country, region, nearest city, time
// zone, offline), and a missing UTC offset is derived from the zone
// (SetPlace says when; Media.OffsetSource records it, so that new places
// data can redo it).
//
// Thumbnails (thumbs.go) decode each photo once: JPEGs by DCT scaling at
// 1/2, 1/4 or 1/8 (internal/jpegdec, a fork of image/jpeg) so that the
// decode is just large enough for the 1440 px preview; HEIC through
// github.com/gen2brain/heic (libheif in WebAssembly, run by wazero);
// raws through their largest embedded JPEG. The small thumbnail is made from
// the preview, and the perceptual hash (PHash) from the small one. Every
// decode is checked first (limits.go), from the header the decoder itself
// will read: the pixels against MaxPixels, and the memory the decode
// takes (size, bit depth, channels, coding: a 16-bit PNG is 8 bytes a
// pixel) against MaxDecodeBytes. That holds for JPEG, PNG, GIF, WebP, a
// HEIF's grid and each of its items, a TIFF's image and each embedded
// JPEG preview or EXIF thumbnail (one over the limits is passed over). A
// file refused fails its job with an error wrapping ErrTooLarge ("image
// too large: ... over the limit of 120 MP"), so a decompression bomb
// costs its headers. Thumbnails live in a ThumbStore keyed
// by the original's SHA-256, over a DerivedStore (a local directory, or the
// upstream bucket): derived data that `shoebox reindex` rebuilds.
//
// Videos (video.go, ffmpeg.go) get a poster frame through ffmpeg, a
// child process under a timeout with one thread, no shell, no network,
// only video demuxers, and its only output a JPEG on a pipe (FFmpeg says
// how it is confined). Frames are tried at 10%, 25%, 50% and 75% of the
// duration: the first whose mean luma is not near black wins (fades from
// black), else the brightest. ffmpeg applies the container's rotation
// and scales to the preview size; the small thumbnail is made from the
// preview as for photos. ffprobe adds the codec, frame rate, bitrate and
// audio to the record (catalog.VideoInfo). Without ffmpeg, videos are
// marked catalog.ThumbnailWaiting (indexed), everything else goes on,
// and FFmpeg.Watch queues them again once it is found.
//
// Faces (facedetect.go) are found on the preview by package faces when the
// models are installed, and kept in the media record (box, score,
// detector, landmarks, descriptor); a photo where none is found is tried
// again with a border around it (faces.Options.PadRetry: a face filling
// the frame); without models photos are marked waiting and enriched again
// once they are there.
//
// People (people.go) owns people state: persons, which person each face
// belongs to, and the user's corrections. Every change goes through it and
// is serialized per user: full grouping passes (People.Group), placement
// of new faces (People.PlaceNewFaces) and the edits front ends make
// (Rename, Merge, Reassign, Reject, Hide, Create, Assign: people_edit.go;
// a photo is corrected in every copy of its content, and the face the
// user meant is recorded by content and index). Group runs after enrichment
// settles: average linkage on descriptors centred on the library's mean,
// a conservative threshold, persons found again by their centroids so
// ids, names and the user's corrections (merge, reassign, "not this
// person", persons made by hand) survive every pass and a reindex; it computes without the lock
// and applies only if nothing changed meanwhile. One photo, one vote
// (facequality.go): copies of a photo (same SHA-256) are clustered once,
// count once in the library's mean, toward the two photos a group needs
// and in Person.Faces (what people_min_photos compares), and every copy's
// face gets the person. Optional quality filters (detector score, face
// size, yaw from the landmarks) leave faces out of grouping. Between full
// passes PlaceNewFaces places each new face (indexed, catalog.NewFaces)
// with the person whose centroid is nearest (a copy: its twin's person),
// and says when enough faces went unplaced for a full pass to be due.
//
// The grouping's parameters are chosen out of sample: TestFaceEval
// (faceeval_test.go) splits both shared face sets by identity into a
// tuning half and a held-out half, sweeps threshold, group size and
// filters on the tuning half, checks that peopleDefaults are its choice,
// and asserts precision ≥ 0.9 and a recall floor on the held-out half,
// for both detectors (descriptors cached by file hash in the temp dir).
package enrich
