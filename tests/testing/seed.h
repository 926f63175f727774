// TestSeed: the seed of a randomized test — $IDRECON_SEED when set (so a
// printed seed reproduces a run), else a fresh random one. The test prints
// it ("IDRECON_SEED=<seed>") before it uses it.
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <random>

namespace idrecon::testing {

inline std::uint64_t TestSeed() {
  if (const char* text = std::getenv("IDRECON_SEED"); text != nullptr && *text != '\0') {
    return std::strtoull(text, nullptr, 0);
  }
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace idrecon::testing
