// Engine::Apply: replaying one log record (recovery, the checkpointer's
// engine), with the same locks and the same steps as the live request that
// made it, so replay is live behaviour. Guard records go to ApplyGuard
// (engine_guard.cc).
#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "engine/engine_impl.h"

namespace idrecon {

Status Engine::Impl::Apply(const Change& change) {
  // Recovery is serial: no Identify or Apply runs concurrently (documented in
  // engine.h), so validating before taking locks is safe. Locks are still
  // taken in the usual order so the memory effects are published the same way.
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("log record seq " + std::to_string(change.seq) + ": " + why);
  };
  if (change.seq <= last_seq()) return corrupt("sequence number does not increase");
  const ContactId end = store_.end();
  if (change.kind == Change::Kind::kDemote) {
    if (change.id == 0 || change.id >= end || change.linked_to == 0 || change.linked_to >= end ||
        change.id == change.linked_to || !IsRoot(change.id) || !IsRoot(change.linked_to)) {
      return corrupt("demote of " + std::to_string(change.id) + " under " + std::to_string(change.linked_to) +
                     " does not join two primaries");
    }
    std::shared_lock<StructureLock> structure(structure_);
    StripeGuard guard(cluster_locks_, ClusterStripe(change.id), ClusterStripe(change.linked_to));
    PreparedMerge merge;  // the evidence (none in format 1 records: a legacy link)
    PrepareMergeLinks(change.linked_to, change.id, change.email, change.phone, &merge);
    {
      std::lock_guard<std::mutex> seq_lock(seq_mu_);
      last_seq_ = change.seq;
      last_time_ = std::max(last_time_, change.at);
    }
    MaterializeLegacyLocked(change.id, merge);
    MergeLocked(change.linked_to, change.id, change.at, change.seq);
    MoveMergeLinksLocked(change.linked_to, change.id, merge, change.seq, change.at);
    return Status::Ok();
  }
  if (change.kind == Change::Kind::kGuard || change.kind == Change::Kind::kUnguard) return ApplyGuard(change);
  if (change.kind != Change::Kind::kCreateContact) return corrupt("unknown change kind");
  if (change.id != end) {
    return corrupt("contact id " + std::to_string(change.id) + " is not the next id " + std::to_string(end));
  }
  if (change.email.empty() && change.phone.empty()) return corrupt("contact without email and phone");
  if (change.email.size() > kMaxEmailBytes || change.phone.size() > kMaxPhoneBytes) {
    return corrupt("value over its limit");
  }
  if (change.linked_to != 0 && (change.linked_to >= end || !IsRoot(change.linked_to))) {
    return corrupt("contact links to " + std::to_string(change.linked_to) + ", which is not a primary");
  }
  Value email = MakeValue(change.email, change.email.empty() ? change.email : keys_.EmailKey(change.email, &scratch_email()));
  Value phone = MakeValue(change.phone, change.phone.empty() ? change.phone : keys_.PhoneKey(change.phone, &scratch_phone()));
  StripeGuard value_guard(value_locks_, email.stripe, phone.stripe);
  ValueIndex::Entry* const email_entry = FindEmail(email);
  ValueIndex::Entry* const phone_entry = FindPhone(phone);
  const bool email_is_new = !email.key.empty() && email_entry == nullptr;
  const bool phone_is_new = !phone.key.empty() && phone_entry == nullptr;
  std::shared_lock<StructureLock> structure(structure_);
  StripeGuard cluster_guard(cluster_locks_, ClusterStripe(change.linked_to), StripeLocks::kNone);
  const std::uint32_t flags = (email_is_new ? Contact::kFirstEmailCarrier : 0u) |
                              (phone_is_new ? Contact::kFirstPhoneCarrier : 0u);
  // Everything that can fail first, as in Identify: a failed Apply changes
  // nothing, and recovery may retry it.
  PrepareIndexInserts(email, email_is_new, phone, phone_is_new);
  Seq seq = 0;
  ContactId id = 0;
  {
    std::lock_guard<std::mutex> seq_lock(seq_mu_);
    ReserveContactLocked(email, phone);
    last_seq_ = change.seq - 1;  // CreateContactLockedWithSink takes the next one
    last_time_ = std::max(last_time_, change.at);
    id = CreateContactLockedWithSink(email, phone, change.linked_to, change.at, flags, &seq, nullptr);
  }
  if (change.linked_to == 0) {
    clusters_.fetch_add(1, std::memory_order_relaxed);
  } else {
    Contact& s = store_.Get(change.linked_to);
    std::swap(s.next, store_.Get(id).next);
    s.last_seq = std::max(s.last_seq, seq);
    s.live_members() += 1;
  }
  InsertValues(email, email_entry, phone, phone_entry, id);
  return Status::Ok();
}

}  // namespace idrecon
