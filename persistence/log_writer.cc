#include "persistence/log_writer.h"

#include <pthread.h>

#include <chrono>
#include <utility>
#include <vector>

namespace idrecon {

LogWriter::LogWriter(MutationLog* log) : log_(log) {}

LogWriter::~LogWriter() { Stop(); }

void LogWriter::Start(Seq durable_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  durable_seq_.store(durable_seq, std::memory_order_release);
  written_seq_ = durable_seq;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "idr-log-writer");  // for top -H, perf, gdb
    Run();
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
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return;  // nothing after a failed commit can become durable
    pending_.Add(change);
    // Only a sleeping writer needs a (futex) wake-up; a committing one takes
    // whatever is pending when its commit ends. With caller commits nobody
    // is woken: the caller calls CommitPending.
    wake = writer_sleeping_ && !caller_commits_;
    if (wake) writer_sleeping_ = false;
  }
  if (wake) wake_.notify_one();
}

void LogWriter::WhenDurable(Seq seq, Callback done) {
  Status result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok() && seq > durable_seq()) {
      result = error_;
    } else if (seq > durable_seq()) {
      waiters_.emplace(seq, std::move(done));
      return;
    }
  }
  done(result);
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

LogWriter::Stats LogWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void LogWriter::Fail(const Status& error, std::unique_lock<std::mutex>& lock) {
  error_ = error;
  failed_.store(true, std::memory_order_release);
  pending_.Clear();
  auto waiters = std::move(waiters_);
  waiters_.clear();
  lock.unlock();
  for (auto& [seq, cb] : waiters) cb(error);
  lock.lock();
}

bool LogWriter::ShouldScheduleCommit() { return !commit_scheduled_.exchange(true, std::memory_order_acq_rel); }

void LogWriter::CommitPending() {
  // Cleared first (acq_rel: see every Append whose caller saw it set), so an
  // Append that misses this commit schedules the next one.
  commit_scheduled_.exchange(false, std::memory_order_acq_rel);
  std::unique_lock<std::mutex> lock(mu_);
  while (!pending_.empty() && !committing_ && error_.ok()) CommitLocked(lock);
}

void LogWriter::CommitLocked(std::unique_lock<std::mutex>& lock) {
  committing_ = true;
  std::swap(batch_, pending_);
  lock.unlock();

  const auto start = std::chrono::steady_clock::now();
  bool io_failed = false;
  Status s = log_->Append(batch_, &io_failed);
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
      const Seq previous = written_seq_;
      lock.unlock();
      const Status synced = log_->Sync();
      lock.lock();
      if (synced.ok()) PublishDurable(previous, lock);
    }
    committing_ = false;
    Fail(s, lock);
    return;
  }
  committing_ = false;
  stats_.commits++;
  stats_.changes += batch_.size();
  stats_.commit_micros += static_cast<std::uint64_t>(micros);
  std::size_t bucket = 0;
  while (bucket < kCommitLatencyBounds.size() && static_cast<double>(micros) / 1e6 > kCommitLatencyBounds[bucket]) {
    ++bucket;
  }
  stats_.commit_latency_counts[bucket]++;
  if (batch_.size() > stats_.max_batch) stats_.max_batch = batch_.size();
  // With a deferred meta sync this commit's data sync made the previous
  // commit durable; its own records become durable at the next sync.
  const Seq written = batch_.last_seq();
  batch_.Clear();
  if (log_->defers_meta_sync()) {
    const Seq previous = written_seq_;
    written_seq_ = written;
    PublishDurable(previous, lock);
  } else {
    written_seq_ = written;
    PublishDurable(written, lock);
  }
}

void LogWriter::SyncLocked(std::unique_lock<std::mutex>& lock) {
  committing_ = true;
  const Seq written = written_seq_;
  lock.unlock();
  Status s = log_->Sync();
  lock.lock();
  committing_ = false;
  if (!s.ok()) return Fail(s, lock);
  stats_.meta_syncs++;
  PublishDurable(written, lock);
}

void LogWriter::PublishDurable(Seq durable, std::unique_lock<std::mutex>& lock) {
  if (durable <= durable_seq()) return;
  durable_seq_.store(durable, std::memory_order_release);
  if (waiters_.empty() || waiters_.begin()->first > durable) return;
  std::vector<Callback> ready;
  auto end = waiters_.upper_bound(durable);
  for (auto it = waiters_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
  waiters_.erase(waiters_.begin(), end);
  lock.unlock();
  for (auto& cb : ready) cb(Status::Ok());
  lock.lock();
}

void LogWriter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (committing_) {  // a CommitPending caller is at it; look again soon
      wake_.wait_for(lock, std::chrono::milliseconds(1));
      continue;
    }
    if (!pending_.empty() && (!caller_commits_ || stopping_)) {
      CommitLocked(lock);
      continue;
    }
    if (pending_.empty() && written_seq_ > durable_seq() && error_.ok()) {
      // Deferred meta sync and nothing to commit that would carry it: sync
      // now rather than keep the last commits waiting for the next change.
      SyncLocked(lock);
      continue;
    }
    if (pending_.empty() && trim_request_ > stats_.trimmed_through) {
      if (!error_.ok()) {  // after a failure: no more log writes
        trim_request_ = stats_.trimmed_through;
        continue;
      }
      const Seq upto = trim_request_;
      committing_ = true;  // a trim is an LMDB write transaction too: no commit meanwhile
      lock.unlock();
      Status t = log_->TrimThrough(upto);
      lock.lock();
      committing_ = false;
      if (t.ok()) {
        stats_.trimmed_through = upto;
      } else {
        stats_.last_trim_error = t.ToString();
        trim_request_ = stats_.trimmed_through;  // retried at the next request
      }
      // A CommitPending during the trim left its changes: commit them now.
      if (!pending_.empty() && error_.ok()) CommitLocked(lock);
      continue;
    }
    if (stopping_ && pending_.empty()) break;  // everything is committed
    if (caller_commits_) {
      // The safety net. Appends do not wake this thread, so it looks every
      // kCallerCommitGrace and commits a batch that was already waiting at
      // the previous look: nobody committed it for a whole period.
      const Seq first = pending_.empty() ? 0 : pending_.first_seq();
      wake_.wait_for(lock, caller_commit_grace_);
      if (first != 0 && !committing_ && !pending_.empty() && pending_.first_seq() == first && error_.ok()) {
        CommitLocked(lock);
      }
      continue;
    }
    writer_sleeping_ = true;
    wake_.wait(lock);
    writer_sleeping_ = false;
  }
}

}  // namespace idrecon
