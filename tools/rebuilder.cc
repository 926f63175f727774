#include "tools/rebuilder.h"

#include <unistd.h>

#include <chrono>

#include "tools/progress.h"
#include "tools/sha256.h"
#include "tools/store.h"

namespace idrecon::tools {

Status Rebuild(const RebuildOptions& options, RebuildSummary* summary) {
  auto t = std::chrono::steady_clock::now();
  std::unique_ptr<Database> db;
  if (Status s = OpenStore(options.data_dir, false, false, &db); !s.ok()) return s;
  bool empty = false;
  if (Status s = db->IsEmpty(&empty); !s.ok()) return s;
  if (empty) {
    summary->empty = true;
    return Status::Ok();
  }
  std::unique_ptr<Engine> engine;
  if (options.from_log_only) {
    engine = db->NewEngine();
    Seq seq = 0;
    if (Status s = CatchUp(db->log(), engine.get(), &seq, &summary->replayed); !s.ok()) return s;
    summary->last_seq = seq;
  } else {
    RecoveryReport report;
    if (Status s = db->Recover(nullptr, &engine, &report); !s.ok()) return s;
    for (const std::string& w : report.warnings) std::fprintf(stderr, "idrecon-tool rebuild: warning: %s\n", w.c_str());
    summary->loaded_snapshot = report.snapshot.path;
    summary->replayed = report.replayed;
    summary->last_seq = report.last_seq;
  }
  summary->contacts = engine->contact_count();
  summary->clusters = engine->cluster_count();
  summary->recover_seconds = SecondsSince(t);

  t = std::chrono::steady_clock::now();
  SnapshotInfo info;
  if (Status s = WriteSnapshot(*engine, summary->last_seq, db->path(), &info); !s.ok()) return s;
  engine.reset();
  summary->snapshot_path = info.path;
  summary->snapshot_bytes = info.bytes;
  if (Status s = Sha256File(info.path, &summary->sha256); !s.ok()) return s;
  if (options.compact) {
    if (Status s = db->log().TrimThrough(summary->last_seq); !s.ok()) return s;
    std::vector<SnapshotInfo> snapshots;
    if (Status s = ListSnapshots(db->path(), &snapshots); !s.ok()) return s;
    for (const SnapshotInfo& other : snapshots) {
      if (other.path != info.path) ::unlink(other.path.c_str());
    }
    if (Status s = SyncDirectory(db->path()); !s.ok()) return s;
  }
  summary->write_seconds = SecondsSince(t);
  return Status::Ok();
}

}  // namespace idrecon::tools
