package catalog

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestNearDuplicateInCrowdedChunk: a near duplicate is found however many
// other photos share the hash chunk it is found by. The 1,100 photos
// indexed before it share chunk 0 with both it and the new photo, and sort
// before it in the chunk's rows; they are far from both in every other bit.
func TestNearDuplicateInCrowdedChunk(t *testing.T) {
	c, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	const crowd = 1100
	target := uint64(0x8f3c_51a2_e07b_9d46)
	// One bit flipped in each of chunks 1..6: distance 6, chunk 0 shared.
	nearHash := target
	for _, bit := range []int{9, 18, 27, 36, 45, 54} {
		nearHash ^= 1 << bit
	}
	chunk0 := uint64(1<<9 - 1)
	rnd := rand.New(rand.NewPCG(1, 2))
	put := func(txn *badger.Txn, key string, h uint64) error {
		m := Media{Kind: "photo", SHA256: "sha-" + key, PHash: fmt.Sprintf("%016x", h)}
		return index(txn, "u", "b", key, m, 1)
	}
	err = c.update(ctx, func(txn *badger.Txn) error { return put(txn, "near.jpg", nearHash) })
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < crowd; i += 100 {
		err := c.update(ctx, func(txn *badger.Txn) error {
			for j := i; j < i+100; j++ {
				h := target&chunk0 | rnd.Uint64()&^chunk0
				for bits.OnesCount64(h^target) <= 2*NearDistance || bits.OnesCount64(h^nearHash) <= 2*NearDistance {
					h = target&chunk0 | rnd.Uint64()&^chunk0
				}
				if err := put(txn, fmt.Sprintf("crowd%04d.jpg", j), h); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err = c.update(ctx, func(txn *badger.Txn) error { return put(txn, "target.jpg", target) })
	if err != nil {
		t.Fatal(err)
	}
	gNear, err := c.GroupOf(ctx, "u", "b", "near.jpg")
	if err != nil {
		t.Fatal(err)
	}
	gTarget, err := c.GroupOf(ctx, "u", "b", "target.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if gNear == "" || gNear != gTarget {
		t.Errorf("groups: near.jpg in %q, target.jpg in %q; want one group for both", gNear, gTarget)
	}
	var groups [][]Ref
	err = c.Groups(ctx, "u", func(gid string, members []Ref) error {
		groups = append(groups, members)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Ref{{{"b", "near.jpg"}, {"b", "target.jpg"}}}
	if fmt.Sprint(groups) != fmt.Sprint(want) {
		t.Errorf("groups: got %v; want %v", groups, want)
	}
}
