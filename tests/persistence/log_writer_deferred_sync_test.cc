// LogWriter over a log that defers its meta sync (MDB_NOMETASYNC): a commit
// is acknowledged only after a later sync — the next commit or an explicit
// one — has made it durable.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "persistence/log_writer.h"
#include "testing/temp_dir.h"
#include "testing/log_writer_support.h"

namespace idrecon {
namespace {

using testing::IdentifyAndWait;
using testing::IdentifyFromThreads;
using testing::TempDir;
using testing::TinyMap;

std::unique_ptr<MutationLog> OpenLog(const TempDir& dir, bool defer) {
  MutationLog::Options options;
  options.defer_meta_sync = defer;
  std::unique_ptr<MutationLog> log;
  EXPECT_TRUE(MutationLog::Open(dir.path(), options, &log).ok());
  return log;
}

TEST(LogWriterDeferredSyncTest, ALoneCommitIsAcknowledgedOnlyAfterAnExtraSync) {
  TempDir dir;
  auto log = OpenLog(dir, true);
  ASSERT_TRUE(log->defers_meta_sync());
  LogWriter writer(log.get());
  writer.Start(0);
  ManualClock clock(1);
  Engine engine(Engine::Options{&clock, &writer, 8, nullptr});
  constexpr int kChanges = 20;
  for (int i = 0; i < kChanges; ++i) {
    Seq seq = 0;
    Status s = IdentifyAndWait(engine, writer, "alone" + std::to_string(i), &seq);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_GE(writer.durable_seq(), seq);
  }
  ASSERT_TRUE(writer.Stop().ok());
  const auto stats = writer.stats();
  // One change at a time: no next commit ever carried the previous one's
  // meta page, so each acknowledgement needed its own sync.
  EXPECT_EQ(stats.commits, static_cast<std::uint64_t>(kChanges));
  EXPECT_EQ(stats.meta_syncs, stats.commits);
}

TEST(LogWriterDeferredSyncTest, AnOrdinaryLogNeedsNoExtraSync) {
  TempDir dir;
  auto log = OpenLog(dir, false);
  ASSERT_FALSE(log->defers_meta_sync());
  LogWriter writer(log.get());
  writer.Start(0);
  ManualClock clock(1);
  Engine engine(Engine::Options{&clock, &writer, 8, nullptr});
  for (int i = 0; i < 5; ++i) {
    Seq seq = 0;
    ASSERT_TRUE(IdentifyAndWait(engine, writer, "plain" + std::to_string(i), &seq).ok());
  }
  ASSERT_TRUE(writer.Stop().ok());
  EXPECT_EQ(writer.stats().commits, 5u);
  EXPECT_EQ(writer.stats().meta_syncs, 0u);
}

TEST(LogWriterDeferredSyncTest, ConcurrentChangesAreAllAcknowledgedAndInTheLog) {
  TempDir dir;
  auto log = OpenLog(dir, true);
  LogWriter writer(log.get());
  writer.Start(0);
  ManualClock clock(1);
  Engine engine(Engine::Options{&clock, &writer, 64, nullptr});
  constexpr int kThreads = 4, kPerThread = 200;
  IdentifyFromThreads(engine, writer, kThreads, kPerThread);
  ASSERT_TRUE(writer.Stop().ok());
  const auto stats = writer.stats();
  EXPECT_EQ(stats.changes, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(writer.durable_seq(), engine.last_seq()) << "Stop leaves nothing unsynced";
  std::cout << "[ info ] " << stats.changes << " changes in " << stats.commits << " commits, " << stats.meta_syncs
            << " extra syncs\n";
  log.reset();
  auto reopened = OpenLog(dir, true);
  Seq last = 0;
  ASSERT_TRUE(reopened->LastSeq(&last).ok());
  EXPECT_EQ(last, engine.last_seq());
}

TEST(LogWriterDeferredSyncTest, AFullMapStillAcknowledgesTheCommitBeforeIt) {
  // The commit that fails for want of map space never touched the file, so
  // the one before it — written, its meta page not yet synced — is synced
  // and acknowledged: the log holds exactly the acknowledged changes.
  TempDir dir;
  MutationLog::Options options;
  options.defer_meta_sync = true;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), TinyMap(options), &log).ok());
  LogWriter writer(log.get());
  writer.Start(0);
  ManualClock clock(1);
  Engine engine(Engine::Options{&clock, &writer, 8, nullptr});
  const std::string padding(300, 'p');
  std::mutex mu;
  std::set<Seq> acked;
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100000 && !failed; ++i) {
        Seq seq = 0;
        Status s = IdentifyAndWait(engine, writer, std::to_string(t) + "-" + std::to_string(i) + padding, &seq);
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
  EXPECT_FALSE(writer.Stop().ok());
  Seq last = 0;
  ASSERT_TRUE(log->LastSeq(&last).ok());
  ASSERT_FALSE(acked.empty());
  EXPECT_EQ(*acked.rbegin(), last) << "the newest acknowledged change is the log's last record";
  EXPECT_EQ(acked.size(), last) << "every record in the log was acknowledged (seqs 1.." << last << ")";
}

}  // namespace
}  // namespace idrecon
