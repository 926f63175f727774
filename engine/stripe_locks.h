// StripeLocks: a fixed array of mutexes, each on its own cache line, and a
// guard that holds up to two of them.
//
// Lock order (deadlock freedom): a thread holding stripes of one StripeLocks
// array took them in ascending index order, all at once, through
// StripeGuard. The engine additionally never takes a value stripe while
// holding a cluster stripe (see engine.cc).
//
// Thread-safety: the array is immutable after construction; the mutexes are
// what threads share. A StripeGuard belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace idrecon {

class StripeLocks {
 public:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  // `count` is rounded up to a power of two (at least 1).
  explicit StripeLocks(std::size_t count) {
    std::size_t n = 1;
    while (n < count) n <<= 1;
    mask_ = n - 1;
    mutexes_ = std::make_unique<Padded[]>(n);
  }

  std::size_t StripeOf(std::uint64_t key) const { return static_cast<std::size_t>(key) & mask_; }
  std::size_t size() const { return mask_ + 1; }
  std::mutex& at(std::size_t stripe) { return mutexes_[stripe].mu; }

 private:
  struct alignas(64) Padded {
    std::mutex mu;
  };
  std::unique_ptr<Padded[]> mutexes_;
  std::size_t mask_ = 0;
};

// Holds up to two stripes, taken in ascending order. Lock(a, b): either may be
// kNone; equal stripes lock once. Release() drops them; Lock may follow again.
class StripeGuard {
 public:
  explicit StripeGuard(StripeLocks& locks) : locks_(locks) {}
  StripeGuard(StripeLocks& locks, std::size_t a, std::size_t b) : locks_(locks) { Lock(a, b); }
  ~StripeGuard() { Release(); }
  StripeGuard(const StripeGuard&) = delete;
  StripeGuard& operator=(const StripeGuard&) = delete;

  // Precondition: holds nothing.
  void Lock(std::size_t a, std::size_t b) {
    if (a > b) std::swap(a, b);
    if (a == b) b = StripeLocks::kNone;
    first_ = a;
    second_ = b;
    if (first_ != StripeLocks::kNone) locks_.at(first_).lock();
    if (second_ != StripeLocks::kNone) locks_.at(second_).lock();
  }

  void Release() {
    if (second_ != StripeLocks::kNone) locks_.at(second_).unlock();
    if (first_ != StripeLocks::kNone) locks_.at(first_).unlock();
    first_ = second_ = StripeLocks::kNone;
  }

 private:
  StripeLocks& locks_;
  std::size_t first_ = StripeLocks::kNone;
  std::size_t second_ = StripeLocks::kNone;
};

}  // namespace idrecon
