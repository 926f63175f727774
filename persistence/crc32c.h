// CRC-32C (Castagnoli), the checksum of log records and snapshots.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace idrecon::crc32c {

// Returns the CRC-32C of `data` continuing from `crc` (0 to start). Uses the
// SSE4.2 crc32 instruction when the CPU has it (snapshots of 10M contacts
// are ~700 MB: the table version alone cost ~20% of a restart).
std::uint32_t Extend(std::uint32_t crc, const void* data, std::size_t n);
// The table-driven version, for tests that compare the two.
std::uint32_t ExtendPortable(std::uint32_t crc, const void* data, std::size_t n);
inline std::uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

}  // namespace idrecon::crc32c
