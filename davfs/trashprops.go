package davfs

import (
	"encoding/xml"
	"strconv"
	"strings"
	"time"

	"shoebox/catalog"
)

// nsSB is Shoebox's own namespace for live properties.
const nsSB = "https://shoebox.dev/ns"

// Entries of /trash carry where they were and when they were deleted, as
// live properties given in allprop and propname answers as well as by
// name, so a file manager or an app can show them:
//
//   - sb:original-location: bucket/key the entry had ("Phone/Camera/IMG_1.jpg");
//     for an entry inside a deleted folder, its own path in that folder.
//   - sb:deleted-at: when it was deleted (RFC 3339, UTC); for a version
//     (the content an overwrite replaced), when it was replaced.
//   - sb:version: "true" for a version, "false" for a deleted item.
//   - nc:trashbin-original-location, nc:trashbin-deletion-time (Unix
//     seconds) and nc:trashbin-filename, as Nextcloud's trash bin gives
//     them (davfs/ncupload serves the same on the Nextcloud mount).
//
// The item is read from the catalog once per answer (trashItem).
func (p *propWriter) trashProps(res resource, o catalog.Object) []propVal {
	if !res.virtual || res.bucket != "trash" || res.key == "" {
		return nil
	}
	id, rest, _ := strings.Cut(strings.TrimSuffix(o.Key, "/"), "/")
	it, ok := p.trashItem(id)
	if !ok {
		return nil
	}
	loc := it.Bucket + "/" + strings.TrimSuffix(it.Key, "/")
	if rest != "" {
		loc += "/" + rest
	}
	deleted := time.Unix(0, it.DeletedNs).UTC()
	return []propVal{
		{xml.Name{Space: nsSB, Local: "original-location"}, xmlEscape(loc)},
		{xml.Name{Space: nsSB, Local: "deleted-at"}, deleted.Format(time.RFC3339)},
		{xml.Name{Space: nsSB, Local: "version"}, strconv.FormatBool(it.Version)},
		{xml.Name{Space: nsNC, Local: "trashbin-original-location"}, xmlEscape(loc)},
		{xml.Name{Space: nsNC, Local: "trashbin-deletion-time"}, strconv.FormatInt(deleted.Unix(), 10)},
		{xml.Name{Space: nsNC, Local: "trashbin-filename"}, xmlEscape(loc[strings.LastIndexByte(loc, '/')+1:])},
	}
}

// trashItem returns the user's trash item id, read once per answer.
func (p *propWriter) trashItem(id string) (catalog.TrashItem, bool) {
	if it, ok := p.trash[id]; ok {
		return it, it.ID != ""
	}
	it, err := p.h.gw.Catalog().GetTrash(p.ctx, p.user, id)
	if err != nil {
		it = catalog.TrashItem{} // purged meanwhile: no properties
	}
	if p.trash == nil {
		p.trash = map[string]catalog.TrashItem{}
	}
	p.trash[id] = it
	return it, it.ID != ""
}
