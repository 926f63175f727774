#include "api/guard_file.h"

#include "api/json_writer.h"
#include "engine/engine.h"

namespace idrecon {
Status ParseGuardFile(std::string_view text, std::vector<GuardFileEntry>* out) {
  std::vector<GuardFileEntry> entries;
  int number = 0;
  while (!text.empty() || number == 0) {
    ++number;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // A trailing comment starts at a '#' after a space or tab.
    for (std::size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '#' && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
        line = line.substr(0, i);
        break;
      }
    }
    line = TrimAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') {
      if (nl == std::string_view::npos) break;
      continue;
    }
    auto bad = [number](const std::string& why) {
      return Status::InvalidArgument("guard file line " + std::to_string(number) + ": " + why);
    };
    GuardFileEntry entry;
    entry.line = number;
    std::size_t limit = 0;
    if (line.starts_with("email:")) {
      entry.field = GuardField::kEmail;
      line.remove_prefix(6);
      limit = kMaxEmailBytes;
    } else if (line.starts_with("phone:")) {
      entry.field = GuardField::kPhone;
      line.remove_prefix(6);
      limit = kMaxPhoneBytes;
    } else {
      return bad("expected email:VALUE or phone:VALUE");
    }
    line = TrimAsciiWhitespace(line);
    if (line.empty()) return bad("the value is empty");
    if (line.size() > limit) return bad("the value is longer than " + std::to_string(limit) + " bytes");
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) return bad("the value holds a control character");
    }
    if (ReplaceInvalidUtf8(line) != line) return bad("the value is not valid UTF-8");
    entry.value.assign(line);
    entries.push_back(std::move(entry));
    if (nl == std::string_view::npos) break;
  }
  *out = std::move(entries);
  return Status::Ok();
}

}  // namespace idrecon
