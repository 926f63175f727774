// What the LogWriter tests share: the change-then-wait round trip a server
// request makes, run from one thread or many, and a log that fills up.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "persistence/log_writer.h"
#include "persistence/mutation_log.h"

namespace idrecon::testing {

// `options` with a 256 KiB map that cannot grow: full after a few hundred
// of FillUntilFailure's records.
inline MutationLog::Options TinyMap(MutationLog::Options options = {}) {
  options.initial_map_bytes = 256 << 10;
  options.max_map_bytes = 256 << 10;
  return options;
}

// A new contact with `email`, then waits until the writer says it is durable
// (or failed), as a server request does; with caller commits it commits
// first, as the nosync server's I/O thread does. *seq = the change's seq.
inline Status IdentifyAndWait(Engine& engine, LogWriter& writer, const std::string& email, Seq* seq) {
  IdentifyOutcome out;
  if (Status s = engine.Identify({email, ""}, &out); !s.ok()) return s;
  *seq = out.depends_on_seq;
  std::promise<Status> done;
  writer.WhenDurable(out.depends_on_seq, [&](const Status& s) { done.set_value(s); });
  if (writer.caller_commits()) writer.CommitPending();  // usually runs the waiter here
  return done.get_future().get();
}

// `threads` threads make `per_thread` changes each with IdentifyAndWait;
// every one must be acknowledged, and durable when it is.
inline void IdentifyFromThreads(Engine& engine, LogWriter& writer, int threads, int per_thread) {
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        Seq seq = 0;
        const Status s = IdentifyAndWait(engine, writer, "t" + std::to_string(t) + "-" + std::to_string(i), &seq);
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_GE(writer.durable_seq(), seq);
        acknowledged++;
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(acknowledged.load(), threads * per_thread);
}

// One 300-byte change at a time until one is not acknowledged (a TinyMap log
// is full); returns that failure, *last_ok = the last acknowledged seq.
inline Status FillUntilFailure(Engine& engine, LogWriter& writer, Seq* last_ok) {
  const std::string padding(300, 'p');
  for (int i = 0; i < 100000; ++i) {
    Seq seq = 0;
    const Status s = IdentifyAndWait(engine, writer, std::to_string(i) + padding, &seq);
    if (!s.ok()) return s;
    *last_ok = seq;
  }
  return Status::Ok();
}

}  // namespace idrecon::testing
