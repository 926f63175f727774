#include "persistence/snapshot_retention.h"

#include <sys/stat.h>
#include <unistd.h>

namespace idrecon {
namespace {

bool Identify(const std::string& path, std::uint64_t* size, std::int64_t* mtime_ns) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  *size = static_cast<std::uint64_t>(st.st_size);
  *mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return true;
}

}  // namespace

bool SnapshotRetention::Readable(const SnapshotInfo& snapshot) {
  FileId id{};
  if (!Identify(snapshot.path, &id.size, &id.mtime_ns)) return false;
  const auto it = checked_.find(snapshot.path);
  if (it != checked_.end() && it->second.id == id) return it->second.readable;
  const bool readable = CheckSnapshot(snapshot.path).ok();
  checked_[snapshot.path] = {id, readable};
  return readable;
}

void SnapshotRetention::Written(const SnapshotInfo& snapshot) {
  FileId id{};
  if (Identify(snapshot.path, &id.size, &id.mtime_ns)) checked_[snapshot.path] = {id, true};
}

const SnapshotInfo* SnapshotRetention::NewestReadable(const std::vector<SnapshotInfo>& snapshots) {
  for (const SnapshotInfo& snapshot : snapshots) {
    if (Readable(snapshot)) return &snapshot;
  }
  return nullptr;
}

void SnapshotRetention::Retire(const std::vector<SnapshotInfo>& snapshots, Seq* trim_through) {
  *trim_through = 0;
  std::size_t readable = 0, oldest_kept = 0;
  for (std::size_t i = 0; i < snapshots.size() && readable < keep_; ++i) {
    if (Readable(snapshots[i])) {
      ++readable;
      oldest_kept = i;
    }
  }
  if (readable < keep_) return;
  // A snapshot that cannot be deleted only costs disk space; the next
  // checkpoint tries again.
  for (std::size_t i = oldest_kept + 1; i < snapshots.size(); ++i) {
    checked_.erase(snapshots[i].path);
    ::unlink(snapshots[i].path.c_str());
  }
  *trim_through = snapshots[oldest_kept].last_seq;
}

}  // namespace idrecon
