// DurableWaiters: the durable sequence number, the sticky error, and the
// callbacks waiting for a seq to become durable.
//
// The committers tell it what happened (Publish after a sync, Fail after a
// failed one); request handlers ask it (durable_seq, Add). It decides, under
// one lock, whether a new waiter is answered at once or parked, so a waiter
// can never slip between a Publish and its check and wait forever.
//
// Invariants: durable_seq only grows; once failed, it stays failed (the first
// error is kept) and nothing is parked any more; every parked callback is
// called exactly once — Ok by the Publish that covers its seq, or the error
// by Fail.
//
// Thread-safety: every method is thread-safe. Callbacks run on the thread of
// the Publish or Fail that completes them (or inline in Add), with no lock
// held.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>

#include "engine/change.h"
#include "engine/status.h"

namespace idrecon {

class DurableWaiters {
 public:
  using Callback = std::function<void(const Status&)>;

  // Before any other call: everything up to `durable` is on disk.
  void Reset(Seq durable) { durable_seq_.store(durable, std::memory_order_release); }

  Seq durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  Status error() const;

  // Calls done(Ok) once `seq` is durable, done(error) if it cannot become
  // durable any more; inline when already known.
  void Add(Seq seq, Callback done);

  // Everything up to `durable` is durable: advances durable_seq (if higher)
  // and runs the callbacks that completes.
  void Publish(Seq durable);

  // Makes `error` sticky (a later Fail keeps the first error) and fails every
  // parked callback with it.
  void Fail(const Status& error);

 private:
  std::atomic<Seq> durable_seq_{0};
  std::atomic<bool> failed_{false};
  mutable std::mutex mu_;
  std::multimap<Seq, Callback> waiters_;  // guarded by mu_; all above durable_seq
  Status error_;                          // guarded by mu_
};

}  // namespace idrecon
