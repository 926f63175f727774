#include "api/identify_request.h"

#include <simdjson.h>

#include <optional>

namespace idrecon {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kNotJson = "request body is not valid JSON";
constexpr std::string_view kNotObject = "request body must be a JSON object";
constexpr std::string_view kBadUtf8 = "request body is not valid UTF-8";
constexpr std::string_view kTooDeep = "request body is nested too deeply";
constexpr std::string_view kEmailType = "email must be a string or null";
constexpr std::string_view kPhoneType =
    "phoneNumber must be a string, a non-negative integer or null";
constexpr std::string_view kPhoneNotInteger =
    "phoneNumber must be a non-negative integer without sign, fraction or exponent";

Status Invalid(std::string_view message) { return Status::InvalidArgument(std::string(message)); }

Status FromSimdjson(simdjson::error_code error) {
  switch (error) {
    case simdjson::UTF8_ERROR: return Invalid(kBadUtf8);
    case simdjson::DEPTH_ERROR: return Invalid(kTooDeep);
    default: return Invalid(kNotJson);
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// simdjson's raw scalar token runs up to the next structural character, so it
// may carry trailing JSON whitespace.
std::string_view TrimTrailingJsonSpace(std::string_view token) {
  while (!token.empty()) {
    const char c = token.back();
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    token.remove_suffix(1);
  }
  return token;
}

// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// Checked on the raw token so integers of any length are accepted (simdjson
// itself refuses integers beyond 64 bits).
bool IsJsonNumber(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (IsDigit(s[i])) {
    while (i < n && IsDigit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i >= n || !IsDigit(s[i])) return false;
    while (i < n && IsDigit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !IsDigit(s[i])) return false;
    while (i < n && IsDigit(s[i])) ++i;
  }
  return i == n;
}

bool IsPlainNonNegativeInteger(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return !s.empty();
}

Status WalkValue(od::value& value, std::size_t depth);

Status WalkObject(od::object& object, std::size_t depth) {
  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return FromSimdjson(error);
    // Keys must be valid strings too (escapes), even when ignored.
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return FromSimdjson(error);
    if (Status s = WalkValue(field.value(), depth); !s.ok()) return s;
  }
  return Status::Ok();
}

Status WalkArray(od::array& array, std::size_t depth) {
  for (auto element_result : array) {
    od::value element;
    if (auto error = std::move(element_result).get(element)) return FromSimdjson(error);
    if (Status s = WalkValue(element, depth); !s.ok()) return s;
  }
  return Status::Ok();
}

// Validates a value we do not use, recursively. `depth` is the nesting level
// of the container holding `value`.
Status WalkValue(od::value& value, std::size_t depth) {
  od::json_type type;
  if (auto error = value.type().get(type)) return FromSimdjson(error);
  switch (type) {
    case od::json_type::object: {
      if (depth + 1 > kMaxIgnoredDepth) return Invalid(kTooDeep);
      od::object object;
      if (auto error = value.get_object().get(object)) return FromSimdjson(error);
      return WalkObject(object, depth + 1);
    }
    case od::json_type::array: {
      if (depth + 1 > kMaxIgnoredDepth) return Invalid(kTooDeep);
      od::array array;
      if (auto error = value.get_array().get(array)) return FromSimdjson(error);
      return WalkArray(array, depth + 1);
    }
    case od::json_type::string: {
      std::string_view unused;
      if (auto error = value.get_string().get(unused)) return FromSimdjson(error);
      return Status::Ok();
    }
    case od::json_type::number:
      if (!IsJsonNumber(TrimTrailingJsonSpace(value.raw_json_token()))) return Invalid(kNotJson);
      return Status::Ok();
    case od::json_type::boolean: {
      bool unused;
      if (auto error = value.get_bool().get(unused)) return FromSimdjson(error);
      return Status::Ok();
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto error = value.is_null().get(is_null)) return FromSimdjson(error);
      if (!is_null) return Invalid(kNotJson);
      return Status::Ok();
    }
  }
  return Invalid(kNotJson);
}

// The outcome of one occurrence of "email" or "phoneNumber". Kept rather than
// returned at once because a later duplicate key may replace it.
struct FieldOutcome {
  std::string value;                     // empty for null
  std::optional<std::string_view> error;  // wrong type; reported if this occurrence wins
};

// Reads "email" (a string or null) or, with `integer_phone`, "phoneNumber"
// (also a non-negative integer, kept as its digits). Any other type is
// recorded as `wrong_type` and must still be valid JSON.
Status ReadValue(od::value& value, bool integer_phone, std::string_view wrong_type, FieldOutcome* out) {
  od::json_type type;
  if (auto error = value.type().get(type)) return FromSimdjson(error);
  out->value.clear();
  out->error.reset();
  if (type == od::json_type::string) {
    std::string_view text;
    if (auto error = value.get_string().get(text)) return FromSimdjson(error);
    out->value.assign(text);
    return Status::Ok();
  }
  if (integer_phone && type == od::json_type::number) {
    const std::string_view token = TrimTrailingJsonSpace(value.raw_json_token());
    if (!IsJsonNumber(token)) return Invalid(kNotJson);
    if (IsPlainNonNegativeInteger(token)) {
      out->value.assign(token);
    } else {
      out->error = kPhoneNotInteger;
    }
    return Status::Ok();
  }
  if (type != od::json_type::null) out->error = wrong_type;
  return WalkValue(value, 1);
}

// Reused by every call on this thread: simdjson's parser keeps its buffers,
// so steady-state parsing allocates nothing but the returned strings.
struct ThreadParseState {
  od::parser parser;
  std::string padded_input;  // the body plus SIMDJSON_PADDING bytes of slack
};

ThreadParseState& ThisThreadParseState() {
  thread_local ThreadParseState state;
  return state;
}

}  // namespace

