// LogWriter: takes the engine's changes (it is the engine's ChangeSink) and
// commits them to the MutationLog, in seq order, one committer at a time;
// tells DurableWaiters what became durable. It is the Durability the server
// sees. Two policies decide who commits (Database picks by the sync mode):
//
//   GroupCommitWriter   (fsync) the writer thread commits whatever queued
//                       while the previous commit ran: group commit.
//   CallerCommitWriter  (nosync) the I/O thread that made a change commits it
//                       in AfterRequest; the writer thread is a safety net.
//
// What both share lives here:
//   - Append (under the engine's sequencer lock) encodes the change into the
//     pending batch. It never throws: if queuing fails (std::bad_alloc),
//     that failure becomes the sticky error — the engine has already applied
//     the change in memory, so memory is ahead of the log, and every later
//     change and every waiter fails until a restart recovers from the disk.
//   - A commit swaps the pending batch out and writes it in one LMDB
//     transaction with the lock released, so Appends go on meanwhile.
//     Commits, syncs and trim steps never overlap (`committing_`).
//   - Deferred meta sync (MutationLog::defers_meta_sync): a commit's changes
//     are durable only once the next sync of the file has completed — the
//     next commit's, or an explicit one the writer thread makes when nothing
//     else would carry them.
//   - Trimming: RequestTrim(upto) has the writer thread delete the records a
//     snapshot covers, at most trim_step_records per transaction, and commit
//     what is pending between steps, so a commit never waits for more than
//     one small step (not for a whole trim: ~100 synced transactions per
//     million records). Steps run when nothing is pending, and under a load
//     that never leaves the queue empty, after every commits_per_trim_step
//     commits, so a trim always ends.
//   - Errors are sticky (see Durability). Nothing clears them but a restart.
//
// Thread-safety: all public methods are thread-safe. Callbacks run as
// Durability says, on the writer thread or on a committing caller's.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/change.h"
#include "engine/status.h"
#include "persistence/commit_stats.h"
#include "persistence/durability.h"
#include "persistence/durable_waiters.h"
#include "persistence/log_batch.h"
#include "persistence/mutation_log.h"

namespace idrecon {

struct LogWriterOptions {
  // Records deleted per trim transaction: a commit waits for at most one
  // such step.
  std::size_t trim_step_records = 1000;
  // While a trim is due and changes keep coming, one trim step after this
  // many commits (so the log cannot grow for ever under a steady load).
  std::uint64_t commits_per_trim_step = 32;
  // Test hooks; empty in production. after_trim_step runs on the writer
  // thread after each trim step, after_commit on the committing thread
  // after each successful commit, both with no lock held. before_queue runs
  // in Append before the change is queued and may throw, as a failed
  // allocation would.
  std::function<void()> after_trim_step;
  std::function<void()> after_commit;
  std::function<void()> before_queue;
  // Called once, when the error becomes sticky, with that error, on the
  // thread that fails the waiters (a committer, or the writer thread after a
  // change could not be queued), with none of the writer's locks held. The
  // server logs the detail here: /health shows only "storage error". Must
  // be quick; optional.
  std::function<void(const Status&)> on_failure;
};

class LogWriter : public ChangeSink, public Durability {
 public:
  ~LogWriter() override;
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Starts the writer thread. Everything up to `durable_seq` is on disk and
  // creates contacts 1..`durable_contacts`; the next Append carries
  // durable_seq + 1. The writer may be the engine's sink before Start, as
  // long as nothing is appended (recovery only applies changes).
  void Start(Seq durable_seq, std::uint64_t durable_contacts = 0);
  // Commits everything appended so far (a trim not finished is left for
  // the next request: the records stay, harmlessly), then ends the writer
  // thread. Returns the sticky error if
  // there is one. Idempotent.
  Status Stop();

  // ChangeSink.
  void Append(const Change& change) final;

