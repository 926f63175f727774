// Engine::Impl: the engine's state and the helpers its methods share.
//
// Internal to engine/: engine.cc holds /identify and reads; engine_apply.cc
// log replay; engine_lookup.cc /lookup; engine_guard.cc the guarded values;
// engine_recluster.cc the link graph and re-clustering;
// engine_restore.cc holds snapshot restore (RestoreContact, RestoreLink and
// the bulk RestoreAll). The locking protocol is described in engine.cc.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/cluster_links.h"
#include "engine/contact_store.h"
#include "engine/engine.h"
#include "engine/stripe_locks.h"
#include "engine/structure_lock.h"
#include "engine/string_arena.h"
#include "engine/value_hash.h"
#include "engine/value_index.h"

namespace idrecon {
namespace engine_detail {

// Value stripes use the high half of the hash; shards' hash maps use it all.
inline std::uint64_t StripeKey(std::uint64_t hash) { return hash >> 32; }

}  // namespace engine_detail

class Engine::Impl {
 public:
  explicit Impl(const Options& o)
      : restore_threads_(o.restore_threads == 0 ? 1 : o.restore_threads),
        clock_(o.clock),
        sink_(o.sink),
        hash_(o.value_hash != nullptr ? ValueHasher(o.value_hash) : ValueHasher()),
        keys_(o.normalization),
        guard_(o.guard),
        value_locks_(o.lock_stripes),
        cluster_locks_(o.lock_stripes),
        email_index_(value_locks_.size()),
        phone_index_(value_locks_.size()),
        email_guards_(value_locks_.size()),
        phone_guards_(value_locks_.size()),
        links_(cluster_locks_.size()) {}

  Status Identify(const IdentifyQuery& query, IdentifyOutcome* out);
  Status Lookup(const IdentifyQuery& query, LookupOutcome* out) const;
  Status Guard(GuardField field, std::string_view value, bool split, bool allow_changes, GuardEntry* out,
               bool* changed, std::vector<ClusterView>* clusters);
  Status Unguard(GuardField field, std::string_view value, bool allow_changes, GuardEntry* out,
                 std::vector<ClusterView>* clusters);
  void ListGuards(std::vector<GuardEntry>* out) const;
  Status AddFileGuards(const std::vector<std::pair<GuardField, std::string>>& values);
  Status RestoreGuard(const GuardEntry& entry);
  Status ApplyGuard(const Change& change);
  void ForEachClusterLinks(const std::function<void(ContactId, const ClusterLinks&)>& fn) const;
  Status RestoreClusterLinks(ContactId member, ClusterLinks links);
  Status RestoreLegacyLinked(const std::vector<ContactId>& ids, bool all);
  void ReclusterAll(Millis now);
  const MatchKeys& match_keys() const { return keys_; }
  const GuardSettings& guard_settings() const { return guard_; }
  Status GetContact(ContactId id, ContactRow* out) const;
  // GetContact without the vacant check (ForEachContact shows every id).
  Status ReadRow(ContactId id, ContactRow* out) const;
  Status Apply(const Change& change);
  Status RestoreContact(const ContactRow& row);
  Status RestoreLink(ContactId secondary, ContactId primary);
  void ForEachContact(const std::function<void(const ContactRow&)>& fn) const;
  void Reserve(std::size_t contacts);
  Status RestoreAll(const RowSource& rows);
  void FinishRestore(Seq last_seq) {
    std::lock_guard<std::mutex> seq_lock(seq_mu_);
    last_seq_ = std::max(last_seq_, last_seq);
  }

  std::size_t contact_count() const { return store_.size(); }
  std::size_t cluster_count() const { return clusters_.load(std::memory_order_relaxed); }
  Seq last_seq() const {
    std::lock_guard<std::mutex> lock(seq_mu_);
    return last_seq_;
  }

 private:
  // A value of the request: its bytes as given (trimmed), its match key,
  // the key's hash and stripe; empty = absent.
  struct Value {
    std::string_view bytes;
    std::string_view key;
    std::uint64_t hash = 0;
    std::size_t stripe = StripeLocks::kNone;
    // The arena copy of these bytes, when the live contact the index found
    // holds exactly them (0: none). A new contact reuses it instead of
    // storing the bytes again.
    StringRef known = 0;
  };

  Value MakeValue(std::string_view bytes, std::string_view key) const {
    Value v;
    v.bytes = bytes;
    v.key = key;
    if (!key.empty()) {
      v.hash = hash_(key);
      v.stripe = value_locks_.StripeOf(engine_detail::StripeKey(v.hash));
    }
    return v;
  }

