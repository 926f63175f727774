// CsvReader: records of RFC 4180 CSV text, as `sqlite3 -header -csv`,
// PostgreSQL's `\copy … CSV` and MySQL write it.
//
// Contract: fields are separated by ',' and records by LF or CRLF. A field
// that starts with '"' is quoted: it ends at the next lone '"', "" inside it
// is one '"', and it may span lines. An unquoted field is taken as written
// (a '"' inside it is kept). Each field says whether it was quoted, because
// the databases tell NULL (empty, unquoted) from the empty string ("").
// A blank line is skipped. Errors (an unterminated quote, text after a
// closing quote) are InvalidArgument naming the line; the reader then skips
// to the next line, so a caller may report the record and go on.
//
// line() is the 1-based line on which the last record returned (or the one
// that failed) started; offset() is the byte offset reached, for progress.
//
// Thread-safety: none; one reader per thread. The input must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace idrecon::tools {

struct CsvField {
  std::string_view text;  // valid until the next call of Next
  bool quoted = false;
};

class CsvReader {
 public:
  explicit CsvReader(std::string_view data) : data_(data) {}

  // Fills `fields` with the next record. Returns false at the end of the
  // input (then *status is Ok) or on a malformed record (*status says why).
  bool Next(std::vector<CsvField>* fields, Status* status);

  std::uint64_t line() const { return record_line_; }
  std::size_t offset() const { return pos_; }
  bool at_end() const { return pos_ >= data_.size(); }

 private:
  void SkipLine();

  std::string_view data_;
  std::size_t pos_ = 0;
  std::uint64_t next_line_ = 1;
  std::uint64_t record_line_ = 0;
  std::string scratch_;                 // unescaped quoted fields
};

}  // namespace idrecon::tools
