#include "persistence/log_writer.h"

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
  thread_ = std::thread([this] { Run(); });
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
    // whatever is pending when its commit ends.
    wake = writer_sleeping_;
    writer_sleeping_ = false;
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

void LogWriter::Run() {
  LogBatch batch;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (pending_.empty() && !stopping_ && trim_request_ <= stats_.trimmed_through) {
      writer_sleeping_ = true;
      wake_.wait(lock);
      writer_sleeping_ = false;
    }
    if (pending_.empty() && trim_request_ > stats_.trimmed_through && error_.ok()) {
      const Seq upto = trim_request_;
      lock.unlock();
      Status t = log_->TrimThrough(upto);
      lock.lock();
      if (t.ok()) {
        stats_.trimmed_through = upto;
      } else {
        stats_.last_trim_error = t.ToString();
        trim_request_ = stats_.trimmed_through;  // retried at the next request
      }
      continue;
    }
    if (pending_.empty()) {
      if (stopping_) break;  // everything is committed
      trim_request_ = stats_.trimmed_through;  // after a failure: no more log writes
      continue;
    }
    std::swap(batch, pending_);
    lock.unlock();

    const auto start = std::chrono::steady_clock::now();
    Status s = log_->Append(batch);
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();

    lock.lock();
    if (!s.ok()) {
      batch.Clear();
      Fail(s, lock);
      if (stopping_) break;
      continue;
    }
    stats_.commits++;
    stats_.changes += batch.size();
    stats_.commit_micros += static_cast<std::uint64_t>(micros);
    std::size_t bucket = 0;
    while (bucket < kCommitLatencyBounds.size() && static_cast<double>(micros) / 1e6 > kCommitLatencyBounds[bucket]) {
      ++bucket;
    }
    stats_.commit_latency_counts[bucket]++;
    if (batch.size() > stats_.max_batch) stats_.max_batch = batch.size();
    const Seq durable = batch.last_seq();
    durable_seq_.store(durable, std::memory_order_release);
    batch.Clear();
    std::vector<Callback> ready;
    auto end = waiters_.upper_bound(durable);
    for (auto it = waiters_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
    waiters_.erase(waiters_.begin(), end);
    lock.unlock();
    for (auto& cb : ready) cb(Status::Ok());
    lock.lock();
  }
}

}  // namespace idrecon
