// LogWriter with caller commits (the nosync server's mode): appends wait for
// CommitPending on the caller's thread, which runs the waiters there; the
// writer thread still commits what nobody committed (after the grace period,
// and at Stop), and commits never overlap or reorder under concurrent callers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "persistence/log_writer.h"
#include "testing/temp_dir.h"
#include "testing/log_writer_support.h"

namespace idrecon {
namespace {

using testing::FillUntilFailure;
using testing::TempDir;
using testing::TinyMap;

class CallerCommitsTest : public ::testing::Test {
 protected:
  // The writer's safety net waits an hour here unless a test says otherwise,
  // so what these tests see is the callers' doing.
  void Start(std::chrono::milliseconds grace = std::chrono::hours(1)) {
    ASSERT_TRUE(MutationLog::Open(dir_.path(), {}, &log_).ok());
    writer_ = std::make_unique<LogWriter>(log_.get());
    writer_->SetCallerCommits(true, grace);
    writer_->Start(0);
    engine_ = std::make_unique<Engine>(Engine::Options{&clock_, writer_.get(), 16, nullptr});
  }

  Seq NewContact(const std::string& email) {
    IdentifyOutcome out;
    EXPECT_TRUE(engine_->Identify({email, ""}, &out).ok());
    return out.depends_on_seq;
  }

  TempDir dir_;
  ManualClock clock_{1};
  std::unique_ptr<MutationLog> log_;
  std::unique_ptr<LogWriter> writer_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(CallerCommitsTest, CommitPendingCommitsOnTheCallersThreadAndRunsTheWaitersThere) {
  Start();
  EXPECT_TRUE(writer_->caller_commits());
  const Seq a = NewContact("a@x");
  EXPECT_TRUE(writer_->ShouldScheduleCommit());
  const Seq b = NewContact("b@x");
  EXPECT_FALSE(writer_->ShouldScheduleCommit()) << "one commit is already scheduled for both";
  std::thread::id ran_on;
  writer_->WhenDurable(b, [&](const Status& s) {
    EXPECT_TRUE(s.ok());
    ran_on = std::this_thread::get_id();
  });
  EXPECT_LT(writer_->durable_seq(), a) << "nothing may be committed before CommitPending";
  writer_->CommitPending();
  EXPECT_EQ(writer_->durable_seq(), b);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_EQ(writer_->stats().commits, 1u);
  EXPECT_EQ(writer_->stats().changes, 2u);
  EXPECT_TRUE(writer_->ShouldScheduleCommit()) << "CommitPending clears the schedule";
  writer_->CommitPending();  // nothing pending: no commit
  EXPECT_EQ(writer_->stats().commits, 1u);
}

TEST_F(CallerCommitsTest, TheWriterCommitsWhatNobodyCommitted) {
  Start(std::chrono::milliseconds(5));
  const Seq a = NewContact("a@x");
  std::promise<Status> done;
  writer_->WhenDurable(a, [&](const Status& s) { done.set_value(s); });
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(future.get().ok());
  EXPECT_GE(writer_->durable_seq(), a);
}

TEST_F(CallerCommitsTest, StopCommitsWhatIsPending) {
  Start();
  for (int i = 0; i < 20; ++i) NewContact("x" + std::to_string(i) + "@x");
  ASSERT_TRUE(writer_->Stop().ok());
  Seq last = 0;
  ASSERT_TRUE(log_->LastSeq(&last).ok());
  EXPECT_EQ(last, 20u);
}

TEST_F(CallerCommitsTest, ConcurrentCallersCommitEverythingInOrder) {
  Start(std::chrono::milliseconds(5));
  constexpr int kThreads = 4, kPerThread = 400;
  std::vector<std::thread> threads;
  std::atomic<int> acknowledged{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const Seq seq = NewContact("t" + std::to_string(t) + "-" + std::to_string(i));
        std::promise<Status> done;
        writer_->WhenDurable(seq, [&](const Status& s) { done.set_value(s); });
        if (writer_->ShouldScheduleCommit()) writer_->CommitPending();
        // Whoever scheduled may not have taken this change: the grace
        // period's writer commit is the bound on the wait.
        auto future = done.get_future();
        ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
        ASSERT_TRUE(future.get().ok());
        acknowledged++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(acknowledged.load(), kThreads * kPerThread);
  ASSERT_TRUE(writer_->Stop().ok());
  // Every record is there, once, in seq order (ReadAfter checks the order).
  Seq expected = 0;
  ASSERT_TRUE(log_->ReadAfter(0, [&](const Change& c) {
                    EXPECT_EQ(c.seq, expected + 1);
                    expected = c.seq;
                    return Status::Ok();
                  }).ok());
  EXPECT_EQ(expected, static_cast<Seq>(kThreads * kPerThread));
  const auto stats = writer_->stats();
  std::cout << "[ info ] " << stats.changes << " changes in " << stats.commits << " commits\n";
}

TEST(CallerCommitsFailureTest, AFailedCallerCommitIsSticky) {
  TempDir dir;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), TinyMap(), &log).ok());
  LogWriter writer(log.get());
  writer.SetCallerCommits(true, std::chrono::hours(1));
  writer.Start(0);
  ManualClock clock(1);
  Engine engine(Engine::Options{&clock, &writer, 8, nullptr});
  Seq last_ok = 0;
  const Status failure = FillUntilFailure(engine, writer, &last_ok);  // commits on this thread
  ASSERT_FALSE(failure.ok());
  EXPECT_TRUE(writer.failed());
  // Changes after the failure are never committed; their waiters fail at once.
  IdentifyOutcome out;
  ASSERT_TRUE(engine.Identify({"after@x", ""}, &out).ok());
  writer.CommitPending();
  Status later;
  writer.WhenDurable(out.depends_on_seq, [&](const Status& s) { later = s; });
  EXPECT_EQ(later.message(), failure.message());
  EXPECT_FALSE(writer.Stop().ok());
  Seq last = 0;
  ASSERT_TRUE(log->LastSeq(&last).ok());
  EXPECT_EQ(last, last_ok) << "everything acknowledged is in the log, nothing else";
}

}  // namespace
}  // namespace idrecon
