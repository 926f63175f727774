// ValueHasher: the hash of a value's bytes that the value index is keyed by.
//
// Contract: by default a keyed hash, SipHash-2-4 (libsodium's
// crypto_shorthash_siphash24), under a 128-bit key drawn from getrandom()
// when the hasher is made, so every engine, in every process, hashes with
// its own unpredictable key. Someone who sends values can then no longer
// compute a set that collides (as one can for a fixed-seed hash such as
// std::hash), so the index's tables, its lock stripes and its collision map
// keep their spread whatever the input.
//
// Why a keyed PRF rather than a faster seeded hash: a seed mixed into
// murmur- or xxHash-style state still leaves seed-independent collisions
// to be found; SipHash is built so that, without the key, hashes look
// random. It costs ~20 ns a value of 24-36 bytes against ~7 for std::hash
// (idrecon-bench-engine --benchmark_filter=HashValue), small beside the
// cache misses of a lookup, which hashes two values.
//
// Hashes are never stored (the log and snapshots hold values, and the index
// is rebuilt from them), so the key may change at every start. Tests may
// inject a deliberately weak hash instead (Engine::Options::value_hash).
//
// Thread-safety: immutable after construction; operator() may run
// concurrently from any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace idrecon {

class ValueHasher {
 public:
  using Key = std::array<unsigned char, 16>;
  using Function = std::uint64_t (*)(std::string_view);

  // A random key (throws std::system_error if getrandom() fails).
  ValueHasher();
  explicit ValueHasher(const Key& key) : key_(key) {}
  // `injected` (not null) replaces the keyed hash.
  explicit ValueHasher(Function injected) : injected_(injected) {}

  std::uint64_t operator()(std::string_view bytes) const noexcept {
    return injected_ != nullptr ? injected_(bytes) : Keyed(bytes);
  }

 private:
  std::uint64_t Keyed(std::string_view bytes) const noexcept;

  Function injected_ = nullptr;
  Key key_{};
};

}  // namespace idrecon
