package virtualdirs

import (
	"context"

	"shoebox/catalog"
)

// listPlace lists /by-place (countries: English names, catalog.AtSea for
// places outside every country), /by-place/<country> (its cities) and
// /by-place/<country>/<city> (the photos and videos filed there).
func (t *Tree) listPlace(ctx context.Context, user string, segs []string, fn func(Entry) error) error {
	switch len(segs) {
	case 0, 1:
		var names []string
		var err error
		country := ""
		if len(segs) == 0 {
			names, err = t.cat.Countries(ctx, user)
		} else {
			country = segs[0]
			names, err = t.cat.Cities(ctx, user, country)
		}
		if err != nil {
			return err
		}
		if len(segs) == 1 && len(names) == 0 {
			return ErrNotFound
		}
		newest, err := t.cat.NewestInPlaces(ctx, user, country)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := fn(t.dir(n, newest[n])); err != nil {
				return err
			}
		}
		return nil
	case 2:
		n := 0
		err := t.files(ctx, user, func(f func(catalog.Object) error) error {
			return t.cat.InPlace(ctx, user, segs[0], segs[1], func(o catalog.Object) error { n++; return f(o) })
		}, fn)
		if err == nil && n == 0 {
			return ErrNotFound
		}
		return err
	}
	return ErrNotFound
}
