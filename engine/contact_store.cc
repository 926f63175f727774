#include "engine/contact_store.h"

#include <new>

namespace idrecon {

ContactStore::ContactStore() : chunks_(new std::atomic<Contact*>[kMaxChunks]) {
  for (std::size_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

ContactStore::~ContactStore() {
  for (std::size_t i = 0; i < kMaxChunks; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

ContactId ContactStore::Allocate(Contact** slot) {
  const ContactId id = allocated_end_;
  if (id == std::numeric_limits<ContactId>::max()) throw std::bad_alloc();
  const std::size_t chunk = id >> kChunkShift;
  if (chunks_[chunk].load(std::memory_order_relaxed) == nullptr) {
    chunks_[chunk].store(new Contact[kChunkSize], std::memory_order_release);
  }
  ++allocated_end_;
  *slot = &Get(id);
  return id;
}

}  // namespace idrecon
