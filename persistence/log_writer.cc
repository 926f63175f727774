#include "persistence/log_writer.h"

#include <pthread.h>

#include <chrono>
#include <exception>
#include <string>
#include <utility>

namespace idrecon {

LogWriter::LogWriter(MutationLog* log, const LogWriterOptions& options, bool wake_on_append)
    : log_(log), options_(options), wake_on_append_(wake_on_append) {}

LogWriter::~LogWriter() { Stop(); }

void LogWriter::Start(Seq durable_seq, std::uint64_t durable_contacts) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  waiters_.Reset(durable_seq);
  written_seq_ = durable_seq;
  written_contacts_ = durable_contacts;
  durable_contacts_.store(durable_contacts, std::memory_order_release);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "idr-log-writer");  // for top -H, perf, gdb
    std::unique_lock<std::mutex> held(mu_);
    Run(held);
  });
}

Status LogWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  return error();
}

void LogWriter::Append(const Change& change) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_local_) return;  // nothing after a failure can become durable
    try {
      if (options_.before_queue) options_.before_queue();
      pending_.Add(change);
      // Only a sleeping writer needs a (futex) wake-up; a committing one
      // takes whatever is pending when its commit ends.
      wake = wake_on_append_ && writer_sleeping_;
      if (wake) writer_sleeping_ = false;
    } catch (const std::exception& e) {
      // The engine applies this change in memory whatever happens here, so
      // memory is now ahead of the log: the same as a failed commit. The
      // waiters are failed on the writer thread, not here under the
      // engine's sequencer lock.
      failed_local_ = true;
      failed_.store(true, std::memory_order_release);
      try {
        error_ = Status::IOError("cannot queue change " + std::to_string(change.seq) + " for the log: " + e.what());
      } catch (...) {  // no memory even for the message: the one made up front
        error_ = std::move(out_of_memory_);
      }
      pending_.Clear();
      wake = true;
    }
  }
  if (wake) wake_.notify_one();
}

void LogWriter::RequestTrim(Seq upto) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (upto <= trim_request_) return;
    trim_request_ = upto;
  }
  wake_.notify_one();
}

Status LogWriter::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

CommitStats LogWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool LogWriter::BackgroundStep(std::unique_lock<std::mutex>& lock, bool commit_pending) {
  if (failed_local_ && !waiters_failed_) {  // a queuing failure in Append
    FailLocked(error_, lock);
    return true;
  }
  if (committing_ || failed_local_) return false;
  const bool trim_due = !stopping_ && trim_request_ > stats_.trimmed_through;
  if (trim_due && commits_since_trim_step_ >= options_.commits_per_trim_step) {
    // A load that never leaves the queue empty must not starve the trim.
    TrimStepLocked(lock);
    CommitOnceAfterTrimStep(lock);
    return true;
  }
  if (commit_pending && CanCommit()) {
    CommitLocked(lock);
    return true;
  }
  if (written_seq_ > durable_seq()) {
    SyncLocked(lock);
    return true;
  }
  if (trim_due) {
    TrimStepLocked(lock);
    CommitOnceAfterTrimStep(lock);
    return true;
  }
  return false;
}

void LogWriter::CommitOnceAfterTrimStep(std::unique_lock<std::mutex>& lock) {
  // A caller that wanted to commit during the step left its changes. One
  // commit takes them all; more would let a steady load keep the next step
  // waiting (the loop decides again).
  if (failed_local_ && !waiters_failed_) FailLocked(error_, lock);
  if (CanCommit()) CommitLocked(lock);
}

void LogWriter::CommitWhilePending(std::unique_lock<std::mutex>& lock) {
  if (failed_local_ && !waiters_failed_) FailLocked(error_, lock);
  while (CanCommit()) CommitLocked(lock);
}