  // A stored or guarded value of `field` with its match key (in *scratch
  // when it differs from the value).
  Value ValueWithKey(GuardField field, std::string_view value, std::string* scratch) const {
    return MakeValue(value, field == GuardField::kEmail ? keys_.EmailKey(value, scratch) : keys_.PhoneKey(value, scratch));
  }
  // The members of root's cluster, ascending by id, into *out.
  void MembersOf(ContactId root, std::vector<ContactId>* out) const {
    out->clear();
    ContactId m = root;
    do {
      out->push_back(m);
      m = store_.Get(m).next;
    } while (m != root);
    std::sort(out->begin(), out->end());
  }

  // The guarded keys of one field; shard i guarded by value_locks_ stripe i,
  // like the index shard of the same number.
  struct GuardState {
    GuardReason reason = GuardReason::kApi;
    bool split = false;
    Millis since = 0;
    Seq seq = 0;  // the change that guarded it; 0: a file guard, or restored
    // With split: the live members of the cluster it split (a guarded value
    // gets no new carriers), so DELETE /guard finds the clusters to join
    // again: those that hold these contacts now.
    std::vector<ContactId> split_members;
  };
  using GuardShard = std::map<std::string, GuardState, std::less<>>;

  // A request's values, trimmed, checked and keyed (PrepareQuery). The keys
  // may point into thread-local scratch: use them before the next query on
  // this thread.
  struct Query {
    Value email;
    Value phone;
  };
  Status PrepareQuery(const IdentifyQuery& query, Query* q, std::string* canonical_email,
                      std::string* canonical_phone) const;
  // Under the values' stripes: drops guarded values from q (returns the
  // kGuarded* bits) and raises *seq to the seq of each guard that did.
  std::uint8_t DropGuarded(Query* q, Seq* seq) const;
  static Status AllGuarded(std::uint8_t guarded);

  // Does contact `id`'s email (phone) have match key v.key?
  bool EmailMatches(ContactId id, const Value& v) const {
    const std::string_view raw = arena_.View(store_.Get(id).email);
    return raw == v.bytes || (keys_.normalizes() && keys_.EmailKeyEquals(raw, v.key));
  }
  bool PhoneMatches(ContactId id, const Value& v) const {
    const std::string_view raw = arena_.View(store_.Get(id).phone);
    if (raw == v.bytes) return true;
    if (!keys_.normalizes() || raw.empty()) return false;
    thread_local std::string scratch;
    return keys_.PhoneKey(raw, &scratch) == v.key;
  }
  // Do two stored values (trimmed, non-empty) have the same key?
  bool SameEmailKey(std::string_view a, std::string_view b) const {
    return a == b || (keys_.normalizes() && keys_.EmailKeyEquals(a, keys_.EmailKey(b, &scratch_email())));
  }
  bool SamePhoneKey(std::string_view a, std::string_view b) const {
    if (a == b) return true;
    if (!keys_.normalizes()) return false;
    std::string other;
    return keys_.PhoneKey(a, &scratch_phone()) == keys_.PhoneKey(b, &other);
  }
  static std::string& scratch_email() {
    thread_local std::string s;
    return s;
  }
  static std::string& scratch_phone() {
    thread_local std::string s;
    return s;
  }

  // The index entry of v (nullptr: no live contact has its key). Also
  // records the carrier's arena copy in v.known when it holds v's bytes.
  ValueIndex::Entry* FindEmail(Value& v) const {
    if (v.key.empty()) return nullptr;
    ValueIndex::Entry* e =
        email_index_[v.stripe].Find(v.key, v.hash, [&](ContactId id) { return EmailMatches(id, v); });
    if (e != nullptr) {
      const StringRef ref = store_.Get(e->carrier).email;
      if (arena_.View(ref) == v.bytes) v.known = ref;
    }
    return e;
  }
  ValueIndex::Entry* FindPhone(Value& v) const {
    if (v.key.empty()) return nullptr;
    ValueIndex::Entry* e =
        phone_index_[v.stripe].Find(v.key, v.hash, [&](ContactId id) { return PhoneMatches(id, v); });
    if (e != nullptr) {
      const StringRef ref = store_.Get(e->carrier).phone;
      if (arena_.View(ref) == v.bytes) v.known = ref;
    }
    return e;
  }
  const GuardState* FindGuard(const std::vector<GuardShard>& shards, const Value& v) const {
    if (v.key.empty()) return nullptr;
    const GuardShard& shard = shards[v.stripe];
    if (shard.empty()) return nullptr;
    auto it = shard.find(v.key);
    return it == shard.end() ? nullptr : &it->second;
  }

