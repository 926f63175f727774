// Rebuild: the state of a data directory rebuilt from its newest usable
// snapshot + the log (or, with `from_log_only`, from the log alone, which
// must then start at seq 1), written as a fresh snapshot covering the last
// seq, and its SHA-256.
//
// Contract: deterministic — the same log (and snapshot) gives a byte-identical
// snapshot (snapshot.h's encoding is a pure function of the state), so the
// SHA-256 identifies the state. The snapshot is written atomically; with
// `compact` the log is then trimmed through it and every other snapshot is
// removed. An empty directory is left alone (nothing to rebuild).
//
// Thread-safety: none; the data directory is locked while it runs.
#pragma once

#include <cstdint>
#include <string>

#include "engine/change.h"
#include "engine/status.h"

namespace idrecon::tools {

struct RebuildOptions {
  std::string data_dir;
  bool from_log_only = false;
  bool compact = false;
};

struct RebuildSummary {
  bool empty = false;           // nothing to rebuild; nothing written
  std::string loaded_snapshot;  // what it started from ("" = none)
  std::uint64_t replayed = 0;
  std::uint64_t contacts = 0, clusters = 0;
  Seq last_seq = 0;
  std::string snapshot_path;
  std::uint64_t snapshot_bytes = 0;
  std::string sha256;
  double recover_seconds = 0, write_seconds = 0;
};

Status Rebuild(const RebuildOptions& options, RebuildSummary* summary);

}  // namespace idrecon::tools
