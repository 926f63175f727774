// Import into a data directory of a stopped server (docs/api.md §5).
//
// ImportCsv: rows of an old deployment's `contacts` table (contact_rows.h
// says what is read and what is malformed). Ids and timestamps are kept.
// The rows are reconciled (reconciler.h: docs/api.md §1's invariants restored, each
// repair reported), loaded into an engine in id order and written as one
// snapshot covering seq = (the directory's last seq) + 1; the log is trimmed
// through it and older snapshots are removed, so `idrecon-server --data-dir`
// recovers exactly this state and the next id it assigns is max id + 1.
//
// Ids must be dense in the engine, so an id the input skips (a hard-deleted
// row, a sequence gap) becomes a *vacant* id: a deleted placeholder with no
// values (engine.h) that takes no part, is never reused and that exports omit.
// More than max(1,000,000, rows) vacant ids is refused (ids like 4e9 would
// otherwise cost memory for nothing).
//
// ImportRequests: a JSONL file of /identify bodies, replayed in order through
// Engine::Identify exactly as the server would (same parser, same rules); the
// changes are appended to the log (fsync'd in large batches), then a snapshot
// is written. Bad lines (not a valid body, or rejected by /identify) are
// reported and skipped.
//
// Both: a directory that already holds data is refused unless `merge`. With
// `merge`, CSV rows must not reuse an existing id (else refused) unless
// `renumber`, which shifts every imported id and linkedId up by the existing
// highest id; existing and imported rows are then reconciled together.
// With `strict`, the first malformed row/line ends the import with its line
// and reason and nothing is written. Every note (malformed row, repair) is
// one line on `report`.
//
// Thread-safety: none; one import per process (the data directory is locked).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "engine/clock.h"
#include "engine/match_key.h"
#include "engine/status.h"

namespace idrecon::tools {

struct ImportOptions {
  std::string data_dir;
  std::string input_path;
  bool strict = false;
  bool merge = false;
  bool renumber = false;
  Millis repair_time = 0;        // updatedAt of repaired rows; 0: now
  std::string null_marker;       // CSV: an unquoted field equal to it is NULL too
  std::FILE* report = nullptr;   // notes; nullptr: stdout
  // The normalisation setting of a new directory (nullopt: the directory's
  // own, off when new); another than an existing directory's: InvalidArgument.
  std::optional<NormalizationSettings> normalization;
};

struct ImportSummary {
  std::uint64_t records = 0;      // data rows / request lines read
  std::uint64_t imported = 0;     // rows kept (CSV) / requests applied
  std::uint64_t malformed = 0;
  std::uint64_t repairs = 0;
  std::uint64_t live = 0, deleted = 0, vacant = 0, clusters = 0;
  std::uint64_t existing = 0;     // contacts already in the directory (merge)
  std::uint64_t created = 0, merges = 0;  // requests: rows created, merges done
  std::string snapshot_path;
  double read_seconds = 0, reconcile_seconds = 0, load_seconds = 0, write_seconds = 0, total_seconds = 0;
};

Status ImportCsv(const ImportOptions& options, ImportSummary* summary);
Status ImportRequests(const ImportOptions& options, ImportSummary* summary);

}  // namespace idrecon::tools
