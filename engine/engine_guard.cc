// Engine: guarded values (docs/api.md §8): PUT/DELETE/GET /guard, the guard
// file, snapshot restore and log replay of guard changes. The automatic
// guard and the cluster cap act inside Identify (engine.cc).
//
// A guard of a key lives in the guard shard of the key's value stripe, so
// every method here takes that one stripe (never a cluster lock): a guard
// change is atomic with respect to every request carrying the value.
#include <algorithm>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "engine/engine_impl.h"

namespace idrecon {

const char* GuardFieldName(GuardField field) { return field == GuardField::kEmail ? "email" : "phoneNumber"; }

const char* GuardReasonName(GuardReason reason) {
  switch (reason) {
    case GuardReason::kFile: return "file";
    case GuardReason::kApi: return "api";
    case GuardReason::kAuto: return "auto";
  }
  return "unknown";
}

namespace {

bool ValidField(std::uint8_t f) {
  return f == static_cast<std::uint8_t>(GuardField::kEmail) || f == static_cast<std::uint8_t>(GuardField::kPhone);
}

// The trimmed value, or InvalidArgument.
Status CheckGuardValue(GuardField field, std::string_view value, std::string_view* trimmed) {
  *trimmed = TrimAsciiWhitespace(value);
  const char* name = GuardFieldName(field);
  if (trimmed->empty()) return Status::InvalidArgument(std::string(name) + " must be a non-empty string");
  const std::size_t limit = field == GuardField::kEmail ? kMaxEmailBytes : kMaxPhoneBytes;
  if (trimmed->size() > limit) {
    return Status::InvalidArgument(std::string(name) + " is longer than " + std::to_string(limit) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

namespace {

void FillEntry(GuardField field, std::string_view key, GuardReason reason, bool split, Millis since, Seq seq,
               std::uint32_t contacts, GuardEntry* out) {
  out->field = field;
  out->value.assign(key);
  out->reason = reason;
  out->split = split;
  out->since = since;
  out->seq = seq;
  out->contacts = contacts;
}

}  // namespace

Status Engine::Impl::Guard(GuardField field, std::string_view value, bool split, bool allow_changes, GuardEntry* out,
                           bool* changed, std::vector<ClusterView>* clusters) {
  *changed = false;
  if (clusters != nullptr) clusters->clear();
  std::string_view trimmed;
  if (Status s = CheckGuardValue(field, value, &trimmed); !s.ok()) return s;
  const bool email = field == GuardField::kEmail;
  std::string scratch;
  Value v = ValueWithKey(field, trimmed, &scratch);
  std::vector<GuardShard>& shards = email ? email_guards_ : phone_guards_;
  StripeGuard guard(value_locks_, v.stripe, StripeLocks::kNone);
  const ValueIndex::Entry* entry = email ? FindEmail(v) : FindPhone(v);
  const std::uint32_t contacts = entry != nullptr ? entry->carriers : 0;
  auto it = shards[v.stripe].find(v.key);
  GuardState* existing = it == shards[v.stripe].end() ? nullptr : &it->second;
  if (existing != nullptr && (!split || existing->split)) {
    FillEntry(field, v.key, existing->reason, existing->split, existing->since, existing->seq, contacts, out);
    if (split && clusters != nullptr) {  // already split: what its clusters are now
      std::shared_lock<StructureLock> structure(structure_);
      std::vector<ContactId> done;
      for (ContactId m : existing->split_members) {
        if (store_.Get(m).deleted_at != Contact::kNotDeleted) continue;
        ContactId root = 0, none = 0;
        StripeGuard cluster_guard(cluster_locks_);
        LockRoots(m, 0, &cluster_guard, &root, &none);
        if (std::find(done.begin(), done.end(), root) != done.end()) continue;
        done.push_back(root);
        clusters->emplace_back();
        BuildView(root, &clusters->back());
      }
      std::sort(clusters->begin(), clusters->end(),
                [](const ClusterView& a, const ClusterView& b) { return a.primary_id < b.primary_id; });
    }
    return Status::Ok();
  }
  if (!allow_changes) return Status::Unavailable("this request would change data, and changes are refused");
  // Everything that can fail first: the guard's node, the split's plan.
  GuardShard::node_type node;
  if (existing == nullptr) node = MakeGuardNode(v.key);
  // A split rewrites clusters: it takes the structure lock exclusively
  // (after the value's stripe, as every request does).
  std::unique_lock<StructureLock> exclusive(structure_, std::defer_lock);
  PreparedSplit prepared;
  if (split) {
    exclusive.lock();
    PrepareSplit(field, v, true, existing, &prepared);
  }
  // A file guard that is split becomes an api guard: the split is a change,
  // logged, and must outlive the file.
  const GuardReason reason =
      existing == nullptr || existing->reason == GuardReason::kFile ? GuardReason::kApi : existing->reason;
  Millis now;
  Seq seq;
  {
    std::lock_guard<std::mutex> seq_lock(seq_mu_);
    now = NowLocked();
    seq = LogGuardLocked(field, v, reason, split, now);
  }
  GuardState* state = existing;
  if (state == nullptr) {
    node.mapped() = GuardState{reason, false, now, seq, {}};
    state = &shards[v.stripe].insert(std::move(node)).position->second;
  }
  state->reason = reason;
  state->since = now;
  state->seq = seq;
  if (split) FinishSplit(prepared, true, state, now, seq);
  FillEntry(field, v.key, reason, state->split, now, seq, contacts, out);
  *changed = true;
  if (split && clusters != nullptr) ViewsOf(prepared.plan.new_roots, clusters);
  return Status::Ok();
}

Status Engine::Impl::Unguard(GuardField field, std::string_view value, bool allow_changes, GuardEntry* out,
                             std::vector<ClusterView>* clusters) {
  if (clusters != nullptr) clusters->clear();
  std::string_view trimmed;
  if (Status s = CheckGuardValue(field, value, &trimmed); !s.ok()) return s;
  const bool email = field == GuardField::kEmail;
  std::string scratch;
  Value v = ValueWithKey(field, trimmed, &scratch);
  std::vector<GuardShard>& shards = email ? email_guards_ : phone_guards_;
  StripeGuard guard(value_locks_, v.stripe, StripeLocks::kNone);
  auto it = shards[v.stripe].find(v.key);
  if (it == shards[v.stripe].end()) {
    return Status::NotFound(std::string("this ") + GuardFieldName(field) + " is not guarded");
  }
  if (!allow_changes) return Status::Unavailable("this request would change data, and changes are refused");
  const ValueIndex::Entry* entry = email ? FindEmail(v) : FindPhone(v);
  GuardState& state = it->second;
  const bool split = state.split;
  std::unique_lock<StructureLock> exclusive(structure_, std::defer_lock);
  PreparedSplit prepared;
  if (split) {
    exclusive.lock();
    PrepareSplit(field, v, false, &state, &prepared);
  }
  Millis now;
  Seq seq;
  {
    std::lock_guard<std::mutex> seq_lock(seq_mu_);
    now = NowLocked();
    seq = ++last_seq_;
    if (sink_ != nullptr) {
      Change ch;
      ch.kind = Change::Kind::kUnguard;
      ch.seq = seq;
      ch.at = now;
      (email ? ch.email : ch.phone) = v.key;
      ch.guard_field = static_cast<std::uint8_t>(field);
      AppendToSink(sink_, ch);
    }
  }
  // Apply first, answer after: the answer's copies may allocate, the change
  // must not be left half done if they fail.
  const GuardReason reason = state.reason;
  const Millis since = state.since;
  if (split) FinishSplit(prepared, false, &state, now, seq);
  shards[v.stripe].erase(it);
  FillEntry(field, v.key, reason, split, since, seq, entry != nullptr ? entry->carriers : 0u, out);
  if (split && clusters != nullptr) ViewsOf(prepared.plan.new_roots, clusters);
  return Status::Ok();
}

void Engine::Impl::ListGuards(std::vector<GuardEntry>* out) const {
  out->clear();
  for (std::size_t i = 0; i < value_locks_.size(); ++i) {
    StripeGuard guard(value_locks_, i, StripeLocks::kNone);
    for (GuardField field : {GuardField::kEmail, GuardField::kPhone}) {
      const bool email = field == GuardField::kEmail;
      for (const auto& [key, state] : (email ? email_guards_ : phone_guards_)[i]) {
        Value v = MakeValue(key, key);
        const ValueIndex::Entry* entry = email ? FindEmail(v) : FindPhone(v);
        out->push_back(GuardEntry{field, key, state.reason, state.split, state.since,
                                  entry != nullptr ? entry->carriers : 0u, state.seq, state.split_members});
      }
    }
  }
  std::sort(out->begin(), out->end(), [](const GuardEntry& a, const GuardEntry& b) {
    return a.field != b.field ? a.field < b.field : a.value < b.value;
  });
}

Status Engine::Impl::AddFileGuards(const std::vector<std::pair<GuardField, std::string>>& values) {
  std::vector<std::string_view> trimmed(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (Status s = CheckGuardValue(values[i].first, values[i].second, &trimmed[i]); !s.ok()) return s;
  }
  const Millis now = clock_->NowMillis();
  std::string scratch;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const bool email = values[i].first == GuardField::kEmail;
    Value v = ValueWithKey(values[i].first, trimmed[i], &scratch);
    StripeGuard guard(value_locks_, v.stripe, StripeLocks::kNone);
    (email ? email_guards_ : phone_guards_)[v.stripe].try_emplace(std::string(v.key),
                                                                  GuardState{GuardReason::kFile, false, now, 0});
  }
  return Status::Ok();
}

Status Engine::Impl::RestoreGuard(const GuardEntry& entry) {
  if (entry.value.empty() || entry.value.size() > kMaxEmailBytes ||
      (entry.field == GuardField::kPhone && entry.value.size() > kMaxPhoneBytes) ||
      !ValidField(static_cast<std::uint8_t>(entry.field)) ||
      (entry.reason != GuardReason::kApi && entry.reason != GuardReason::kAuto)) {
    return Status::Corruption("snapshot guard is not valid");
  }
  for (ContactId m : entry.split_members) {
    if (m == 0 || m >= store_.end()) return Status::Corruption("snapshot guard names a missing contact");
  }
  Value v = MakeValue(entry.value, entry.value);
  StripeGuard guard(value_locks_, v.stripe, StripeLocks::kNone);
  auto& shard = (entry.field == GuardField::kEmail ? email_guards_ : phone_guards_)[v.stripe];
  if (!shard.try_emplace(entry.value, GuardState{entry.reason, entry.split, entry.since, 0, entry.split_members})
           .second) {
    return Status::Corruption("snapshot guards one value twice");
  }
  if (entry.split) {
    std::unique_lock<StructureLock> exclusive(structure_);
    split_keys_.emplace(entry.field, entry.value);
    // The restored rows already hold the split clusters; what restore could
    // not know is that the value has a first carrier in each of them.
    std::vector<ContactId> roots;
    for (ContactId m : entry.split_members) {
      if (store_.Get(m).deleted_at == Contact::kNotDeleted) roots.push_back(FindRoot(m));
    }
    RefreshFirstCarriers(std::move(roots));
  }
  return Status::Ok();
}

Status Engine::Impl::ApplyGuard(const Change& change) {
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("log record seq " + std::to_string(change.seq) + ": " + why);
  };
  if (!ValidField(change.guard_field)) return corrupt("guard of an unknown field");
  const auto field = static_cast<GuardField>(change.guard_field);
  const std::string_view key = field == GuardField::kEmail ? change.email : change.phone;
  if (key.empty() || key.size() > (field == GuardField::kEmail ? kMaxEmailBytes : kMaxPhoneBytes)) {
    return corrupt("guard of an empty or over-long value");
  }
  const auto reason = static_cast<GuardReason>(change.guard_reason);
  if (change.kind == Change::Kind::kGuard && reason != GuardReason::kApi && reason != GuardReason::kAuto) {
    return corrupt("guard with an unknown reason");
  }
  Value v = MakeValue(key, key);
  StripeGuard guard(value_locks_, v.stripe, StripeLocks::kNone);
  auto& shard = (field == GuardField::kEmail ? email_guards_ : phone_guards_)[v.stripe];
  auto it = shard.find(key);
  GuardState* existing = it == shard.end() ? nullptr : &it->second;
  // A split or an unsplit re-clusters exactly as it did live.
  const bool resplit = change.kind == Change::Kind::kGuard ? change.guard_split && (existing == nullptr || !existing->split)
                                                            : existing != nullptr && existing->split;
  GuardShard::node_type node;
  if (change.kind == Change::Kind::kGuard && existing == nullptr) node = MakeGuardNode(key);  // may throw; nothing changed yet
  std::unique_lock<StructureLock> exclusive(structure_, std::defer_lock);
  PreparedSplit prepared;
  if (resplit) {
    exclusive.lock();
    PrepareSplit(field, v, change.kind == Change::Kind::kGuard, existing, &prepared);
  }
  {
    std::lock_guard<std::mutex> seq_lock(seq_mu_);
    last_seq_ = change.seq;
    last_time_ = std::max(last_time_, change.at);
  }
  if (change.kind == Change::Kind::kUnguard) {
    // Not guarded: a file guard's (the file is read after recovery).
    if (existing == nullptr) return Status::Ok();
    if (resplit) FinishSplit(prepared, false, existing, change.at, change.seq);
    shard.erase(it);
    return Status::Ok();
  }
  GuardState* state = existing;
  if (state == nullptr) {
    node.mapped() = GuardState{reason, false, change.at, change.seq, {}};
    state = &shard.insert(std::move(node)).position->second;
  }
  state->reason = reason;
  state->since = change.at;
  state->seq = change.seq;
  if (resplit) FinishSplit(prepared, true, state, change.at, change.seq);
  return Status::Ok();
}

}  // namespace idrecon
