package catalog

import (
	"context"
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// The timeline (the web gallery's main view) reads the by-day index
// (ixd|U|YYYY-MM-DD|B|KEY) backwards, newest day first, one day at a time:
// a page costs the days it shows, never the library.

// DaysDescending calls fn with each day ("2006-01-02") holding photos or
// videos of user, newest first, starting with the newest day that is not
// after from: a day, a month ("2019-06": its last day and older), a year,
// or "" for the newest of all. It seeks once per day (a reverse
// skip-scan). fn returning an error stops the walk; DaysDescending
// returns that error.
func (c *Catalog) DaysDescending(ctx context.Context, user, from string, fn func(day string) error) error {
	pfx := pfxIxDay + user + sep
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx), Reverse: true})
		defer it.Close()
		// A reverse iterator lands on the greatest key not after the seek
		// key: every row of the days that start with from sorts before
		// from+"\xff".
		for it.Seek([]byte(pfx + from + "\xff")); it.Valid(); {
			if err := ctx.Err(); err != nil {
				return err
			}
			rest := string(it.Item().Key()[len(pfx):])
			if len(rest) < 11 || rest[10] != '|' {
				it.Next()
				continue
			}
			day := rest[:10]
			if err := fn(day); err != nil {
				return err
			}
			it.Seek([]byte(pfx + day)) // the previous day's last row
		}
		return nil
	})
}

// DayFiles calls fn with the file rows of one day of user's photos and
// videos and their media records, in bucket and key order, read in one
// snapshot. Index rows whose file or record is gone (a crash left them;
// reindex drops them) are skipped.
func (c *Catalog) DayFiles(ctx context.Context, user, day string, fn func(Object, Media) error) error {
	pfx := pfxIxDay + user + sep + day + sep
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx)})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%256 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			r := parseRef(string(it.Item().Key()[len(pfx):]))
			var o Object
			if err := getJSON(txn, keyObject(user, r.Bucket, r.Key), &o); err != nil {
				if errors.Is(err, ErrNotFound) {
					continue
				}
				return err
			}
			o.Bucket, o.Key = r.Bucket, r.Key
			var m Media
			if err := getJSON(txn, keyMedia(user, r.Bucket, r.Key), &m); err != nil {
				if errors.Is(err, ErrNotFound) {
					continue
				}
				return err
			}
			if err := fn(o, m); err != nil {
				return err
			}
		}
		return nil
	})
}
