package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"shoebox/catalog"
)

func TestAppPasswordRows(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, u := range []string{"alice", "bob"} {
		if err := c.PutUser(ctx, catalog.User{Name: u, PasswordHash: "x", Created: t0}, true); err != nil {
			t.Fatal(err)
		}
	}
	rows := []catalog.AppPassword{
		{ID: "ap2", User: "alice", Hash: "h-phone", Name: "Nextcloud-android", Created: t0.Add(time.Hour)},
		{ID: "ap1", User: "alice", Hash: "h-laptop", Name: "Desktop client", Created: t0},
		{ID: "ap3", User: "bob", Hash: "h-bob", Name: "iOS", Created: t0},
	}
	for _, p := range rows {
		if err := c.PutAppPassword(ctx, p); err != nil {
			t.Fatalf("PutAppPassword(%s): %v", p.ID, err)
		}
	}
	if err := c.PutAppPassword(ctx, catalog.AppPassword{ID: "ap1", User: "bob", Hash: "h", Created: t0}); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("PutAppPassword of an ID another user has: got %v; want ErrExists", err)
	}
	if err := c.PutAppPassword(ctx, catalog.AppPassword{ID: "ap9", User: "carol", Hash: "h", Created: t0}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("PutAppPassword for a missing user: got %v; want ErrNotFound", err)
	}
	if err := c.PutAppPassword(ctx, catalog.AppPassword{ID: "ap|9", User: "bob", Hash: "h", Created: t0}); err == nil {
		t.Errorf("PutAppPassword with '|' in the ID: got nil; want an error")
	}

	list, err := c.AppPasswords(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "ap1" || list[1].ID != "ap2" || list[1].Name != "Nextcloud-android" || list[1].User != "alice" || !list[1].Created.Equal(t0.Add(time.Hour)) {
		t.Errorf("AppPasswords(alice): got %+v; want ap1 then ap2 (oldest first)", list)
	}

	got, err := c.MatchAppPassword(ctx, "alice", "h-phone")
	if err != nil || got.ID != "ap2" {
		t.Errorf("MatchAppPassword(alice, h-phone): got %+v, %v; want ap2", got, err)
	}
	if _, err := c.MatchAppPassword(ctx, "alice", "h-bob"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("MatchAppPassword of another user's hash: got %v; want ErrNotFound", err)
	}

	if err := c.TouchAppPassword(ctx, "alice", "ap2", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := c.TouchAppPassword(ctx, "alice", "ap2", t0.Add(time.Hour)); err != nil { // older: kept
		t.Fatal(err)
	}
	if got, _ := c.MatchAppPassword(ctx, "alice", "h-phone"); !got.LastUsed.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("LastUsed after Touch: got %v; want %v", got.LastUsed, t0.Add(2*time.Hour))
	}

	p, err := c.DeleteAppPassword(ctx, "ap2")
	if err != nil || p.User != "alice" || p.Name != "Nextcloud-android" {
		t.Fatalf("DeleteAppPassword(ap2): got %+v, %v", p, err)
	}
	if _, err := c.MatchAppPassword(ctx, "alice", "h-phone"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("MatchAppPassword after revoke: got %v; want ErrNotFound", err)
	}
	if _, err := c.DeleteAppPassword(ctx, "ap2"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("DeleteAppPassword twice: got %v; want ErrNotFound", err)
	}
	if err := c.TouchAppPassword(ctx, "alice", "ap2", t0.Add(3*time.Hour)); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("TouchAppPassword of a revoked password: got %v; want ErrNotFound", err)
	}

	// Removed with the user, in the same transaction; a new user of the
	// same name starts with none.
	if _, err := c.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.AppPasswords(ctx, "alice"); len(list) != 0 {
		t.Errorf("AppPasswords after DeleteUser: got %+v; want none", list)
	}
	if _, err := c.MatchAppPassword(ctx, "alice", "h-laptop"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("MatchAppPassword after DeleteUser: got %v; want ErrNotFound", err)
	}
	if list, _ := c.AppPasswords(ctx, "bob"); len(list) != 1 {
		t.Errorf("AppPasswords(bob) after alice's removal: got %+v; want ap3", list)
	}
}
