// SnapshotRetention: which snapshots a checkpoint keeps, deletes, and how far
// the log may then be trimmed.
//
// Only readable snapshots (size, magic and checksum right: CheckSnapshot)
// count toward `keep`. Walking from the newest, the first `keep` readable
// ones are kept, every snapshot older than the last of them is deleted, and
// the log may be trimmed through that one: so a damaged snapshot never takes
// the place of a good one, the last good one is never deleted, and the log
// always holds every record after the oldest snapshot kept. A damaged
// snapshot newer than that is left alone (for an operator to look at) until
// enough good ones follow it.
//
// A snapshot file never changes once renamed into place, so each file is
// checked once (remembered by path, size and modification time).
//
// Thread-safety: none; the checkpointer calls it under its checkpoint lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/change.h"
#include "persistence/snapshot.h"

namespace idrecon {

class SnapshotRetention {
 public:
  explicit SnapshotRetention(std::size_t keep) : keep_(keep < 2 ? 2 : keep) {}

  // Whether `snapshot` is readable (checked at most once per file).
  bool Readable(const SnapshotInfo& snapshot);
  // A snapshot this process just wrote and synced: readable without a read.
  void Written(const SnapshotInfo& snapshot);

  // The newest readable snapshot of `snapshots` (newest first), or null.
  const SnapshotInfo* NewestReadable(const std::vector<SnapshotInfo>& snapshots);

  // Applies the rule above to `snapshots` (newest first): deletes what is
  // not kept (a file that cannot be deleted is left for the next time) and
  // sets *trim_through to the seq the log may be trimmed through, or 0 when
  // fewer than `keep` readable snapshots exist (nothing is deleted then).
  void Retire(const std::vector<SnapshotInfo>& snapshots, Seq* trim_through);

 private:
  struct FileId {
    std::uint64_t size;
    std::int64_t mtime_ns;
    bool operator==(const FileId&) const = default;
  };
  struct Checked {
    FileId id;
    bool readable;
  };

  const std::size_t keep_;
  std::map<std::string, Checked> checked_;  // by path
};

}  // namespace idrecon
