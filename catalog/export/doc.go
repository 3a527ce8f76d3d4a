// Package export writes what a user built on top of their originals in
// Shoebox — albums, person names with their face regions, the corrections
// made to people, the trash — in open formats that other software reads,
// so the organisation of a library outlives Shoebox (`shoebox export`,
// issue 24, "Readable without Shoebox").
//
// It owns two formats, both documented in the README ("Export: your
// organisation without Shoebox"):
//
//   - an XMP sidecar per file that has user-authored data, named
//     "<file name>.xmp" (IMG_0001.JPG.xmp, as darktable and digiKam write
//     and read them; the full name keeps IMG_0001.JPG and IMG_0001.CR2
//     apart, which Lightroom's IMG_0001.xmp cannot). It holds the named
//     persons' faces as MWG regions (mwg-rs:Regions) and keywords in
//     dc:subject (the leaf names) and lr:hierarchicalSubject ("People|Alice",
//     "Albums|Paris");
//   - a JSON document per user ("<user>.json", schema SchemaVersion) with
//     the albums and their members, the persons with their faces and
//     corrections, and the trash.
//
// The package only reads the catalog; where the files go is a Sink's
// business (DirSink writes an export tree; cmd/shoebox writes sidecars
// beside the originals through the gateway).
package export
