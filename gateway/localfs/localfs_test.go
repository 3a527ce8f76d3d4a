package localfs_test

import (
	"testing"

	"shoebox/gateway"
	"shoebox/gateway/localfs"
	"shoebox/gateway/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gateway.Backend {
		b, err := localfs.New(t.TempDir(), localfs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	})
}
