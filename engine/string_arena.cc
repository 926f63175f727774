#include "engine/string_arena.h"

#include <cstring>
#include <new>

#include "engine/large_pages.h"

namespace idrecon {

StringArena::StringArena() : chunks_(new std::atomic<char*>[kMaxChunks]) {
  for (std::size_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

StringArena::~StringArena() {
  for (std::size_t i = 0; i < chunk_count_; ++i) FreeLarge(chunks_[i].load(std::memory_order_relaxed), kChunkBytes);
}

void StringArena::Reserve(std::size_t bytes) {
  if (used_in_last_ + bytes <= kChunkBytes) return;
  if (chunk_count_ == kMaxChunks) throw std::bad_alloc();
  // Huge pages from the second chunk on (see large_pages.h). Nothing
  // changes until the allocation has succeeded.
  char* chunk = static_cast<char*>(AllocateLarge(kChunkBytes, chunk_count_ > 0));
  chunks_[chunk_count_].store(chunk, std::memory_order_release);
  ++chunk_count_;
  used_in_last_ = 0;
}

StringRef StringArena::AppendReserved(std::string_view s) noexcept {
  if (s.empty()) return 0;
  const std::uint64_t offset = (chunk_count_ - 1) * kChunkBytes + used_in_last_;
  std::memcpy(chunks_[chunk_count_ - 1].load(std::memory_order_relaxed) + used_in_last_, s.data(), s.size());
  used_in_last_ += s.size();
  bytes_used_ += s.size();
  return (offset << 16) | s.size();
}

}  // namespace idrecon
