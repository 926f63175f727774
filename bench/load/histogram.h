// LatencyHistogram: counts of latencies in microseconds, exact (1 µs buckets)
// below 16.384 ms and with a relative error under 1/8192 above that (HDR
// histogram layout), up to ~19 hours. Keeps the exact min, max and sum.
//
// Percentile(p) returns the smallest recorded bucket value v such that at
// least p% of the samples are <= v (for the exact range, the value itself;
// above it, the bucket's upper bound capped at the exact max).
//
// Thread-safety: none; one histogram per thread, Merge() them at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace idrecon::load {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 14;  // exact below 2^14 µs
  static constexpr std::uint64_t kMaxValue = (std::uint64_t{1} << 36) - 1;  // larger values are clamped

  LatencyHistogram();

  void Record(std::uint64_t micros);
  void Merge(const LatencyHistogram& other);
  void Reset();

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // p in [0, 100]. 0 when empty.
  std::uint64_t Percentile(double p) const;

  // Bucket arithmetic, exposed for tests.
  static std::size_t IndexOf(std::uint64_t micros);
  static std::uint64_t UpperBoundOf(std::size_t index);

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t sum_ = 0;
};

}  // namespace idrecon::load
