// Contact rows as they come from an existing deployment's `contacts` table
// (docs/api.md §1 columns), parsed from CSV and checked one by one.
//
// Contract of ParseContactCsv:
//   - the first record is the header; columns are found by name (docs/api.md
//     §1 spelling) in any order; id, phoneNumber, email, linkedId,
//     linkPrecedence, createdAt and updatedAt are required, deletedAt is
//     optional, other columns are ignored (and named in a warning);
//   - NULL is an empty field (quoted or not: the engine has no empty string),
//     and also an unquoted field equal to `null_marker` when that is not
//     empty (MySQL's INTO OUTFILE writes \N; PostgreSQL's CSV writes \N for
//     the two-character string, so it is not a NULL by default);
//   - email and phoneNumber are trimmed of ASCII whitespace like /identify
//     does (docs/api.md §2); a trim is reported as a repair, a value that is
//     then empty is null;
//   - a row is malformed, reported with its line and reason and skipped, when:
//     the field count differs from the header's, id is not an integer in
//     1..4294967295 or repeats an earlier row's, linkedId is not such an
//     integer or null, linkPrecedence is not "primary"/"secondary", a
//     timestamp does not parse (timestamp_parser.h), is more than
//     kMaxFutureMillis after the clock's now (one such row would hold every
//     later createdAt at its date: the engine never lets createdAt decrease)
//     or a required one is null, both email and phone are null, a value is
//     over docs/api.md §2's limit or is not valid UTF-8;
//   - with `strict`, the first malformed row ends the parse with
//     InvalidArgument (line and reason) and nothing is returned.
// Reasons and warnings name lines, ids and columns, never a field's bytes:
// the input is personal data, and the notes go to terminals and logs.
// Work is linear in the input: a repeated id costs O(1) while reading and
// one pass over the rows at the end names the row it repeats.
// Rows are returned in file order; strings live in the ContactRows' store.
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/change.h"
#include "engine/clock.h"
#include "engine/status.h"

namespace idrecon::tools {

inline constexpr Millis kNoTime = INT64_MIN;
// How far past the clock's now an imported timestamp may be (clock skew
// between the old database and this machine).
inline constexpr Millis kMaxFutureMillis = 24 * 60 * 60 * 1000;

// One input row. `line` 0 means it came from the data directory (merge).
struct InputRow {
  std::uint64_t line = 0;
  Millis created_at = 0;
  Millis updated_at = 0;
  Millis deleted_at = kNoTime;  // kNoTime: live
  std::string_view email;       // empty: null
  std::string_view phone;
  ContactId id = 0;
  ContactId linked_id = 0;  // 0: null
  bool secondary = false;   // linkPrecedence
  bool live() const { return deleted_at == kNoTime; }
};

// Append-only storage for strings; views stay valid while it lives.
class StringStore {
 public:
  std::string_view Add(std::string_view s);

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::size_t used_ = 0, capacity_ = 0;
};

struct ContactRows {
  std::vector<InputRow> rows;
  StringStore strings;
};

// A problem found with one line of input (malformed row, or a repair).
struct LineNote {
  std::uint64_t line = 0;
  ContactId id = 0;  // 0 when unknown
  std::string what;
};

struct CsvParseOptions {
  bool strict = false;
  std::string_view null_marker;  // empty: only an empty field is NULL
  Clock* clock = &SystemClock::Instance();  // "now", for timestamps in the future
  std::function<void(std::size_t bytes_done)> progress;  // called now and then; may be empty
};

struct CsvParseResult {
  std::uint64_t records = 0;  // data records read (not the header)
  std::vector<LineNote> malformed;
  std::vector<LineNote> trimmed;  // repairs made while reading (trimmed values)
  std::vector<std::string> warnings;
  // Rows visited to name the first row of repeated ids: at most one pass
  // over the rows, however many repeats (tests hold the parse to that).
  std::uint64_t rows_visited_for_repeats = 0;
};

Status ParseContactCsv(std::string_view csv, const CsvParseOptions& options, ContactRows* out,
                       CsvParseResult* result);

// Reads a whole file into memory (mmap), for the parsers.
class MappedInput {
 public:
  ~MappedInput();
  Status Open(const std::string& path);
  std::string_view bytes() const { return {data_, size_}; }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace idrecon::tools
