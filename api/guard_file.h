// ParseGuardFile: the text of a --guard-file → the values it guards
// (docs/api.md §8: values that must not join people).
//
// Contract: the text is split into lines on '\n' (line 1 is the first; a
// trailing '\r' is removed, so CRLF files read the same). Per line:
//   - empty or ASCII whitespace only (space, tab, CR): skipped;
//   - first non-whitespace character '#': a comment, skipped;
//   - a '#' right after a space or tab starts a trailing comment, which is
//     cut off before anything else is looked at. A '#' after any other byte
//     is part of the value: emails may contain one ("a#b@x.com");
//   - otherwise, after leading whitespace, the line starts with exactly
//     `email:` or `phone:` (lower case, no space before the colon), and the
//     rest, trimmed of ASCII whitespace (space, tab, CR, LF), is the value.
//     It must be non-empty, at most kMaxEmailBytes / kMaxPhoneBytes bytes
//     (the /identify limits, docs/api.md §2), valid UTF-8 and free of control
//     characters (bytes below 0x20, and 0x7f; a tab inside a value is one).
// The value is kept as written: no case folding, no phone normalisation
// (matching keys are the engine's business). Duplicate entries are kept, in
// file order; the caller deduplicates by match key.
//
// On success *out holds the entries in file order (its previous contents are
// replaced). On the first violation ParseGuardFile returns
// Status::InvalidArgument("guard file line N: <what is wrong>") and leaves
// *out empty. The message never contains the value (a guard file may list
// personal data), only the line number and the field name. Any text is
// accepted as input (binary, NUL bytes, any size up to INT_MAX lines); reading
// the file and bounding its size are the caller's.
//
// Thread-safety: a pure function of its input; safe from any number of threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/guard.h"
#include "engine/status.h"

namespace idrecon {

// "email" or "phone": the prefix a guard file line uses for the field.
std::string_view GuardFilePrefix(GuardField field);

struct GuardFileEntry {
  GuardField field = GuardField::kEmail;
  std::string value;  // trimmed, non-empty, within the field's byte limit
  int line = 0;       // 1-based line of the file it came from
};

Status ParseGuardFile(std::string_view text, std::vector<GuardFileEntry>* out);

}  // namespace idrecon
