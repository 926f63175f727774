// ConvertNormalization: `idrecon-tool rebuild --normalize on|off
// [--default-region CC]` (docs/api.md §6), the one way to change a data
// directory's normalisation setting.
//
// Contract: loads the directory's state under its own setting, restores it
// into an engine with the new one (rows, their clusters, their recorded
// links, legacy marks, and the api and auto guards with their values made
// keys of the new setting), then re-clusters every contact as the
// components of the link graph under the new match keys (docs/api.md §9):
// clusters may merge or split, the oldest contact of each stays its
// primary, ids never change, a contact whose linkedId or precedence changes
// gets updatedAt = now. It then writes a snapshot of the result, the new
// setting, removes the other snapshots and trims the log through it.
// The same setting again changes nothing. Not atomic against a crash
// between its last steps: take a backup first (idrecon-tool backup).
//
// Thread-safety: none; the data directory is locked while it runs.
#pragma once

#include <cstdint>
#include <string>

#include "engine/match_key.h"
#include "engine/status.h"

namespace idrecon::tools {

struct ConvertSummary {
  bool unchanged = false;  // the directory already had the setting
  NormalizationSettings from;
  std::uint64_t contacts = 0;
  std::uint64_t clusters_before = 0, clusters_after = 0;
  std::string snapshot_path;
};

Status ConvertNormalization(const std::string& data_dir, const NormalizationSettings& to, ConvertSummary* summary);

}  // namespace idrecon::tools
