#include "persistence/caller_commit_writer.h"

namespace idrecon {

void CallerCommitWriter::AfterRequest(Seq seq, const Post& post) {
  CommitPending();
  if (seq <= durable_seq()) return;
  // Another thread was committing. The first request of a burst to get
  // here schedules one more commit on its I/O thread, after the requests
  // already queued there; the others' changes ride along with it.
  if (!commit_scheduled_.exchange(true, std::memory_order_acq_rel)) post([this] { CommitPending(); });
}

void CallerCommitWriter::CommitPending() {
  // Cleared first (acq_rel: see every Append whose request saw it set), so a
  // change that misses this commit schedules the next one.
  commit_scheduled_.exchange(false, std::memory_order_acq_rel);
  std::unique_lock<std::mutex> lock(mu_);
  CommitWhilePending(lock);
}

void CallerCommitWriter::Run(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    if (committing_) {  // a caller is at it; look again soon
      wake_.wait_for(lock, std::chrono::milliseconds(1));
      continue;
    }
    if (BackgroundStep(lock, /*commit_pending=*/stopping_)) continue;
    if (stopping_) return;  // everything is committed
    // The safety net. Appends do not wake this thread, so it looks every
    // grace_ and commits a batch that was already waiting at the previous
    // look: nobody committed it for a whole period.
    const Seq first = pending_.empty() ? 0 : pending_.first_seq();
    wake_.wait_for(lock, grace_);
    if (first != 0 && !pending_.empty() && pending_.first_seq() == first) CommitWhilePending(lock);
  }
}

}  // namespace idrecon
