// The name pools and mixing function both generators of benchmark values use
// (the engine micro-benchmarks and idrecon-load's workload), so their emails
// look alike: first.last<suffix>@domain, ~24 bytes.
#pragma once

#include <cstdint>

namespace idrecon::bench {

inline constexpr const char* kFirstNames[] = {"anna", "ben",  "carla", "dev",  "emma", "finn", "gia",  "hugo",
                                              "ines", "jon",  "kai",   "lena", "marc", "nora", "omar", "pia"};
inline constexpr const char* kLastNames[] = {"smith", "garcia", "chen",   "muller", "rossi", "kim",   "silva", "novak",
                                             "brown", "khan",   "ito",    "dubois", "lopez", "weber", "patel", "young"};
inline constexpr const char* kDomains[] = {"gmail.com", "yahoo.com", "outlook.com", "icloud.com",
                                           "proton.me", "gmx.de",    "mail.com",    "web.de"};

// SplitMix64's finalizer: a cheap bijective scramble of a counter.
inline std::uint64_t Mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace idrecon::bench
