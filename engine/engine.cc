// Engine implementation.
//
// Locking protocol (docs/architecture.md, "Concurrency"):
//   1. Value stripes. A request first locks the stripes of its email and its
//      phone (value_locks_, ascending order). The stripe of a value also
//      guards that value's index shard, so "is this value known?" and "insert
//      this new value" are atomic per value: two requests carrying the same
//      new email serialise here and can never both create it.
//   2. Cluster stripes. With the value stripes held, it finds the roots of the
//      contacts it matched (lock-free reads of `parent`), locks the roots'
//      stripes (cluster_locks_, ascending), and re-checks that each is still a
//      root; if not, it unlocks and retries. A root only stops being a root
//      under its own stripe, so a root seen under its lock stays one.
//   2a. Between the two, the structure lock (structure_lock.h), shared,
//      around everything that finds roots and touches clusters; the
//      guard's split takes it exclusively to move contacts between roots.
//   3. Sequencer. The short critical section that assigns seq, id and time,
//      allocates and fills new contact slots, and hands the changes to the
//      sink. It is always the innermost lock.
// No thread takes a value stripe while holding a cluster stripe, and no
// thread takes anything while holding the sequencer, so there is no cycle.
//
// The guard lives under the same locks: a value's guarded state is kept in
// the guard shard of its stripe, and its carrier count in its index entry,
// so "is it guarded", "count one more carrier" and "guard it now that the
// count reached the threshold" are one atomic step per value; a cluster's
// live-member count sits on its root, read for the cluster cap under the
// roots' locks. No request can slip past either by racing another.
//
// Why this is linearizable: two requests that conflict (share a value, or a
// cluster) hold a common lock across their whole effect, including their
// sequencer section; requests that share neither commute. So the seq order is
// a valid serial order, and it is the order the sink sees.
//
// Allocation failure: every allocation a change needs (index room, under
// the value stripes; the contact slot and the arena bytes, first thing in
// the sequencer) is made before the first change reaches the sink, and
// what follows cannot fail, so a std::bad_alloc leaves the engine and the
// log as they were. The sink must not throw either (change.h); it is
// called from noexcept code (AppendToSink).
#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "engine/engine_impl.h"

