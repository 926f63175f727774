// Fuzz target: the text of a --guard-file → ParseGuardFile.
//
// Properties:
//   - never crashes; an error is InvalidArgument naming a line
//     ("guard file line N: ...");
//   - on success, every entry's value is non-empty, within its field's
//     /identify byte limit, has no leading or trailing ASCII whitespace,
//     valid UTF-8 without control bytes, and its line is in [1, number of
//     lines]; lines ascend in file order;
//   - re-serialising the entries as "email:V\n" / "phone:V\n" and parsing
//     again gives the same fields and values, entry for entry.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/guard_file.h"
#include "api/json_writer.h"
#include "engine/engine.h"
#include "fuzz/fuzz_check.h"

namespace {

using idrecon::GuardField;
using idrecon::GuardFileEntry;
using idrecon::Status;

bool HasControlByte(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<GuardFileEntry> entries;
  const Status parsed = idrecon::ParseGuardFile(text, &entries);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.IsInvalidArgument(), parsed.ToString());
    FUZZ_CHECK(parsed.message().starts_with("guard file line "), parsed.message());
    FUZZ_CHECK(entries.empty());
    return 0;
  }

  std::size_t lines = 1;
  for (const char c : text) lines += c == '\n';
  int last_line = 0;
  std::string again;
  for (const GuardFileEntry& e : entries) {
    const std::size_t limit = e.field == GuardField::kEmail ? idrecon::kMaxEmailBytes : idrecon::kMaxPhoneBytes;
    FUZZ_CHECK(e.field == GuardField::kEmail || e.field == GuardField::kPhone);
    FUZZ_CHECK(!e.value.empty() && e.value.size() <= limit, "value of " + std::to_string(e.value.size()) + " bytes");
    FUZZ_CHECK(idrecon::TrimAsciiWhitespace(e.value) == e.value, "untrimmed value '" + e.value + "'");
    FUZZ_CHECK(idrecon::IsValidUtf8(e.value) && !HasControlByte(e.value), "value '" + e.value + "'");
    FUZZ_CHECK(e.line >= 1 && static_cast<std::size_t>(e.line) <= lines, "line " + std::to_string(e.line));
    FUZZ_CHECK(e.line > last_line, "lines out of order");
    last_line = e.line;
    again += idrecon::GuardFilePrefix(e.field);
    again += ':';
    again += e.value;
    again += '\n';
  }

  std::vector<GuardFileEntry> reparsed;
  const Status s = idrecon::ParseGuardFile(again, &reparsed);
  FUZZ_CHECK(s.ok(), s.ToString());
  FUZZ_CHECK(reparsed.size() == entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    FUZZ_CHECK(reparsed[i].field == entries[i].field && reparsed[i].value == entries[i].value,
               "'" + entries[i].value + "' came back as '" + reparsed[i].value + "'");
    FUZZ_CHECK(reparsed[i].line == static_cast<int>(i) + 1);
  }
  return 0;
}