  // Locks the clusters of the two matched contacts (either may be 0) and
  // returns their roots, retrying while a merge demotes one meanwhile.
  void LockRoots(ContactId by_email, ContactId by_phone, StripeGuard* guard, ContactId* root_a,
                 ContactId* root_b) const {
    for (;;) {
      *root_a = by_email ? FindRoot(by_email) : 0;
      *root_b = by_phone ? FindRoot(by_phone) : 0;
      guard->Lock(ClusterStripe(*root_a), ClusterStripe(*root_b));
      // Still the roots of these contacts? (A merge demotes a root; a
      // re-clustering may move a contact to another root while its old one
      // stays a root.) Both happen only under the locks now held.
      if ((by_email == 0 || FindRoot(by_email) == *root_a) && (by_phone == 0 || FindRoot(by_phone) == *root_b)) return;
      guard->Release();
    }
  }

  // Root of `id`'s set. Every tree is at most one level deep (a merge, a
  // restore and a re-clustering point every member straight at its root),
  // so no path compression: it would only add writes. Call it with the
  // structure lock shared (or exclusive): re-clustering then cannot move
  // the contact meanwhile. The answer may still be stale by a merge: lock
  // the root's stripe and check FindRoot again (LockRoots).
  ContactId FindRoot(ContactId id) const {
    for (;;) {
      const ContactId p = store_.Get(id).parent.load(std::memory_order_acquire);
      if (p == id) return id;
      id = p;
    }
  }

  bool IsRoot(ContactId id) const { return store_.Get(id).parent.load(std::memory_order_acquire) == id; }

  std::size_t ClusterStripe(ContactId root) const {
    return root == 0 ? StripeLocks::kNone : cluster_locks_.StripeOf(root);
  }

  // True when `a` is older than `b` (docs/api.md §1: createdAt, then id).
  bool Older(ContactId a, ContactId b) const {
    const Millis ta = store_.Get(a).created_at, tb = store_.Get(b).created_at;
    return ta != tb ? ta < tb : a < b;
  }

  // Sequencer: call with seq_mu_ held.
  Millis NowLocked() {
    last_time_ = std::max(last_time_, clock_->NowMillis());
    return last_time_;
  }

