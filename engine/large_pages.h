// Memory for the engine's big, long-lived arrays (contact chunks, arena
// chunks, value-index tables), backed by transparent huge pages where the
// kernel allows it.
//
// Why: at millions of contacts every lookup takes a few dependent cache
// misses at random places in ~1 GiB; with 4 KiB pages each also misses the
// TLB, and under a hypervisor a TLB miss walks two page tables. 2 MiB pages
// cut that walk (bench/README.md has the figures). Blocks of at least
// kHugePageBytes are aligned to it and advised MADV_HUGEPAGE (THP in
// "madvise" mode, Debian's default); smaller ones come from operator new.
//
// Thread-safety: as malloc.
#pragma once

#include <cstddef>
#include <new>

namespace idrecon {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// Test-only: when set, AllocateLarge asks it before each allocation that
// does not go through operator new (blocks of kHugePageBytes and more) and
// throws std::bad_alloc when it answers true, so a test can fail the N-th
// allocation of any kind. Null in production: one load and a branch per
// multi-MiB allocation. Set it only while no other thread allocates.
extern bool (*g_fail_large_allocation_for_testing)();

// Throws std::bad_alloc like operator new. FreeLarge needs the same size.
// `huge_pages` false: aligned the same, but no advice (a first chunk that a
// small engine barely touches should not cost a whole 2 MiB page).
void* AllocateLarge(std::size_t bytes, bool huge_pages = true);
void FreeLarge(void* p, std::size_t bytes) noexcept;

// An allocator over AllocateLarge, for the value index's hash tables.
template <class T>
struct LargePageAllocator {
  using value_type = T;
  LargePageAllocator() = default;
  template <class U>
  LargePageAllocator(const LargePageAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit
  T* allocate(std::size_t n) { return static_cast<T*>(AllocateLarge(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { FreeLarge(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const LargePageAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace idrecon
