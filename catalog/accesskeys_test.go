package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"shoebox/catalog"
)

func TestAccessKeyRows(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	keys := []catalog.AccessKey{
		{ID: "SBZZZ", User: "alice", SecretSealed: []byte{1, 2, 3}, Created: t0},
		{ID: "SBAAA", User: "alice", SecretSealed: []byte{4, 5}, Created: t0.Add(time.Hour)},
		{ID: "SBBOB", User: "bob", SecretSealed: []byte{6}, Created: t0},
	}
	for _, k := range keys {
		if err := c.PutAccessKey(ctx, k); err != nil {
			t.Fatalf("PutAccessKey(%s): %v", k.ID, err)
		}
	}
	if err := c.PutAccessKey(ctx, catalog.AccessKey{ID: "SBZZZ", User: "bob", SecretSealed: []byte{9}, Created: t0}); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("PutAccessKey of an existing ID: got %v; want ErrExists", err)
	}
	if err := c.PutAccessKey(ctx, catalog.AccessKey{ID: "SBNOSECRET", User: "bob", Created: t0}); err == nil {
		t.Errorf("PutAccessKey without a secret: got nil; want an error")
	}

	got, err := c.GetAccessKey(ctx, "SBZZZ")
	if err != nil {
		t.Fatalf("GetAccessKey: %v", err)
	}
	if got.ID != "SBZZZ" || got.User != "alice" || !bytes.Equal(got.SecretSealed, []byte{1, 2, 3}) || !got.Created.Equal(t0) {
		t.Errorf("GetAccessKey: got %+v; want %+v (the row was not replaced by the refused Put)", got, keys[0])
	}
	if _, err := c.GetAccessKey(ctx, "SBNONE"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("GetAccessKey of a missing ID: got %v; want ErrNotFound", err)
	}

	list, err := c.AccessKeys(ctx, "alice")
	if err != nil {
		t.Fatalf("AccessKeys: %v", err)
	}
	var ids []string
	for _, k := range list {
		ids = append(ids, k.ID)
	}
	if len(ids) != 2 || ids[0] != "SBZZZ" || ids[1] != "SBAAA" {
		t.Errorf("AccessKeys(alice): got %v; want [SBZZZ SBAAA] (oldest first)", ids)
	}
	if list, _ := c.AccessKeys(ctx, "carol"); len(list) != 0 {
		t.Errorf("AccessKeys(carol): got %d keys; want 0", len(list))
	}

	if err := c.DeleteAccessKey(ctx, "SBZZZ"); err != nil {
		t.Fatalf("DeleteAccessKey: %v", err)
	}
	if _, err := c.GetAccessKey(ctx, "SBZZZ"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("GetAccessKey after delete: got %v; want ErrNotFound", err)
	}
	if err := c.DeleteAccessKey(ctx, "SBZZZ"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("DeleteAccessKey twice: got %v; want ErrNotFound", err)
	}
	if list, _ := c.AccessKeys(ctx, "alice"); len(list) != 1 || list[0].ID != "SBAAA" {
		t.Errorf("AccessKeys(alice) after delete: got %+v; want only SBAAA", list)
	}
	// Access keys are not users: they do not show up in Users.
	if us, _ := c.Users(ctx); len(us) != 0 {
		t.Errorf("Users: got %d; want 0", len(us))
	}
}

// TestDeleteUserRemovesAccessKeys: a user's access keys go with the
// account, and adding the user again does not bring them back; other
// users' keys stay.
func TestDeleteUserRemovesAccessKeys(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, u := range []string{"alice", "bob"} {
		if err := c.PutUser(ctx, catalog.User{Name: u, PasswordHash: "h"}, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []catalog.AccessKey{
		{ID: "SBALICE1", User: "alice", SecretSealed: []byte{1}, Created: t0},
		{ID: "SBALICE2", User: "alice", SecretSealed: []byte{2}, Created: t0},
		{ID: "SBBOB", User: "bob", SecretSealed: []byte{3}, Created: t0},
	} {
		if err := c.PutAccessKey(ctx, k); err != nil {
			t.Fatalf("PutAccessKey(%s): %v", k.ID, err)
		}
	}
	n, err := c.DeleteUser(ctx, "alice")
	if err != nil || n != 2 {
		t.Fatalf("DeleteUser(alice): got %d, %v; want 2 keys removed, nil", n, err)
	}
	if err := c.PutUser(ctx, catalog.User{Name: "alice", PasswordHash: "h2"}, true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id      string
		present bool
	}{
		{"SBALICE1", false},
		{"SBALICE2", false},
		{"SBBOB", true},
	}
	for _, tt := range tests {
		_, err := c.GetAccessKey(ctx, tt.id)
		if got := err == nil; got != tt.present {
			t.Errorf("GetAccessKey(%s) after alice was removed and added again: got %v; want present=%v", tt.id, err, tt.present)
		}
	}
	if ks, err := c.AccessKeys(ctx, "alice"); err != nil || len(ks) != 0 {
		t.Errorf("AccessKeys(alice) after remove and add: got %+v, %v; want none", ks, err)
	}
	if n, err := c.DeleteUser(ctx, "alice"); err != nil || n != 0 {
		t.Errorf("DeleteUser(alice) without keys: got %d, %v; want 0, nil", n, err)
	}
}

// TestPutUserDropsStaleKeys: keys left by a user removed before DeleteUser
// removed them do not come back with a new user of that name.
func TestPutUserDropsStaleKeys(t *testing.T) {
	c := openMem(t)
	ctx := context.Background()
	if err := c.PutAccessKey(ctx, catalog.AccessKey{ID: "SBSTALE", User: "carol", SecretSealed: []byte{1}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := c.PutUser(ctx, catalog.User{Name: "carol", PasswordHash: "h"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAccessKey(ctx, "SBSTALE"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("GetAccessKey(SBSTALE) after carol was created: got %v; want ErrNotFound", err)
	}
	// A password change (create unset) keeps the user's keys.
	if err := c.PutAccessKey(ctx, catalog.AccessKey{ID: "SBCAROL", User: "carol", SecretSealed: []byte{2}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := c.PutUser(ctx, catalog.User{Name: "carol", PasswordHash: "h2"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAccessKey(ctx, "SBCAROL"); err != nil {
		t.Errorf("GetAccessKey(SBCAROL) after a password change: got %v; want the key kept", err)
	}
}
