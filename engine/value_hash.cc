#include "engine/value_hash.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <sodium.h>

namespace idrecon {

ValueHasher::ValueHasher() {
  std::size_t filled = 0;
  while (filled < key_.size()) {
    // Blocks only before the kernel's pool is first seeded (early boot).
    const ssize_t n = ::getrandom(key_.data() + filled, key_.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom for the value hash key");
    }
    filled += static_cast<std::size_t>(n);
  }
}

std::uint64_t ValueHasher::Keyed(std::string_view bytes) const noexcept {
  // crypto_shorthash_siphash24 is pure computation on its arguments: it
  // reads no state that sodium_init() sets up, and it cannot fail.
  static_assert(crypto_shorthash_siphash24_KEYBYTES == sizeof(Key));
  static_assert(crypto_shorthash_siphash24_BYTES == sizeof(std::uint64_t));
  unsigned char out[crypto_shorthash_siphash24_BYTES];
  crypto_shorthash_siphash24(out, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), key_.data());
  std::uint64_t h;
  std::memcpy(&h, out, sizeof h);
  return h;
}

}  // namespace idrecon
