#include "api/contact_json.h"

#include <string_view>

#include "engine/timestamp.h"
#include "api/json_writer.h"

namespace idrecon {
namespace {

void StringOrNull(JsonWriter& json, std::string_view value) {
  if (value.empty()) {
    json.Null();
  } else {
    json.String(value);
  }
}

}  // namespace

void AppendContactJson(const ContactRow& row, std::string* out) {
  JsonWriter json(*out);
  json.BeginObject();
  json.Key("id");
  json.Uint(row.id);
  json.Key("phoneNumber");
  StringOrNull(json, row.phone);
  json.Key("email");
  StringOrNull(json, row.email);
  json.Key("linkedId");
  if (row.is_primary || row.linked_id == 0) {
    json.Null();
  } else {
    json.Uint(row.linked_id);
  }
  json.Key("linkPrecedence");
  json.String(row.is_primary ? "primary" : "secondary");
  json.Key("createdAt");
  json.String(FormatIsoTimestamp(row.created_at));
  json.Key("updatedAt");
  json.String(FormatIsoTimestamp(row.updated_at));
  json.Key("deletedAt");
  if (row.deleted_at) {
    json.String(FormatIsoTimestamp(*row.deleted_at));
  } else {
    json.Null();
  }
  json.EndObject();
}

}  // namespace idrecon
