// The response bodies of matching (docs/api.md §2, §6–§8), as JSON text
// appended to a caller-owned string:
//
//   AppendIdentifyJson: the 200 body of POST /identify: the "contact" object
//     of AppendClusterJson, then "guarded" (only when the request lost a
//     field to the guard: ["email"], ["phoneNumber"]) and "canonical" (only
//     with normalisation on: {"email": KEY or null, "phoneNumber": KEY or
//     null}, the request's match keys). With neither, the bytes are exactly
//     AppendClusterJson's.
//   AppendLookupJson: the 200 body of POST /lookup, {"clusters": [...],
//     "identify": {"creates", "merges", "primaryContactId"[, "refused"]}}
//     plus "guarded" and "canonical" as above.
//   AppendClusterCapJson: the 409 body, {"error": ..., "clusters": [P1, P2]}.
//   AppendGuardEntryJson / AppendGuardListJson: GET/PUT/DELETE /guard,
//     {"email": V} or {"phoneNumber": V} with "reason", "contacts", "split"
//     and "since" (with a split, also "clusters"); the list is
//     {"values": [...]} in the engine's order.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"

namespace idrecon {

void AppendIdentifyJson(const IdentifyOutcome& outcome, bool normalizes, std::string* out);
void AppendLookupJson(const LookupOutcome& outcome, bool normalizes, std::string* out);
void AppendClusterCapJson(std::string_view message, const ContactId clusters[2], std::string* out);
// `clusters` non-null: the entry also carries "clusters", the §2 contact
// objects of what a split (or its undoing) made of the clusters.
void AppendGuardEntryJson(const GuardEntry& entry, const std::vector<ClusterView>* clusters, std::string* out);
void AppendGuardListJson(const std::vector<GuardEntry>& entries, std::string* out);

}  // namespace idrecon
