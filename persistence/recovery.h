// Recovery: rebuild an engine from a data directory = the newest usable
// snapshot + every log record after it.
//
// The same path serves the server at startup, the background checkpointer
// (on its private engine) and offline tools, so all three agree on what the
// data directory means.
//
// A damaged newest snapshot is reported and the next older one is tried (the
// log is trimmed only up to the older of the two newest snapshots, so its
// records are still there). Recovery refuses, with a precise message, when
// the records after the best snapshot are not all in the log, or a record is
// damaged or does not fit: it never silently drops data.
//
// Thread-safety: a free function; reads the log through its own read
// transaction, so it may run while a LogWriter appends.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/status.h"
#include "persistence/mutation_log.h"
#include "persistence/snapshot.h"

namespace idrecon {

struct RecoveryReport {
  SnapshotInfo snapshot;       // last_seq 0 and empty path: none was loaded
  std::uint64_t replayed = 0;  // log records applied after it
  Seq last_seq = 0;            // the engine's state covers changes up to here
  double seconds = 0;
  std::vector<std::string> warnings;  // e.g. a damaged snapshot that was skipped
  std::uint64_t removed_temporaries = 0;  // snapshot temporaries a crash left (Database::Open)
};

using EngineFactory = std::function<std::unique_ptr<Engine>()>;

// Builds a fresh engine with `make_engine`, loads `snapshot_dir`'s newest
// usable snapshot and replays `log` after it. `max_seq` (0: no limit) stops
// the replay there.
Status Recover(const std::string& snapshot_dir, const MutationLog& log, const EngineFactory& make_engine,
               std::unique_ptr<Engine>* engine, RecoveryReport* report, Seq max_seq = 0);

// Brings an engine that already covers `*seq` up to the log's end (or
// `max_seq`), applying the records after it; updates `*seq`.
Status CatchUp(const MutationLog& log, Engine* engine, Seq* seq, std::uint64_t* applied, Seq max_seq = 0);

}  // namespace idrecon
