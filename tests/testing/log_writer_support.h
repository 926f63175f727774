// What the log writer and database tests share: the commit modes, the
// change-then-wait round trip a server request makes (through the
// Durability interface, as the HTTP session does), run from one thread or
// many, and a log that fills up.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "persistence/caller_commit_writer.h"
#include "persistence/durability.h"
#include "persistence/group_commit_writer.h"
#include "persistence/log_writer.h"
#include "persistence/mutation_log.h"

namespace idrecon::testing {

// Who commits, and over which log: the server's two configurations and the
// plain group commit.
enum class CommitMode {
  kGroupCommit,              // fsync log, one flush per commit: the writer thread commits
  kGroupCommitDeferredSync,  // fsync log, MDB_NOMETASYNC (the fsync server): acknowledged after the next sync
  kCallerCommits,            // nosync log (the nosync server): the caller commits in AfterRequest
};

inline std::string CommitModeName(CommitMode mode) {
  switch (mode) {
    case CommitMode::kGroupCommit:
      return "GroupCommit";
    case CommitMode::kGroupCommitDeferredSync:
      return "GroupCommitDeferredSync";
    case CommitMode::kCallerCommits:
      return "CallerCommits";
  }
  return "Unknown";
}

inline MutationLog::Options LogOptionsFor(CommitMode mode, MutationLog::Options options = {}) {
  options.sync = mode != CommitMode::kCallerCommits;
  options.defer_meta_sync = mode == CommitMode::kGroupCommitDeferredSync;
  return options;
}

// `grace`: the caller-commit writer's safety net (an hour: what a test sees
// is the callers' doing).
inline std::unique_ptr<LogWriter> MakeWriter(CommitMode mode, MutationLog* log, const LogWriterOptions& options = {},
                                             std::chrono::milliseconds grace = std::chrono::hours(1)) {
  if (mode == CommitMode::kCallerCommits) return std::make_unique<CallerCommitWriter>(log, options, grace);
  return std::make_unique<GroupCommitWriter>(log, options);
}

// `options` with a 256 KiB map that cannot grow: full after a few hundred
// of FillUntilFailure's records.
inline MutationLog::Options TinyMap(MutationLog::Options options = {}) {
  options.initial_map_bytes = 256 << 10;
  options.max_map_bytes = 256 << 10;
  return options;
}

// The server's side of one request whose response depends on `seq`: let
// the log do its deferred work on this thread (AfterRequest), then, if
// still needed, park with WhenDurable, run what was posted to "this I/O
// thread", and wait for the answer.
inline Status WaitDurable(Durability& durability, Seq seq) {
  if (seq <= durability.durable_seq()) return Status::Ok();
  std::vector<Durability::Work> posted;
  durability.AfterRequest(seq, [&](Durability::Work work) { posted.push_back(std::move(work)); });
  if (seq <= durability.durable_seq()) return Status::Ok();
  std::promise<Status> done;
  durability.WhenDurable(seq, [&](const Status& s) { done.set_value(s); });
  for (Durability::Work& work : posted) work();
  auto future = done.get_future();
  if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    return Status::IOError("seq " + std::to_string(seq) + " was never acknowledged");
  }
  return future.get();
}

// A new contact with `email`, then waits until it is durable (or failed),
// as a server request does. *seq = the change's seq.
inline Status IdentifyAndWait(Engine& engine, Durability& durability, const std::string& email, Seq* seq) {
  IdentifyOutcome out;
  if (Status s = engine.Identify({email, ""}, &out); !s.ok()) return s;
  *seq = out.depends_on_seq;
  return WaitDurable(durability, out.depends_on_seq);
}

// `threads` threads make `per_thread` changes each with IdentifyAndWait;
// every one must be acknowledged, and durable when it is.
inline void IdentifyFromThreads(Engine& engine, Durability& durability, int threads, int per_thread) {
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        Seq seq = 0;
        const Status s = IdentifyAndWait(engine, durability, "t" + std::to_string(t) + "-" + std::to_string(i), &seq);
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_GE(durability.durable_seq(), seq);
        acknowledged++;
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(acknowledged.load(), threads * per_thread);
}

// One 300-byte change at a time until one is not acknowledged (a TinyMap log
// is full); returns that failure, *last_ok = the last acknowledged seq.
inline Status FillUntilFailure(Engine& engine, Durability& durability, Seq* last_ok) {
  const std::string padding(300, 'p');
  for (int i = 0; i < 100000; ++i) {
    Seq seq = 0;
    const Status s = IdentifyAndWait(engine, durability, std::to_string(i) + padding, &seq);
    if (!s.ok()) return s;
    *last_ok = seq;
  }
  return Status::Ok();
}

}  // namespace idrecon::testing
