// LogWriter in each commit mode (group commit, group commit over a log that
// defers its meta sync, caller commits): every change becomes durable and is
// acknowledged, in seq order; Stop commits what is pending; a failed commit
// or a failed queuing is sticky and the log holds exactly what was
// acknowledged. Then what is particular to one mode: the extra sync of a
// deferred meta page, and commits on the caller's thread with the writer
// thread as the safety net.
#include "persistence/log_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <new>
#include <set>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "testing/log_writer_support.h"
#include "testing/temp_dir.h"

namespace idrecon {
namespace {

using testing::CommitMode;
using testing::FillUntilFailure;
using testing::IdentifyAndWait;
using testing::IdentifyFromThreads;
using testing::TempDir;
using testing::TinyMap;

class LogWriterTest : public ::testing::TestWithParam<CommitMode> {
 protected:
  void Open(MutationLog::Options options = {}, const LogWriterOptions& writer_options = {}) {
    ASSERT_TRUE(MutationLog::Open(dir_.path(), testing::LogOptionsFor(GetParam(), options), &log_).ok());
    writer_ = testing::MakeWriter(GetParam(), log_.get(), writer_options);
    writer_->Start(0);
    engine_ = std::make_unique<Engine>(Engine::Options{&clock_, writer_.get(), 16, nullptr});
  }
  Seq LastInLog() {
    Seq last = 0;
    EXPECT_TRUE(log_->LastSeq(&last).ok());
    return last;
  }
  // The writer thread ends before the engine goes: a test hook running on
  // it may still be using the engine.
  void TearDown() override {
    if (writer_) writer_->Stop();
  }

