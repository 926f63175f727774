// Fuzz target: a POST /identify body → ParseIdentifyRequest (simdjson
// On-Demand) → Engine::Identify on a fresh engine.
//
// Properties:
//   - ParseIdentifyRequest accepts only what simdjson's DOM parser also
//     accepts as a JSON object, and the values it returns are those of the
//     last "email"/"phoneNumber" key (a string, or an integer's digits);
//   - conversely, a DOM-valid object whose last email is a string/null and
//     whose last phoneNumber is a string/null/unsigned integer is accepted
//     (unless nested deeper than kMaxIgnoredDepth);
//   - after a successful parse, Identify answers 400 exactly when both
//     trimmed values are empty or one is over its limit; otherwise the new
//     cluster is primary 1 with exactly the trimmed values, and asking again
//     changes nothing and gives the same cluster.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/identify_request.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "fuzz/fuzz_check.h"

namespace {

using idrecon::IdentifyRequest;
using idrecon::Status;
namespace dom = simdjson::dom;

// What the DOM parser says the request's fields are.
struct DomView {
  bool parsed = false;       // valid JSON per the DOM parser
  bool skip = false;         // the DOM parser cannot judge (big integers, depth)
  bool object = false;
  bool fields_ok = false;    // email/phone of acceptable types
  std::string email, phone;  // values of the last occurrences ("" for null/absent)
};

std::size_t Depth(dom::element e) {
  std::size_t deepest = 0;
  if (e.is_object()) {
    for (auto field : dom::object(e)) deepest = std::max(deepest, Depth(field.value));
    return deepest + 1;
  }
  if (e.is_array()) {
    for (auto child : dom::array(e)) deepest = std::max(deepest, Depth(child));
    return deepest + 1;
  }
  return 0;
}

DomView ViewThroughDom(std::string_view body) {
  thread_local dom::parser parser;
  DomView v;
  dom::element doc;
  const auto error = parser.parse(body.data(), body.size()).get(doc);
  if (error == simdjson::NUMBER_ERROR || error == simdjson::NUMBER_OUT_OF_RANGE || error == simdjson::DEPTH_ERROR) {
    v.skip = true;  // On-Demand checks these itself (any-length integers, its own depth rule)
    return v;
  }
  if (error) return v;
  v.parsed = true;
  if (!doc.is_object()) return v;
  v.object = true;
  if (Depth(doc) > idrecon::kMaxIgnoredDepth) {
    v.skip = true;
    return v;
  }
  bool email_ok = true, phone_ok = true;
  for (auto field : dom::object(doc)) {
    if (field.key == "email") {
      email_ok = field.value.is_string() || field.value.is_null();
      v.email = field.value.is_string() ? std::string(std::string_view(field.value)) : "";
    } else if (field.key == "phoneNumber") {
      // The DOM parser may read an integer beyond 64 bits as a double; the
      // raw digits are gone, so it cannot judge this one.
      v.skip = v.skip || field.value.is_double();
      phone_ok = field.value.is_string() || field.value.is_null() ||
                 (field.value.is_uint64() || (field.value.is_int64() && int64_t(field.value) >= 0));
      if (field.value.is_string()) {
        v.phone = std::string(std::string_view(field.value));
      } else if (field.value.is_uint64()) {
        v.phone = std::to_string(std::uint64_t(field.value));
      } else if (field.value.is_int64() && int64_t(field.value) >= 0) {
        v.phone = std::to_string(int64_t(field.value));
      } else {
        v.phone.clear();
      }
    }
  }
  v.fields_ok = email_ok && phone_ok;
  return v;
}

// "-0" is an integer to the DOM parser but has a minus sign (docs/api.md §2 rejects it).
bool HasNegativeZeroPhone(std::string_view body) { return body.find("-0") != std::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  IdentifyRequest request;
  const Status parsed = idrecon::ParseIdentifyRequest(body, &request);
  FUZZ_CHECK(parsed.ok() || parsed.IsInvalidArgument(), parsed.ToString());
  FUZZ_CHECK(parsed.ok() || !parsed.message().empty());

  const DomView dom = ViewThroughDom(body);
  if (!dom.skip) {
    if (parsed.ok()) {
      FUZZ_CHECK(dom.parsed && dom.object, "accepted a body the DOM parser rejects");
      FUZZ_CHECK(dom.email == request.email, "email '" + request.email + "' vs DOM '" + dom.email + "'");
      // The DOM parser reads integers as numbers: compare digits only when it did.
      FUZZ_CHECK(dom.phone == request.phone, "phone '" + request.phone + "' vs DOM '" + dom.phone + "'");
    } else if (dom.object && dom.fields_ok && !HasNegativeZeroPhone(body)) {
      FUZZ_CHECK(false, "rejected a valid request: " + parsed.message());
    }
  }
  if (!parsed.ok()) return 0;

  idrecon::ManualClock clock(1'700'000'000'000);
  idrecon::Engine engine(idrecon::Engine::Options{&clock, nullptr, 16, nullptr});
  idrecon::IdentifyOutcome out;
  const Status s = engine.Identify({request.email, request.phone}, &out);
  const std::string_view email = idrecon::TrimAsciiWhitespace(request.email);
  const std::string_view phone = idrecon::TrimAsciiWhitespace(request.phone);
  const bool valid = (!email.empty() || !phone.empty()) && email.size() <= idrecon::kMaxEmailBytes &&
                     phone.size() <= idrecon::kMaxPhoneBytes;
  FUZZ_CHECK(s.ok() == valid, s.ToString());
  if (!s.ok()) {
    FUZZ_CHECK(s.IsInvalidArgument() && engine.contact_count() == 0, s.ToString());
    return 0;
  }
  FUZZ_CHECK(out.created_contact && !out.merged && out.cluster.primary_id == 1);
  FUZZ_CHECK(out.cluster.secondary_ids.empty());
  FUZZ_CHECK(out.cluster.emails.size() == (email.empty() ? 0u : 1u));
  FUZZ_CHECK(out.cluster.phone_numbers.size() == (phone.empty() ? 0u : 1u));
  if (!email.empty()) FUZZ_CHECK(out.cluster.emails[0] == email);
  if (!phone.empty()) FUZZ_CHECK(out.cluster.phone_numbers[0] == phone);

  idrecon::IdentifyOutcome again;
  FUZZ_CHECK(engine.Identify({request.email, request.phone}, &again).ok());
  FUZZ_CHECK(!again.created_contact && !again.merged && engine.contact_count() == 1);
  FUZZ_CHECK(again.cluster.primary_id == 1 && again.cluster.emails == out.cluster.emails &&
             again.cluster.phone_numbers == out.cluster.phone_numbers);
  return 0;
}
