// The guard's vocabulary (docs/api.md §8): values that must not join people.
//
// A value is guarded by its match key, per field. A guarded value is dropped
// from /identify and /lookup before matching; the cluster cap refuses merges
// of clusters that would grow past it. The engine keeps the guarded keys
// (Engine::Guard, Unguard, ListGuards) and applies both rules inside the
// same locks as the requests they act on, so no request slips past one by
// racing another.
//
// Plain values; thread-safe to copy and read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/change.h"
#include "engine/clock.h"

namespace idrecon {

enum class GuardField : std::uint8_t { kEmail = 1, kPhone = 2 };
// Why a value is guarded. File guards come from --guard-file and are read
// again at every start (never logged); api and auto guards are changes,
// logged and kept in snapshots.
enum class GuardReason : std::uint8_t { kFile = 1, kApi = 2, kAuto = 3 };

// The public names: "email" / "phoneNumber"; "file" / "api" / "auto".
const char* GuardFieldName(GuardField field);
const char* GuardReasonName(GuardReason reason);

struct GuardSettings {
  // A value becomes guarded (reason auto) when a request makes it the
  // max_contacts-th live carrier; 0 = off.
  std::uint32_t max_contacts = 0;
  // A merge of two clusters whose live contacts number more than
  // max_cluster together is refused; 0 = off.
  std::uint32_t max_cluster = 0;
};

// One guarded value as GET /guard shows it.
struct GuardEntry {
  GuardField field = GuardField::kEmail;
  std::string value;  // the match key
  GuardReason reason = GuardReason::kApi;
  bool split = false;
  Millis since = 0;
  std::uint32_t contacts = 0;  // live carriers now
  Seq seq = 0;                 // the change that guarded it (0: a file guard, or restored)
  // With split: the members of the cluster it split (what an unsplit joins
  // again; kept in snapshots).
  std::vector<ContactId> split_members;
};

}  // namespace idrecon