namespace idrecon {

std::string_view TrimAsciiWhitespace(std::string_view s) {
  auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

namespace {

Status ChangesRefused() { return Status::Unavailable("this request would change data, and changes are refused"); }

}  // namespace

ContactId Engine::Impl::CreateContactLockedWithSink(const Value& email, const Value& phone, ContactId primary,
                                                    Millis now, std::uint32_t flags, Seq* seq,
                                                    ChangeSink* sink) noexcept {
  // ReserveContactLocked made room for the slot and the bytes.
  Contact* c = nullptr;
  const ContactId id = store_.Allocate(&c);
  c->created_at = now;
  c->updated_at = now;
  c->email = email.known != 0 ? email.known : arena_.AppendReserved(email.bytes);
  c->phone = phone.known != 0 ? phone.known : arena_.AppendReserved(phone.bytes);
  c->flags = flags;
  c->live_members() = 1;  // a cluster of one until a secondary is spliced in
  c->next = id;  // a list of one; a secondary is spliced in by the caller
  *seq = ++last_seq_;
  c->last_seq = *seq;
  c->parent.store(primary == 0 ? id : primary, std::memory_order_relaxed);
  store_.Publish(id);
  if (sink != nullptr) {
    Change ch;
    ch.kind = Change::Kind::kCreateContact;
    ch.seq = *seq;
    ch.id = id;
    ch.linked_to = primary;
    ch.at = now;
    ch.email = email.bytes;
    ch.phone = phone.bytes;
    AppendToSink(sink, ch);
  }
  return id;
}

void Engine::Impl::MergeLocked(ContactId survivor, ContactId demoted, Millis now, Seq seq) noexcept {
  // Every member of the demoted cluster now links to the survivor: its
  // linkedId changed, so its updatedAt is stamped (docs/api.md §1). Pointing each
  // straight at the survivor keeps every tree one level deep.
  ContactId m = demoted;
  do {
    Contact& c = store_.Get(m);
    c.updated_at = now;
    c.parent.store(survivor, std::memory_order_release);
    m = c.next;
  } while (m != demoted);
  Contact& s = store_.Get(survivor);
  Contact& d = store_.Get(demoted);
  std::swap(s.next, d.next);  // splice the two circular lists
  s.last_seq = std::max({s.last_seq, d.last_seq, seq});
  s.live_members() += d.live_members();
  clusters_.fetch_sub(1, std::memory_order_relaxed);
}

void Engine::Impl::BuildView(ContactId root, ClusterView* view) const {
  thread_local std::vector<ContactId> members;
  MembersOf(root, &members);
  // A value split by the guard may have a first carrier in each of two
  // clusters that a later merge joined: then the flags are not enough.
  if (!split_keys_.empty()) return BuildViewByKeys(root, members, view);

  // docs/api.md §2 and §6: one entry per distinct match key, written as
  // its first (smallest-id) live carrier in this cluster, which carries the
  // first-carrier flag; the primary's key first. Usually the primary is that
  // first carrier itself; when an older id carries the primary's key (an
  // import with its own timestamps), that one's spelling takes the first
  // place instead.
  const Contact& primary = store_.Get(root);
  const std::string_view primary_email = arena_.View(primary.email);
  const std::string_view primary_phone = arena_.View(primary.phone);
  const bool primary_first_email = !primary_email.empty() && (primary.flags & Contact::kFirstEmailCarrier);
  const bool primary_first_phone = !primary_phone.empty() && (primary.flags & Contact::kFirstPhoneCarrier);
  view->primary_id = root;
  view->emails.clear();
  view->phone_numbers.clear();
  view->secondary_ids.clear();
  if (!primary_email.empty()) view->emails.push_back(primary_email);
  if (!primary_phone.empty()) view->phone_numbers.push_back(primary_phone);
  for (ContactId id : members) {
    const Contact& c = store_.Get(id);
    if (c.deleted_at != Contact::kNotDeleted) continue;
    if (id == root) continue;
    view->secondary_ids.push_back(id);
    if (c.flags & Contact::kFirstEmailCarrier) {
      const std::string_view e = arena_.View(c.email);
      if (!primary_email.empty() && !primary_first_email && SameEmailKey(e, primary_email)) {
        view->emails.front() = e;
      } else {
        view->emails.push_back(e);
      }
    }
    if (c.flags & Contact::kFirstPhoneCarrier) {
      const std::string_view p = arena_.View(c.phone);
      if (!primary_phone.empty() && !primary_first_phone && SamePhoneKey(p, primary_phone)) {
        view->phone_numbers.front() = p;
      } else {
        view->phone_numbers.push_back(p);
      }
    }
  }
}

void Engine::Impl::BuildViewByKeys(ContactId root, const std::vector<ContactId>& members, ClusterView* view) const {
  view->primary_id = root;
  view->emails.clear();
  view->phone_numbers.clear();
  view->secondary_ids.clear();
  const Contact& primary = store_.Get(root);
  std::vector<std::string> email_keys, phone_keys;  // parallel to the lists
  // The primary's keys take the first places; the slot is written by the
  // key's first carrier (members are by id).
  if (arena_.View(primary.email).size() > 0) {
    email_keys.push_back(StoredKey(GuardField::kEmail, arena_.View(primary.email)));
    view->emails.emplace_back();
  }
  if (arena_.View(primary.phone).size() > 0) {
    phone_keys.push_back(StoredKey(GuardField::kPhone, arena_.View(primary.phone)));
    view->phone_numbers.emplace_back();
  }
  auto add = [this](std::string_view value, GuardField field, std::vector<std::string>& keys,
                    std::vector<std::string_view>& list) {
    if (value.empty()) return;
    const std::string key = StoredKey(field, value);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) {
        if (list[i].empty()) list[i] = value;
        return;
      }
    }
    keys.push_back(key);
    list.push_back(value);
  };
  for (ContactId id : members) {
    const Contact& c = store_.Get(id);
    if (c.deleted_at != Contact::kNotDeleted) continue;
    if (id != root) view->secondary_ids.push_back(id);
    add(arena_.View(c.email), GuardField::kEmail, email_keys, view->emails);
    add(arena_.View(c.phone), GuardField::kPhone, phone_keys, view->phone_numbers);
  }
}