  // Durability. AfterRequest is the policy's.
  Seq durable_seq() const final { return waiters_.durable_seq(); }
  bool failed() const final { return failed_.load(std::memory_order_acquire); }
  Status error() const final;
  void WhenDurable(Seq seq, Callback done) final { waiters_.Add(seq, std::move(done)); }

  // Asks the writer thread to delete log records with seq <= `upto` (a
  // snapshot covers them). A failed trim is reported in stats and retried at
  // the next request; it never loses data.
  void RequestTrim(Seq upto);

  // Contacts whose create record is durable (ids are dense, so: the highest
  // such id).
  std::uint64_t durable_contacts() const { return durable_contacts_.load(std::memory_order_acquire); }
  CommitStats stats() const;

 protected:
  LogWriter(MutationLog* log, const LogWriterOptions& options, bool wake_on_append);

  // The writer thread's loop, entered and left with `lock` (on mu_) held;
  // returns once stopping_ is set and its work is done.
  virtual void Run(std::unique_lock<std::mutex>& lock) = 0;

  // With `lock` held: does the first piece of work that is due — fail after
  // a queuing error, commit the pending batch (if `commit_pending`), sync a
  // deferred meta page, or one trim step — and returns whether it did any.
  bool BackgroundStep(std::unique_lock<std::mutex>& lock, bool commit_pending);
  // With `lock` held: commits while there is something to commit and nobody
  // else is committing.
  void CommitWhilePending(std::unique_lock<std::mutex>& lock);
  // With `lock` held, right after a trim step: at most one commit.
  void CommitOnceAfterTrimStep(std::unique_lock<std::mutex>& lock);

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;        // guarded by mu_
  bool committing_ = false;      // guarded by mu_; a commit, sync or trim step is running
  LogBatch pending_;             // guarded by mu_
  bool writer_sleeping_ = false;  // guarded by mu_; Append wakes the thread only then

 private:
  bool CanCommit() const { return !pending_.empty() && !committing_ && !failed_local_; }
  // With `lock` held and CanCommit(): commits pending_ (the lock is released
  // during the write) and publishes what it made durable.
  void CommitLocked(std::unique_lock<std::mutex>& lock);
  // With `lock` held and nothing committing: syncs so written_seq_ becomes
  // durable (deferred meta sync, nothing pending to carry it).
  void SyncLocked(std::unique_lock<std::mutex>& lock);
  void TrimStepLocked(std::unique_lock<std::mutex>& lock);
  // With `lock` held: everything up to `seq`, creating contacts up to
  // `contacts`, is durable; runs the waiters it completes (lock released).
  void PublishLocked(Seq seq, std::uint64_t contacts, std::unique_lock<std::mutex>& lock);
  // With `lock` held: makes `error` sticky and fails every waiter.
  void FailLocked(const Status& error, std::unique_lock<std::mutex>& lock);

  MutationLog* const log_;
  const LogWriterOptions options_;
  const bool wake_on_append_;
  DurableWaiters waiters_;
  std::atomic<bool> failed_{false};
  std::atomic<std::uint64_t> durable_contacts_{0};

  bool failed_local_ = false;         // guarded by mu_; mirrors failed_
  bool waiters_failed_ = false;       // guarded by mu_; waiters_.Fail has run
  bool failure_reported_ = false;     // guarded by mu_; options_.on_failure has run
  std::uint64_t commits_since_trim_step_ = 0;  // guarded by mu_
  // The error Append records when even building a message fails (it must
  // not throw): made up front, moved in once.
  Status out_of_memory_ = Status::IOError("cannot queue a change for the log: out of memory");
  Status error_;                      // guarded by mu_
  Seq written_seq_ = 0;               // guarded by mu_; last seq committed (durable or not)
  std::uint64_t written_contacts_ = 0;  // guarded by mu_; contacts created up to written_seq_
  Seq trim_request_ = 0;              // guarded by mu_
  CommitStats stats_;                 // guarded by mu_
  LogBatch batch_;                    // owned by whoever set committing_
  bool started_ = false;              // guarded by mu_
  std::thread thread_;
};

}  // namespace idrecon
