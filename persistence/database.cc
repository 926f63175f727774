#include "persistence/database.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include "persistence/caller_commit_writer.h"
#include "persistence/data_dir.h"
#include "persistence/dir_settings.h"
#include "persistence/group_commit_writer.h"
#include "persistence/snapshot.h"

namespace idrecon {
namespace {

std::chrono::system_clock::time_point FileTime(const std::string& path) {
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtime));
}

// `s` with `context` before its message, same code.
Status WithContext(const Status& s, const std::string& context) {
  std::string message = context + s.message();
  switch (s.code()) {
    case Status::Code::kOk:
      return s;
    case Status::Code::kInvalidArgument:
      return Status::InvalidArgument(std::move(message));
    case Status::Code::kNotFound:
      return Status::NotFound(std::move(message));
    case Status::Code::kCorruption:
      return Status::Corruption(std::move(message));
    case Status::Code::kIOError:
      return Status::IOError(std::move(message));
    case Status::Code::kUnavailable:
      return Status::Unavailable(std::move(message));
    case Status::Code::kGuarded:
      return Status::Guarded(std::move(message));
    case Status::Code::kClusterCap:
      return Status::ClusterCap(std::move(message));
  }
  return Status::IOError(std::move(message));
}

}  // namespace

Status Database::Open(const std::string& dir, const DatabaseOptions& options, std::unique_ptr<Database>* out) {
  struct stat st;
  if (!options.create_if_missing && ::stat(dir.c_str(), &st) != 0) {
    return Status::NotFound("no data directory " + dir);
  }
  std::unique_ptr<Database> db(new Database());
  db->path_ = dir;
  db->options_ = options;
  if (db->options_.engine.clock == nullptr) db->options_.engine.clock = &SystemClock::Instance();

  if (Status s = DataDir::Open(dir, &db->dir_); !s.ok()) return s;
  int removed = 0;
  if (Status s = RemoveSnapshotTemporaries(dir, &removed); !s.ok()) {
    db->recovery_.warnings.push_back("cannot remove a stale snapshot temporary: " + s.message());
  }

  MutationLog::Options log_options;
  log_options.sync = options.sync;
  // One device flush per commit instead of two; the writer acknowledges a
  // commit once the next sync has completed (see MutationLog). Only a
  // writer does that bookkeeping, so a tool's commits sync their meta page.
  log_options.defer_meta_sync = options.writer;
  log_options.max_map_bytes = options.max_map_bytes;
  log_options.initial_map_bytes = std::min(options.initial_map_bytes, options.max_map_bytes);
  if (Status s = MutationLog::Open(db->dir_->log_dir(), log_options, &db->log_); !s.ok()) {
    return WithContext(s, "cannot open the mutation log: ");
  }
  // After a kill -9 the last commits may be only in the page cache (their
  // meta page unsynced, or never synced at all with nosync). Recovery reads
  // them and the server will show them, so make them durable first: before
  // anything is served, a response must never show what a power loss could
  // still take back.
  if (Status s = db->log_->Sync(); !s.ok()) return WithContext(s, "cannot sync the mutation log: ");

  bool empty = false;
  if (Status s = db->IsEmpty(&empty); !s.ok()) return s;
  if (Status s = ResolveDirSettings(dir, options.normalization, empty, &db->options_.engine.normalization); !s.ok()) {
    return s;
  }

  if (options.writer) {
    if (options.sync) {
      db->writer_ = std::make_unique<GroupCommitWriter>(db->log_.get(), options.log_writer);
    } else {
      db->writer_ = std::make_unique<CallerCommitWriter>(db->log_.get(), options.log_writer);
    }
  }
  if (options.recover || options.writer) {
    RecoveryReport report;
    if (Status s = db->Recover(db->writer_.get(), &db->engine_, &report); !s.ok()) {
      return WithContext(s, "cannot recover the data directory " + dir + ": ");
    }
    report.warnings.insert(report.warnings.begin(), db->recovery_.warnings.begin(), db->recovery_.warnings.end());
    db->recovery_ = std::move(report);
    db->recovered_snapshot_time_ = FileTime(db->recovery_.snapshot.path);
    if (Status s = db->engine_->AddFileGuards(options.file_guards); !s.ok()) return WithContext(s, "guard file: ");
  }
  db->recovery_.removed_temporaries = static_cast<std::uint64_t>(removed);

  if (db->writer_) {
    db->writer_->Start(db->recovery_.last_seq, db->engine_->contact_count());
    db->checkpointer_ = std::make_unique<Checkpointer>(dir, db->log_.get(), db->writer_.get(),
                                                       db->Factory(nullptr, 1), options.checkpoints);
    db->checkpointer_->Start();
  }
  *out = std::move(db);
  return Status::Ok();
}

Database::~Database() { Close(); }

Status Database::Close() {
  if (closed_) return close_status_;
  closed_ = true;
  // In-flight requests are answered (or abandoned) by now: stop the
  // checkpointer, then commit whatever the engine handed the log.
  if (checkpointer_) checkpointer_->Stop();
  if (writer_) close_status_ = writer_->Stop();
  return close_status_;
}

EngineFactory Database::Factory(ChangeSink* sink, unsigned restore_threads) const {
  Engine::Options engine_options = options_.engine;
  engine_options.sink = sink;
  engine_options.restore_threads = restore_threads;
  return [engine_options] { return std::make_unique<Engine>(engine_options); };
}

std::unique_ptr<Engine> Database::NewEngine(ChangeSink* sink) const {
  return Factory(sink, options_.engine.restore_threads)();
}

Status Database::Recover(ChangeSink* sink, std::unique_ptr<Engine>* engine, RecoveryReport* report,
                         Seq max_seq) const {
  return idrecon::Recover(path_, *log_, Factory(sink, options_.engine.restore_threads), engine, report, max_seq);
}

Status Database::IsEmpty(bool* empty) const {
  std::vector<SnapshotInfo> snapshots;
  if (Status s = ListSnapshots(path_, &snapshots); !s.ok()) return s;
  Seq last = 0;
  if (Status s = log_->LastSeq(&last); !s.ok()) return s;
  *empty = snapshots.empty() && last == 0;
  return Status::Ok();
}

Status Database::CheckpointNow() {
  if (!checkpointer_) return Status::InvalidArgument("the data directory was opened without a writer");
  return checkpointer_->CheckpointNow();
}

DatabaseStats Database::stats() const {
  DatabaseStats stats;
  stats.durable_seq = durable_seq();
  if (writer_) {
    stats.failed = writer_->failed();
    stats.durable_contacts = writer_->durable_contacts();
    stats.commits = writer_->stats();
  } else if (engine_) {
    stats.durable_contacts = engine_->contact_count();
  }
  stats.last_snapshot_time = recovered_snapshot_time_;
  if (checkpointer_) {
    stats.checkpoints = checkpointer_->stats();
    if (stats.checkpoints.snapshots_written > 0) stats.last_snapshot_time = stats.checkpoints.last_snapshot_time;
  }
  return stats;
}

}  // namespace idrecon
