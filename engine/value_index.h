// ValueIndex: one shard of the email→contact or phone→contact index.
//
// Maps a value (an email or a phone number) to the first contact that carried
// it. To stay compact it is keyed by a 64-bit hash of the value, not by the
// bytes: a hit is confirmed by comparing the bytes the contact holds. Two
// different values with the same hash never merge: the first one owns the
// hash slot, later ones live in an overflow map keyed by their bytes.
// Invariant: every value in overflow_ has a hash that is also a key of main_.
//
// With the engine's keyed hash (value_hash.h) a collision is a 2^-64 event,
// but the overflow map is an ordered tree all the same, probed by the
// value's bytes without a copy: if collisions ever pile up (a weak injected
// hash, a key that leaked), each probe and insert stays O(log k) in the k
// collided values of the shard, never O(k), and it hashes nothing that an
// attacker could aim at.
//
// Thread-safety: none. The engine guards each shard with its value-lock
// stripe, and every access to a shard holds that stripe's mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <boost/unordered/unordered_flat_map.hpp>

#include "engine/change.h"
#include "engine/large_pages.h"

namespace idrecon {

class ValueIndex {
 public:
  // `value_of(id)` returns the bytes contact `id` holds for this index.
  template <class ValueOf>
  ContactId Find(std::string_view value, std::uint64_t hash, const ValueOf& value_of) const {
    auto it = main_.find(hash);
    if (it == main_.end()) return 0;  // by the invariant, overflow_ cannot hold it either
    if (value_of(it->second) == value) return it->second;
    return FindCollided(value);
  }

  // Does now every allocation that Insert(value, hash, ·) will need: room
  // in the table for one more hash, or, when `hash` is already owned (a
  // collision), the overflow entry, built ahead with the value's bytes.
  // Throws std::bad_alloc with the index unchanged (a rehash that fails
  // keeps the old table). Precondition: Find(value, hash) returned 0.
  void PrepareInsert(std::string_view value, std::uint64_t hash) {
    // The table's own growth step (size + size/61 + 1: see boost's
    // unchecked_emplace_with_rehash), taken early.
    if (main_.size() >= main_.max_load()) main_.reserve(main_.size() + main_.size() / 61 + 1);
    if (main_.contains(hash)) {
      Overflow one;
      one.emplace(std::string(value), 0);
      spare_ = one.extract(one.begin());
    }
  }

  // Cannot fail. Precondition: PrepareInsert(value, hash) was the last
  // call that changed this shard (the caller holds the shard's lock across
  // both), and Find(value, hash) returned 0.
  void Insert(std::string_view value, std::uint64_t hash, ContactId id) noexcept {
    auto [it, inserted] = main_.try_emplace(hash, id);  // size < max_load: no rehash
    if (inserted) return;
    if (spare_.empty() || spare_.key() != value) std::abort();  // not prepared: stop rather than lose the value
    spare_.mapped() = id;
    overflow_.insert(std::move(spare_));  // links the node; allocates nothing
  }

  // Bulk restore (Engine::RestoreAll), called per hash in ascending id
  // order: makes `id` the owner of `hash` unless an earlier id owns it, and
  // returns the owner. The caller confirms the owner's bytes equal its own;
  // when they do not (a collision) it uses FindCollided/InsertCollided.
  ContactId ClaimHash(std::uint64_t hash, ContactId id) { return main_.try_emplace(hash, id).first->second; }
  // Among values whose hash is owned by a different value: the contact that
  // holds `value` (0: none). Precondition for InsertCollided: it returned 0.
  ContactId FindCollided(std::string_view value) const {
    if (overflow_.empty()) return 0;
    auto o = overflow_.find(value);
    return o == overflow_.end() ? 0 : o->second;
  }
  void InsertCollided(std::string_view value, ContactId id) { overflow_.emplace(std::string(value), id); }

  // Makes room for `n` values without rehashing (bulk loads).
  void Reserve(std::size_t n) { main_.reserve(n); }

  std::size_t size() const { return main_.size() + overflow_.size(); }
  std::size_t collisions() const { return overflow_.size(); }

 private:
  // The key is already a well-mixed hash: tell Boost not to mix it again.
  struct PassThroughHash {
    using is_avalanching = void;
    std::size_t operator()(std::uint64_t h) const { return static_cast<std::size_t>(h); }
  };

  boost::unordered_flat_map<std::uint64_t, ContactId, PassThroughHash, std::equal_to<std::uint64_t>,
                            LargePageAllocator<std::pair<const std::uint64_t, ContactId>>>
      main_;
  using Overflow = std::map<std::string, ContactId, std::less<>>;  // std::less<>: find by string_view
  Overflow overflow_;
  Overflow::node_type spare_;  // PrepareInsert's entry for the next collided Insert
};

}  // namespace idrecon
