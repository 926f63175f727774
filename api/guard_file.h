// ParseGuardFile: the text of a --guard-file (docs/api.md §8).
//
// Contract: one entry a line, `email:VALUE` or `phone:VALUE`. Lines are
// split on '\n' (a trailing '\r' is dropped). A line that is empty or only
// ASCII whitespace is skipped; a line whose first non-whitespace character
// is '#' is a comment, and so is everything from a '#' that follows a space
// or tab (a '#' inside a value, as in `a#b@example.com`, is kept). VALUE is
// trimmed of ASCII whitespace and must be non-empty, within the /identify
// limits (320 bytes for an email, 64 for a phone), valid UTF-8 and free of
// control characters. Any other line: InvalidArgument("guard file line N:
// <what is wrong>"), naming the line, never echoing the value. Duplicates
// are kept (the engine deduplicates by match key).
//
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/guard.h"
#include "engine/status.h"

namespace idrecon {

struct GuardFileEntry {
  GuardField field = GuardField::kEmail;
  std::string value;  // trimmed
  int line = 0;       // 1-based
};

Status ParseGuardFile(std::string_view text, std::vector<GuardFileEntry>* out);

}  // namespace idrecon
