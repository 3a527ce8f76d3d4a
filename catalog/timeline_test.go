package catalog

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestDaysDescending: the days of a user's photos come newest first from
// any starting point (a day, a month, a year, none), one each however many
// photos a day has, never another user's (whose name extends this one's);
// DayFiles gives one day's files with their records.
func TestDaysDescending(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	put := func(user, key, taken string) {
		t.Helper()
		err := c.update(ctx, func(txn *badger.Txn) error {
			if err := setJSON(txn, keyObject(user, "b", key), Object{Size: 1}); err != nil {
				return err
			}
			m := Media{Kind: "photo", TakenLocal: taken}
			if err := setJSON(txn, keyMedia(user, "b", key), m); err != nil {
				return err
			}
			return index(txn, user, "b", key, m, 1)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	days := []string{"2016-08-20", "2019-06-01", "2019-06-12", "2019-06-30", "2019-07-01", "2023-01-15"}
	for i, d := range days {
		for j := range i + 1 {
			put("u", fmt.Sprintf("%s-%d.jpg", d, j), d+"T10:00:00")
		}
	}
	put("u2", "other.jpg", "2020-01-01T00:00:00")
	put("u2", "newer.jpg", "2024-01-01T00:00:00")
	list := func(from string, stopAfter int) []string {
		var out []string
		err := c.DaysDescending(ctx, "u", from, func(d string) error {
			out = append(out, d)
			if len(out) == stopAfter {
				return errStopTest
			}
			return nil
		})
		if err != nil && err != errStopTest {
			t.Fatal(err)
		}
		return out
	}
	rev := slices.Clone(days)
	slices.Reverse(rev)
	for _, tc := range []struct {
		from string
		want []string
	}{
		{"", rev},
		{"2019-06", []string{"2019-06-30", "2019-06-12", "2019-06-01", "2016-08-20"}},
		{"2019-06-12", []string{"2019-06-12", "2019-06-01", "2016-08-20"}},
		{"2019-06-13", []string{"2019-06-12", "2019-06-01", "2016-08-20"}},
		{"2019", []string{"2019-07-01", "2019-06-30", "2019-06-12", "2019-06-01", "2016-08-20"}},
		{"2030", rev},
		{"2000", nil},
	} {
		if got := list(tc.from, 0); !slices.Equal(got, tc.want) {
			t.Errorf("DaysDescending(from %q) = %v; want %v", tc.from, got, tc.want)
		}
	}
	if got := list("", 2); !slices.Equal(got, rev[:2]) {
		t.Errorf("stopped after 2: %v", got)
	}
	var keys []string
	if err := c.DayFiles(ctx, "u", "2019-06-30", func(o Object, m Media) error {
		if m.Day() != "2019-06-30" || o.Bucket != "b" {
			t.Errorf("DayFiles gave %s/%s of %s", o.Bucket, o.Key, m.Day())
		}
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 {
		t.Errorf("DayFiles(2019-06-30) = %v; want 4 files", keys)
	}
}

var errStopTest = fmt.Errorf("stop")
