// Little-endian fixed-width integers, as the log record and snapshot formats
// (log_format.md, snapshot.h) store them. Byte by byte, so the encoding does
// not depend on the host's byte order or on alignment.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>

namespace idrecon {

// Appends the sizeof(T) bytes of `v`, least significant first.
template <class T>
void PutLE(std::string* out, T v) {
  char buf[sizeof(T)];
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i) buf[i] = static_cast<char>((u >> (8 * i)) & 0xFF);
  out->append(buf, sizeof(T));
}

// Reads sizeof(T) bytes at `p` written by PutLE; the caller checks the bounds.
template <class T>
T GetLE(const char* p) {
  std::make_unsigned_t<T> u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    u |= static_cast<std::make_unsigned_t<T>>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return static_cast<T>(u);
}

}  // namespace idrecon
