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

StringRef StringArena::Append(std::string_view s) {
  if (s.empty()) return 0;
  if (s.size() > kMaxStringBytes) s = s.substr(0, kMaxStringBytes);  // callers enforce far smaller limits
  if (used_in_last_ + s.size() > kChunkBytes) {
    if (chunk_count_ == kMaxChunks) throw std::bad_alloc();
    // Huge pages from the second chunk on (see large_pages.h).
    chunks_[chunk_count_].store(static_cast<char*>(AllocateLarge(kChunkBytes, chunk_count_ > 0)),
                                std::memory_order_release);
    ++chunk_count_;
    used_in_last_ = 0;
  }
  const std::uint64_t offset = (chunk_count_ - 1) * kChunkBytes + used_in_last_;
  std::memcpy(chunks_[chunk_count_ - 1].load(std::memory_order_relaxed) + used_in_last_, s.data(), s.size());
  used_in_last_ += s.size();
  bytes_used_ += s.size();
  return (offset << 16) | s.size();
}

}  // namespace idrecon