Status Engine::Impl::PrepareQuery(const IdentifyQuery& query, Query* q, std::string* canonical_email,
                                  std::string* canonical_phone) const {
  const std::string_view email_bytes = TrimAsciiWhitespace(query.email);
  const std::string_view phone_bytes = TrimAsciiWhitespace(query.phone);
  if (email_bytes.empty() && phone_bytes.empty()) {
    return Status::InvalidArgument("at least one of email and phoneNumber must be given");
  }
  if (email_bytes.size() > kMaxEmailBytes) {
    return Status::InvalidArgument("email is longer than " + std::to_string(kMaxEmailBytes) + " bytes");
  }
  if (phone_bytes.size() > kMaxPhoneBytes) {
    return Status::InvalidArgument("phoneNumber is longer than " + std::to_string(kMaxPhoneBytes) + " bytes");
  }
  const std::string_view email_key = email_bytes.empty() ? email_bytes : keys_.EmailKey(email_bytes, &scratch_email());
  const std::string_view phone_key = phone_bytes.empty() ? phone_bytes : keys_.PhoneKey(phone_bytes, &scratch_phone());
  q->email = MakeValue(email_bytes, email_key);
  q->phone = MakeValue(phone_bytes, phone_key);
  canonical_email->clear();
  canonical_phone->clear();
  if (keys_.normalizes()) {
    canonical_email->assign(email_key);
    canonical_phone->assign(phone_key);
  }
  return Status::Ok();
}

std::uint8_t Engine::Impl::DropGuarded(Query* q, Seq* seq) const {
  std::uint8_t guarded = 0;
  if (const GuardState* g = FindGuard(email_guards_, q->email)) {
    guarded |= kGuardedEmail;
    *seq = std::max(*seq, g->seq);
    q->email = Value{};
  }
  if (const GuardState* g = FindGuard(phone_guards_, q->phone)) {
    guarded |= kGuardedPhone;
    *seq = std::max(*seq, g->seq);
    q->phone = Value{};
  }
  return guarded;
}

Status Engine::Impl::AllGuarded(std::uint8_t guarded) {
  if (guarded == (kGuardedEmail | kGuardedPhone)) return Status::Guarded("email and phoneNumber are guarded values");
  if (guarded == kGuardedEmail) return Status::Guarded("email is a guarded value");
  return Status::Guarded("phoneNumber is a guarded value");
}

Seq Engine::Impl::LogGuardLocked(GuardField field, const Value& v, GuardReason reason, bool split,
                                 Millis now) noexcept {
  const Seq seq = ++last_seq_;
  if (sink_ != nullptr) {
    Change ch;
    ch.kind = Change::Kind::kGuard;
    ch.seq = seq;
    ch.at = now;
    (field == GuardField::kEmail ? ch.email : ch.phone) = v.key;
    ch.guard_field = static_cast<std::uint8_t>(field);
    ch.guard_reason = static_cast<std::uint8_t>(reason);
    ch.guard_split = split;
    AppendToSink(sink_, ch);
  }
  return seq;
}

