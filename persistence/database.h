// Database: the one way to open a data directory (LevelDB's DB::Open).
//
// Open claims the directory (DataDir's lock: a second process is refused),
// removes the snapshot temporaries a crash left, opens the mutation log and
// syncs it (what a crashed process committed may be only in the page cache),
// and rebuilds the engine from the newest usable snapshot plus the log after it
// (Recover). With a writer (the server), the engine's changes go to a
// LogWriter — group commit when the log syncs, caller commits when it does
// not — and a Checkpointer writes snapshots in the background and trims the
// log. Without one (offline tools), the engine has no sink and the log is
// the tool's own to append to and trim.
//
// What the server sees is durability(): when a change is durable and whether
// the log failed, not who commits or when. Close commits everything and
// stops the background threads; the destructor calls it.
//
// Thread-safety: Open and Close from one thread; engine(), durability() and
// stats() are thread-safe once Open returned. The offline calls (log(),
// NewEngine, Recover, IsEmpty) belong to one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/status.h"
#include "persistence/checkpointer.h"
#include "persistence/commit_stats.h"
#include "persistence/durability.h"
#include "persistence/log_writer.h"
#include "persistence/mutation_log.h"
#include "persistence/recovery.h"

namespace idrecon {

class DataDir;

struct DatabaseOptions {
  // Missing directory: create it (and its parents), or fail with NotFound —
  // a tool's typo must not create an empty data directory.
  bool create_if_missing = true;
  // true: a commit is durable once fsync'd (a power loss loses nothing
  // acknowledged); false: commits reach the page cache only (a process crash
  // loses nothing, a power loss or kernel crash may lose the last ones).
  bool sync = true;
  std::size_t initial_map_bytes = std::size_t{64} << 20;
  std::size_t max_map_bytes = std::size_t{1} << 40;
  // The engine's settings; clock null means the system clock. The sink is
  // the database's to set, and so is engine.normalization: the directory's
  // own setting (dir_settings.h), which `normalization` may only confirm. Recovery at Open loads the snapshot with
  // restore_threads; the checkpointer's private engine uses one thread.
  Engine::Options engine;
  // The normalisation the opener was told to use (nullopt: none given). A
  // new directory is created with it (off when none); an existing one with
  // another setting is refused with InvalidArgument.
  std::optional<NormalizationSettings> normalization;
  // Values guarded by the guard file (reason file), added after recovery.
  std::vector<std::pair<GuardField, std::string>> file_guards;
  // true (server): a LogWriter behind the engine and a Checkpointer.
  // false (offline tools): neither; nothing is written unless the tool does.
  bool writer = true;
  // false: Open leaves engine() null; the tool calls Recover when it wants
  // the state (e.g. after inspecting the directory). A writer always
  // recovers.
  bool recover = true;
  // Background snapshots (with a writer).
  Checkpointer::Options checkpoints;
  LogWriterOptions log_writer;
};

// One view of the numbers /metrics and the stop line report.
struct DatabaseStats {
  Seq durable_seq = 0;
  bool failed = false;
  std::uint64_t durable_contacts = 0;  // contacts whose create record is durable
  CommitStats commits;
  Checkpointer::Stats checkpoints;
  // When the newest snapshot was written (by this process, or the one
  // recovery loaded); epoch: there is none.
  std::chrono::system_clock::time_point last_snapshot_time{};
};

class Database {
 public:
  static Status Open(const std::string& dir, const DatabaseOptions& options, std::unique_ptr<Database>* out);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  // The recovered engine; null when opened with recover = false.
  Engine* engine() { return engine_.get(); }
  const Engine* engine() const { return engine_.get(); }
  const RecoveryReport& recovery() const { return recovery_; }
  // The directory's normalisation setting (what every engine here uses).
  const NormalizationSettings& normalization() const { return options_.engine.normalization; }
  // Null without a writer.
  Durability* durability() { return writer_.get(); }
  Seq durable_seq() const { return writer_ ? writer_->durable_seq() : recovery_.last_seq; }
  // The sticky error; Ok without a writer.
  Status error() const { return writer_ ? writer_->error() : Status::Ok(); }
  DatabaseStats stats() const;

  // Writes a snapshot of everything committed so far, now, on this thread.
  // InvalidArgument without a writer.
  Status CheckpointNow();

  // Commits everything the engine handed over, stops the checkpointer and
  // the writer. Returns the sticky error, if any. Idempotent.
  Status Close();

  // Offline use. The log: a tool may append to it and trim it; with a
  // writer, only read it.
  MutationLog& log() { return *log_; }
  const MutationLog& log() const { return *log_; }
  // A fresh, empty engine with the options' settings, on `sink`.
  std::unique_ptr<Engine> NewEngine(ChangeSink* sink = nullptr) const;
  // The directory's state in a fresh engine on `sink`, up to `max_seq` (0:
  // all), exactly as Open recovers it.
  Status Recover(ChangeSink* sink, std::unique_ptr<Engine>* engine, RecoveryReport* report, Seq max_seq = 0) const;
  // True when the directory holds no snapshot and no log record.
  Status IsEmpty(bool* empty) const;

 private:
  Database() = default;
  EngineFactory Factory(ChangeSink* sink, unsigned restore_threads) const;

  std::string path_;
  DatabaseOptions options_;
  // Destroyed in reverse: the checkpointer reads the log and asks the
  // writer to trim; the engine hands changes to the writer; the writer
  // writes the log; the lock goes last.
  std::unique_ptr<DataDir> dir_;
  std::unique_ptr<MutationLog> log_;
  std::unique_ptr<LogWriter> writer_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Checkpointer> checkpointer_;
  RecoveryReport recovery_;
  std::chrono::system_clock::time_point recovered_snapshot_time_{};
  bool closed_ = false;
  Status close_status_;
};

}  // namespace idrecon
