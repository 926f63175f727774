// Disk space (tmpfs; root only, skipped elsewhere): a snapshot that would
// leave the log less than its headroom is refused before a byte is written,
// the log keeps committing, a snapshot succeeds once there is room, and
// failed background checkpoints back off; a log written through its map
// runs out of disk with an error, not SIGBUS.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "persistence/checkpointer.h"
#include "persistence/database.h"
#include "persistence/disk_space.h"
#include "persistence/log_batch.h"
#include "persistence/mutation_log.h"
#include "testing/log_writer_support.h"
#include "testing/temp_dir.h"
#include "testing/tmpfs_mount.h"

namespace idrecon {
namespace {

namespace fs = std::filesystem;
using testing::IdentifyAndWait;
using testing::TempDir;
using testing::TmpfsMount;

constexpr std::uint64_t kHeadroom = std::uint64_t{4} << 20;

std::size_t CountFiles(const std::string& dir, std::string_view suffix) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().string().ends_with(suffix);
  return n;
}

class DiskSpaceTest : public ::testing::Test {
 protected:
  // An 8 MiB disk holding ~2.5 MiB of log: a snapshot of it (~2.4 MiB) fits
  // in what is free, but not together with the log's 4 MiB of headroom.
  void OpenAndFill(std::uint64_t every_changes) {
    DatabaseOptions options;
    options.engine.clock = &clock_;
    options.engine.lock_stripes = 16;
    options.checkpoints.every_changes = every_changes;
    options.checkpoints.every_seconds = 0;
    options.checkpoints.log_headroom_bytes = kHeadroom;
    ASSERT_TRUE(Database::Open(data_, options, &db_).ok());
    IdentifyOutcome out;
    for (int i = 0; i < 7000; ++i) {
      const std::string email = std::to_string(i) + "-" + std::string(290, 'p') + "@x";
      ASSERT_TRUE(db_->engine()->Identify({email, std::to_string(5550000 + i)}, &out).ok());
    }
    ASSERT_TRUE(testing::WaitDurable(*db_->durability(), db_->engine()->last_seq()).ok());
    std::uint64_t free_bytes = 0;
    ASSERT_TRUE(FreeBytes(data_, &free_bytes).ok());
    ASSERT_GT(free_bytes, kHeadroom + (std::uint64_t{1} << 20)) << "the log should still have room";
  }

  TempDir tmp_;
  const std::string data_ = tmp_.path() + "/data";
  TmpfsMount disk_{data_, "8m"};  // outlives db_
  ManualClock clock_{1'000'000};
  std::unique_ptr<Database> db_;
};

TEST_F(DiskSpaceTest, ASnapshotNeverTakesTheLogsHeadroom) {
  REQUIRE_TMPFS(disk_);
  OpenAndFill(0);
  std::uint64_t free_before = 0;
  ASSERT_TRUE(FreeBytes(data_, &free_before).ok());
  const Status s = db_->CheckpointNow();
  EXPECT_FALSE(s.ok()) << "the snapshot would have left the log less than its headroom";
  EXPECT_NE(s.message().find("no room for a snapshot"), std::string::npos) << s.ToString();
  EXPECT_EQ(CountFiles(data_, ".snap"), 0u);
  EXPECT_EQ(CountFiles(data_, ".tmp"), 0u) << "nothing is written when it does not fit";
  std::uint64_t free_after = 0;
  ASSERT_TRUE(FreeBytes(data_, &free_after).ok());
  EXPECT_EQ(free_after, free_before);

  // The log kept its room: changes are still acknowledged.
  for (int i = 0; i < 500; ++i) {
    Seq seq = 0;
    ASSERT_TRUE(IdentifyAndWait(*db_->engine(), *db_->durability(), "more" + std::to_string(i) + "@x", &seq).ok());
  }
  EXPECT_FALSE(db_->durability()->failed());

  ASSERT_TRUE(disk_.Resize("64m"));  // room again
  const Status again = db_->CheckpointNow();
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(CountFiles(data_, ".snap"), 1u);
}

TEST_F(DiskSpaceTest, FailedBackgroundCheckpointsBackOff) {
  REQUIRE_TMPFS(disk_);
  OpenAndFill(1);  // a checkpoint after every change: each attempt fails for want of room
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (db_->stats().checkpoints.failures_in_a_row < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const Checkpointer::Stats stats = db_->stats().checkpoints;
  ASSERT_GE(stats.failures_in_a_row, 2u);
  EXPECT_NE(stats.last_error.find("no room for a snapshot"), std::string::npos) << stats.last_error;
  EXPECT_EQ(stats.retry_delay, Checkpointer::RetryDelay(stats.failures_in_a_row, std::chrono::seconds(60)));
  EXPECT_GE(stats.retry_delay, std::chrono::seconds(2)) << "the wait grows after the second failure";
  EXPECT_EQ(CountFiles(data_, ".snap"), 0u);
  EXPECT_FALSE(db_->durability()->failed()) << "a failed snapshot is not a failed log";
}

TEST(UnsyncedLogDiskSpaceTest, AFullDiskIsAnErrorNotSigbus) {
  // A nosync log writes through a writable map of a sparse file: without
  // its blocks reserved ahead, the first page dirtied on a full disk kills
  // the process with SIGBUS.
  TempDir tmp;
  const std::string dir = tmp.path() + "/log";
  TmpfsMount disk(dir, "2m");
  REQUIRE_TMPFS(disk);
  MutationLog::Options options;
  options.sync = false;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir, options, &log).ok());
  const std::string email(300, 'e');
  Seq seq = 0;
  Status failure;
  while (failure.ok() && seq < 100000) {
    LogBatch batch;
    for (int i = 0; i < 10; ++i) {
      Change change;
      change.seq = ++seq;
      change.id = static_cast<ContactId>(seq);
      change.at = 1;
      change.email = email;
      batch.Add(change);
    }
    failure = log->Append(batch);
    if (failure.ok()) {
      EXPECT_LE(log->reserved_bytes(), std::uint64_t{2} << 20) << "never more than the disk";
    }
  }
  ASSERT_FALSE(failure.ok()) << "a 2 MiB disk took " << seq << " records";
  EXPECT_NE(failure.message().find("No space left"), std::string::npos) << failure.ToString();
  // Everything committed before is intact and readable.
  Seq last = 0;
  ASSERT_TRUE(log->LastSeq(&last).ok());
  EXPECT_EQ(last, seq - 10);
  Seq read = 0;
  ASSERT_TRUE(log->ReadAfter(0, [&](const Change& c) {
                    read = c.seq;
                    return Status::Ok();
                  }).ok());
  EXPECT_EQ(read, last);
  EXPECT_TRUE(log->Sync().ok());
}

TEST(CheckpointRetryTest, TheWaitDoublesUpToTheCap) {
  using std::chrono::seconds;
  EXPECT_EQ(Checkpointer::RetryDelay(0, seconds(60)), seconds(0));
  EXPECT_EQ(Checkpointer::RetryDelay(1, seconds(60)), seconds(1));
  EXPECT_EQ(Checkpointer::RetryDelay(2, seconds(60)), seconds(2));
  EXPECT_EQ(Checkpointer::RetryDelay(3, seconds(60)), seconds(4));
  EXPECT_EQ(Checkpointer::RetryDelay(6, seconds(60)), seconds(32));
  EXPECT_EQ(Checkpointer::RetryDelay(7, seconds(60)), seconds(60));
  EXPECT_EQ(Checkpointer::RetryDelay(1000, seconds(60)), seconds(60));
}

}  // namespace
}  // namespace idrecon