Status Engine::Impl::Identify(const IdentifyQuery& query, IdentifyOutcome* out) {
  // Reset, keeping the vectors' capacity: a caller that reuses its outcome
  // allocates nothing per request.
  out->cluster.primary_id = 0;
  out->cluster.emails.clear();
  out->cluster.phone_numbers.clear();
  out->cluster.secondary_ids.clear();
  out->depends_on_seq = 0;
  out->first_change_seq = 0;
  out->created_contact = false;
  out->merged = false;
  out->guarded = 0;
  out->cap_clusters[0] = out->cap_clusters[1] = 0;
  Query q;
  if (Status s = PrepareQuery(query, &q, &out->canonical_email, &out->canonical_phone); !s.ok()) return s;
  Value& email = q.email;
  Value& phone = q.phone;

  StripeGuard value_guard(value_locks_, email.stripe, phone.stripe);
  Seq guard_seq = 0;
  out->guarded = DropGuarded(&q, &guard_seq);
  if (email.key.empty() && phone.key.empty()) return AllGuarded(out->guarded);
  ValueIndex::Entry* const email_entry = FindEmail(email);
  ValueIndex::Entry* const phone_entry = FindPhone(phone);
  const ContactId by_email = email_entry != nullptr ? email_entry->carrier : 0;
  const ContactId by_phone = phone_entry != nullptr ? phone_entry->carrier : 0;
  const bool email_is_new = !email.key.empty() && email_entry == nullptr;
  const bool phone_is_new = !phone.key.empty() && phone_entry == nullptr;
  const bool create = email_is_new || phone_is_new;
  const std::uint32_t new_flags = (email_is_new ? Contact::kFirstEmailCarrier : 0u) |
                                  (phone_is_new ? Contact::kFirstPhoneCarrier : 0u);

  if (!query.allow_changes && (by_email == 0 && by_phone == 0)) return ChangesRefused();
  // Everything that can fail first (see the top of this file): index room
  // and auto-guard nodes under the value stripes, the contact and its bytes
  // first thing in the sequencer.
  const std::uint8_t auto_guards = create ? AutoGuardsDue(email, email_entry, phone, phone_entry) : 0;
  auto prepare_create = [&](GuardShard::node_type* email_node, GuardShard::node_type* phone_node) {
    PrepareIndexInserts(email, email_is_new, phone, phone_is_new);
    if (auto_guards & kGuardedEmail) *email_node = MakeGuardNode(email.key);
    if (auto_guards & kGuardedPhone) *phone_node = MakeGuardNode(phone.key);
  };
  // After the create, under the value stripes still: count the carriers and
  // put the guards in place. Cannot fail.
  auto finish_create = [&](ContactId id, GuardShard::node_type& email_node, GuardShard::node_type& phone_node,
                           Millis now, Seq email_guard_seq, Seq phone_guard_seq) noexcept {
    InsertValues(email, email_entry, phone, phone_entry, id);
    if (!email_node.empty()) {
      email_node.mapped() = GuardState{GuardReason::kAuto, false, now, email_guard_seq};
      email_guards_[email.stripe].insert(std::move(email_node));
    }
    if (!phone_node.empty()) {
      phone_node.mapped() = GuardState{GuardReason::kAuto, false, now, phone_guard_seq};
      phone_guards_[phone.stripe].insert(std::move(phone_node));
    }
  };
  auto log_auto_guards = [&](Millis now, Seq* email_guard_seq, Seq* phone_guard_seq) noexcept {
    if (auto_guards & kGuardedEmail) *email_guard_seq = LogGuardLocked(GuardField::kEmail, email, GuardReason::kAuto, false, now);
    if (auto_guards & kGuardedPhone) *phone_guard_seq = LogGuardLocked(GuardField::kPhone, phone, GuardReason::kAuto, false, now);
  };

  if (by_email == 0 && by_phone == 0) {
    // Nothing known: a new primary. Nobody can reach it through the index
    // before we insert its values (we hold their stripes), and GetContact
    // sees it only fully built (published under the sequencer).
    GuardShard::node_type email_node, phone_node;
    prepare_create(&email_node, &phone_node);
    ContactId id;
    Seq seq, email_guard_seq = 0, phone_guard_seq = 0;
    Millis now;
    {
      std::lock_guard<std::mutex> seq_lock(seq_mu_);
      ReserveContactLocked(email, phone);  // the last step that can fail
      now = NowLocked();
      id = CreateContactLocked(email, phone, 0, now, new_flags, &seq);
      log_auto_guards(now, &email_guard_seq, &phone_guard_seq);
    }
    clusters_.fetch_add(1, std::memory_order_relaxed);
    finish_create(id, email_node, phone_node, now, email_guard_seq, phone_guard_seq);
    const Contact& c = store_.Get(id);
    out->cluster.primary_id = id;
    if (!email.bytes.empty()) out->cluster.emails.push_back(arena_.View(c.email));
    if (!phone.bytes.empty()) out->cluster.phone_numbers.push_back(arena_.View(c.phone));
    out->depends_on_seq = std::max({seq, email_guard_seq, phone_guard_seq, guard_seq});
    out->first_change_seq = seq;
    out->created_contact = true;
    return Status::Ok();
  }

  ContactId root_a = 0, root_b = 0;
  std::shared_lock<StructureLock> structure(structure_);
  StripeGuard cluster_guard(cluster_locks_);
  LockRoots(by_email, by_phone, &cluster_guard, &root_a, &root_b);

  ContactId survivor = root_a ? root_a : root_b;
  ContactId demoted = 0;
  if (root_a != 0 && root_b != 0 && root_a != root_b) {
    survivor = Older(root_a, root_b) ? root_a : root_b;
    demoted = survivor == root_a ? root_b : root_a;
  }
  if (!query.allow_changes && (demoted != 0 || create)) return ChangesRefused();
  if (demoted != 0 && guard_.max_cluster != 0 &&
      std::uint64_t{LiveMembers(root_a)} + LiveMembers(root_b) > guard_.max_cluster) {
    out->cap_clusters[0] = std::min(root_a, root_b);
    out->cap_clusters[1] = std::max(root_a, root_b);
    return Status::ClusterCap("merging clusters " + std::to_string(out->cap_clusters[0]) + " and " +
                              std::to_string(out->cap_clusters[1]) + " would pass the cluster cap of " +
                              std::to_string(guard_.max_cluster) + " contacts");
  }

  Seq email_guard_seq = 0, phone_guard_seq = 0;
  if (demoted != 0 || create) {
    // (Never both: a merge needs both values known, a create a new one.)
    GuardShard::node_type email_node, phone_node;
    if (create) prepare_create(&email_node, &phone_node);
    PreparedMerge merge;
    if (demoted != 0) PrepareMergeLinks(survivor, demoted, email.bytes, phone.bytes, &merge);
    Millis now;
    Seq demote_seq = 0, create_seq = 0;
    ContactId id = 0;
    {
      std::lock_guard<std::mutex> seq_lock(seq_mu_);
      if (create) ReserveContactLocked(email, phone);  // the last step that can fail
      now = NowLocked();
      if (demoted != 0) {
        demote_seq = ++last_seq_;
        if (sink_ != nullptr) {
          Change ch;
          ch.kind = Change::Kind::kDemote;
          ch.seq = demote_seq;
          ch.id = demoted;
          ch.linked_to = survivor;
          ch.at = now;
          ch.email = email.bytes;  // the merge's evidence
          ch.phone = phone.bytes;
          AppendToSink(sink_, ch);
        }
      }
      if (create) {
        id = CreateContactLocked(email, phone, survivor, now, new_flags, &create_seq);
        log_auto_guards(now, &email_guard_seq, &phone_guard_seq);
      }
    }
    if (demoted != 0) {
      MaterializeLegacyLocked(demoted, merge);
      MergeLocked(survivor, demoted, now, demote_seq);
      MoveMergeLinksLocked(survivor, demoted, merge, demote_seq, now);
      out->merged = true;
    }
    if (create) {
      Contact& s = store_.Get(survivor);
      Contact& c = store_.Get(id);
      std::swap(s.next, c.next);  // splice the one-element list in
      s.last_seq = std::max({s.last_seq, create_seq, email_guard_seq, phone_guard_seq});
      s.live_members() += 1;
      finish_create(id, email_node, phone_node, now, email_guard_seq, phone_guard_seq);
      out->created_contact = true;
    }
    out->first_change_seq = demote_seq != 0 ? demote_seq : create_seq;
  }
  BuildView(survivor, &out->cluster);
  out->depends_on_seq = std::max(store_.Get(survivor).last_seq, guard_seq);
  return Status::Ok();
}

