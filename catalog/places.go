package catalog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// The place index (index.go has the others):
//
//	ixl|U|COUNTRY|CITY|B|KEY  a file, by its folders (Media.PlaceFolders)
//	ixlm|U|COUNTRY|CITY       newest modification time seen for the place
const (
	pfxIxPlace    = "ixl|"
	pfxIxPlaceMax = "ixlm|"
)

// AtSea is the country folder of places outside every country's borders
// and coastal waters (their city folder is the nearest city's).
const AtSea = "At sea"

// PlaceFolders returns the /by-place folder names of a record: the
// country's English name (AtSea when the place has no country) and the
// city's, with '/', '|', '\' and control characters made '-'; "", ""
// without a place.
func (m Media) PlaceFolders() (country, city string) {
	if m.Place == nil || m.Place.City == "" || (m.Kind != "photo" && m.Kind != "video") {
		return "", ""
	}
	country = m.Place.Country
	if country == "" {
		country = AtSea
	}
	return folderName(country), folderName(m.Place.City)
}

func folderName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '|' || r == '\\' || r < 0x20 {
			return '-'
		}
		return r
	}, strings.TrimSpace(s))
	if s == "." || s == ".." {
		return "-"
	}
	return s
}

// Countries returns the country folders of the user's photos, in order.
func (c *Catalog) Countries(ctx context.Context, user string) ([]string, error) {
	return c.distinct(ctx, pfxIxPlace+user+sep, 0)
}

// Cities returns the city folders of one country folder, in order.
func (c *Catalog) Cities(ctx context.Context, user, country string) ([]string, error) {
	return c.distinct(ctx, pfxIxPlace+user+sep+country+sep, 0)
}

// InPlace calls fn with the file rows of one city folder.
func (c *Catalog) InPlace(ctx context.Context, user, country, city string, fn func(Object) error) error {
	return c.refs(ctx, user, pfxIxPlace+user+sep+country+sep+city+sep, fn)
}

// NewestInPlaces returns the newest modification time (Unix ns) recorded
// for each city folder of a country folder, by city; with country "", for
// each country folder, by country.
func (c *Catalog) NewestInPlaces(ctx context.Context, user, country string) (map[string]int64, error) {
	pfx := pfxIxPlaceMax + user + sep
	if country != "" {
		pfx += country + sep
	}
	out := map[string]int64{}
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil || len(v) != 8 {
				continue
			}
			name := string(it.Item().Key()[len(pfx):])
			if country == "" {
				name, _, _ = strings.Cut(name, sep)
			}
			out[name] = max(out[name], int64(binary.BigEndian.Uint64(v)))
		}
		return nil
	})
	return out, err
}

// keyPlacesVersion holds the version of the places data the records were
// placed with (FillPlaces).
func keyPlacesVersion() []byte { return []byte(pfxMeta + "places") }

// FillPlaces places again every media record with a position, once per
// version of the places data: when the catalog was placed with another
// version (or none: a catalog from before places), each record with Lat
// and Lon is passed to place, which sets its Place (and what follows
// from it) and reports whether it changed; changed records are written
// with their index rows, 128 to a transaction, each read again inside
// it so that a record enriched meanwhile is placed as it now is. It
// returns how many records changed. Files are not read: this costs a
// scan of the media records, at start-up after an upgrade only.
func (c *Catalog) FillPlaces(ctx context.Context, version string, place func(m *Media) bool) (int, error) {
	var have string
	err := c.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyPlacesVersion())
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		have = string(v)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("places version: %w", err)
	}
	if have == version {
		return 0, nil
	}
	var refs [][]string
	err = c.db.View(func(txn *badger.Txn) error {
		return eachMedia(ctx, txn, []byte(pfxMedia), len(pfxMedia), func(rest string, m Media) error {
			if m.Lat != nil && m.Lon != nil {
				if parts := strings.SplitN(rest, sep, 3); len(parts) == 3 {
					refs = append(refs, parts)
				}
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("places: %w", err)
	}
	changed := 0
	for len(refs) > 0 {
		n := min(len(refs), 128)
		done := 0
		err := c.updateIndex(ctx, func(txn *badger.Txn) error {
			done = 0
			for _, r := range refs[:n] {
				var m Media
				if err := getJSON(txn, keyMedia(r[0], r[1], r[2]), &m); err != nil {
					if errors.Is(err, ErrNotFound) {
						continue
					}
					return err
				}
				var o Object
				if err := getJSON(txn, keyObject(r[0], r[1], r[2]), &o); err != nil {
					if errors.Is(err, ErrNotFound) {
						continue
					}
					return err
				}
				if m.Lat == nil || m.Lon == nil || !place(&m) {
					continue
				}
				if err := index(txn, r[0], r[1], r[2], m, o.ModNs); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			return changed, fmt.Errorf("places of %s/%s/%s and after: %w", refs[0][0], refs[0][1], refs[0][2], err)
		}
		changed += done
		refs = refs[n:]
	}
	err = c.update(ctx, func(txn *badger.Txn) error { return txn.Set(keyPlacesVersion(), []byte(version)) })
	if err != nil {
		return changed, fmt.Errorf("places version: %w", err)
	}
	return changed, nil
}
