// StringArena: append-only storage for the email and phone bytes of contacts.
//
// Strings are copied into fixed-size chunks that are never moved or freed
// while the arena lives, so a StringRef (and a string_view made from it) stays
// valid forever. A string never spans two chunks.
//
// Thread-safety: Reserve and Append must be serialised by the caller (the engine calls it
// under its sequencer lock). View may run concurrently with Append on any ref
// the reader obtained through a synchronising operation (a lock or an
// acquire load that happens after the Append that produced the ref).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace idrecon {

// Packed (offset << 16 | length); 0 is the empty string (null value).
using StringRef = std::uint64_t;

class StringArena {
 public:
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 22;  // 4 MiB
  static constexpr std::size_t kMaxChunks = std::size_t{1} << 16;   // 256 GiB in all
  static constexpr std::size_t kMaxStringBytes = 0xFFFF;

  StringArena();
  ~StringArena();
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;

  // Makes room for `bytes` (at most kChunkBytes) more bytes of strings, so
  // that AppendReserved calls adding up to `bytes` fit. Throws
  // std::bad_alloc when it needs a chunk and cannot have one; the arena is
  // then as it was. A new chunk leaves the last one's tail unused.
  void Reserve(std::size_t bytes);
  // Copies `s` (at most kMaxStringBytes) and returns its ref; empty → 0.
  StringRef Append(std::string_view s) {
    if (s.size() > kMaxStringBytes) s = s.substr(0, kMaxStringBytes);  // callers enforce far smaller limits
    Reserve(s.size());
    return AppendReserved(s);
  }
  // Append without allocating. Precondition: s.size() <= kMaxStringBytes,
  // and Reserve made room for it and for every AppendReserved since.
  StringRef AppendReserved(std::string_view s) noexcept;

  std::string_view View(StringRef ref) const {
    const std::size_t len = ref & 0xFFFF;
    if (len == 0) return {};
    const std::uint64_t offset = ref >> 16;
    const char* chunk = chunks_[offset / kChunkBytes].load(std::memory_order_acquire);
    return {chunk + offset % kChunkBytes, len};
  }

  // Bytes of string data held (not counting unused chunk tails).
  std::size_t bytes_used() const { return bytes_used_; }
  std::size_t bytes_reserved() const { return chunk_count_ * kChunkBytes; }

 private:
  std::unique_ptr<std::atomic<char*>[]> chunks_;
  std::size_t chunk_count_ = 0;
  std::size_t used_in_last_ = kChunkBytes;  // forces a first chunk
  std::size_t bytes_used_ = 0;
};

}  // namespace idrecon