Status Engine::Impl::GetContact(ContactId id, ContactRow* out) const {
  if (Status s = ReadRow(id, out); !s.ok()) return s;
  if (IsVacant(*out)) return Status::NotFound("no contact with id " + std::to_string(id));
  return Status::Ok();
}

Status Engine::Impl::ReadRow(ContactId id, ContactRow* out) const {
  if (id == 0 || id >= store_.end()) return Status::NotFound("no contact with id " + std::to_string(id));
  std::shared_lock<StructureLock> structure(structure_);
  StripeGuard guard(cluster_locks_);
  ContactId root;
  for (;;) {
    root = FindRoot(id);
    guard.Lock(ClusterStripe(root), StripeLocks::kNone);
    if (FindRoot(id) == root) break;  // see LockRoots
    guard.Release();
  }
  const Contact& c = store_.Get(id);
  *out = ContactRow{};
  out->id = id;
  out->email = arena_.View(c.email);
  out->phone = arena_.View(c.phone);
  out->is_primary = root == id;
  out->linked_id = root == id ? 0 : root;
  out->created_at = c.created_at;
  out->updated_at = c.updated_at;
  if (c.deleted_at != Contact::kNotDeleted) {
    out->deleted_at = c.deleted_at;
    out->linked_id = c.deleted_link();  // history; a deleted contact is alone
    out->is_primary = c.deleted_link() == 0;
  }
  out->depends_on_seq = store_.Get(root).last_seq;
  out->legacy_linked = (c.flags & Contact::kLegacyLinked) != 0;
  return Status::Ok();
}

