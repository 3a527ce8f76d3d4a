package s3store_test

import (
	"bytes"
	"fmt"
	"io"
	"shoebox/gateway/s3store/s3storetest"
	"testing"
	"time"

	"shoebox/gateway"
)

// TestThroughGateway runs the gateway on the store, sharing one catalog
// (object rows and blob rows side by side), trash included.
func TestThroughGateway(t *testing.T) {
	up := s3storetest.Start(t)
	st := newStore(t, up, nil)
	g := gateway.New(st.s, st.cat, gateway.Options{TrashRetention: time.Hour})
	if err := g.MakeBucket(ctx, "alice", "photos"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		body := fmt.Appendf(nil, "jpeg %d", i)
		if _, err := g.Put(ctx, gateway.PutInput{User: "alice", Bucket: "photos", Key: fmt.Sprintf("2019/IMG_%d.jpg", i),
			Body: bytes.NewReader(body), MakeParents: true}); err != nil {
			t.Fatal(err)
		}
	}
	st.cnt.reset()
	if err := g.Move(ctx, "alice", "photos", "2019/", "photos", "Holidays 2019/"); err != nil {
		t.Fatal(err)
	}
	t.Logf("gateway Move of a 20-file folder: upstream %v", st.cnt.reset())
	f, o, err := g.Open(ctx, "alice", "photos", "Holidays 2019/IMG_7.jpg")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := io.ReadAll(f)
	f.Close()
	if string(d) != "jpeg 7" || o.Size != 6 {
		t.Fatalf("read %q, row %+v", d, o)
	}
	if err := g.Remove(ctx, "alice", "photos", "Holidays 2019/IMG_3.jpg"); err != nil {
		t.Fatal(err)
	}
	res, err := g.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 0 || res.Updated != 0 || res.Removed != 0 {
		t.Fatalf("gateway Reconcile found differences: %+v", res)
	}
	rep, err := st.s.Reconcile(ctx)
	if err != nil || rep.Orphans != 0 || rep.Young != 0 || len(rep.Missing) != 0 {
		t.Fatalf("store Reconcile = %+v, %v", rep, err)
	}
}
