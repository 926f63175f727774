// FUZZ_CHECK: the fuzz targets' assertion. On a violated property it prints
// what and where, then traps, so libFuzzer reports a crash and saves the input.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, ...)                                                          \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      ::idrecon::fuzz::PrintDetail(__VA_ARGS__);                                       \
      __builtin_trap();                                                                \
    }                                                                                  \
  } while (false)

namespace idrecon::fuzz {

inline void PrintDetail() {}
inline void PrintDetail(std::string_view detail) {
  std::fprintf(stderr, "  %.*s\n", static_cast<int>(detail.size()), detail.data());
}

// Reads the fuzz input from the front, one small decision at a time; past
// the end it yields zeros, so every input decodes to something.
class ByteReader {
 public:
  ByteReader(const unsigned char* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  unsigned Byte() { return pos_ < size_ ? data_[pos_++] : 0u; }
  // The rest of the input, consumed.
  std::string_view Rest() {
    const std::size_t n = pos_ < size_ ? size_ - pos_ : 0;
    std::string_view rest(reinterpret_cast<const char*>(data_) + (size_ - n), n);
    pos_ = size_;
    return rest;
  }

 private:
  const unsigned char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace idrecon::fuzz