  // Making a contact is split so that everything that can fail comes
  // before the first change reaches the sink (allocation failure must never
  // leave the log and the engine disagreeing):
  //   PrepareIndexInserts: under the values' stripes, before the sequencer;
  //   ReserveContactLocked: under the sequencer, before any change;
  //   CreateContactLocked: allocate, fill and publish the contact, log it;
  //   InsertValues: after the sequencer, still under the values' stripes.
  // The last two cannot fail.
  void PrepareIndexInserts(const Value& email, bool email_is_new, const Value& phone, bool phone_is_new) {
    if (email_is_new) email_index_[email.stripe].PrepareInsert(email.key, email.hash);
    if (phone_is_new) phone_index_[phone.stripe].PrepareInsert(phone.key, phone.hash);
  }
  void ReserveContactLocked(const Value& email, const Value& phone) {
    store_.ReserveNext();
    arena_.Reserve((email.known != 0 ? 0 : email.bytes.size()) + (phone.known != 0 ? 0 : phone.bytes.size()));
  }
  ContactId CreateContactLocked(const Value& email, const Value& phone, ContactId primary, Millis now,
                                std::uint32_t flags, Seq* seq) noexcept {
    return CreateContactLockedWithSink(email, phone, primary, now, flags, seq, sink_);
  }
  ContactId CreateContactLockedWithSink(const Value& email, const Value& phone, ContactId primary, Millis now,
                                        std::uint32_t flags, Seq* seq, ChangeSink* sink) noexcept;
  // The engine has committed to `ch` when it logs it: a sink that throws
  // (breaking its contract, change.h) ends the process here rather than
  // leave the log and the engine disagreeing.
  static void AppendToSink(ChangeSink* sink, const Change& ch) noexcept { sink->Append(ch); }
  // The new contact `id` carries both values: new keys enter the index,
  // known ones (their entries, found under the same stripes) count it.
  void InsertValues(const Value& email, ValueIndex::Entry* email_entry, const Value& phone,
                    ValueIndex::Entry* phone_entry, ContactId id) noexcept {
    if (!email.key.empty()) {
      if (email_entry == nullptr) {
        email_index_[email.stripe].Insert(email.key, email.hash, id);
      } else {
        ++email_entry->carriers;
      }
    }
    if (!phone.key.empty()) {
      if (phone_entry == nullptr) {
        phone_index_[phone.stripe].Insert(phone.key, phone.hash, id);
      } else {
        ++phone_entry->carriers;
      }
    }
  }
  // Auto guard (docs/api.md §8): which of the new contact's values reach the
  // threshold with it and are not guarded yet (kGuarded* bits). Decided
  // before the create so the guard's map node is allocated in time.
  std::uint8_t AutoGuardsDue(const Value& email, const ValueIndex::Entry* email_entry, const Value& phone,
                             const ValueIndex::Entry* phone_entry) const {
    if (guard_.max_contacts == 0) return 0;
    auto due = [&](const Value& v, const ValueIndex::Entry* e, const std::vector<GuardShard>& shards) {
      const std::uint64_t carriers = (e == nullptr ? 0 : e->carriers) + 1;
      return !v.key.empty() && carriers >= guard_.max_contacts && FindGuard(shards, v) == nullptr;
    };
    return (due(email, email_entry, email_guards_) ? kGuardedEmail : 0) |
           (due(phone, phone_entry, phone_guards_) ? kGuardedPhone : 0);
  }
  // A map node for a guard of `key`, allocated ahead (may throw).
  static GuardShard::node_type MakeGuardNode(std::string_view key) {
    GuardShard one;
    one.emplace(std::string(key), GuardState{});
    return one.extract(one.begin());
  }
  // Under the sequencer: logs a kGuard change for `v` and returns its seq.
  Seq LogGuardLocked(GuardField field, const Value& v, GuardReason reason, bool split, Millis now) noexcept;
  // Under both roots' cluster locks: demoted's members join survivor's cluster.
  void MergeLocked(ContactId survivor, ContactId demoted, Millis now, Seq seq) noexcept;
  // A merge's links, made ready before the sequencer (this allocates): the
  // survivor's entry with room for the demoted cluster's links, the new
  // merge link (no values: a merge without evidence, kept as a legacy
  // pair) and the demoted cluster's legacy contacts as pair links.
  struct PreparedMerge {
    ClusterLinks* survivor_links = nullptr;
    ClusterLinks* demoted_links = nullptr;
    MergeLink link;
    std::size_t legacy_members = 0;
  };
  void PrepareMergeLinks(ContactId survivor, ContactId demoted, std::string_view email, std::string_view phone,
                         PreparedMerge* p);
  // Under both roots' locks, before MergeLocked: the demoted cluster's
  // legacy contacts become pair links (its group must stay apart from the
  // survivor's). After MergeLocked: the links move to the survivor. Cannot fail.
  void MaterializeLegacyLocked(ContactId demoted, PreparedMerge& p) noexcept;
  void MoveMergeLinksLocked(ContactId survivor, ContactId demoted, PreparedMerge& p, Seq seq, Millis at) noexcept;

