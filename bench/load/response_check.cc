#include "bench/load/response_check.h"

#include <cstddef>
#include <cstdint>
#include <string>

#include <simdjson.h>

namespace idrecon::load {

const char* CheckResultName(CheckResult r) {
  switch (r) {
    case CheckResult::kOk: return "ok";
    case CheckResult::kNotJson: return "not_json";
    case CheckResult::kBadShape: return "bad_shape";
    case CheckResult::kMissingValue: return "missing_value";
  }
  return "?";
}

namespace {

// Checks an array of strings; sets *found when `want` (non-empty) is in it
// and adds the array's length to *count.
bool StringArray(simdjson::dom::element e, std::string_view want, bool* found, std::size_t* count) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element item : arr) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) return false;
    if (!want.empty() && s == want) *found = true;
    ++*count;
  }
  return true;
}

// Reads the optional top-level "guarded" array into *answer; false when it
// is there but not an array of "email" / "phoneNumber".
bool GuardedFields(simdjson::dom::object root, CheckedAnswer* answer) {
  simdjson::dom::element guarded;
  const auto error = root["guarded"].get(guarded);
  if (error == simdjson::NO_SUCH_FIELD) return true;
  simdjson::dom::array arr;
  if (error != simdjson::SUCCESS || guarded.get_array().get(arr) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element item : arr) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) return false;
    if (s == "email") answer->email_guarded = true;
    else if (s == "phoneNumber") answer->phone_guarded = true;
    else return false;
  }
  return true;
}

}  // namespace

CheckResult CheckIdentifyResponse(std::string_view body, std::string_view email, std::string_view phone,
                                  bool check_values, CheckedAnswer* answer_out) {
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;
  padded.assign(body.data(), body.size());
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element root;
  if (parser.parse(padded.data(), body.size(), false).get(root) != simdjson::SUCCESS) return CheckResult::kNotJson;
  simdjson::dom::object top, contact;
  CheckedAnswer answer;
  if (root.get_object().get(top) != simdjson::SUCCESS ||
      top["contact"].get_object().get(contact) != simdjson::SUCCESS || !GuardedFields(top, &answer)) {
    return CheckResult::kBadShape;
  }
  std::uint64_t p1 = 0, p2 = 0;
  if (contact["primaryContatctId"].get_uint64().get(p1) != simdjson::SUCCESS ||
      contact["primaryContactId"].get_uint64().get(p2) != simdjson::SUCCESS || p1 != p2 || p1 == 0) {
    return CheckResult::kBadShape;
  }
  bool email_found = email.empty(), phone_found = phone.empty();
  simdjson::dom::element emails, phones, secondaries;
  if (contact["emails"].get(emails) != simdjson::SUCCESS || contact["phoneNumbers"].get(phones) != simdjson::SUCCESS ||
      contact["secondaryContactIds"].get(secondaries) != simdjson::SUCCESS) {
    return CheckResult::kBadShape;
  }
  if (!StringArray(emails, email, &email_found, &answer.cluster_values) ||
      !StringArray(phones, phone, &phone_found, &answer.cluster_values)) {
    return CheckResult::kBadShape;
  }
  simdjson::dom::array ids;
  if (secondaries.get_array().get(ids) != simdjson::SUCCESS) return CheckResult::kBadShape;
  std::uint64_t last = 0;
  for (simdjson::dom::element item : ids) {
    std::uint64_t id = 0;
    if (item.get_uint64().get(id) != simdjson::SUCCESS || id == 0 || id <= last || id == p1) {
      return CheckResult::kBadShape;
    }
    last = id;
  }
  if (check_values) {
    // A guarded value must be one the request sent, and one must be left.
    const bool email_sent = !email.empty(), phone_sent = !phone.empty();
    const bool any_guarded = answer.email_guarded || answer.phone_guarded;
    if ((answer.email_guarded && !email_sent) || (answer.phone_guarded && !phone_sent) ||
        (any_guarded && (answer.email_guarded || !email_sent) && (answer.phone_guarded || !phone_sent))) {
      return CheckResult::kBadShape;
    }
    if (!(email_found || answer.email_guarded) || !(phone_found || answer.phone_guarded)) {
      return CheckResult::kMissingValue;
    }
  }
  if (answer_out != nullptr) *answer_out = answer;
  return CheckResult::kOk;
}

}  // namespace idrecon::load