void Engine::Impl::ForEachContact(const std::function<void(const ContactRow&)>& fn) const {
  const ContactId end = store_.end();
  ContactRow row;
  for (ContactId id = 1; id < end; ++id) {
    if (ReadRow(id, &row).ok()) fn(row);
  }
}

Engine::Engine(const Options& options) : impl_(std::make_unique<Impl>(options)) {}
Engine::~Engine() = default;

Status Engine::Identify(const IdentifyQuery& query, IdentifyOutcome* out) { return impl_->Identify(query, out); }
Status Engine::Lookup(const IdentifyQuery& query, LookupOutcome* out) const { return impl_->Lookup(query, out); }
Status Engine::Guard(GuardField field, std::string_view value, bool split, bool allow_changes, GuardEntry* out,
                     bool* changed, std::vector<ClusterView>* clusters) {
  return impl_->Guard(field, value, split, allow_changes, out, changed, clusters);
}
Status Engine::Unguard(GuardField field, std::string_view value, bool allow_changes, GuardEntry* out,
                       std::vector<ClusterView>* clusters) {
  return impl_->Unguard(field, value, allow_changes, out, clusters);
}
void Engine::ListGuards(std::vector<GuardEntry>* out) const { impl_->ListGuards(out); }
Status Engine::AddFileGuards(const std::vector<std::pair<GuardField, std::string>>& values) {
  return impl_->AddFileGuards(values);
}
Status Engine::RestoreGuard(const GuardEntry& entry) { return impl_->RestoreGuard(entry); }
void Engine::ForEachClusterLinks(const std::function<void(ContactId, const ClusterLinks&)>& fn) const {
  impl_->ForEachClusterLinks(fn);
}
Status Engine::RestoreClusterLinks(ContactId member, ClusterLinks links) {
  return impl_->RestoreClusterLinks(member, std::move(links));
}
void Engine::ReclusterAll(Millis now) { impl_->ReclusterAll(now); }
Status Engine::RestoreLegacyLinked(const std::vector<ContactId>& ids, bool all) {
  return impl_->RestoreLegacyLinked(ids, all);
}
const MatchKeys& Engine::match_keys() const { return impl_->match_keys(); }
const GuardSettings& Engine::guard_settings() const { return impl_->guard_settings(); }
Status Engine::GetContact(ContactId id, ContactRow* out) const { return impl_->GetContact(id, out); }
Status Engine::Apply(const Change& change) { return impl_->Apply(change); }
Status Engine::RestoreContact(const ContactRow& row) { return impl_->RestoreContact(row); }
Status Engine::RestoreLink(ContactId secondary, ContactId primary) { return impl_->RestoreLink(secondary, primary); }
void Engine::FinishRestore(Seq last_seq) { impl_->FinishRestore(last_seq); }
void Engine::Reserve(std::size_t contacts) { impl_->Reserve(contacts); }
Status Engine::RestoreAll(const RowSource& rows) { return impl_->RestoreAll(rows); }
void Engine::ForEachContact(const std::function<void(const ContactRow&)>& fn) const { impl_->ForEachContact(fn); }
std::size_t Engine::contact_count() const { return impl_->contact_count(); }
std::size_t Engine::cluster_count() const { return impl_->cluster_count(); }
Seq Engine::last_seq() const { return impl_->last_seq(); }

}  // namespace idrecon
