#include "api/response_json.h"

#include "api/json_writer.h"

namespace idrecon {

void WriteContactObject(JsonWriter& json, const ClusterView& cluster) {
  json.BeginObject();
  json.Key("primaryContatctId");  // sic: the original task's spelling, which clients depend on
  json.Uint(cluster.primary_id);
  json.Key("primaryContactId");
  json.Uint(cluster.primary_id);
  json.Key("emails");
  json.BeginArray();
  for (std::string_view email : cluster.emails) json.String(email);
  json.EndArray();
  json.Key("phoneNumbers");
  json.BeginArray();
  for (std::string_view phone : cluster.phone_numbers) json.String(phone);
  json.EndArray();
  json.Key("secondaryContactIds");
  json.BeginArray();
  for (ContactId id : cluster.secondary_ids) json.Uint(id);
  json.EndArray();
  json.EndObject();
}

void AppendClusterJson(const ClusterView& cluster, std::string* out) {
  JsonWriter json(*out);
  json.BeginObject();
  json.Key("contact");
  WriteContactObject(json, cluster);
  json.EndObject();
}

void AppendErrorJson(std::string_view message, std::string* out) {
  JsonWriter json(*out);
  json.BeginObject();
  json.Key("error");
  json.String(message);
  json.EndObject();
}

}  // namespace idrecon
