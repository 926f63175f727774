// CheckIdentifyResponse: is a 200 body a well-formed docs/api.md §2 /identify answer
// that contains the request's values?
//
// Shape: a JSON object with a "contact" object holding primaryContatctId and
// primaryContactId (equal positive integers), "emails" and "phoneNumbers"
// (arrays of strings) and "secondaryContactIds" (an array of positive
// integers, ascending, none equal to the primary). With check_values, the
// request's email (if any) must be among the emails and its phone among the
// phoneNumbers.
//
// Thread-safety: uses a thread_local parser; callable from any thread.
#pragma once

#include <string_view>

namespace idrecon::load {

enum class CheckResult { kOk, kNotJson, kBadShape, kMissingValue };
const char* CheckResultName(CheckResult r);

CheckResult CheckIdentifyResponse(std::string_view body, std::string_view email, std::string_view phone,
                                  bool check_values);

}  // namespace idrecon::load
