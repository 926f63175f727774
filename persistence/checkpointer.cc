#include "persistence/checkpointer.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>

#include <vector>

#include "persistence/disk_space.h"
#include "persistence/snapshot.h"

namespace idrecon {

Checkpointer::Checkpointer(std::string dir, const MutationLog* log, LogWriter* writer, EngineFactory make_engine,
                           const Options& options)
    : dir_(std::move(dir)),
      log_(log),
      writer_(writer),
      make_engine_(std::move(make_engine)),
      options_(options),
      retention_(options.keep) {}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Start() {
  if (thread_.joinable()) return;
  if (options_.every_changes == 0 && options_.every_seconds == 0) return;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "idr-checkpoint");  // for top -H, perf, gdb
    Run();
  });
}

void Checkpointer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Checkpointer::Stats Checkpointer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Status Checkpointer::CheckpointNow() {
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  return CheckpointLocked();
}

Status Checkpointer::CheckpointLocked() {
  const auto start = std::chrono::steady_clock::now();
  if (!private_) {
    RecoveryReport report;
    if (Status s = Recover(dir_, *log_, make_engine_, &private_, &report); !s.ok()) return s;
    private_seq_ = report.last_seq;
  } else {
    std::uint64_t applied = 0;
    if (Status s = CatchUp(*log_, private_.get(), &private_seq_, &applied); !s.ok()) {
      private_.reset();  // rebuild from scratch next time
      return s;
    }
  }
  std::vector<SnapshotInfo> existing;
  if (Status s = ListSnapshots(dir_, &existing); !s.ok()) return s;
  const SnapshotInfo* newest = retention_.NewestReadable(existing);
  if (newest != nullptr && newest->last_seq >= private_seq_) return Status::Ok();  // nothing new

  // Headroom for the log only where the log's growth would take from the
  // same free space.
  bool shared_disk = true;
  if (!SameFilesystem(dir_, dir_ + "/log", &shared_disk).ok()) shared_disk = true;
  SnapshotInfo written;
  if (Status s = WriteSnapshot(*private_, private_seq_, dir_, &written, shared_disk ? options_.log_headroom_bytes : 0);
      !s.ok()) {
    return s;
  }
  retention_.Written(written);

  if (Status s = ListSnapshots(dir_, &existing); !s.ok()) return s;
  // Trim only what the oldest readable snapshot kept covers, so falling
  // back to it still finds every record after it.
  Seq trim_through = 0;
  retention_.Retire(existing, &trim_through);
  if (trim_through != 0) writer_->RequestTrim(trim_through);

  std::lock_guard<std::mutex> lock(mu_);
  stats_.snapshots_written++;
  stats_.last_snapshot_seq = written.last_seq;
  stats_.last_snapshot_time = std::chrono::system_clock::now();
  stats_.last_duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats_.last_error.clear();
  return Status::Ok();
}

std::chrono::seconds Checkpointer::RetryDelay(std::uint64_t failures, std::chrono::seconds cap) {
  if (failures == 0) return std::chrono::seconds(0);
  std::chrono::seconds delay(1);
  for (std::uint64_t i = 1; i < failures && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

void Checkpointer::Run() {
  auto last = std::chrono::steady_clock::now();
  auto retry_at = last;
  Seq last_seq = writer_->durable_seq();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) break;
    const auto now = std::chrono::steady_clock::now();
    const Seq durable = writer_->durable_seq();
    const bool by_count = options_.every_changes != 0 && durable - last_seq >= options_.every_changes;
    const bool by_time = options_.every_seconds != 0 && durable > last_seq &&
                         now - last >= std::chrono::seconds(options_.every_seconds);
    if (!by_count && !by_time) continue;
    if (stats_.failures_in_a_row > 0 && now < retry_at) continue;  // backing off
    lock.unlock();
    Status s = CheckpointNow();
    lock.lock();
    const auto finished = std::chrono::steady_clock::now();
    if (s.ok()) {
      // Only a success restarts the period: after a failure the back-off
      // alone says when to try again, for a count- or a time-triggered one.
      last = finished;
      last_seq = durable;
      stats_.failures_in_a_row = 0;
      stats_.retry_delay = std::chrono::seconds(0);
    } else {
      stats_.last_error = s.ToString();
      stats_.failures_in_a_row++;
      stats_.retry_delay = RetryDelay(stats_.failures_in_a_row, options_.retry_cap);
      retry_at = finished + stats_.retry_delay;
    }
    if (options_.on_checkpoint) {
      const Seq written = stats_.last_snapshot_seq;
      lock.unlock();
      options_.on_checkpoint(s, written);
      lock.lock();
    }
  }
}

}  // namespace idrecon
