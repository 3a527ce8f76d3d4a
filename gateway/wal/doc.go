// Package wal is the write-ahead log of small files: their bytes, appended
// to segment files and made durable by group commit (one fdatasync for all
// the appends that wait for it), kept until the files themselves are
// durable in the backend.
//
// The gateway acknowledges a small upload once its bytes are in the log
// (and its row in the catalog), then lets the backend write the file
// without waiting for the disk; a later flush of the backend makes a batch
// of such files durable, and their records are Released. A segment whose
// records are all released, and that is no longer the one appended to, is
// deleted. After a crash, Scan hands back every intact record of the
// segments an earlier run left.
//
// Segment files are named by a growing sequence number (%016x.wal), open
// with the magic "SBXWAL2\n" and hold records:
//
//	length uint32 BE | CRC-32C of the payload uint32 BE | payload
//	payload: uvarint-prefixed user, bucket, key, sha256 (hex) | varint mod time (Unix ns) |
//	         uvarint-prefixed catalog row (opaque here) | bytes
//
// Sequence numbers are never used twice: each run starts at least 2^32
// above the last run's start, kept in the file "floor". A record's Pos
// (segment, offset) names it; the gateway records it in the
// catalog beside the row. A segment without the magic is of version 1,
// whose records had no row. Release reports the segments it deleted, once
// their removal is durable, and DropOld deletes an earlier run's the same
// way, so that whatever names their records can go too.
//
// A record cut short by a crash fails its CRC and ends its segment's
// replay; it was never acknowledged.
package wal
