// CommitStats: what the log writer counts about its commits, for /metrics
// and the server's stop line — totals, the largest batch, and a histogram of
// commit latency.
//
// Thread-safety: a plain value; the writer updates its copy under its lock
// and hands out copies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/change.h"

namespace idrecon {

struct CommitStats {
  // Upper bounds (seconds) of the commit-latency buckets; one more bucket
  // counts everything slower.
  static constexpr std::array<double, 12> kLatencyBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

  std::uint64_t commits = 0;        // successful transactions
  std::uint64_t changes = 0;        // records in them
  std::uint64_t commit_micros = 0;  // total time spent committing
  std::uint64_t max_batch = 0;
  std::uint64_t meta_syncs = 0;     // syncs of a deferred-meta-sync log with nothing to commit
  std::uint64_t trim_steps = 0;     // trim transactions (LogWriterOptions::trim_step_records each)
  Seq trimmed_through = 0;
  std::string last_trim_error;
  // Commits per latency bucket (not cumulative); the last is "slower".
  std::array<std::uint64_t, kLatencyBounds.size() + 1> latency_counts{};

  // Counts one successful commit of `batch` records that took `micros`.
  void RecordCommit(std::size_t batch, std::uint64_t micros);
};

}  // namespace idrecon
