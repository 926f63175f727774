// Snapshot: the whole engine state in one file, tagged with the last seq it
// covers, so restart = load the newest snapshot + replay the log after it.
//
// File `<data-dir>/snapshot-<seq, 20 digits>.snap`, all integers
// little-endian (format version 2):
//   header   8 bytes magic "IDRSNAP\x02" | u64 last_seq | u64 contact_count
//            | u8 normalize (0/1) | u8 region length (0 or 2) | 2 region bytes
//            (zero without a region): the normalisation setting the match
//            keys were made with; loading into an engine with another
//            setting is refused (InvalidArgument)
//   contacts contact_count records, in id order from 1 (the id is implicit):
//            i64 created_at | i64 updated_at | i64 deleted_at (INT64_MIN: none)
//            | u32 linked_id (0: primary) | u16 email length | email bytes
//            | u16 phone length | phone bytes
//            A deleted contact's linked_id is the one it had when deleted
//            (history, not a link); a deleted contact with neither email nor
//            phone is a vacant id (engine.h, ContactRow).
//   legacy   u32 count, u32 ids ascending: contacts whose cluster membership
//            predates recorded links (they stay linked to each other)
//   links    u32 count of clusters with recorded links (docs/api.md §9), by
//            ascending root, each: u32 root | u32 merges, each: u64 seq
//            | i64 at | u16 email length | email | u16 phone length | phone
//            | u32 pairs, each: u32 a | u32 b | u64 seq | u8 legacy
//   guards   u32 count, then per guarded value (api and auto guards; file
//            guards are read from their file at start), by field then key:
//            u8 field (1 email, 2 phone) | u8 reason (2 api, 3 auto)
//            | u8 split | i64 since | u16 key length | key bytes
//            | u32 count, u32 ids: with split, the members of the cluster
//            it split
//   trailer  u32 CRC-32C of every byte before it
// Version 1 files ("IDRSNAP\x01": a 24-byte header, nothing after the
// contacts, normalisation off) still load; having recorded no links, every
// contact of a cluster of two or more is then legacy-linked.
// The encoding is a pure function of the state: the same state always gives
// the same bytes (no padding, no pointers, no timestamps of the write).
//
// A snapshot is written to a temporary name, fsync'd, renamed into place and
// the directory fsync'd, so a crash leaves either the old set of snapshots
// or the new one, never a torn file under a final name. Before writing, the
// file's whole size is checked against the free space (less what must stay
// free, for the log) and reserved, so a snapshot either fits or fails
// without having filled the disk.
//
// Thread-safety: free functions; WriteSnapshot reads the engine through its
// thread-safe API, but for a consistent snapshot nothing may write to that
// engine meanwhile (the checkpointer uses a private engine).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/status.h"

namespace idrecon {

struct SnapshotInfo {
  std::string path;
  Seq last_seq = 0;
  std::uint64_t contacts = 0;
  std::uint64_t bytes = 0;
};

std::string SnapshotFileName(Seq last_seq);

// Encodes `engine` (whose state covers changes up to `last_seq`) into bytes.
void EncodeSnapshot(const Engine& engine, Seq last_seq, std::string* out);

// Writes the snapshot file into `dir` atomically. IOError, writing nothing,
// when fewer than its size + `keep_free_bytes` bytes are free there.
Status WriteSnapshot(const Engine& engine, Seq last_seq, const std::string& dir, SnapshotInfo* info,
                     std::uint64_t keep_free_bytes = 0);

// Loads a snapshot into `engine`, which must be empty. Corruption with the
// reason if the file is damaged; then `engine` is unusable and must be
// discarded.
Status LoadSnapshot(const std::string& path, Engine* engine, SnapshotInfo* info);
// The same from snapshot bytes already in memory (fuzzing, tests); `path`
// only names the source in messages and in info->path.
Status LoadSnapshotBytes(std::string_view bytes, const std::string& path, Engine* engine, SnapshotInfo* info);

// Ok when the file at `path` is a whole snapshot: its size, magic and
// checksum are right (Corruption with the reason otherwise). Reads the file
// but builds nothing.
Status CheckSnapshot(const std::string& path);

// Deletes snapshot temporaries ("snapshot-*.snap.tmp") a crash during a
// checkpoint left in `dir`; only the holder of the data directory's lock
// may call it. `removed` counts them.
Status RemoveSnapshotTemporaries(const std::string& dir, int* removed);

// Snapshots in `dir`, newest (highest seq) first. Ignores temporary files.
Status ListSnapshots(const std::string& dir, std::vector<SnapshotInfo>* out);

}  // namespace idrecon