void LogWriter::CommitLocked(std::unique_lock<std::mutex>& lock) {
  committing_ = true;
  std::swap(batch_, pending_);
  lock.unlock();

  const auto start = std::chrono::steady_clock::now();
  bool io_failed = false;
  const Status s = log_->Append(batch_, &io_failed);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();

  lock.lock();
  if (!s.ok()) {
    batch_.Clear();
    // The previous commit (deferred meta sync) was waiting for this one's
    // sync. If LMDB refused this one before any I/O (map full), a sync
    // still makes the previous one durable and its clients get their
    // answers. If this one's writes or sync failed, the previous one is in
    // doubt (a second fdatasync after a failed one may report success for
    // pages that never reached the disk), so its waiters fail with the rest.
    if (!io_failed && written_seq_ > durable_seq()) {
      lock.unlock();
      const Status synced = log_->Sync();
      lock.lock();
      if (synced.ok()) PublishLocked(written_seq_, written_contacts_, lock);
    }
    committing_ = false;
    FailLocked(s, lock);
    return;
  }
  stats_.RecordCommit(batch_.size(), static_cast<std::uint64_t>(micros));
  ++commits_since_trim_step_;
  const Seq previous = written_seq_;
  const std::uint64_t previous_contacts = written_contacts_;
  written_seq_ = batch_.last_seq();
  if (batch_.last_created() != 0) written_contacts_ = batch_.last_created();
  batch_.Clear();
  committing_ = false;
  // With a deferred meta sync this commit's data sync made the previous
  // commit durable; its own records become durable at the next sync.
  if (log_->defers_meta_sync()) {
    PublishLocked(previous, previous_contacts, lock);
  } else {
    PublishLocked(written_seq_, written_contacts_, lock);
  }
  if (options_.after_commit) {
    lock.unlock();
    options_.after_commit();
    lock.lock();
  }
}

void LogWriter::SyncLocked(std::unique_lock<std::mutex>& lock) {
  committing_ = true;
  const Seq written = written_seq_;
  const std::uint64_t contacts = written_contacts_;
  lock.unlock();
  const Status s = log_->Sync();
  lock.lock();
  committing_ = false;
  if (!s.ok()) return FailLocked(s, lock);
  stats_.meta_syncs++;
  PublishLocked(written, contacts, lock);
}

void LogWriter::TrimStepLocked(std::unique_lock<std::mutex>& lock) {
  committing_ = true;  // a trim step is an LMDB write transaction too: no commit meanwhile
  const Seq upto = trim_request_;
  lock.unlock();
  bool done = false;
  const Status t = log_->TrimStep(upto, options_.trim_step_records, &done);
  lock.lock();
  committing_ = false;
  stats_.trim_steps++;
  commits_since_trim_step_ = 0;
  if (!t.ok()) {
    stats_.last_trim_error = t.ToString();
    trim_request_ = stats_.trimmed_through;  // retried at the next request
  } else if (done) {
    stats_.trimmed_through = upto;
  }
  if (options_.after_trim_step) {
    lock.unlock();
    options_.after_trim_step();
    lock.lock();
  }
}

void LogWriter::PublishLocked(Seq seq, std::uint64_t contacts, std::unique_lock<std::mutex>& lock) {
  // Under mu_, so contacts only grow even when publishers race.
  if (contacts > durable_contacts_.load(std::memory_order_relaxed)) {
    durable_contacts_.store(contacts, std::memory_order_release);
  }
  if (seq <= durable_seq()) return;
  lock.unlock();
  waiters_.Publish(seq);
  lock.lock();
}

void LogWriter::FailLocked(const Status& error, std::unique_lock<std::mutex>& lock) {
  if (!failed_local_) error_ = error;
  const bool first = !failure_reported_;
  failure_reported_ = true;
  failed_local_ = true;
  failed_.store(true, std::memory_order_release);
  waiters_failed_ = true;
  pending_.Clear();
  const Status sticky = error_;
  lock.unlock();
  if (first && options_.on_failure) options_.on_failure(sticky);
  waiters_.Fail(sticky);
  lock.lock();
}

}  // namespace idrecon
