// Backup: a consistent copy of a data directory, taken while a server may be
// running on it.
//
// The copy is itself a data directory that idrecon-server (or the tools) can
// open. How it stays consistent without stopping the writer: first the log is
// copied with LMDB's copy API inside one read transaction (a point-in-time
// image, compacted), then the snapshot files present at that moment are
// copied (a snapshot file never changes once renamed into place). Recovery
// from the copy loads the newest snapshot and replays the copied log after
// it: if a checkpoint finished between the two steps, the newer snapshot
// covers more than the log copy, which is still a state the server had
// durably reached. The source's LOCK is not taken (it belongs to the running
// server); LMDB's own reader table coordinates with the writer.
//
// Thread-safety: a free function; run it from one thread (or process) at a
// time per destination.
#pragma once

#include <cstdint>
#include <string>

#include "engine/change.h"
#include "engine/status.h"

namespace idrecon {

struct BackupReport {
  std::uint64_t log_bytes = 0;
  Seq log_last_seq = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t snapshot_bytes = 0;
  double seconds = 0;
};

// Copies `data_dir` into `out_dir`, which must not exist or be empty.
Status BackupDataDir(const std::string& data_dir, const std::string& out_dir, BackupReport* report);

}  // namespace idrecon
