#include "persistence/commit_stats.h"

namespace idrecon {

void CommitStats::RecordCommit(std::size_t batch, std::uint64_t micros) {
  commits++;
  changes += batch;
  commit_micros += micros;
  if (batch > max_batch) max_batch = batch;
  const double seconds = static_cast<double>(micros) / 1e6;
  std::size_t bucket = 0;
  while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) ++bucket;
  latency_counts[bucket]++;
}

}  // namespace idrecon
