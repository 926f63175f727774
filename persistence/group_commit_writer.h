// GroupCommitWriter: the LogWriter for a log that syncs (`--sync fsync`).
//
// Its thread commits: an Append wakes it if it sleeps; it takes everything
// pending, writes it in one transaction with one sync, and goes round again.
// There is no timer: a batch is whatever queued while the previous commit
// ran, so under load many requests share one fsync and an idle server
// commits a lone change at once (Redis `appendfsync always`, the RocksDB WAL's
// group commit). AfterRequest does nothing: the I/O thread never waits for,
// nor makes, a commit.
//
// Thread-safety: as LogWriter.
#pragma once

#include "persistence/log_writer.h"

namespace idrecon {

class GroupCommitWriter final : public LogWriter {
 public:
  // `log` must outlive the writer.
  explicit GroupCommitWriter(MutationLog* log, const LogWriterOptions& options = {})
      : LogWriter(log, options, /*wake_on_append=*/true) {}
  ~GroupCommitWriter() override { Stop(); }

  void AfterRequest(Seq /*seq*/, const Post& /*post*/) override {}

 private:
  void Run(std::unique_lock<std::mutex>& lock) override;
};

}  // namespace idrecon
