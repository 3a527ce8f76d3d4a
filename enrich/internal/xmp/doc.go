// Package xmp reads the XMP metadata other photo tools write (Lightroom,
// darktable, digiKam, Photos, phones): capture dates, GPS, rating,
// keywords, named face regions and where a motion photo's video starts
// (GCamera), from one packet (Parse), and finds
// packets in the places they are kept (find.go: JPEG APP1 and extended
// XMP, PNG iTXt, sidecar names; the TIFF, HEIF and MP4/MOV readers of
// packages exif and isobmff return theirs).
//
// Parsing streams encoding/xml's raw tokens into a small tree, bounded
// before and while it is read: a packet larger than MaxPacket is refused
// unread, nesting deeper than MaxDepth and more than MaxElements
// elements stop it, text values are cut at 4 KiB and lists at MaxItems.
// encoding/xml expands no external entity; any DTD (<!DOCTYPE, <!ENTITY)
// is refused outright and, in strict mode, a reference to an undeclared
// entity is an error, so entity expansion ("billion laughs") cannot
// happen. UTF-16 packets (with a BOM or told by their first '<') are
// converted; UTF-32 and invalid UTF-8 are refused. Namespaces are
// matched by URI, never by prefix, and the RDF/XML forms writers use are
// read alike: attributes on rdf:Description, element values,
// rdf:parseType="Resource", nested rdf:Description, Bag/Seq/Alt arrays.
//
// Every error wraps ErrFormat; a packet never makes the parser panic
// (FuzzXMP).
package xmp
