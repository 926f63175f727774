// ContactStore: every contact ever created, in a dense array indexed by id.
//
// The array is chunked: chunks are allocated as ids grow and never move, so a
// Contact& stays valid while other threads append. Slot 0 is never used (id 0
// means "none").
//
// Each Contact is also a node of the disjoint-set forest (`parent`) and of its
// cluster's circular member list (`next`). Invariants kept by the engine:
//   - a contact whose parent is itself is a root, and the root of every set is
//     the cluster's primary: its oldest member by (created_at, id);
//   - following `next` from any member visits every member of its cluster
//     exactly once and returns to the start.
//
// Thread-safety: ReserveNext, ReserveIds and Allocate are serialised by the caller (the engine's
// sequencer) and publishes the slot with a release store of the count;
// Get(id) for id < count() may run concurrently with it. The fields of a
// published contact follow the rules written beside them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

#include "engine/change.h"
#include "engine/clock.h"
#include "engine/string_arena.h"

namespace idrecon {

struct Contact {
  static constexpr Millis kNotDeleted = std::numeric_limits<Millis>::min();
  enum Flags : std::uint32_t {
    // No smaller id in this contact's cluster carries its email (phone) key:
    // the contact that writes the key in the cluster's answer.
    kFirstEmailCarrier = 1u << 0,
    kFirstPhoneCarrier = 1u << 1,
    // Its cluster membership was restored from a snapshot that recorded no
    // links (format 1): it stays linked to every other such contact of its
    // cluster (docs/api.md §9: a link without evidence never disappears).
    kLegacyLinked = 1u << 2,
  };

  // Immutable once published.
  Millis created_at = 0;
  StringRef email = 0;
  StringRef phone = 0;
  // Written under the cluster lock (re-clustering moves the first-carrier
  // flags); the rest of the time as immutable as the fields above.
  std::uint32_t flags = 0;
  // One slot, two meanings that never meet (it fills padding, so it costs
  // no bytes): on a deleted contact, deleted_link(): the linkedId it had
  // when it was deleted (0: it was a primary), kept so exports show the row
  // as it was (not a link: a deleted contact is always alone in its set);
  // on a live root, live_members(): its cluster's live contacts (guarded by
  // the cluster lock; the cluster cap reads it). Meaningless elsewhere.
  std::uint32_t shared_slot = 0;
  ContactId& deleted_link() { return shared_slot; }
  ContactId deleted_link() const { return shared_slot; }
  std::uint32_t& live_members() { return shared_slot; }
  std::uint32_t live_members() const { return shared_slot; }
  // Guarded by the lock of the contact's cluster (its root's stripe).
  Millis updated_at = 0;
  Millis deleted_at = kNotDeleted;
  Seq last_seq = 0;  // on a root: the highest seq that changed its cluster
  ContactId next = 0;
  // Written under the cluster lock; read without a lock by Find (path
  // halving may also lower it to any ancestor, which keeps it valid).
  std::atomic<ContactId> parent{0};
};

class ContactStore {
 public:
  static constexpr std::size_t kChunkShift = 16;  // 65536 contacts a chunk
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkShift;
  static constexpr std::size_t kMaxChunks = std::size_t{1} << 16;

  ContactStore();
  ~ContactStore();
  ContactStore(const ContactStore&) = delete;
  ContactStore& operator=(const ContactStore&) = delete;

  // Makes sure the next id's slot exists (allocating its chunk), so that
  // the next Allocate cannot fail. Throws std::bad_alloc when the chunk
  // cannot be had or the ids have run out; nothing changes then.
  // Serialised like Allocate.
  void ReserveNext();
  // Returns a fresh slot (all fields default) and its id. The slot becomes
  // visible to Get/count only after Publish(id). Precondition: ReserveNext
  // or ReserveIds made room for it. Serialised by the caller.
  ContactId Allocate(Contact** slot) noexcept;
  void Publish(ContactId id) { next_id_.store(id + 1, std::memory_order_release); }

  // Allocates now the chunks that ids below `end` will use (serialised like
  // Allocate), so Prefault can populate them before their first use.
  void ReserveIds(ContactId end);
  // Asks the kernel to back the already allocated chunks of ids [begin, end)
  // with memory now (MADV_POPULATE_WRITE), so the thread that fills them
  // does not stop at every page fault: a bulk restore runs it on another
  // core. It changes no byte, so it may run concurrently with anything.
  void Prefault(ContactId begin, ContactId end) const;

  // Precondition: 1 <= id < end().
  Contact& Get(ContactId id) const {
    return chunks_[id >> kChunkShift].load(std::memory_order_acquire)[id & (kChunkSize - 1)];
  }
  // One past the highest published id (1 when empty).
  ContactId end() const { return next_id_.load(std::memory_order_acquire); }
  std::size_t size() const { return end() - 1; }

 private:
  std::unique_ptr<std::atomic<Contact*>[]> chunks_;
  std::atomic<ContactId> next_id_{1};
  ContactId allocated_end_ = 1;  // guarded by the caller's serialisation
};

}  // namespace idrecon
