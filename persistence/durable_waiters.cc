#include "persistence/durable_waiters.h"

#include <utility>
#include <vector>

namespace idrecon {

Status DurableWaiters::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void DurableWaiters::Add(Seq seq, Callback done) {
  Status result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (seq > durable_seq()) {
      if (error_.ok()) {
        waiters_.emplace(seq, std::move(done));
        return;
      }
      result = error_;
    }
  }
  done(result);
}

void DurableWaiters::Publish(Seq durable) {
  std::vector<Callback> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (durable <= durable_seq()) return;
    durable_seq_.store(durable, std::memory_order_release);
    if (waiters_.empty() || waiters_.begin()->first > durable) return;
    const auto end = waiters_.upper_bound(durable);
    for (auto it = waiters_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
    waiters_.erase(waiters_.begin(), end);
  }
  for (Callback& cb : ready) cb(Status::Ok());
}

void DurableWaiters::Fail(const Status& error) {
  std::multimap<Seq, Callback> doomed;
  Status sticky;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = error;
    sticky = error_;
    failed_.store(true, std::memory_order_release);
    doomed.swap(waiters_);
  }
  for (auto& [seq, cb] : doomed) cb(sticky);
}

}  // namespace idrecon
