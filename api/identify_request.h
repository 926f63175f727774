// ParseIdentifyRequest: the body of POST /identify (docs/api.md §2) → raw values.
//
// Contract: accepts exactly the documents docs/api.md §2 allows and rejects every
// other body with Status::InvalidArgument and a message for a person:
//   - the body must be one valid JSON object, nothing after it, valid UTF-8;
//   - "email": string, null or absent;
//   - "phoneNumber": string, non-negative integer literal (kept as its digits
//     exactly as written, any length), null or absent; a number with a minus
//     sign, fraction or exponent is rejected;
//   - any other field is ignored but must itself be valid JSON (walked fully,
//     up to kMaxIgnoredDepth levels of nesting);
//   - a duplicated key: the last occurrence wins, as in JavaScript's
//     JSON.parse (an earlier occurrence must still be valid JSON).
// The values returned are raw: not trimmed, not length-checked. Trimming, the
// "at least one value" rule and the byte limits belong to Engine::Identify.
//
// Thread-safety: safe to call from any number of threads; each thread uses
// its own simdjson parser (thread_local, reused across calls).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/guard.h"
#include "engine/status.h"

namespace idrecon {

// Deepest nesting of arrays/objects accepted inside an ignored field. The
// request itself is depth 1; deeper documents are rejected rather than walked
// (the walk is recursive).
inline constexpr std::size_t kMaxIgnoredDepth = 64;

struct IdentifyRequest {
  std::string email;  // empty = absent or null
  std::string phone;  // empty = absent or null; an integer phone is its digits
};

Status ParseIdentifyRequest(std::string_view body, IdentifyRequest* out);

// The body of PUT and DELETE /guard (docs/api.md §8): the same rules, plus
// exactly one of "email" / "phoneNumber" must be given (non-null, non-empty
// before trimming) and "split" is true, false, null or absent.
struct GuardRequest {
  GuardField field = GuardField::kEmail;
  std::string value;  // raw
  bool split = false;
};
Status ParseGuardRequest(std::string_view body, GuardRequest* out);

}  // namespace idrecon
