// Engine: guarded values (docs/api.md §8): PUT/DELETE/GET /guard, the guard
// file, snapshot restore and log replay of guard changes. The automatic
// guard and the cluster cap act inside Identify (engine.cc).
//
// A guard of a key lives in the guard shard of the key's value stripe, so
// every method here takes that one stripe (never a cluster lock): a guard
// change is atomic with respect to every request carrying the value.
#include <algorithm>
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

Status Engine::Impl::Guard(GuardField field, std::string_view value, bool allow_changes, GuardEntry* out,
                           bool* changed) {
  *changed = false;
  std::string_view trimmed;
  if (Status s = CheckGuardValue(field, value, &trimmed); !s.ok()) return s;
  const bool email = field == GuardField::kEmail;
  std::string scratch;
  Value v = MakeValue(trimmed, email ? keys_.EmailKey(trimmed, &scratch) : keys_.PhoneKey(trimmed, &scratch));
  std::vector<GuardShard>& shards = email ? email_guards_ : phone_guards_;
  StripeGuard guard(value_locks_, v.stripe, StripeLocks::kNone);
  const ValueIndex::Entry* entry = email ? FindEmail(v) : FindPhone(v);
  out->field = field;
  out->value.assign(v.key);
  out->contacts = entry != nullptr ? entry->carriers : 0;
  if (const GuardState* g = FindGuard(shards, v)) {
    out->reason = g->reason;
    out->split = g->split;
    out->since = g->since;
    out->seq = g->seq;
    return Status::Ok();
  }
  if (!allow_changes) return Status::Unavailable("this request would change data, and changes are refused");
  GuardShard::node_type node = MakeGuardNode(v.key);  // may throw; nothing changed yet
  Millis now;
  Seq seq;
  {
    std::lock_guard<std::mutex> seq_lock(seq_mu_);
    now = NowLocked();
    seq = LogGuardLocked(field, v, GuardReason::kApi, false, now);
  }
  node.mapped() = GuardState{GuardReason::kApi, false, now, seq};
  shards[v.stripe].insert(std::move(node));
  out->reason = GuardReason::kApi;
  out->split = false;
  out->since = now;
  out->seq = seq;
  *changed = true;
  return Status::Ok();
}

Status Engine::Impl::Unguard(GuardField field, std::string_view value, bool allow_changes, GuardEntry* out) {
  std::string_view trimmed;
  if (Status s = CheckGuardValue(field, value, &trimmed); !s.ok()) return s;
  const bool email = field == GuardField::kEmail;
  std::string scratch;
  Value v = MakeValue(trimmed, email ? keys_.EmailKey(trimmed, &scratch) : keys_.PhoneKey(trimmed, &scratch));
  std::vector<GuardShard>& shards = email ? email_guards_ : phone_guards_;
  StripeGuard guard(value_locks_, v.stripe, StripeLocks::kNone);
  auto it = shards[v.stripe].find(v.key);
  if (it == shards[v.stripe].end()) {
    return Status::NotFound(std::string("this ") + GuardFieldName(field) + " is not guarded");
  }
  if (!allow_changes) return Status::Unavailable("this request would change data, and changes are refused");
  const ValueIndex::Entry* entry = email ? FindEmail(v) : FindPhone(v);
  out->field = field;
  out->value.assign(v.key);
  out->reason = it->second.reason;
  out->split = it->second.split;
  out->since = it->second.since;
  out->contacts = entry != nullptr ? entry->carriers : 0;
  {
    std::lock_guard<std::mutex> seq_lock(seq_mu_);
    const Millis now = NowLocked();
    out->seq = ++last_seq_;
    if (sink_ != nullptr) {
      Change ch;
      ch.kind = Change::Kind::kUnguard;
      ch.seq = out->seq;
      ch.at = now;
      (email ? ch.email : ch.phone) = v.key;
      ch.guard_field = static_cast<std::uint8_t>(field);
      AppendToSink(sink_, ch);
    }
  }
  shards[v.stripe].erase(it);
  return Status::Ok();
}

void Engine::Impl::ListGuards(std::vector<GuardEntry>* out) const {
  out->clear();
  for (std::size_t i = 0; i < value_locks_.size(); ++i) {
    if (email_guards_[i].empty() && phone_guards_[i].empty()) continue;  // a stale read only skips a racing change
    StripeGuard guard(value_locks_, i, StripeLocks::kNone);
    for (GuardField field : {GuardField::kEmail, GuardField::kPhone}) {
      const bool email = field == GuardField::kEmail;
      for (const auto& [key, state] : (email ? email_guards_ : phone_guards_)[i]) {
        Value v = MakeValue(key, key);
        const ValueIndex::Entry* entry = email ? FindEmail(v) : FindPhone(v);
        out->push_back(GuardEntry{field, key, state.reason, state.split, state.since,
                                  entry != nullptr ? entry->carriers : 0u, state.seq});
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
    Value v = MakeValue(trimmed[i], email ? keys_.EmailKey(trimmed[i], &scratch) : keys_.PhoneKey(trimmed[i], &scratch));
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
  Value v = MakeValue(entry.value, entry.value);
  StripeGuard guard(value_locks_, v.stripe, StripeLocks::kNone);
  auto& shard = (entry.field == GuardField::kEmail ? email_guards_ : phone_guards_)[v.stripe];
  if (!shard.try_emplace(entry.value, GuardState{entry.reason, entry.split, entry.since, 0}).second) {
    return Status::Corruption("snapshot guards one value twice");
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
  GuardShard::node_type node;
  if (change.kind == Change::Kind::kGuard) node = MakeGuardNode(key);  // may throw; nothing changed yet
  {
    std::lock_guard<std::mutex> seq_lock(seq_mu_);
    last_seq_ = change.seq;
    last_time_ = std::max(last_time_, change.at);
  }
  // An unguard of a value that is not guarded is a file guard's: the file is
  // read after recovery, so there is nothing to do. A guard replaces.
  if (auto it = shard.find(key); it != shard.end()) shard.erase(it);
  if (change.kind == Change::Kind::kUnguard) return Status::Ok();
  node.mapped() = GuardState{reason, change.guard_split, change.at, change.seq};
  shard.insert(std::move(node));
  return Status::Ok();
}

}  // namespace idrecon
