// The response bodies of the public schema (docs/api.md §2), as JSON text
// appended to a caller-owned string:
//
//   AppendClusterJson: the 200 body of POST /identify,
//     {"contact":{"primaryContatctId":1,"primaryContactId":1,
//                 "emails":[...],"phoneNumbers":[...],"secondaryContactIds":[...]}}
//     (both spellings of the primary id, always equal; the order of the lists
//     is the engine's, which is the contract's).
//   AppendErrorJson: every error body, {"error":"<message for a person>"}.
//
// Nothing here knows HTTP: the status that goes with a body is the caller's.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/engine.h"

namespace idrecon {

class JsonWriter;

void AppendClusterJson(const ClusterView& cluster, std::string* out);
// The inner "contact" object alone, as a value of `json` (for bodies that
// hold clusters: /identify, /lookup).
void WriteContactObject(JsonWriter& json, const ClusterView& cluster);

// `message` must be valid UTF-8 (ReplaceInvalidUtf8 in json_writer.h when it
// echoes a client's bytes).
void AppendErrorJson(std::string_view message, std::string* out);

}  // namespace idrecon
