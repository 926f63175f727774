// Fuzz target: the CSV import parsers (tools/csv_reader.h, tools/contact_rows.h).
//
// Input: byte 0 = mode, the rest = CSV text. Mode bit 0 puts a valid header
// in front (so rows reach the field checks); bit 1 selects strict mode;
// bit 2 sets MySQL's \N null marker.
//
// Properties:
//   - CsvReader terminates, line numbers never decrease and offsets grow;
//     every record, written back as CSV with every field quoted, reads back
//     as the same fields;
//   - ParseContactCsv never crashes; each row it returns obeys its contract
//     (id and linkedId in range, ids unique, at least one value, values
//     trimmed, valid UTF-8 and within docs/api.md §2's limits, no timestamp
//     more than a day after the clock, lines increasing); strict mode
//     returns rows only when nothing was malformed.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "api/json_writer.h"
#include "engine/engine.h"
#include "fuzz/fuzz_check.h"
#include "tools/contact_rows.h"
#include "tools/csv_reader.h"

namespace {

using idrecon::Status;
using idrecon::tools::CsvField;
using idrecon::tools::CsvReader;

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void CheckReader(std::string_view csv) {
  CsvReader reader(csv);
  std::vector<CsvField> fields;
  Status status;
  std::uint64_t last_line = 0;
  std::size_t last_offset = 0;
  for (std::size_t records = 0;; ++records) {
    FUZZ_CHECK(records <= csv.size() + 1, "more records than bytes");
    const bool got = reader.Next(&fields, &status);
    if (!got && status.ok()) break;
    FUZZ_CHECK(reader.line() >= last_line && reader.line() >= 1);
    FUZZ_CHECK(reader.offset() > last_offset && reader.offset() <= csv.size(), "no progress");
    last_line = reader.line();
    last_offset = reader.offset();
    if (!got) {
      FUZZ_CHECK(status.IsInvalidArgument() && status.message().starts_with("line "), status.ToString());
      continue;
    }
    FUZZ_CHECK(!fields.empty());
    std::string line;
    std::vector<std::string> copy;
    for (const CsvField& f : fields) {
      if (!line.empty()) line += ',';
      line += Quote(f.text);
      copy.emplace_back(f.text);
    }
    line += "\r\n";
    CsvReader again(line);
    std::vector<CsvField> back;
    Status s2;
    FUZZ_CHECK(again.Next(&back, &s2) && s2.ok(), "re-quoted record fails: " + s2.ToString());
    FUZZ_CHECK(back.size() == copy.size(), "field count changed when re-quoted: " + line);
    for (std::size_t i = 0; i < back.size(); ++i) {
      FUZZ_CHECK(back[i].quoted && back[i].text == copy[i], "field changed when re-quoted: " + line);
    }
    FUZZ_CHECK(!again.Next(&back, &s2) && s2.ok());
  }
}

bool Trimmed(std::string_view s) { return idrecon::TrimAsciiWhitespace(s).size() == s.size(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned mode = data[0];
  std::string csv;
  if ((mode & 1) != 0) csv = "id,phoneNumber,email,linkedId,linkPrecedence,createdAt,updatedAt,deletedAt\n";
  csv.append(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool strict = (mode & 2) != 0;
  const std::string_view null_marker = (mode & 4) != 0 ? "\\N" : "";

  CheckReader(csv);

  idrecon::tools::ContactRows rows;
  idrecon::tools::CsvParseResult result;
  std::size_t last_progress = 0;
  idrecon::ManualClock clock(1'795'313'100'567);  // 2026-11-22: the future check is deterministic
  idrecon::tools::CsvParseOptions options;
  options.strict = strict;
  options.null_marker = null_marker;
  options.clock = &clock;
  options.progress = [&](std::size_t done) {
    FUZZ_CHECK(done >= last_progress && done <= csv.size());
    last_progress = done;
  };
  const Status s = idrecon::tools::ParseContactCsv(csv, options, &rows, &result);
  FUZZ_CHECK(s.ok() || s.IsInvalidArgument(), s.ToString());
  if (!s.ok()) return 0;
  if (strict) FUZZ_CHECK(result.malformed.empty());
  FUZZ_CHECK(rows.rows.size() + result.malformed.size() >= result.records);
  std::set<idrecon::ContactId> ids;
  std::uint64_t last_line = 1;
  for (const auto& row : rows.rows) {
    const std::string detail = "line " + std::to_string(row.line);
    FUZZ_CHECK(row.line > last_line, detail);
    last_line = row.line;
    FUZZ_CHECK(row.id >= 1 && ids.insert(row.id).second, detail);
    FUZZ_CHECK(!row.email.empty() || !row.phone.empty(), detail);
    FUZZ_CHECK(Trimmed(row.email) && Trimmed(row.phone), detail);
    FUZZ_CHECK(idrecon::IsValidUtf8(row.email) && idrecon::IsValidUtf8(row.phone), detail);
    FUZZ_CHECK(row.email.size() <= idrecon::kMaxEmailBytes && row.phone.size() <= idrecon::kMaxPhoneBytes, detail);
    const idrecon::Millis latest = clock.NowMillis() + idrecon::tools::kMaxFutureMillis;
    FUZZ_CHECK(row.created_at <= latest && row.updated_at <= latest && (row.live() || row.deleted_at <= latest),
               detail);
  }
  for (const auto& note : result.malformed) FUZZ_CHECK(note.line >= 2 && !note.what.empty(), note.what);
  return 0;
}
