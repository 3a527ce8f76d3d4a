package virtualdirs

import (
	"context"
	"slices"

	"shoebox/catalog"
)

// MaxSearchFiles is the most files a saved search's folder lists (newest
// first); the API pages through the rest.
const MaxSearchFiles = 5000

// listSearches lists /search (the saved searches) and /search/<name>
// (what the search, catalog.ParseQuery of its name, finds now).
func (t *Tree) listSearches(ctx context.Context, user string, segs []string, fn func(Entry) error) error {
	saved, err := t.cat.SavedSearches(ctx, user)
	if err != nil {
		return err
	}
	switch len(segs) {
	case 0:
		names := make([]string, 0, len(saved))
		for n := range saved {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if err := fn(t.dir(n, saved[n])); err != nil {
				return err
			}
		}
		return nil
	case 1:
		if _, ok := saved[segs[0]]; !ok {
			return ErrNotFound
		}
		return t.files(ctx, user, func(f func(catalog.Object) error) error {
			q := catalog.ParseQuery(segs[0])
			q.Limit = 1000
			for n := 0; n < MaxSearchFiles; {
				hits, next, err := t.cat.Search(ctx, user, q)
				if err != nil {
					return err
				}
				for _, h := range hits {
					o, err := t.cat.Stat(ctx, user, h.Bucket, h.Key)
					if err != nil {
						continue // gone meanwhile
					}
					if err := f(o); err != nil {
						return err
					}
					if n++; n == MaxSearchFiles {
						break
					}
				}
				if next == "" {
					break
				}
				q.After = next
			}
			return nil
		}, fn)
	}
	return ErrNotFound
}
