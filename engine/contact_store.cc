#include "engine/contact_store.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>

#include "engine/large_pages.h"

namespace idrecon {

ContactStore::ContactStore() : chunks_(new std::atomic<Contact*>[kMaxChunks]) {
  for (std::size_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

// Slots are constructed one at a time by Allocate and never destroyed one by
// one: the chunk's memory is simply released.
static_assert(std::is_trivially_destructible_v<Contact>);
constexpr std::size_t kChunkBytes = ContactStore::kChunkSize * sizeof(Contact);

ContactStore::~ContactStore() {
  for (std::size_t i = 0; i < kMaxChunks; ++i) FreeLarge(chunks_[i].load(std::memory_order_relaxed), kChunkBytes);
}

void ContactStore::ReserveIds(ContactId end) {
  for (std::size_t chunk = 0; chunk <= (end - 1) >> kChunkShift && chunk < kMaxChunks; ++chunk) {
    if (chunks_[chunk].load(std::memory_order_relaxed) != nullptr) continue;
    chunks_[chunk].store(static_cast<Contact*>(AllocateLarge(kChunkBytes, chunk > 0)), std::memory_order_release);
  }
}

void ContactStore::Prefault(ContactId begin, ContactId end) const {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  for (std::size_t chunk = begin >> kChunkShift; begin < end && chunk < kMaxChunks; ++chunk) {
    char* base = reinterpret_cast<char*>(chunks_[chunk].load(std::memory_order_acquire));
    if (base == nullptr) break;
    const std::size_t first = std::max<std::size_t>(begin, chunk << kChunkShift) & (kChunkSize - 1);
    const std::size_t last = std::min<std::size_t>(end, (chunk + 1) << kChunkShift) - (chunk << kChunkShift);
    // Whole pages inside the range only: the madvise range must be aligned.
    const std::uintptr_t from = (reinterpret_cast<std::uintptr_t>(base + first * sizeof(Contact)) + page - 1) & ~(page - 1);
    const std::uintptr_t to = reinterpret_cast<std::uintptr_t>(base + last * sizeof(Contact)) & ~(page - 1);
    // Advice: if the kernel lacks MADV_POPULATE_WRITE (< 5.14) the pages are
    // simply faulted in by their first use, as without it.
    if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_WRITE);
    begin = static_cast<ContactId>((chunk + 1) << kChunkShift);
  }
}

void ContactStore::ReserveNext() {
  const ContactId id = allocated_end_;
  if (id == std::numeric_limits<ContactId>::max()) throw std::bad_alloc();
  const std::size_t chunk = id >> kChunkShift;
  if (chunks_[chunk].load(std::memory_order_relaxed) != nullptr) return;
  // Raw memory: pages are touched (and, from the second chunk on, backed
  // by huge pages) only as slots are used.
  chunks_[chunk].store(static_cast<Contact*>(AllocateLarge(kChunkBytes, chunk > 0)), std::memory_order_release);
}

ContactId ContactStore::Allocate(Contact** slot) noexcept {
  const ContactId id = allocated_end_;
  Contact* chunk = chunks_[id >> kChunkShift].load(std::memory_order_relaxed);
  if (chunk == nullptr) std::abort();  // a caller skipped ReserveNext: stop before writing anywhere
  ++allocated_end_;
  *slot = new (&chunk[id & (kChunkSize - 1)]) Contact();
  return id;
}

}  // namespace idrecon
