// Recovery: the state rebuilt from a data directory equals the state that
// wrote it, with and without snapshots, after trimming, and with a damaged
// newest snapshot; ids continue after the highest ever used.
#include "persistence/recovery.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "persistence/checkpointer.h"
#include "persistence/data_dir.h"
#include "persistence/log_writer.h"
#include "testing/temp_dir.h"

namespace idrecon {
namespace {

using testing::TempDir;

struct Row {
  std::string email, phone;
  ContactId linked;
  Millis created, updated;
  bool operator==(const Row&) const = default;
};

std::vector<Row> Dump(const Engine& e) {
  std::vector<Row> rows;
  e.ForEachContact([&](const ContactRow& r) {
    rows.push_back({std::string(r.email), std::string(r.phone), r.linked_id, r.created_at, r.updated_at});
  });
  return rows;
}

// A data directory with a live engine writing through a LogWriter.
class Live {
 public:
  explicit Live(const std::string& path, ManualClock* clock) : clock_(clock) {
    EXPECT_TRUE(DataDir::Open(path, &dir_).ok());
    EXPECT_TRUE(MutationLog::Open(dir_->log_dir(), {}, &log_).ok());
    writer_ = std::make_unique<LogWriter>(log_.get());
    Status s = Recover(path, *log_, Factory(writer_.get()), &engine_, &report_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    writer_->Start(report_.last_seq);
  }
  ~Live() {
    if (writer_) writer_->Stop();
  }
  EngineFactory Factory(ChangeSink* sink = nullptr) {
    ManualClock* clock = clock_;
    return [clock, sink] { return std::make_unique<Engine>(Engine::Options{clock, sink, 16, nullptr}); };
  }
  void Drive(int n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < n; ++i) {
      clock_->Advance(static_cast<Millis>(rng() % 4));
      std::string e = rng() % 4 ? "e" + std::to_string(rng() % 500) : "";
      std::string p = rng() % 4 || e.empty() ? "p" + std::to_string(rng() % 500) : "";
      IdentifyOutcome out;
      ASSERT_TRUE(engine_->Identify({e, p}, &out).ok());
    }
  }
  Engine& engine() { return *engine_; }
  LogWriter& writer() { return *writer_; }
  MutationLog& log() { return *log_; }
  const RecoveryReport& report() const { return report_; }

