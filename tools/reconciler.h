// Reconcile: restores docs/api.md §1's invariants on rows from an old deployment,
// and says what it changed.
//
// Contract. Rows with deletedAt set take no part: they keep their linkedId
// as history (an export shows it) and nothing links through them. Live rows
// form connected groups, joined by
//   - a shared non-null email, or a shared non-null phoneNumber (inv. 4), and
//   - a linkedId that names another live row (a merge done by a request that
//     created no row leaves nothing but that link behind).
// In each group the oldest live row by (createdAt, id) becomes the primary
// (linkedId null) and every other row a secondary whose linkedId is that
// primary (no chains). Every row whose linkedId or linkPrecedence changes
// gets updatedAt = max(updatedAt, repair_time) and one repair note saying
// what it was, what it is now, and why (a chain, a missing or deleted
// linkedId, a secondary older than its primary, two primaries joined by a
// shared value or link — concurrent duplicates are that case too). A deleted
// row whose linkPrecedence disagrees with its linkedId is normalised
// (linkPrecedence wins) and noted.
//
// Rows must have distinct ids; they are returned sorted by id. Deterministic:
// the same rows give the same result whatever their input order.
//
// Thread-safety: a pure function of its arguments.
#pragma once

#include <cstdint>
#include <vector>

#include "tools/contact_rows.h"

namespace idrecon::tools {

struct ReconcileResult {
  std::uint64_t live = 0;
  std::uint64_t deleted = 0;
  std::uint64_t clusters = 0;
  std::vector<LineNote> repairs;  // in id order
};

void Reconcile(std::vector<InputRow>* rows, Millis repair_time, ReconcileResult* result);

}  // namespace idrecon::tools
