// Package virtualdirs will compute the virtual folder trees (/by-date,
// /by-camera, /duplicates, /albums, /trash, /by-person) from catalog
// indexes (see the virtual folders issue). Nothing is implemented here yet;
// the bucket names of those roots are already reserved by
// gateway.ReservedNames.
package virtualdirs