 private:
  ManualClock* clock_;
  std::unique_ptr<DataDir> dir_;
  std::unique_ptr<MutationLog> log_;
  std::unique_ptr<LogWriter> writer_;
  std::unique_ptr<Engine> engine_;
  RecoveryReport report_;
};

TEST(RecoveryTest, ReopenRebuildsTheWholeStateFromTheLog) {
  TempDir tmp;
  ManualClock clock(1'000'000);
  std::vector<Row> before;
  {
    Live live(tmp.path(), &clock);
    live.Drive(4000, 1);
    before = Dump(live.engine());
  }
  Live again(tmp.path(), &clock);
  EXPECT_EQ(again.report().snapshot.last_seq, 0u);
  EXPECT_GT(again.report().replayed, 0u);
  EXPECT_EQ(Dump(again.engine()), before);
  // Ids continue after the highest ever used.
  IdentifyOutcome out;
  ASSERT_TRUE(again.engine().Identify({"brand-new@x", ""}, &out).ok());
  EXPECT_EQ(out.cluster.primary_id, before.size() + 1);
}

TEST(RecoveryTest, SnapshotPlusTailAndTrimmedLog) {
  TempDir tmp;
  ManualClock clock(1'000'000);
  std::vector<Row> before;
  {
    Live live(tmp.path(), &clock);
    Checkpointer checkpointer(tmp.path(), &live.log(), &live.writer(), live.Factory(), {});
    live.Drive(1500, 2);
    ASSERT_TRUE(live.writer().Stop().ok());  // everything committed
    ASSERT_TRUE(checkpointer.CheckpointNow().ok());
  }
  {
    Live live(tmp.path(), &clock);
    EXPECT_GT(live.report().snapshot.last_seq, 0u);
    live.Drive(1500, 3);
    Checkpointer checkpointer(tmp.path(), &live.log(), &live.writer(), live.Factory(), {});
    ASSERT_TRUE(live.writer().Stop().ok());
    ASSERT_TRUE(checkpointer.CheckpointNow().ok());  // second snapshot: trims through the first
    before = Dump(live.engine());
  }
  // The trim the second checkpoint requested runs on the writer thread, which
  // was already stopped; trim here as the writer would have.
  {
    std::unique_ptr<MutationLog> log;
    ASSERT_TRUE(MutationLog::Open(tmp.path() + "/log", {}, &log).ok());
    std::vector<SnapshotInfo> snaps;
    ASSERT_TRUE(ListSnapshots(tmp.path(), &snaps).ok());
    ASSERT_EQ(snaps.size(), 2u);
    ASSERT_TRUE(log->TrimThrough(snaps[1].last_seq).ok());
    Seq first = 0;
    ASSERT_TRUE(log->FirstSeq(&first).ok());
    EXPECT_EQ(first, snaps[1].last_seq + 1);
  }
  Live again(tmp.path(), &clock);
  EXPECT_EQ(Dump(again.engine()), before);
  EXPECT_EQ(again.report().replayed, 0u) << "the newest snapshot covers everything";
}

TEST(RecoveryTest, DamagedNewestSnapshotFallsBackToThePreviousOne) {
  TempDir tmp;
  ManualClock clock(1'000'000);
  std::vector<Row> before;
  for (int round = 0; round < 2; ++round) {
    Live live(tmp.path(), &clock);
    live.Drive(800, 10 + static_cast<std::uint64_t>(round));
    Checkpointer checkpointer(tmp.path(), &live.log(), &live.writer(), live.Factory(), {});
    ASSERT_TRUE(live.writer().Stop().ok());
    ASSERT_TRUE(checkpointer.CheckpointNow().ok());
    before = Dump(live.engine());
  }
  std::vector<SnapshotInfo> snaps;
  ASSERT_TRUE(ListSnapshots(tmp.path(), &snaps).ok());
  ASSERT_EQ(snaps.size(), 2u);
  {
    std::fstream f(snaps[0].path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x7f');
  }
  Live again(tmp.path(), &clock);
  EXPECT_EQ(again.report().snapshot.last_seq, snaps[1].last_seq);
  ASSERT_EQ(again.report().warnings.size(), 1u);
  EXPECT_NE(again.report().warnings[0].find("checksum"), std::string::npos) << again.report().warnings[0];
  EXPECT_EQ(Dump(again.engine()), before);
}

TEST(RecoveryTest, MissingRecordsAreRefusedNotSkipped) {
  TempDir tmp;
  ManualClock clock(1'000'000);
  {
    Live live(tmp.path(), &clock);
    live.Drive(300, 4);
  }
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(tmp.path() + "/log", {}, &log).ok());
  ASSERT_TRUE(log->TrimThrough(10).ok());  // no snapshot covers 1..10
  std::unique_ptr<Engine> engine;
  RecoveryReport report;
  Status s = Recover(tmp.path(), *log, [&] { return std::make_unique<Engine>(Engine::Options{&clock, nullptr, 4, nullptr}); },
                     &engine, &report);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
}

TEST(DataDirTest, ASecondOpenIsRefusedWithTheHolder) {
  TempDir tmp;
  std::unique_ptr<DataDir> first, second;
  ASSERT_TRUE(DataDir::Open(tmp.path() + "/nested/data", &first).ok());
  Status s = DataDir::Open(tmp.path() + "/nested/data", &second);
  EXPECT_TRUE(s.IsUnavailable());
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();
  first.reset();
  EXPECT_TRUE(DataDir::Open(tmp.path() + "/nested/data", &second).ok());
}

}  // namespace
}  // namespace idrecon
