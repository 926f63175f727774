// Sha256: the SHA-256 digest (FIPS 180-4), for `rebuild`'s fingerprint of the
// snapshot it writes. Small and dependency-free; not constant-time (it hashes
// public files, not secrets).
//
// Thread-safety: one Sha256 object per thread; the free functions are pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace idrecon::tools {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  // The 32-byte digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> Finish();

 private:
  void Block(const unsigned char* p);

  std::array<std::uint32_t, 8> h_;
  std::array<unsigned char, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// Lower-case hex digest of `data`.
std::string Sha256Hex(std::string_view data);
// Lower-case hex digest of the file at `path`.
Status Sha256File(const std::string& path, std::string* hex);

}  // namespace idrecon::tools
