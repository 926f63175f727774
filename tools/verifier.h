// Verify: is a data directory sound? (docs/api.md §5)
//
// Contract. Checks, and reports one precise message per violation:
//   - every snapshot file: magic, checksum, structure, and that its links
//     join live contacts to live primaries (LoadSnapshot);
//   - every log record: key form, checksum and fields (DecodeLogValue), and
//     sequence continuity (no gap, no record out of order);
//   - coverage: the log starts no later than one past the newest usable
//     snapshot (else records are missing);
//   - the recovered state (snapshot + log replay, as the server does), then
//     docs/api.md §1 on it (CheckInvariants).
// A violation names contacts, clusters, files and log records by id, never
// an email, phone or other value (the report goes to terminals and logs).
// Violations are collected, not fatal; the returned Status is an error only
// when the check itself could not run (no such directory, locked by a
// running server, I/O error).
//
// Thread-safety: none; the data directory is locked while it runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/change.h"
#include "engine/engine.h"
#include "engine/status.h"

namespace idrecon::tools {

struct VerifyReport {
  std::vector<std::string> violations;
  std::uint64_t snapshots = 0;
  std::uint64_t log_records = 0;
  Seq log_first = 0, log_last = 0;
  std::uint64_t contacts = 0, clusters = 0;
  double seconds = 0;
  bool ok() const { return violations.empty(); }
};

Status Verify(const std::string& data_dir, VerifyReport* report);

// docs/api.md §1 invariants 1–4 on an engine's rows (plus: a live contact has a
// value). Appends one message per violation, prefixed with `where`.
void CheckInvariants(const Engine& engine, const std::string& where, std::vector<std::string>* violations);

}  // namespace idrecon::tools
