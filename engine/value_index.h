// ValueIndex: one shard of the email or phone index: match key -> carriers.
//
// Maps a value's match key (docs/api.md §6: the value itself, or its
// canonical form when normalisation is on) to an Entry: one live contact
// that carries it (through which the engine finds the cluster, and whose
// bytes confirm a hit) and the number of live contacts that carry it (the
// guard's threshold, docs/api.md §8, reads it: exact, and O(1)).
//
// To stay compact it is keyed by a 64-bit hash of the key, not by the
// bytes: a hit is confirmed by the caller's predicate, which compares the
// key with the carrier's value. Two different keys with the same hash never
// merge: the first one owns the hash slot, later ones live in an overflow
// map keyed by their bytes. Invariant: every key in overflow_ has a hash
// that is also a key of main_.
//
// With the engine's keyed hash (value_hash.h) a collision is a 2^-64 event,
// but the overflow map is an ordered tree all the same, probed by the
// key's bytes without a copy: if collisions ever pile up (a weak injected
// hash, a key that leaked), each probe and insert stays O(log k) in the k
// collided keys of the shard, never O(k), and it hashes nothing that an
// attacker could aim at.
//
// Thread-safety: none. The engine guards each shard with its value-lock
// stripe, and every access to a shard holds that stripe's mutex. An Entry*
// stays valid until the next Insert, InsertCollided or Reserve on its shard.
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
  struct Entry {
    ContactId carrier = 0;        // a live contact carrying the key
    std::uint32_t carriers = 0;   // live contacts carrying it (>= 1)
  };

  // The entry of `key`, or nullptr. `matches(id)` tells whether contact
  // `id`'s value has this key (the hash alone is not proof).
  template <class Matches>
  Entry* Find(std::string_view key, std::uint64_t hash, const Matches& matches) {
    auto it = main_.find(hash);
    if (it == main_.end()) return nullptr;  // by the invariant, overflow_ cannot hold it either
    if (matches(it->second.carrier)) return &it->second;
    return FindCollided(key);
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
      one.emplace(std::string(value), Entry{});
      spare_ = one.extract(one.begin());
    }
  }

  // Adds `value` with `id` as its one carrier. Cannot fail. Precondition:
  // PrepareInsert(value, hash) was the last call that changed this shard
  // (the caller holds the shard's lock across both), and Find(value, hash)
  // returned nullptr.
  void Insert(std::string_view value, std::uint64_t hash, ContactId id) noexcept {
    auto [it, inserted] = main_.try_emplace(hash, Entry{id, 1});  // size < max_load: no rehash
    if (inserted) return;
    if (spare_.empty() || spare_.key() != value) std::abort();  // not prepared: stop rather than lose the value
    spare_.mapped() = Entry{id, 1};
    overflow_.insert(std::move(spare_));  // links the node; allocates nothing
  }

  // Bulk restore (Engine::RestoreAll), called per carrier in ascending id
  // order: makes `id` the owner of `hash` unless an earlier id owns it,
  // counts `id` as a carrier of the owner's key, and returns the owner. The
  // caller confirms the owner's key equals its own; when the keys differ (a
  // collision) it takes the count back through OwnerEntry and uses
  // FindCollided/InsertCollided.
  ContactId ClaimHash(std::uint64_t hash, ContactId id) {
    Entry& e = main_.try_emplace(hash, Entry{id, 0}).first->second;
    ++e.carriers;
    return e.carrier;
  }
  // The main entry of a claimed hash. Precondition: ClaimHash(hash, ·) ran.
  Entry& OwnerEntry(std::uint64_t hash) { return main_.find(hash)->second; }
  // Among keys whose hash is owned by a different key: its entry (nullptr:
  // none). Precondition for InsertCollided: it returned nullptr.
  Entry* FindCollided(std::string_view key) {
    if (overflow_.empty()) return nullptr;
    auto o = overflow_.find(key);
    return o == overflow_.end() ? nullptr : &o->second;
  }
  void InsertCollided(std::string_view key, ContactId id) { overflow_.emplace(std::string(key), Entry{id, 1}); }

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

  // 16 bytes a slot, as a bare ContactId would take with the hash's alignment.
  boost::unordered_flat_map<std::uint64_t, Entry, PassThroughHash, std::equal_to<std::uint64_t>,
                            LargePageAllocator<std::pair<const std::uint64_t, Entry>>>
      main_;
  using Overflow = std::map<std::string, Entry, std::less<>>;  // std::less<>: find by string_view
  Overflow overflow_;
  Overflow::node_type spare_;  // PrepareInsert's entry for the next collided Insert
};

}  // namespace idrecon
