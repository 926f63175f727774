#include "api/matching_json.h"

#include "api/json_writer.h"
#include "api/response_json.h"
#include "engine/timestamp.h"

namespace idrecon {
namespace {

void WriteKeyOrNull(JsonWriter& json, const std::string& key) {
  if (key.empty()) {
    json.Null();
  } else {
    json.String(key);
  }
}

// "guarded" and "canonical", when they apply.
void WriteMatchingExtras(JsonWriter& json, std::uint8_t guarded, bool normalizes, const std::string& email_key,
                         const std::string& phone_key) {
  if (guarded != 0) {
    json.Key("guarded");
    json.BeginArray();
    if (guarded & kGuardedEmail) json.String("email");
    if (guarded & kGuardedPhone) json.String("phoneNumber");
    json.EndArray();
  }
  if (normalizes) {
    json.Key("canonical");
    json.BeginObject();
    json.Key("email");
    WriteKeyOrNull(json, email_key);
    json.Key("phoneNumber");
    WriteKeyOrNull(json, phone_key);
    json.EndObject();
  }
}

void WriteGuardEntry(JsonWriter& json, const GuardEntry& entry, std::string& scratch,
                     const std::vector<ClusterView>* clusters = nullptr) {
  json.BeginObject();
  json.Key(GuardFieldName(entry.field));
  json.String(entry.value);
  json.Key("reason");
  json.String(GuardReasonName(entry.reason));
  json.Key("contacts");
  json.Uint(entry.contacts);
  json.Key("split");
  json.Bool(entry.split);
  json.Key("since");
  scratch.clear();
  AppendIsoTimestamp(scratch, entry.since);
  json.String(scratch);
  if (clusters != nullptr) {
    json.Key("clusters");
    json.BeginArray();
    for (const ClusterView& c : *clusters) WriteContactObject(json, c);
    json.EndArray();
  }
  json.EndObject();
}

}  // namespace

void AppendIdentifyJson(const IdentifyOutcome& outcome, bool normalizes, std::string* out) {
  JsonWriter json(*out);
  json.BeginObject();
  json.Key("contact");
  WriteContactObject(json, outcome.cluster);
  WriteMatchingExtras(json, outcome.guarded, normalizes, outcome.canonical_email, outcome.canonical_phone);
  json.EndObject();
}

void AppendLookupJson(const LookupOutcome& outcome, bool normalizes, std::string* out) {
  JsonWriter json(*out);
  json.BeginObject();
  json.Key("clusters");
  json.BeginArray();
  for (std::size_t i = 0; i < outcome.cluster_count; ++i) WriteContactObject(json, outcome.clusters[i]);
  json.EndArray();
  json.Key("identify");
  json.BeginObject();
  json.Key("creates");
  switch (outcome.creates) {
    case LookupOutcome::Creates::kNone: json.String("none"); break;
    case LookupOutcome::Creates::kPrimary: json.String("primary"); break;
    case LookupOutcome::Creates::kSecondary: json.String("secondary"); break;
  }
  json.Key("merges");
  json.BeginArray();
  if (outcome.merges[0] != 0) {
    json.Uint(outcome.merges[0]);
    json.Uint(outcome.merges[1]);
  }
  json.EndArray();
  json.Key("primaryContactId");
  if (outcome.primary_id == 0) {
    json.Null();
  } else {
    json.Uint(outcome.primary_id);
  }
  if (outcome.refused_by_cap) {
    json.Key("refused");
    json.String("cluster cap");
  }
  json.EndObject();
  WriteMatchingExtras(json, outcome.guarded, normalizes, outcome.canonical_email, outcome.canonical_phone);
  json.EndObject();
}

void AppendClusterCapJson(std::string_view message, const ContactId clusters[2], std::string* out) {
  JsonWriter json(*out);
  json.BeginObject();
  json.Key("error");
  json.String(message);
  json.Key("clusters");
  json.BeginArray();
  json.Uint(clusters[0]);
  json.Uint(clusters[1]);
  json.EndArray();
  json.EndObject();
}

void AppendGuardEntryJson(const GuardEntry& entry, const std::vector<ClusterView>* clusters, std::string* out) {
  JsonWriter json(*out);
  std::string scratch;
  WriteGuardEntry(json, entry, scratch, clusters);
}

void AppendGuardListJson(const std::vector<GuardEntry>& entries, std::string* out) {
  JsonWriter json(*out);
  std::string scratch;
  json.BeginObject();
  json.Key("values");
  json.BeginArray();
  for (const GuardEntry& e : entries) WriteGuardEntry(json, e, scratch);
  json.EndArray();
  json.EndObject();
}

}  // namespace idrecon
