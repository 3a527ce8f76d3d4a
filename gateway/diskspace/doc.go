// Package diskspace keeps a free-space reserve on the filesystem that holds
// Shoebox's data, so that the catalog (Badger) and the journal never meet a
// full disk: below the reserve, writes are refused (the front ends answer
// 507 Insufficient Storage) and reads and deletes go on.
//
// Why a reserve and not just ENOSPC: Badger writes its memtable log (.mem)
// and value log (.vlog) through mmap, into files it creates sparse with
// ftruncate (twice the memtable size, twice the value-log file size). A
// store into a page of such a file needs a new block; on a full filesystem
// the kernel cannot give one, and a store through a mapping cannot return
// an error, so the process gets SIGBUS. Opening Badger writes too (a fresh
// .mem and .vlog, each started with a header), so a server killed on a full
// disk SIGBUSes again at start-up. Badger's read-only mode is no way out:
// it refuses a memtable log that was not closed cleanly (ErrTruncateNeeded),
// which is exactly what a crash leaves.
//
// A Guard does three things:
//   - Admit refuses a write that would leave less than the reserve free,
//     from statfs cached for a short while (Options.TTL). Known sizes
//     (Content-Length) are refused up front.
//   - Counted wraps an upload's body: the bytes read are charged against the
//     cached figure until the next statfs, so a burst of concurrent uploads
//     cannot overshoot; a read past the free space fails.
//   - A ballast file (Options.Ballast), half the reserve, holds part of the
//     reserve physically. When something else fills the disk to the brim,
//     the Guard deletes it (New at start-up, Run while serving), which gives
//     Badger room to open, replay its log and commit deletes. It is made
//     again once there is room. While held, it counts as reserve kept.
//
// On systems without statfs (not Linux), the Guard never refuses.
package diskspace
