// Clock: where the engine gets "now" from, injected so tests control time.
//
// Times are milliseconds since the Unix epoch, UTC. The engine clamps what a
// clock returns so createdAt never decreases; a clock itself may step back.
//
// Thread-safety: NowMillis() may be called from any thread concurrently.
#pragma once

#include <atomic>
#include <cstdint>

namespace idrecon {

using Millis = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis NowMillis() = 0;
};

// The wall clock (std::chrono::system_clock).
class SystemClock final : public Clock {
 public:
  Millis NowMillis() override;
  // A process-wide instance.
  static SystemClock& Instance();
};

// A clock that only moves when told to; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start = 0) : now_(start) {}
  Millis NowMillis() override { return now_.load(std::memory_order_relaxed); }
  void Set(Millis t) { now_.store(t, std::memory_order_relaxed); }
  void Advance(Millis d) { now_.fetch_add(d, std::memory_order_relaxed); }

 private:
  std::atomic<Millis> now_;
};

}  // namespace idrecon