  // Re-clustering (docs/api.md §9): the clusters of `roots` recomputed as the
  // components of their link graph, without the links through a value
  // guarded with split (split_keys_). Plan allocates and changes nothing;
  // Apply writes it and cannot fail. Both with structure_ held exclusively,
  // Plan's roots current.
  struct ReclusterPlan {
    std::vector<ContactId> members;    // ascending
    std::vector<ContactId> new_root;   // per member
    std::vector<ContactId> old_root;   // per member
    std::vector<std::uint32_t> component;  // per member: its index in new_roots
    std::vector<std::uint32_t> flags;  // per member: its first-carrier flags after
    std::vector<ContactId> ring_tail;  // per new root: Apply's scratch
    std::vector<ContactId> old_roots;  // ascending, distinct
    std::vector<ContactId> new_roots;  // ascending, distinct
      std::vector<ClusterLinks> links;   // per new root
  };
  // drop_dead_links: only when nothing else runs (it reads the index
  // without the value stripes): merge links whose value has no live
  // carrier left are dropped.
  void PlanRecluster(std::vector<ContactId> roots, ReclusterPlan* plan, bool drop_dead_links = false);
  void ApplyRecluster(ReclusterPlan& plan, Millis now, Seq seq) noexcept;
  // Sets the first-carrier flags of the clusters of `roots` anew (each key's
  // smallest-id carrier in each cluster), leaving the clusters as they are.
  void RefreshFirstCarriers(std::vector<ContactId> roots);
  // The match key of a stored value (computed: O(1) for emails, a
  // libphonenumber parse for phones with normalisation on).
  std::string StoredKey(GuardField field, std::string_view value) const {
    std::string scratch;
    const std::string_view key = field == GuardField::kEmail ? keys_.EmailKey(value, &scratch) : keys_.PhoneKey(value, &scratch);
    return std::string(key);
  }
  // Split and unsplit (docs/api.md §8), under the value's stripe: guard
  // state `g` of `key` gains or loses its split; the clusters involved are
  // re-clustered; *views: what they became. `seq`/`now`: the change's.
  // Allocation failures come before anything changes; the caller logs the
  // change between Prepare and Finish.
  using SplitKeys = std::set<std::pair<GuardField, std::string>>;
  struct PreparedSplit {
    ReclusterPlan plan;
    std::vector<ContactId> members;  // the split cluster's, for GuardState
    SplitKeys::node_type key_node;   // split: the entry split_keys_ gains
    SplitKeys::iterator key_it;      // unsplit: the entry it loses (end(): none)
  };
  void PrepareSplit(GuardField field, Value& v, bool split, const GuardState* g, PreparedSplit* p);
  void FinishSplit(PreparedSplit& p, bool split, GuardState* g, Millis now, Seq seq) noexcept;
  // The guarded keys with split; changed with structure_ exclusive, read
  // with it shared. A link through one of them is not a link.
  SplitKeys split_keys_;
  // The views of `roots`' clusters, ascending (for the "clusters" of /guard).
  void ViewsOf(std::vector<ContactId> roots, std::vector<ClusterView>* views) const;

  // Under the root's cluster lock and the structure lock (shared or
  // exclusive). ByKeys: the same answer computed from the members' keys,
  // for when split values exist (their first-carrier flags may repeat).
  void BuildView(ContactId root, ClusterView* view) const;
  void BuildViewByKeys(ContactId root, const std::vector<ContactId>& members, ClusterView* view) const;
  // The cluster's live contacts: kept on its root (Contact::live_members).
  std::uint32_t LiveMembers(ContactId root) const { return store_.Get(root).live_members(); }

  // RestoreAll's helpers (engine_restore.cc).
  struct KeyedValue;
  using KeySlices = std::vector<std::vector<KeyedValue>>;  // per id range, in id order
  Status HashRows(const RowSource& rows, KeySlices* email_keys, KeySlices* phone_keys, std::size_t* live) const;
  void ClaimHashes(KeySlices keys, std::vector<ValueIndex>& index, std::vector<ContactId>* owner);
  StringRef ResolveValue(std::vector<ValueIndex>& index, std::string_view bytes, ContactId id, ContactId owner,
                         bool email, bool* first_carrier);

  const unsigned restore_threads_;
  Clock* const clock_;
  ChangeSink* const sink_;
  const ValueHasher hash_;  // keyed per engine unless a test injects one
  const MatchKeys keys_;
  const GuardSettings guard_;

  mutable StripeLocks value_locks_;
  mutable StructureLock structure_;  // see structure_lock.h
  mutable StripeLocks cluster_locks_;
  // Shard i of each is guarded by value_locks_ stripe i. The index is
  // mutable because Find hands out entries that Identify then counts in.
  mutable std::vector<ValueIndex> email_index_;
  mutable std::vector<ValueIndex> phone_index_;
  std::vector<GuardShard> email_guards_;
  std::vector<GuardShard> phone_guards_;
  // Links of clusters that have any (cluster_links.h), by root; shard i
  // guarded by cluster_locks_ stripe i, the stripe of the root.
  using LinkShard = std::unordered_map<ContactId, ClusterLinks>;
  mutable std::vector<LinkShard> links_;
  // Set once contacts with kLegacyLinked exist (a format-1 snapshot was
  // loaded); until then merges need not look for them.
  std::atomic<bool> any_legacy_{false};

  ContactStore store_;
  StringArena arena_;  // appended under seq_mu_
  std::atomic<std::size_t> clusters_{0};

  mutable std::mutex seq_mu_;  // the sequencer
  Seq last_seq_ = 0;           // guarded by seq_mu_
  Millis last_time_ = 0;       // guarded by seq_mu_; createdAt never decreases
};

}  // namespace idrecon
