// Engine::Lookup: docs/api.md §7, what /identify would do, changing nothing.
//
// It takes the same locks as Identify (the values' stripes, then the
// touched clusters' roots), so its answer is the state at one point of the
// serial order, and it decides exactly as Identify would at that point:
// the same guard drop, the same index lookups, the same cluster cap.
#include <algorithm>
#include <shared_mutex>

#include "engine/engine_impl.h"

namespace idrecon {

Status Engine::Impl::Lookup(const IdentifyQuery& query, LookupOutcome* out) const {
  out->cluster_count = 0;
  out->creates = LookupOutcome::Creates::kNone;
  out->merges[0] = out->merges[1] = 0;
  out->primary_id = 0;
  out->refused_by_cap = false;
  out->guarded = 0;
  out->depends_on_seq = 0;
  Query q;
  if (Status s = PrepareQuery(query, &q, &out->canonical_email, &out->canonical_phone); !s.ok()) return s;

  StripeGuard value_guard(value_locks_, q.email.stripe, q.phone.stripe);
  out->guarded = DropGuarded(&q, &out->depends_on_seq);
  if (q.email.key.empty() && q.phone.key.empty()) return AllGuarded(out->guarded);
  const ValueIndex::Entry* email_entry = FindEmail(q.email);
  const ValueIndex::Entry* phone_entry = FindPhone(q.phone);
  const bool create = (!q.email.key.empty() && email_entry == nullptr) || (!q.phone.key.empty() && phone_entry == nullptr);
  if (email_entry == nullptr && phone_entry == nullptr) {
    out->creates = LookupOutcome::Creates::kPrimary;
    return Status::Ok();
  }

  ContactId root_a = 0, root_b = 0;
  std::shared_lock<StructureLock> structure(structure_);
  StripeGuard cluster_guard(cluster_locks_);
  LockRoots(email_entry != nullptr ? email_entry->carrier : 0, phone_entry != nullptr ? phone_entry->carrier : 0,
            &cluster_guard, &root_a, &root_b);
  ContactId roots[2] = {root_a != 0 ? root_a : root_b, 0};
  if (root_a != 0 && root_b != 0 && root_a != root_b) {
    roots[0] = std::min(root_a, root_b);
    roots[1] = std::max(root_a, root_b);
  }
  for (ContactId root : roots) {
    if (root == 0) continue;
    BuildView(root, &out->clusters[out->cluster_count++]);
    out->depends_on_seq = std::max(out->depends_on_seq, store_.Get(root).last_seq);
  }
  if (roots[1] == 0) {
    out->primary_id = roots[0];
    out->creates = create ? LookupOutcome::Creates::kSecondary : LookupOutcome::Creates::kNone;
    return Status::Ok();
  }
  // Two clusters: a merge (never also a create: both values are known).
  if (guard_.max_cluster != 0 && std::uint64_t{LiveMembers(roots[0])} + LiveMembers(roots[1]) > guard_.max_cluster) {
    out->refused_by_cap = true;
    return Status::Ok();
  }
  out->merges[0] = roots[0];
  out->merges[1] = roots[1];
  out->primary_id = Older(roots[0], roots[1]) ? roots[0] : roots[1];
  return Status::Ok();
}

}  // namespace idrecon