  TempDir dir_;
  ManualClock clock_{1};
  std::unique_ptr<MutationLog> log_;
  std::unique_ptr<LogWriter> writer_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(LogWriterTest, EveryChangeBecomesDurableAndWaitersAreCalled) {
  Open();
  constexpr int kThreads = 4, kPerThread = 300;
  IdentifyFromThreads(*engine_, *writer_, kThreads, kPerThread);
  ASSERT_TRUE(writer_->Stop().ok());
  const CommitStats stats = writer_->stats();
  EXPECT_EQ(stats.changes, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_LE(stats.commits, stats.changes);
  EXPECT_EQ(writer_->durable_seq(), engine_->last_seq()) << "Stop leaves nothing unsynced";
  EXPECT_EQ(writer_->durable_contacts(), engine_->contact_count());
  std::cout << "[ info ] " << stats.changes << " changes in " << stats.commits << " commits, " << stats.meta_syncs
            << " extra syncs\n";
  // Every record is there, once, in seq order (ReadAfter checks the order).
  Seq expected = 0;
  ASSERT_TRUE(log_->ReadAfter(0, [&](const Change& c) {
                    EXPECT_EQ(c.seq, expected + 1);
                    expected = c.seq;
                    return Status::Ok();
                  }).ok());
  EXPECT_EQ(expected, engine_->last_seq());
}

TEST_P(LogWriterTest, AlreadyDurableSeqCompletesInline) {
  ASSERT_TRUE(MutationLog::Open(dir_.path(), testing::LogOptionsFor(GetParam()), &log_).ok());
  writer_ = testing::MakeWriter(GetParam(), log_.get());
  writer_->Start(7);
  bool called = false;
  writer_->WhenDurable(7, [&](const Status& s) { called = s.ok(); });
  EXPECT_TRUE(called);
  called = false;
  writer_->WhenDurable(0, [&](const Status& s) { called = s.ok(); });
  EXPECT_TRUE(called);
}

TEST_P(LogWriterTest, StopCommitsWhatIsPending) {
  Open();
  IdentifyOutcome out;
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(engine_->Identify({"x" + std::to_string(i), ""}, &out).ok());
  ASSERT_TRUE(writer_->Stop().ok());
  EXPECT_EQ(LastInLog(), 50u);
  EXPECT_EQ(writer_->durable_seq(), 50u);
}

TEST_P(LogWriterTest, AFailedCommitIsSticky) {
  std::vector<std::string> reported;
  LogWriterOptions writer_options;
  writer_options.on_failure = [&](const Status& s) { reported.push_back(s.ToString()); };
  Open(TinyMap(), writer_options);
  Seq last_ok = 0;
  const Status failure = FillUntilFailure(*engine_, *writer_, &last_ok);
  ASSERT_FALSE(failure.ok());
  EXPECT_TRUE(writer_->failed());
  EXPECT_FALSE(writer_->error().ok());
  // Later changes are never committed; their waiters fail at once with the
  // same error. Earlier ones stay fine.
  Seq seq = 0;
  const Status later = IdentifyAndWait(*engine_, *writer_, "after@x", &seq);
  EXPECT_EQ(later.message(), failure.message());
  Status earlier = Status::IOError("not called");
  writer_->WhenDurable(last_ok, [&](const Status& s) { earlier = s; });
  EXPECT_TRUE(earlier.ok());
  EXPECT_FALSE(writer_->Stop().ok());
  EXPECT_EQ(LastInLog(), last_ok) << "everything acknowledged is in the log, nothing else";
  // The detail is reported once, when the error became sticky.
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0], writer_->error().ToString());
}

TEST_P(LogWriterTest, AFullLogUnderConcurrentChangesKeepsExactlyTheAcknowledged) {
  // The commit that fails for want of map space never touched the file, so
  // the one before it — with a deferred meta sync: written, its meta page
  // not yet synced — is synced and acknowledged: the log holds exactly the
  // acknowledged changes.
  Open(TinyMap());
  const std::string padding(300, 'p');
  std::mutex mu;
  std::set<Seq> acked;
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100000 && !failed; ++i) {
        Seq seq = 0;
        Status s = IdentifyAndWait(*engine_, *writer_, std::to_string(t) + "-" + std::to_string(i) + padding, &seq);
        if (!s.ok()) {
          failed = true;
          break;
        }
        std::lock_guard<std::mutex> lock(mu);
        acked.insert(seq);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(failed);
  EXPECT_FALSE(writer_->Stop().ok());
  const Seq last = LastInLog();
  ASSERT_FALSE(acked.empty());
  EXPECT_EQ(*acked.rbegin(), last) << "the newest acknowledged change is the log's last record";
  EXPECT_EQ(acked.size(), last) << "every record in the log was acknowledged (seqs 1.." << last << ")";
}

TEST_P(LogWriterTest, AChangeThatCannotBeQueuedIsASticky503NotAnException) {
  // The engine has applied the change in memory when it hands it over; if
  // queuing it fails (out of memory in LogBatch::Add), memory is ahead of
  // the log, exactly as after a failed commit.
  std::atomic<int> appends{0};
  std::atomic<int> reported{0};
  LogWriterOptions options;
  options.before_queue = [&] {
    if (++appends == 4) throw std::bad_alloc();
  };
  options.on_failure = [&](const Status&) { ++reported; };
  Open({}, options);
  Seq seq = 0;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(IdentifyAndWait(*engine_, *writer_, "ok" + std::to_string(i), &seq).ok());
  const Seq last_ok = seq;
  const Status failure = IdentifyAndWait(*engine_, *writer_, "no-memory@x", &seq);  // Append must not throw
  EXPECT_FALSE(failure.ok());
  EXPECT_NE(failure.message().find("cannot queue change 4"), std::string::npos) << failure.ToString();
  EXPECT_TRUE(writer_->failed());
  EXPECT_EQ(writer_->error().message(), failure.message());
  const Status later = IdentifyAndWait(*engine_, *writer_, "later@x", &seq);
  EXPECT_EQ(later.message(), failure.message()) << "every later change fails too";
  EXPECT_FALSE(writer_->Stop().ok());
  EXPECT_EQ(LastInLog(), last_ok) << "nothing after the failure reached the log";
  EXPECT_EQ(writer_->durable_seq(), last_ok);
  EXPECT_EQ(reported.load(), 1) << "the failure is reported once, for the operator's log";
}

TEST_P(LogWriterTest, ATrimEndsUnderALoadThatNeverLetsTheQueueEmpty) {
  // Every commit is followed by a new change before the committer looks
  // again (after_commit makes one), so the queue is never empty when it
  // decides what to do next; the trim must still make progress.
  constexpr Seq kRecords = 400;
  constexpr std::size_t kStep = 50;
  constexpr int kLoadCommits = 2000;  // the load then stops, and the trim would end anyway
  std::atomic<int> load_commits{0};
  std::atomic<bool> loading{false};
  std::atomic<int> trimmed_under_load{-1};
  LogWriterOptions options;
  options.trim_step_records = kStep;
  options.commits_per_trim_step = 8;
  options.after_commit = [&] {
    if (!loading) return;
    if (writer_->stats().trimmed_through >= kRecords && trimmed_under_load < 0) {
      trimmed_under_load = load_commits.load();
    }
    if (++load_commits > kLoadCommits) return;
    IdentifyOutcome out;
    EXPECT_TRUE(engine_->Identify({"load" + std::to_string(load_commits.load()), ""}, &out).ok());
  };
  Open({}, options);
  IdentifyOutcome out;
  for (Seq i = 0; i < kRecords; ++i) ASSERT_TRUE(engine_->Identify({"r" + std::to_string(i), ""}, &out).ok());
  ASSERT_TRUE(testing::WaitDurable(*writer_, kRecords).ok());
  if (GetParam() == CommitMode::kCallerCommits) {
    GTEST_SKIP() << "callers commit on their own threads; the writer thread trims between them";
  }
  loading = true;
  writer_->RequestTrim(kRecords);
  ASSERT_TRUE(engine_->Identify({"first-of-the-load@x", ""}, &out).ok());  // sets the load going
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (load_commits < kLoadCommits && trimmed_under_load < 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  loading = false;
  EXPECT_GE(trimmed_under_load.load(), 0) << "the trim did not end while changes kept coming ("
                                          << load_commits << " commits of load, " << writer_->stats().trim_steps
                                          << " trim steps, trimmed through " << writer_->stats().trimmed_through << ", "
                                          << writer_->stats().last_trim_error << ")";
  EXPECT_LE(trimmed_under_load.load(), static_cast<int>((kRecords / kStep + 1) * 8 + 8))
      << "about one step per commits_per_trim_step commits";
}

TEST_P(LogWriterTest, ATrimRunsInSmallStepsWithCommitsBetweenThem) {
  // A trim of many records must not hold every commit back until it ends:
  // a change made during the first step is durable before the second.
  constexpr Seq kRecords = 2000;
  constexpr std::size_t kStep = 100;
  struct AtStep {
    Seq first_in_log;
    Seq durable;
  };
  std::vector<AtStep> steps;  // written by the writer thread only, read after the trim
  Seq during_trim = 0;
  LogWriterOptions options;
  options.trim_step_records = kStep;
  options.after_trim_step = [&] {
    Seq first = 0;
    EXPECT_TRUE(log_->FirstSeq(&first).ok());
    steps.push_back({first, writer_->durable_seq()});
    if (steps.size() == 1) {  // a request arrives while the trim is under way
      IdentifyOutcome out;
      EXPECT_TRUE(engine_->Identify({"during-trim@x", ""}, &out).ok());
      during_trim = out.depends_on_seq;
    }
  };
  Open({}, options);
  IdentifyOutcome out;
  for (Seq i = 0; i < kRecords; ++i) ASSERT_TRUE(engine_->Identify({"r" + std::to_string(i), ""}, &out).ok());
  ASSERT_TRUE(testing::WaitDurable(*writer_, kRecords).ok());

  writer_->RequestTrim(kRecords);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (writer_->stats().trimmed_through < kRecords && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(writer_->stats().trimmed_through, kRecords);
  EXPECT_EQ(writer_->stats().trim_steps, kRecords / kStep);
  ASSERT_EQ(steps.size(), kRecords / kStep);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].first_in_log, (i + 1) * kStep + 1) << "step " << i << " deletes the next " << kStep;
  }
  EXPECT_EQ(during_trim, kRecords + 1);
  EXPECT_GE(steps[1].durable, during_trim) << "the change made during step 1 waited for more than that step";
  ASSERT_TRUE(writer_->Stop().ok());
  Seq first = 0;
  ASSERT_TRUE(log_->FirstSeq(&first).ok());
  EXPECT_EQ(first, kRecords + 1);
  EXPECT_EQ(LastInLog(), kRecords + 1);
}

INSTANTIATE_TEST_SUITE_P(CommitModes, LogWriterTest,
                         ::testing::Values(CommitMode::kGroupCommit, CommitMode::kGroupCommitDeferredSync,
                                           CommitMode::kCallerCommits),
                         [](const ::testing::TestParamInfo<CommitMode>& mode) {
                           return testing::CommitModeName(mode.param);
                         });

// Deferred meta sync: a lone commit is acknowledged only after an extra sync.
TEST(LogWriterDeferredSyncTest, ALoneCommitIsAcknowledgedOnlyAfterAnExtraSync) {
  for (const CommitMode mode : {CommitMode::kGroupCommitDeferredSync, CommitMode::kGroupCommit}) {
    TempDir dir;
    std::unique_ptr<MutationLog> log;
    ASSERT_TRUE(MutationLog::Open(dir.path(), testing::LogOptionsFor(mode), &log).ok());
    ASSERT_EQ(log->defers_meta_sync(), mode == CommitMode::kGroupCommitDeferredSync);
    auto writer = testing::MakeWriter(mode, log.get());
    writer->Start(0);
    ManualClock clock(1);
    Engine engine(Engine::Options{&clock, writer.get(), 8, nullptr});
    constexpr int kChanges = 20;
    for (int i = 0; i < kChanges; ++i) {
      Seq seq = 0;
      ASSERT_TRUE(IdentifyAndWait(engine, *writer, "alone" + std::to_string(i), &seq).ok());
    }
    ASSERT_TRUE(writer->Stop().ok());
    const CommitStats stats = writer->stats();
    EXPECT_EQ(stats.commits, static_cast<std::uint64_t>(kChanges));
    // One change at a time: no next commit ever carried the previous one's
    // meta page, so each acknowledgement needed its own sync; an ordinary
    // log needs none.
    EXPECT_EQ(stats.meta_syncs, mode == CommitMode::kGroupCommitDeferredSync ? stats.commits : 0u);
  }
}

class CallerCommitsTest : public ::testing::Test {
 protected:
  void Start(std::chrono::milliseconds grace = std::chrono::hours(1)) {
    ASSERT_TRUE(MutationLog::Open(dir_.path(), testing::LogOptionsFor(CommitMode::kCallerCommits), &log_).ok());
    writer_ = std::make_unique<CallerCommitWriter>(log_.get(), LogWriterOptions{}, grace);
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
  std::unique_ptr<CallerCommitWriter> writer_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(CallerCommitsTest, AfterRequestCommitsOnTheCallersThreadAndRunsTheWaitersThere) {
  Start();
  const Seq a = NewContact("a@x");
  const Seq b = NewContact("b@x");
  std::thread::id ran_on;
  writer_->WhenDurable(a, [&](const Status& s) {
    EXPECT_TRUE(s.ok());
    ran_on = std::this_thread::get_id();
  });
  EXPECT_LT(writer_->durable_seq(), a) << "nothing is committed before the caller commits";
  int posts = 0;
  writer_->AfterRequest(b, [&](Durability::Work) { ++posts; });
  EXPECT_EQ(writer_->durable_seq(), b);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_EQ(posts, 0) << "the commit on this thread made it durable: nothing left to schedule";
  EXPECT_EQ(writer_->stats().commits, 1u) << "one commit for both changes";
  EXPECT_EQ(writer_->stats().changes, 2u);
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

TEST_F(CallerCommitsTest, ConcurrentCallersAloneCommitEverything) {
  Start();  // no safety net within the test's lifetime: the callers must do it all
  IdentifyFromThreads(*engine_, *writer_, 4, 400);
  EXPECT_EQ(writer_->durable_seq(), engine_->last_seq());
}

}  // namespace
}  // namespace idrecon
