// CallerCommitWriter: the LogWriter for a log that never syncs
// (`--sync nosync`), whose commits reach only the page cache and take a few
// µs.
//
// Append does not wake anybody. The I/O thread that made a change commits it
// in AfterRequest, right after the request: that saves the two thread
// switches per change (wake a writer, post the answer back) that otherwise
// cost more CPU than the commit itself. If another thread is committing at
// that moment, AfterRequest schedules one more CommitPending on its own I/O
// thread, once per burst (commit_scheduled_), so the next commit takes every
// change made meanwhile. The writer thread only trims, commits what is left
// at Stop, and, as a safety net, commits a batch that stayed pending for a
// whole `grace`. Commits never overlap and stay in seq order, whoever runs
// them.
//
// Thread-safety: as LogWriter. CommitPending must not be called from a
// waiter's callback.
#pragma once

#include <atomic>
#include <chrono>

#include "persistence/log_writer.h"

namespace idrecon {

class CallerCommitWriter final : public LogWriter {
 public:
  // How often the writer thread looks for changes nobody committed: such a
  // change waits at most about twice this.
  static constexpr std::chrono::milliseconds kGrace{5};

  // `log` must outlive the writer. `grace` replaces kGrace (tests).
  explicit CallerCommitWriter(MutationLog* log, const LogWriterOptions& options = {},
                              std::chrono::milliseconds grace = kGrace)
      : LogWriter(log, options, /*wake_on_append=*/false), grace_(grace) {}
  ~CallerCommitWriter() override { Stop(); }

  // Commits, on the calling thread; see above.
  void AfterRequest(Seq seq, const Post& post) override;

  // Commits everything pending on the calling thread, unless another thread
  // is committing (it, or the writer thread, then takes what is pending).
  // Runs the completed waiters' callbacks here.
  void CommitPending();

 private:
  void Run(std::unique_lock<std::mutex>& lock) override;

  const std::chrono::milliseconds grace_;
  std::atomic<bool> commit_scheduled_{false};
};

}  // namespace idrecon
