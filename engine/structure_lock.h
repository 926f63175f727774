// StructureLock: the engine's reader-writer lock over the shape of its
// clusters (which contact belongs to which root).
//
// Every request that looks at or changes clusters (finding roots, merging,
// building an answer, reading a row) holds it shared, around its cluster
// stripes; re-clustering (the guard's split and its undoing, a rebuild)
// holds it exclusively, because it moves contacts to roots it cannot know
// beforehand and so cannot lock stripe by stripe. Splits are rare admin
// operations; a shared acquisition is one atomic add.
//
// Writers are preferred (glibc's PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP):
// under a load that never stops, a split still gets its turn. The price is
// that a thread must never take it shared twice (a waiting writer would
// block the second acquisition); the engine takes it once per call.
//
// Lock order: value stripes, then this, then cluster stripes, then the
// sequencer (engine.cc).
//
// Thread-safety: a lock; shared by every thread of the engine.
#pragma once

#include <pthread.h>

#include <cstdlib>

namespace idrecon {

class StructureLock {
 public:
  StructureLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (pthread_rwlock_init(&lock_, &attr) != 0) std::abort();
    pthread_rwlockattr_destroy(&attr);
  }
  ~StructureLock() { pthread_rwlock_destroy(&lock_); }
  StructureLock(const StructureLock&) = delete;
  StructureLock& operator=(const StructureLock&) = delete;

  // The Lockable and SharedLockable names, for std::unique_lock / std::shared_lock.
  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace idrecon
