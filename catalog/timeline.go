package catalog

import (
	"cmp"
	"context"
	"errors"
	"slices"

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

// TimelineEntry is one file of the timeline with its media record.
type TimelineEntry struct {
	Object Object
	Media  Media
}

// TimelineCursor is a place in the timeline's order: day descending; in
// a day, TakenLocal descending, then bucket and key ascending.
type TimelineCursor struct {
	Day, Taken, Bucket, Key string
}

// CursorOf is the place of an entry.
func CursorOf(e TimelineEntry) TimelineCursor {
	return TimelineCursor{Day: e.Media.Day(), Taken: e.Media.TakenLocal, Bucket: e.Object.Bucket, Key: e.Object.Key}
}

// timelineOrder compares two places of one day.
func timelineOrder(a, b TimelineCursor) int {
	return cmp.Or(-cmp.Compare(a.Taken, b.Taken), cmp.Compare(a.Bucket, b.Bucket), cmp.Compare(a.Key, b.Key))
}

var errTimelineFull = errors.New("page full")

// Timeline returns up to limit of user's photos and videos in timeline
// order: those after the place after (nil: from the newest), or, when
// after is nil and from is set, from the newest day not after from (see
// DaysDescending). more reports whether any follow. It reads the days it
// returns, each in one snapshot, and one seek more: a page costs what it
// shows, not the library.
func (c *Catalog) Timeline(ctx context.Context, user string, after *TimelineCursor, from string, limit int) (page []TimelineEntry, more bool, err error) {
	start := from
	if after != nil {
		start = after.Day
	}
	err = c.DaysDescending(ctx, user, start, func(day string) error {
		if len(page) == limit {
			more = true // another day follows a full page
			return errTimelineFull
		}
		var es []TimelineEntry
		if err := c.DayFiles(ctx, user, day, func(o Object, m Media) error {
			es = append(es, TimelineEntry{o, m})
			return nil
		}); err != nil {
			return err
		}
		slices.SortFunc(es, func(a, b TimelineEntry) int { return timelineOrder(CursorOf(a), CursorOf(b)) })
		for _, e := range es {
			if after != nil && day == after.Day && timelineOrder(CursorOf(e), *after) <= 0 {
				continue
			}
			if len(page) == limit {
				more = true
				return errTimelineFull
			}
			page = append(page, e)
		}
		return nil
	})
	if errors.Is(err, errTimelineFull) {
		err = nil
	}
	return page, more, err
}
