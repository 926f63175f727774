// Store: a data directory opened by an offline tool — claimed (DataDir's
// lock, so a running server or another tool is refused), its log opened, and
// optionally its state recovered exactly as the server would (Recover).
//
// Contract: Open fails with NotFound when `path` does not exist and `create`
// is false (a typo must not create an empty directory); Unavailable when a
// server holds it. IsEmpty is true when the directory has no snapshot and no
// log record.
//
// Thread-safety: none; one tool, one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/engine.h"
#include "engine/status.h"
#include "persistence/data_dir.h"
#include "persistence/mutation_log.h"
#include "persistence/recovery.h"
#include "persistence/snapshot.h"

namespace idrecon::tools {

class Store {
 public:
  static Status Open(const std::string& path, bool create, std::unique_ptr<Store>* out);

  const std::string& path() const { return dir_->path(); }
  MutationLog& log() { return *log_; }

  Status IsEmpty(bool* empty) const;
  // The state = newest usable snapshot + log (a fresh engine without a sink,
  // on the system clock).
  Status Recover(std::unique_ptr<Engine>* engine, RecoveryReport* report) const;

  static std::unique_ptr<Engine> NewEngine(ChangeSink* sink = nullptr);

 private:
  std::unique_ptr<DataDir> dir_;
  std::unique_ptr<MutationLog> log_;
};

// "1,234,567"
std::string Grouped(std::uint64_t n);

}  // namespace idrecon::tools
