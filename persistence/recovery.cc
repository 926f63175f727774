#include "persistence/recovery.h"

#include <chrono>

namespace idrecon {

Status CatchUp(const MutationLog& log, Engine* engine, Seq* seq, std::uint64_t* applied, Seq max_seq) {
  Seq first = 0;
  if (Status s = log.FirstSeq(&first); !s.ok()) return s;
  if (first > *seq + 1) {
    return Status::Corruption("the log starts at record " + std::to_string(first) + " but the state covers only " +
                              std::to_string(*seq) + ": records " + std::to_string(*seq + 1) + " to " +
                              std::to_string(first - 1) + " are missing");
  }
  return log.ReadAfter(*seq, [&](const Change& change) -> Status {
    if (change.seq != *seq + 1) {
      return Status::Corruption("log record " + std::to_string(change.seq) + " follows " + std::to_string(*seq));
    }
    if (Status a = engine->Apply(change); !a.ok()) return a;
    *seq = change.seq;
    ++*applied;
    return Status::Ok();
  }, max_seq);
}

Status Recover(const std::string& snapshot_dir, const MutationLog& log, const EngineFactory& make_engine,
               std::unique_ptr<Engine>* engine, RecoveryReport* report, Seq max_seq) {
  const auto start = std::chrono::steady_clock::now();
  *report = RecoveryReport{};
  std::vector<SnapshotInfo> snapshots;
  if (Status s = ListSnapshots(snapshot_dir, &snapshots); !s.ok()) return s;

  std::unique_ptr<Engine> e;
  for (const SnapshotInfo& candidate : snapshots) {
    if (max_seq != 0 && candidate.last_seq > max_seq) continue;
    e = make_engine();
    SnapshotInfo loaded;
    Status s = LoadSnapshot(candidate.path, e.get(), &loaded);
    if (s.ok()) {
      report->snapshot = loaded;
      break;
    }
    report->warnings.push_back("skipped snapshot: " + s.message());
    e.reset();
  }
  if (!e) e = make_engine();

  Seq seq = report->snapshot.last_seq;
  if (Status s = CatchUp(log, e.get(), &seq, &report->replayed, max_seq); !s.ok()) {
    // Say why the snapshots could not help: that is usually the real cause.
    if (report->warnings.empty() || !s.IsCorruption()) return s;
    std::string message = s.message();
    for (const std::string& w : report->warnings) message += "; " + w;
    return Status::Corruption(message);
  }
  report->last_seq = seq;
  report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  *engine = std::move(e);
  return Status::Ok();
}

}  // namespace idrecon
