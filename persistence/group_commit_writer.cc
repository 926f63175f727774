#include "persistence/group_commit_writer.h"

namespace idrecon {

void GroupCommitWriter::Run(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    if (BackgroundStep(lock, /*commit_pending=*/true)) continue;
    if (stopping_) return;  // everything is committed and synced
    writer_sleeping_ = true;
    wake_.wait(lock);
    writer_sleeping_ = false;
  }
}

}  // namespace idrecon
