// Package virtualdirs computes the virtual folder trees from catalog
// indexes: /by-date/YYYY/YYYY-MM/YYYY-MM-DD (the camera's local date),
// /by-camera/<camera>, /by-place/<country>/<city> (catalog.Media.PlaceFolders),
// /by-tag/<keyword> (the keywords other tools wrote in XMP),
// /duplicates/<group>, /albums/<album>, /trash and
// /by-person/<person> (faces grouped by enrich.People). Tree.List
// lists one folder, Tree.Stat finds one entry; both cost what the listed
// folder holds (see the index rows in catalog/index.go), never a scan of
// the library.
//
// Files in virtual folders are the originals (Entry.Object names the
// bucket and key), shown under their own names, with the photo's capture
// time as Entry.ModTime (the object's own time when it has none); names
// that clash within a folder are told apart by a short hash of bucket and
// key (IMG_0001~3fa2c1d0.jpg), whatever order the files came in. Duplicate
// groups are named after their best copy (most pixels, then most bytes,
// then the shortest name): "2016-08-20 beach_original.jpg (5 copies)",
// named from the groups' summaries (catalog.DupGroups, one row per
// group), so listing /duplicates costs the number of groups and opening
// one the copies it holds.
//
// An album lists the file that was added to it (catalog.AlbumMembers). A
// person the user made (catalog.Person.CreatedNs) has a folder even while
// it holds no photo.
//
// A person folder also holds .folder.jpg, the person's best face, made by
// Options.Cover (file managers show it as the folder's picture).
//
// This package only reads; the writes the folders accept (albums, trash,
// deleting a duplicate) are davfs's, through the gateway and the catalog,
// and the edits of person folders go to the owner of people state
// (enrich.People, behind davfs.People).
package virtualdirs
