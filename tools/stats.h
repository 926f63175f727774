// Stats: what a data directory holds (docs/api.md §5): contacts (live,
// deleted, vacant ids), clusters, the cluster-size histogram (buckets 1, 2,
// 3–4, 5–8, … by powers of two), the `top` largest clusters, the `top`
// values (email or phone) carried by the most live contacts (only values
// carried by two or more), the log's size and records, the snapshots.
// Ties are broken by smaller id / smaller value, so output is deterministic.
//
// Thread-safety: none; the data directory is locked while it runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/change.h"
#include "engine/status.h"

namespace idrecon::tools {

struct DataStats {
  std::uint64_t contacts = 0, live = 0, deleted = 0, vacant = 0, clusters = 0;
  std::vector<std::pair<std::string, std::uint64_t>> size_histogram;  // ("3-4", clusters)
  std::vector<std::pair<ContactId, std::uint64_t>> largest;           // (primary id, live members)
  struct SharedValue {
    std::string kind;  // "email" / "phoneNumber"
    std::string value;
    std::uint64_t contacts = 0;
  };
  std::vector<SharedValue> most_shared;
  std::uint64_t log_bytes = 0, log_records = 0;
  Seq log_first = 0, log_last = 0;
  struct Snapshot {
    std::string path;
    Seq seq = 0;
    std::uint64_t bytes = 0;
  };
  std::vector<Snapshot> snapshots;
  double seconds = 0;
};

Status ComputeStats(const std::string& data_dir, std::size_t top, DataStats* out);
std::string StatsText(const DataStats& stats);
std::string StatsJson(const DataStats& stats);

}  // namespace idrecon::tools
