#include "persistence/log_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "testing/temp_dir.h"
#include "testing/log_writer_support.h"

namespace idrecon {
namespace {

using testing::FillUntilFailure;
using testing::IdentifyFromThreads;
using testing::TempDir;
using testing::TinyMap;

TEST(LogWriterTest, EveryChangeBecomesDurableAndWaitersAreCalled) {
  TempDir dir;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), {}, &log).ok());
  LogWriter writer(log.get());
  writer.Start(0);
  ManualClock clock(1);
  Engine engine(Engine::Options{&clock, &writer, 64, nullptr});

  constexpr int kThreads = 4, kPerThread = 300;
  IdentifyFromThreads(engine, writer, kThreads, kPerThread);
  ASSERT_TRUE(writer.Stop().ok());
  const auto stats = writer.stats();
  EXPECT_EQ(stats.changes, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_LE(stats.commits, stats.changes);
  std::cout << "[ info ] " << stats.changes << " changes in " << stats.commits << " commits\n";
  Seq last = 0;
  ASSERT_TRUE(log->LastSeq(&last).ok());
  EXPECT_EQ(last, engine.last_seq());
}

TEST(LogWriterTest, AlreadyDurableSeqCompletesInline) {
  TempDir dir;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), {}, &log).ok());
  LogWriter writer(log.get());
  writer.Start(7);
  bool called = false;
  writer.WhenDurable(7, [&](const Status& s) { called = s.ok(); });
  EXPECT_TRUE(called);
  writer.WhenDurable(0, [&](const Status& s) { called = s.ok(); });
  EXPECT_TRUE(called);
}

TEST(LogWriterTest, StopCommitsWhatIsPending) {
  TempDir dir;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), {}, &log).ok());
  {
    LogWriter writer(log.get());
    writer.Start(0);
    ManualClock clock(1);
    Engine engine(Engine::Options{&clock, &writer, 8, nullptr});
    IdentifyOutcome out;
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(engine.Identify({"x" + std::to_string(i), ""}, &out).ok());
    ASSERT_TRUE(writer.Stop().ok());
  }
  Seq last = 0;
  ASSERT_TRUE(log->LastSeq(&last).ok());
  EXPECT_EQ(last, 50u);
}

TEST(LogWriterTest, AFailedCommitIsSticky) {
  TempDir dir;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), TinyMap(), &log).ok());
  LogWriter writer(log.get());
  writer.Start(0);
  ManualClock clock(1);
  Engine engine(Engine::Options{&clock, &writer, 8, nullptr});
  Seq last_ok = 0;
  const Status failure = FillUntilFailure(engine, writer, &last_ok);
  ASSERT_FALSE(failure.ok());
  EXPECT_TRUE(writer.failed());
  EXPECT_FALSE(writer.error().ok());
  // Later waiters fail at once with the same error; earlier ones stay fine.
  Status later;
  writer.WhenDurable(engine.last_seq() + 1, [&](const Status& s) { later = s; });
  EXPECT_EQ(later.message(), failure.message());
  Status earlier = Status::IOError("not called");
  writer.WhenDurable(last_ok, [&](const Status& s) { earlier = s; });
  EXPECT_TRUE(earlier.ok());
  EXPECT_FALSE(writer.Stop().ok());
  Seq last = 0;
  ASSERT_TRUE(log->LastSeq(&last).ok());
  EXPECT_EQ(last, last_ok) << "everything acknowledged is in the log, nothing else";
}

}  // namespace
}  // namespace idrecon
