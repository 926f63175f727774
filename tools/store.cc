#include "tools/store.h"

#include <algorithm>
#include <thread>

#include <sys/stat.h>

namespace idrecon::tools {

Status Store::Open(const std::string& path, bool create, std::unique_ptr<Store>* out) {
  struct stat st;
  if (!create && ::stat(path.c_str(), &st) != 0) return Status::NotFound("no data directory " + path);
  auto store = std::unique_ptr<Store>(new Store());
  if (Status s = DataDir::Open(path, &store->dir_); !s.ok()) return s;
  MutationLog::Options options;
  if (Status s = MutationLog::Open(store->dir_->log_dir(), options, &store->log_); !s.ok()) return s;
  *out = std::move(store);
  return Status::Ok();
}

Status Store::IsEmpty(bool* empty) const {
  std::vector<SnapshotInfo> snapshots;
  if (Status s = ListSnapshots(path(), &snapshots); !s.ok()) return s;
  Seq last = 0;
  if (Status s = log_->LastSeq(&last); !s.ok()) return s;
  *empty = snapshots.empty() && last == 0;
  return Status::Ok();
}

std::unique_ptr<Engine> Store::NewEngine(ChangeSink* sink) {
  Engine::Options options;
  options.clock = &SystemClock::Instance();
  options.sink = sink;
  // Offline tools have the machine to themselves: load snapshots on every core.
  options.restore_threads = std::max(1u, std::thread::hardware_concurrency());
  return std::make_unique<Engine>(options);
}

Status Store::Recover(std::unique_ptr<Engine>* engine, RecoveryReport* report) const {
  return idrecon::Recover(path(), *log_, [] { return NewEngine(); }, engine, report);
}

std::string Grouped(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace idrecon::tools
