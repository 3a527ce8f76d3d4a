package memfs_test

import (
	"testing"

	"shoebox/gateway"
	"shoebox/gateway/memfs"
	"shoebox/gateway/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gateway.Backend { return memfs.New() })
}
