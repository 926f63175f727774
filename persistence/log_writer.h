// LogWriter: group commit of engine changes to the MutationLog.
//
// The engine calls Append (as its ChangeSink) under its sequencer lock; the
// record is encoded into the pending batch and the writer thread is woken.
// The writer thread takes everything pending, writes it in one LMDB
// transaction with one sync, publishes durable_seq and completes every
// waiter whose seq is now durable. There is no timer: a batch is whatever
// queued while the previous commit ran, so under load many requests share
// one fsync and an idle server commits a lone change at once.
//
// Over a log that defers its meta sync (MutationLog::defers_meta_sync: one
// device flush per commit instead of two) a commit's changes become durable
// when the next commit's sync completes; when nothing is pending to carry it,
// the writer thread syncs at once. durable_seq and the waiters follow that.
//
// Errors are sticky (LevelDB's background error): after a failed commit the
// in-memory state is ahead of the disk, so the writer stops writing, fails
// every waiter and every later WhenDurable with that error, and error()
// reports it until the process restarts and recovers from disk.
//
// Who commits. By default the writer thread does. With SetCallerCommits
// (used by a `--sync nosync` server, whose commits take a few µs and never
// wait for the disk) Append does not wake the writer; the caller commits by
// calling CommitPending on its own thread — the HTTP I/O thread, right after
// the request that changed something, which saves the two thread switches
// per change (wake the writer, post the answer back) that otherwise cost more
// CPU than the commit itself. The writer
// thread then only trims, commits what is left at Stop, and, as a safety net,
// commits anything left pending for a whole kCallerCommitGrace. Commits
// never overlap (one committer at a time, in seq order), whoever runs them.
//
// Thread-safety: all public methods are thread-safe. Callbacks run on the
// thread that committed (the writer's, or a CommitPending caller's), or
// inline in WhenDurable when the answer is already known; they must be quick
// (post work elsewhere) and must not call Stop or CommitPending.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "engine/change.h"
#include "engine/status.h"
#include "persistence/log_batch.h"
#include "persistence/mutation_log.h"

namespace idrecon {

class LogWriter final : public ChangeSink {
 public:
  using Callback = std::function<void(const Status&)>;

  // Upper bounds (seconds) of the commit-latency histogram buckets; one
  // more bucket counts everything slower.
  static constexpr std::array<double, 12> kCommitLatencyBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

  struct Stats {
    std::uint64_t commits = 0;          // successful transactions
    std::uint64_t changes = 0;          // records in them
    std::uint64_t commit_micros = 0;    // total time spent committing
    std::uint64_t max_batch = 0;
    std::uint64_t meta_syncs = 0;       // Syncs of a deferred-meta-sync log with nothing to commit
    Seq trimmed_through = 0;
    std::string last_trim_error;
    // Commits per latency bucket (not cumulative); the last is "slower".
    std::array<std::uint64_t, kCommitLatencyBounds.size() + 1> commit_latency_counts{};
  };

  // `log` must outlive the writer.
  explicit LogWriter(MutationLog* log);
  ~LogWriter() override;
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // How often the writer looks for changes no caller committed (the safety
  // net of caller commits): a change waits at most about twice this.
  static constexpr std::chrono::milliseconds kCallerCommitGrace{5};

  // See "Who commits" above. Call before Start. `grace` replaces
  // kCallerCommitGrace (tests).
  void SetCallerCommits(bool on, std::chrono::milliseconds grace = kCallerCommitGrace) {
    caller_commits_ = on;
    caller_commit_grace_ = grace;
  }
  bool caller_commits() const { return caller_commits_; }
  // With caller commits, after an Append: true when no CommitPending is
  // scheduled yet — the caller must then arrange one call (soon, on a thread
  // that may spend a commit's time); false when one is already on its way
  // and will take this change too. Lets many changes share one commit.
  bool ShouldScheduleCommit();
  // Commits everything pending, on the calling thread, unless another
  // thread is committing (it then takes what is pending when it finishes).
  // Runs the ready waiters' callbacks here. Must not be called from a callback.
  void CommitPending();

  // Starts the writer thread. `durable_seq` is the last seq the recovered
  // state covers (all of it is on disk); the next Append carries
  // durable_seq + 1. The writer may be the engine's sink before Start, as
  // long as nothing is appended (recovery only applies changes).
  void Start(Seq durable_seq);
  // Commits everything appended so far, then ends the writer thread. Returns
  // the sticky error if there is one. Idempotent.
  Status Stop();

  // ChangeSink: queue one change (called under the engine's sequencer lock).
  void Append(const Change& change) override;

  // Calls `done(Ok)` once every change up to `seq` is durable, or
  // `done(error)` if that can no longer happen. Inline if already known.
  void WhenDurable(Seq seq, Callback done);

  // Asks the writer thread to delete log records with seq <= `upto` (a
  // snapshot covers them) between commits. A failed trim is reported in
  // stats and retried at the next request; it never loses data.
  void RequestTrim(Seq upto);

  Seq durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  Status error() const;
  Stats stats() const;

 private:
  void Run();
  // With `lock` held, committing_ false, pending_ not empty and no error:
  // commits pending_ (the lock is released during the write and the
  // callbacks) and completes the waiters it made durable.
  void CommitLocked(std::unique_lock<std::mutex>& lock);
  void Fail(const Status& error, std::unique_lock<std::mutex>& lock);
  // With `lock` held and committing_ false: syncs the log so that
  // written_seq_ becomes durable (deferred meta sync, nothing pending).
  void SyncLocked(std::unique_lock<std::mutex>& lock);
  // With `lock` held: advances durable_seq to `durable` (if higher) and runs
  // the callbacks of the waiters it completes (the lock is released meanwhile).
  void PublishDurable(Seq durable, std::unique_lock<std::mutex>& lock);

  MutationLog* const log_;
  std::atomic<Seq> durable_seq_{0};
  std::atomic<bool> failed_{false};

  mutable std::mutex mu_;
  std::condition_variable wake_;
  LogBatch pending_;                        // guarded by mu_
  std::multimap<Seq, Callback> waiters_;    // guarded by mu_
  Status error_;                            // guarded by mu_
  Stats stats_;                             // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  Seq trim_request_ = 0;                    // guarded by mu_
  bool writer_sleeping_ = false;            // guarded by mu_; Append wakes it only then
  bool committing_ = false;                 // guarded by mu_; a commit, sync or trim is running
  Seq written_seq_ = 0;                     // guarded by mu_; last seq committed (durable or not)
  LogBatch batch_;                          // owned by whoever set committing_
  bool caller_commits_ = false;             // set before Start
  std::chrono::milliseconds caller_commit_grace_ = kCallerCommitGrace;  // set before Start
  std::atomic<bool> commit_scheduled_{false};  // see ShouldScheduleCommit
  bool started_ = false;
  std::thread thread_;
};

}  // namespace idrecon
