// Export: the contacts of a data directory as docs/api.md §1 rows (docs/api.md §5).
//
// CSV: the header id,phoneNumber,email,linkedId,linkPrecedence,createdAt,
// updatedAt,deletedAt, one row per contact in id order; NULL is an empty
// unquoted field; a value is quoted (RFC 4180, " doubled) when it holds a
// comma, quote, CR or LF, or is exactly \N (so MySQL's NULL marker cannot be
// mistaken for it); timestamps in docs/api.md §1's form 2026-11-22T01:20:19.123Z,
// which PostgreSQL's `\copy … FROM … CSV HEADER` and `idrecon-tool import`
// read back unchanged (`sqlite3 .import` keeps text as written, reading
// NULL as the empty string, which `import` reads as NULL again).
// JSONL: one object per line with exactly the eight fields, as
// GET /contacts/{id} shows them.
// With out_path the rows go to out_path.tmp, created mode 0600 whatever the
// umask (they are personal data), renamed over out_path once complete.
// Deleted contacts are exported (with the linkedId they had); vacant ids
// (importer.h) are not. The state is the server's: snapshot + log.
//
// Thread-safety: none; the data directory is locked while it runs.
#pragma once

#include <cstdint>
#include <string>

#include "engine/engine.h"
#include "engine/status.h"

namespace idrecon::tools {

struct ExportOptions {
  std::string data_dir;
  bool jsonl = false;
  std::string out_path;  // empty: stdout
};

struct ExportSummary {
  std::uint64_t rows = 0;
  double recover_seconds = 0, write_seconds = 0;
};

Status Export(const ExportOptions& options, ExportSummary* summary);

// One row, appended with its newline (exposed for tests).
void AppendCsvHeader(std::string* out);
void AppendCsvRow(const ContactRow& row, std::string* out);
void AppendJsonRow(const ContactRow& row, std::string* out);

}  // namespace idrecon::tools
