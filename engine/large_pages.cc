#include "engine/large_pages.h"

#include <sys/mman.h>

#include <cstdlib>

namespace idrecon {

bool (*g_fail_large_allocation_for_testing)() = nullptr;

void* AllocateLarge(std::size_t bytes, bool huge_pages) {
  if (bytes < kHugePageBytes) return ::operator new(bytes);
  if (g_fail_large_allocation_for_testing != nullptr && g_fail_large_allocation_for_testing()) throw std::bad_alloc();
  const std::size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* p = std::aligned_alloc(kHugePageBytes, rounded);
  if (p == nullptr) throw std::bad_alloc();
  // Advice only: without THP (or under a sanitizer's allocator) it is a no-op.
  if (huge_pages) ::madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

void FreeLarge(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes < kHugePageBytes) {
    ::operator delete(p);
  } else {
    std::free(p);
  }
}

}  // namespace idrecon
