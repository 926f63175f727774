// Change: one mutation of the identity graph, as the engine hands it to the
// log (docs/api.md §4: a created contact, a demoted primary; §8: a value
// guarded or unguarded).
//
// The engine assigns every change a sequence number, and ids and timestamps,
// in one critical section, so seq order = id order = createdAt order, and
// replaying changes in seq order rebuilds the same state.
//
// Thread-safety: ChangeSink::Append is called with the engine's sequencer lock
// held, so calls never overlap and arrive in strictly increasing seq order.
// An implementation must be quick (queue the record, never wait on I/O).
//
// Append must not throw. When it is called the engine has committed to the
// change (it applies it in memory right after), so a sink that cannot queue
// a change (out of memory, a full queue) must turn that into an error of
// its own that it keeps and reports (for a log: a sticky error that refuses
// every later change and fails every wait for durability), never into an
// exception. The engine calls Append from noexcept code, so an exception
// that escapes anyway ends the process (std::terminate) instead of letting
// the log and the engine disagree.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/clock.h"

namespace idrecon {

using ContactId = std::uint32_t;  // 0 means "none"
using Seq = std::uint64_t;        // 0 means "none"; the first change is 1

struct Change {
  enum class Kind : std::uint8_t {
    kCreateContact = 1,  // id, email, phone, linked_to (0: a primary), at = createdAt
    kDemote = 2,         // id (a primary) becomes secondary of linked_to, at = updatedAt;
                         // email and phone: the request's values that merged them (its
                         // evidence; both empty in records older than the evidence)
    kGuard = 3,          // the key in email or phone (by guard_field) is guarded, at = since
    kUnguard = 4,        // the key in email or phone is no longer guarded
  };
  Kind kind = Kind::kCreateContact;
  Seq seq = 0;
  ContactId id = 0;
  ContactId linked_to = 0;
  Millis at = 0;
  // Valid only during Append; empty = null.
  std::string_view email;
  std::string_view phone;
  // kGuard, kUnguard: which field (1 email, 2 phone: GuardField); kGuard:
  // why (2 api, 3 auto: GuardReason) and whether its cluster was split.
  std::uint8_t guard_field = 0;
  std::uint8_t guard_reason = 0;
  bool guard_split = false;
};

class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual void Append(const Change& change) = 0;
};

}  // namespace idrecon