namespace {

// The /identify body; with `split` non-null also a "split" field (true,
// false or null; *split is -1 when absent or null).
Status ParseBody(std::string_view body, IdentifyRequest* out, int* split) {
  ThreadParseState& state = ThisThreadParseState();
  std::string& input = state.padded_input;
  input.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  input.assign(body);
  const simdjson::padded_string_view padded(input.data(), input.size(), input.capacity());

  od::document document;
  if (auto error = state.parser.iterate(padded).get(document)) return FromSimdjson(error);

  od::json_type type;
  if (auto error = document.type().get(type)) return FromSimdjson(error);
  if (type != od::json_type::object) return Invalid(kNotObject);
  od::object object;
  if (auto error = document.get_object().get(object)) return FromSimdjson(error);

  FieldOutcome email;
  FieldOutcome phone;
  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return FromSimdjson(error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return FromSimdjson(error);
    Status s;
    if (key == "email") {
      s = ReadValue(field.value(), false, kEmailType, &email);
    } else if (key == "phoneNumber") {
      s = ReadValue(field.value(), true, kPhoneType, &phone);
    } else if (split != nullptr && key == "split") {
      od::json_type split_type;
      if (auto error = field.value().type().get(split_type)) return FromSimdjson(error);
      if (split_type == od::json_type::null) {
        *split = -1;
        s = WalkValue(field.value(), 1);
      } else if (split_type == od::json_type::boolean) {
        bool b = false;
        if (auto error = field.value().get_bool().get(b)) return FromSimdjson(error);
        *split = b ? 1 : 0;
      } else {
        return Invalid("split must be true or false");
      }
    } else {
      s = WalkValue(field.value(), 1);
    }
    if (!s.ok()) return s;
  }
  // In simdjson 3.0 a fully consumed document reports OUT_OF_BOUNDS here;
  // anything else means bytes follow the object ("{} {}", "{}}").
  const char* trailing = nullptr;
  if (document.current_location().get(trailing) != simdjson::OUT_OF_BOUNDS) return Invalid(kNotJson);

  if (email.error) return Invalid(*email.error);
  if (phone.error) return Invalid(*phone.error);
  out->email = std::move(email.value);
  out->phone = std::move(phone.value);
  return Status::Ok();
}

}  // namespace

Status ParseIdentifyRequest(std::string_view body, IdentifyRequest* out) { return ParseBody(body, out, nullptr); }

Status ParseGuardRequest(std::string_view body, GuardRequest* out) {
  IdentifyRequest values;
  int split = -1;
  if (Status s = ParseBody(body, &values, &split); !s.ok()) return s;
  const bool has_email = !values.email.empty(), has_phone = !values.phone.empty();
  if (has_email == has_phone) return Invalid("give exactly one of email and phoneNumber");
  out->field = has_email ? GuardField::kEmail : GuardField::kPhone;
  out->value = has_email ? std::move(values.email) : std::move(values.phone);
  out->split = split == 1;
  return Status::Ok();
}

}  // namespace idrecon
