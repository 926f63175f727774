// CheckIdentifyResponse: is a 200 body a well-formed docs/api.md §2 /identify answer
// that contains the request's values?
//
// Shape: a JSON object with a "contact" object holding primaryContatctId and
// primaryContactId (equal positive integers), "emails" and "phoneNumbers"
// (arrays of strings) and "secondaryContactIds" (an array of positive
// integers, ascending, none equal to the primary). It may also hold, at top
// level beside "contact", "guarded": an array of "email" / "phoneNumber",
// the request's values a guarded server dropped (docs/api.md §8); anything
// else there is a bad shape. With check_values, the request's email (if any)
// must be among the emails and its phone among the phoneNumbers, except a
// value "guarded" names; "guarded" may name only values the request carried,
// and not all of them (a request whose every value is guarded is answered
// 422, not 200).
//
// *answer (optional) receives what the load report needs from a body that
// checked out: the cluster's size and which values were dropped.
//
// Thread-safety: uses a thread_local parser; callable from any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace idrecon::load {

enum class CheckResult { kOk, kNotJson, kBadShape, kMissingValue };
const char* CheckResultName(CheckResult r);

struct CheckedAnswer {
  std::size_t cluster_values = 0;  // emails + phone numbers in "contact"
  bool email_guarded = false;      // "guarded" names "email"
  bool phone_guarded = false;      // "guarded" names "phoneNumber"
};

CheckResult CheckIdentifyResponse(std::string_view body, std::string_view email, std::string_view phone,
                                  bool check_values, CheckedAnswer* answer = nullptr);

}  // namespace idrecon::load
