// Values that all share one std::hash<std::string_view>, built on purpose:
// what an attacker can send to an index keyed by a fixed-seed hash.
//
// libstdc++ hashes a string_view with MurmurHash64A-style mixing
// (_Hash_bytes, seed 0xc70f6907): for each 8-byte block k the state becomes
// (h ^ F(k)) * M, where F(k) = ShiftMix(k * M) * M. M is odd and ShiftMix
// (x ^ x >> 47) is its own inverse, so F can be inverted, and with the seed
// public, for any prefix the next block can be chosen to bring the state to
// any value. Value i (< 10^9) is then "flood" + i in 10 digits + "." (16
// bytes) + that block + a common
// suffix: every value reaches the same state after the block, and the
// suffix and the length are the same, so so is the hash.
//
// Used by tests/engine (which check that the engine's own hash keeps them
// apart) and by the engine bench (which times an index flooded with them).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace idrecon::testing {

// True when std::hash<std::string_view> is the function described above
// (libstdc++ on a 64-bit target), so StdHashCollisions really collide.
constexpr bool kStdHashIsMurmur64A =
#if defined(__GLIBCXX__)
    sizeof(std::size_t) == 8;
#else
    false;
#endif

inline std::vector<std::string> StdHashCollisions(std::size_t count, std::string_view suffix = "@example.com") {
  constexpr std::uint64_t kMul = 0xc6a4a7935bd1e995ULL;
  constexpr std::uint64_t kInvMul = [] {
    std::uint64_t x = kMul;  // Newton: each step doubles the correct low bits
    for (int i = 0; i < 6; ++i) x *= 2 - kMul * x;
    return x;
  }();
  static_assert(kMul * kInvMul == 1);
  auto shift_mix = [](std::uint64_t v) { return v ^ (v >> 47); };
  constexpr std::size_t kPrefix = 16;
  const std::size_t len = kPrefix + 8 + suffix.size();
  const std::uint64_t target = 0x0123456789abcdefULL;  // any state will do
  std::vector<std::string> values;
  values.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    char prefix[kPrefix + 1];
    std::snprintf(prefix, sizeof prefix, "flood%010u.", static_cast<unsigned>(i % 1000000000));
    std::uint64_t h = 0xc70f6907ULL ^ (len * kMul);
    for (std::size_t b = 0; b < kPrefix; b += 8) {
      std::uint64_t k;
      std::memcpy(&k, prefix + b, 8);
      h = (h ^ (shift_mix(k * kMul) * kMul)) * kMul;
    }
    // (h ^ F(block)) * M == target  <=>  block = F^-1(target * M^-1 ^ h).
    const std::uint64_t block = shift_mix(((target * kInvMul) ^ h) * kInvMul) * kInvMul;
    std::string v(prefix, kPrefix);
    v.append(reinterpret_cast<const char*>(&block), 8);  // raw bytes, in the order the loads read them
    v.append(suffix);
    values.push_back(std::move(v));
  }
  return values;
}

}  // namespace idrecon::testing
