#include "bench/load/response_check.h"

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

// Checks an array of strings; sets *found when `want` (non-empty) is in it.
bool StringArray(simdjson::dom::element e, std::string_view want, bool* found) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element item : arr) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) return false;
    if (!want.empty() && s == want) *found = true;
  }
  return true;
}

}  // namespace

CheckResult CheckIdentifyResponse(std::string_view body, std::string_view email, std::string_view phone,
                                  bool check_values) {
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;
  padded.assign(body.data(), body.size());
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element root;
  if (parser.parse(padded.data(), body.size(), false).get(root) != simdjson::SUCCESS) return CheckResult::kNotJson;
  simdjson::dom::object contact;
  if (root["contact"].get_object().get(contact) != simdjson::SUCCESS) return CheckResult::kBadShape;
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
  if (!StringArray(emails, email, &email_found) || !StringArray(phones, phone, &phone_found)) {
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
  if (check_values && !(email_found && phone_found)) return CheckResult::kMissingValue;
  return CheckResult::kOk;
}

}  // namespace idrecon::load
