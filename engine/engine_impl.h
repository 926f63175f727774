// Engine::Impl: the engine's state and the helpers its methods share.
//
// Internal to engine/: engine.cc holds /identify, reads and log replay;
// engine_restore.cc holds snapshot restore (RestoreContact, RestoreLink and
// the bulk RestoreAll). The locking protocol is described in engine.cc.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

#include "engine/contact_store.h"
#include "engine/engine.h"
#include "engine/stripe_locks.h"
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
        value_locks_(o.lock_stripes),
        cluster_locks_(o.lock_stripes),
        email_index_(value_locks_.size()),
        phone_index_(value_locks_.size()) {}

  Status Identify(const IdentifyQuery& query, IdentifyOutcome* out);
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
  // A value of the request with its hash and stripe; empty = absent.
  struct Value {
    std::string_view bytes;
    std::uint64_t hash = 0;
    std::size_t stripe = StripeLocks::kNone;
    // The arena copy of these bytes, when a live contact already holds them
    // (0: none). A new contact reuses it instead of storing the bytes again.
    StringRef known = 0;
  };

  Value MakeValue(std::string_view bytes) const {
    Value v;
    v.bytes = bytes;
    if (!bytes.empty()) {
      v.hash = hash_(bytes);
      v.stripe = value_locks_.StripeOf(engine_detail::StripeKey(v.hash));
    }
    return v;
  }

  // Also records the found contact's arena copy in v.known (see Value).
  ContactId FindInIndex(const std::vector<ValueIndex>& index, Value& v, bool email) const {
    if (v.bytes.empty()) return 0;
    const ContactId found = index[v.stripe].Find(v.bytes, v.hash, [&](ContactId id) {
      const Contact& c = store_.Get(id);
      return arena_.View(email ? c.email : c.phone);
    });
    if (found != 0) v.known = email ? store_.Get(found).email : store_.Get(found).phone;
    return found;
  }

  // Root of `id`'s set, with path halving. Safe without locks: `parent` only
  // ever moves to an ancestor, and sets only grow.
  ContactId FindRoot(ContactId id) const {
    for (;;) {
      Contact& c = store_.Get(id);
      ContactId p = c.parent.load(std::memory_order_acquire);
      if (p == id) return id;
      ContactId gp = store_.Get(p).parent.load(std::memory_order_acquire);
      if (gp != p) c.parent.compare_exchange_weak(p, gp, std::memory_order_acq_rel);
      id = gp;
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
    if (email_is_new) email_index_[email.stripe].PrepareInsert(email.bytes, email.hash);
    if (phone_is_new) phone_index_[phone.stripe].PrepareInsert(phone.bytes, phone.hash);
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
  void InsertValues(const Value& email, bool email_is_new, const Value& phone, bool phone_is_new,
                    ContactId id) noexcept {
    if (email_is_new) email_index_[email.stripe].Insert(email.bytes, email.hash, id);
    if (phone_is_new) phone_index_[phone.stripe].Insert(phone.bytes, phone.hash, id);
  }
  // Under both roots' cluster locks: demoted's members join survivor's cluster.
  void MergeLocked(ContactId survivor, ContactId demoted, Millis now, Seq seq) noexcept;
  // Under the root's cluster lock.
  void BuildView(ContactId root, ClusterView* view) const;

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

  mutable StripeLocks value_locks_;
  mutable StripeLocks cluster_locks_;
  std::vector<ValueIndex> email_index_;  // shard i guarded by value_locks_ stripe i
  std::vector<ValueIndex> phone_index_;  // likewise

  ContactStore store_;
  StringArena arena_;  // appended under seq_mu_
  std::atomic<std::size_t> clusters_{0};

  mutable std::mutex seq_mu_;  // the sequencer
  Seq last_seq_ = 0;           // guarded by seq_mu_
  Millis last_time_ = 0;       // guarded by seq_mu_; createdAt never decreases
};

}  // namespace idrecon
