// Checkpointer: writes snapshots in the background and trims the log.
//
// It never touches the live engine. Its thread keeps a private engine,
// built the first time by Recover() from the data directory and afterwards
// brought forward by applying the log records committed since (CatchUp). To
// checkpoint it writes that private engine as a snapshot, keeps the newest
// `keep` readable snapshots (at least 2, so a damaged newest one can fall
// back to the previous one; a damaged one does not count), deletes older
// ones, and asks the LogWriter to trim the log through the oldest snapshot
// kept (SnapshotRetention).
//
// A checkpoint starts when `every_changes` records were committed since the
// last one, or `every_seconds` passed and anything was committed.
//
// Disk space. A snapshot shares the disk with the log, and a log that cannot
// grow fails its next commit — stickily: every change gets 503 until the
// server restarts (the restart is the only thing that clears it; see
// Durability). So a snapshot is written only if, once it is written,
// `log_headroom_bytes` stay free on the log's filesystem (when the log lives
// on another filesystem, the snapshot just has to fit); otherwise the
// checkpoint fails, having written nothing. A failed snapshot costs only
// disk space for the log (its records stay); the background loop then backs
// off — 1 s after the first failure in a row, doubling up to `retry_cap` —
// instead of retrying every second.
//
// Thread-safety: Start/Stop/CheckpointNow/stats may be called from any
// thread; checkpoints never overlap.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "engine/status.h"
#include "persistence/log_writer.h"
#include "persistence/mutation_log.h"
#include "persistence/recovery.h"
#include "persistence/snapshot_retention.h"

namespace idrecon {

class Checkpointer {
 public:
  struct Options {
    std::uint64_t every_changes = 1'000'000;  // 0: never by count
    std::uint64_t every_seconds = 300;        // 0: never by time
    std::size_t keep = 2;
    // Free bytes a snapshot must leave for the log (same filesystem only).
    std::uint64_t log_headroom_bytes = std::uint64_t{64} << 20;
    // Longest wait between failed background checkpoints.
    std::chrono::seconds retry_cap{60};
    // Called on the checkpointer's thread after each background checkpoint
    // (for logging): Ok with the snapshot's seq, or the error. Optional.
    std::function<void(const Status&, Seq)> on_checkpoint;
  };

  struct Stats {
    std::uint64_t snapshots_written = 0;
    Seq last_snapshot_seq = 0;
    std::chrono::system_clock::time_point last_snapshot_time{};  // epoch: none yet
    double last_duration_seconds = 0;
    std::string last_error;
    std::uint64_t failures_in_a_row = 0;  // background checkpoints; 0 after a success
    std::chrono::seconds retry_delay{0};  // the wait before the next background attempt after them
  };

  // The wait after `failures` background failures in a row: 2^(failures-1)
  // seconds, at most `cap`; 0 for none.
  static std::chrono::seconds RetryDelay(std::uint64_t failures, std::chrono::seconds cap);

  // `dir` is the data directory (snapshots live there). `log` and `writer`
  // must outlive the checkpointer. `make_engine` builds the private engine.
  Checkpointer(std::string dir, const MutationLog* log, LogWriter* writer, EngineFactory make_engine,
               const Options& options);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  void Start();
  void Stop();

  // Writes a snapshot of everything committed so far, now, on the calling
  // thread (waits for a running background checkpoint first).
  Status CheckpointNow();

  Stats stats() const;

 private:
  void Run();
  Status CheckpointLocked();  // holds checkpoint_mu_

  const std::string dir_;
  const MutationLog* const log_;
  LogWriter* const writer_;
  const EngineFactory make_engine_;
  const Options options_;

  std::mutex checkpoint_mu_;           // one checkpoint at a time
  std::unique_ptr<Engine> private_;    // guarded by checkpoint_mu_
  Seq private_seq_ = 0;                // guarded by checkpoint_mu_
  SnapshotRetention retention_;        // guarded by checkpoint_mu_

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  Stats stats_;            // guarded by mu_
  std::thread thread_;
};

}  // namespace idrecon
