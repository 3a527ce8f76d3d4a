package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	badger "github.com/dgraph-io/badger/v4"
)

// Durability. Badger is opened without SyncWrites, and the catalog makes
// its commits durable itself, so that it can also commit without waiting
// for the disk where something else keeps the write safe (the gateway's
// write-ahead log of small files: PutFileLogged).
//
// A durable commit (every write method but PutFileLogged and job leases)
// returns after sync, which makes every commit that returned before it
// durable: Badger's Sync writes back the memtable being written and the
// value log file being appended to, and sync also fsyncs the log files
// that rotated out since (a full memtable waiting for its flush to a
// table, a full value log file) once each. Badger's Sync alone would not:
// an entry whose memtable rotated between its commit and the Sync would
// stay in the page cache only. Because sync covers everything before it,
// the catalog a crash leaves holds every commit before the last durable
// one; after that, any subset of the commits that did not wait.

// syncer remembers the rotated log files already fsynced.
type syncer struct {
	dir    string // "" when nothing is synced (in memory, or SyncWrites off)
	mu     sync.Mutex
	synced map[string]bool
}

// sync makes every commit that returned before the call durable.
func (c *Catalog) sync() error {
	s := &c.syncer
	if s.dir == "" {
		return nil
	}
	if err := c.db.Sync(); err != nil {
		return fmt.Errorf("sync catalog: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("sync catalog: %w", err)
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	present := map[string]bool{}
	for _, name := range rotatedLogs(names) {
		present[name] = true
		if s.synced[name] {
			continue
		}
		if err := fsyncFile(filepath.Join(s.dir, name)); err != nil {
			return fmt.Errorf("sync catalog: %w", err)
		}
		s.synced[name] = true
	}
	for name := range s.synced {
		if !present[name] {
			delete(s.synced, name)
		}
	}
	return nil
}

// rotatedLogs picks, from the names in Badger's directory, its log files
// that are no longer written: Badger numbers its memtable (.mem) and value
// log (.vlog) files in order, and the newest of each kind is the one
// written to (and covered by DB.Sync).
func rotatedLogs(names []string) []string {
	newest := map[string]int{}
	ids := map[string]int{}
	for _, name := range names {
		ext := filepath.Ext(name)
		if ext != ".mem" && ext != ".vlog" {
			continue
		}
		id, err := strconv.Atoi(strings.TrimSuffix(name, ext))
		if err != nil {
			continue
		}
		ids[name] = id
		newest[ext] = max(newest[ext], id)
	}
	var out []string
	for _, name := range names {
		if id, ok := ids[name]; ok && id != newest[filepath.Ext(name)] {
			out = append(out, name)
		}
	}
	return out
}

// fsyncFile fsyncs the file at name; one that is gone (a memtable flushed
// to a table and removed meanwhile) needs nothing.
func fsyncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Sync makes every commit that returned before it durable, the ones that
// did not wait for the disk (PutFileLogged) included.
func (c *Catalog) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.sync()
}

// flushBatch flushes a WriteBatch durably.
func (c *Catalog) flushBatch(wb *badger.WriteBatch) error {
	err := wb.Flush()
	c.counts.changed()
	if err != nil {
		return err
	}
	return c.sync()
}
