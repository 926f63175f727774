#include "bench/load/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace idrecon::load {

namespace {
constexpr std::uint64_t kExact = std::uint64_t{1} << LatencyHistogram::kSubBits;
constexpr std::uint64_t kHalf = kExact / 2;
std::size_t BucketCount() { return LatencyHistogram::IndexOf(LatencyHistogram::kMaxValue) + 1; }
}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(BucketCount(), 0) {}

std::size_t LatencyHistogram::IndexOf(std::uint64_t v) {
  v = std::min(v, kMaxValue);
  if (v < kExact) return static_cast<std::size_t>(v);
  const unsigned shift = static_cast<unsigned>(std::bit_width(v)) - kSubBits;  // >= 1
  const std::uint64_t top = v >> shift;                                          // [kHalf, kExact)
  return static_cast<std::size_t>(kExact + (shift - 1) * kHalf + (top - kHalf));
}

std::uint64_t LatencyHistogram::UpperBoundOf(std::size_t index) {
  if (index < kExact) return index;
  const std::uint64_t rel = index - kExact;
  const unsigned shift = static_cast<unsigned>(rel / kHalf) + 1;
  const std::uint64_t top = kHalf + rel % kHalf;
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::Record(std::uint64_t micros) {
  ++counts_[IndexOf(micros)];
  if (count_ == 0 || micros < min_) min_ = micros;
  max_ = std::max(max_, micros);
  sum_ += micros;
  ++count_;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
  count_ += other.count_;
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = min_ = max_ = sum_ = 0;
}

std::uint64_t LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(UpperBoundOf(i), max_);
  }
  return max_;
}

}  // namespace idrecon::load
