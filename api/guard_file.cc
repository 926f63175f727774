#include "api/guard_file.h"

#include <climits>
#include <cstddef>
#include <string>
#include <utility>

#include "api/json_writer.h"
#include "engine/engine.h"

namespace idrecon {

namespace {

// Leading whitespace of a line: a line has no '\n', and CR counts so that a
// lone CR inside a line's indentation does not make it a syntax error.
bool IsLineSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view SkipLeadingSpace(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && IsLineSpace(s[i])) ++i;
  return s.substr(i);
}

// `line` without its trailing comment: everything from the first '#' that
// follows a space or tab.
std::string_view CutTrailingComment(std::string_view line) {
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '#' && (line[i - 1] == ' ' || line[i - 1] == '\t')) return line.substr(0, i);
  }
  return line;
}

bool HasControlByte(std::string_view s) {
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return true;
  }
  return false;
}

Status LineError(int line, std::string_view what) {
  std::string msg = "guard file line ";
  msg += std::to_string(line);
  msg += ": ";
  msg += what;
  return Status::InvalidArgument(std::move(msg));
}

// Checks one value line (`rest` is what follows the prefix); on success
// appends the entry to *out.
Status ParseValue(GuardField field, std::string_view rest, int line, std::vector<GuardFileEntry>* out) {
  const std::string name(GuardFilePrefix(field));
  const std::string_view value = TrimAsciiWhitespace(rest);
  const std::size_t limit = field == GuardField::kEmail ? kMaxEmailBytes : kMaxPhoneBytes;
  if (value.empty()) return LineError(line, name + " is empty");
  if (value.size() > limit) {
    return LineError(line, name + " is longer than " + std::to_string(limit) + " bytes");
  }
  if (!IsValidUtf8(value)) return LineError(line, name + " is not valid UTF-8");
  if (HasControlByte(value)) return LineError(line, name + " contains a control character");
  out->push_back(GuardFileEntry{field, std::string(value), line});
  return Status::Ok();
}

}  // namespace

std::string_view GuardFilePrefix(GuardField field) {
  return field == GuardField::kPhone ? "phone" : "email";
}

Status ParseGuardFile(std::string_view text, std::vector<GuardFileEntry>* out) {
  out->clear();
  std::vector<GuardFileEntry> entries;
  constexpr std::string_view kEmailPrefix = "email:";
  constexpr std::string_view kPhonePrefix = "phone:";
  std::size_t start = 0;
  for (int line = 1;; ++line) {
    const std::size_t newline = text.find('\n', start);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
    std::string_view raw = text.substr(start, end - start);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    const std::string_view body = CutTrailingComment(SkipLeadingSpace(raw));
    if (!body.empty() && body.front() != '#') {  // not blank, not a comment line
      Status s;
      if (body.starts_with(kEmailPrefix)) {
        s = ParseValue(GuardField::kEmail, body.substr(kEmailPrefix.size()), line, &entries);
      } else if (body.starts_with(kPhonePrefix)) {
        s = ParseValue(GuardField::kPhone, body.substr(kPhonePrefix.size()), line, &entries);
      } else {
        s = LineError(line, "expected a line starting with \"email:\" or \"phone:\"");
      }
      if (!s.ok()) return s;
    }
    if (newline == std::string_view::npos) break;
    if (line == INT_MAX) return LineError(line, "the file has more lines than a guard file may have");
    start = newline + 1;
  }
  *out = std::move(entries);
  return Status::Ok();
}

}  // namespace idrecon
