// Recovery: the state rebuilt from a data directory equals the state that
// wrote it, with and without snapshots, after trimming, and with a damaged
// newest snapshot; ids continue after the highest ever used.
#include "persistence/recovery.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "persistence/database.h"
#include "testing/log_writer_support.h"
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

// A data directory opened as the server opens it: a live engine writing
// through the log writer; checkpoints only when a test asks.
class Live {
 public:
  explicit Live(const std::string& path, ManualClock* clock) {
    DatabaseOptions options;
    options.engine.clock = clock;
    options.engine.lock_stripes = 16;
    options.checkpoints.every_changes = 0;
    options.checkpoints.every_seconds = 0;
    const Status s = Database::Open(path, options, &db_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    clock_ = clock;
  }
  void Drive(int n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < n; ++i) {
      clock_->Advance(static_cast<Millis>(rng() % 4));
      std::string e = rng() % 4 ? "e" + std::to_string(rng() % 500) : "";
      std::string p = rng() % 4 || e.empty() ? "p" + std::to_string(rng() % 500) : "";
      IdentifyOutcome out;
      ASSERT_TRUE(engine().Identify({e, p}, &out).ok());
    }
  }
  // Waits until everything the engine changed is durable, then snapshots it.
  void Checkpoint() {
    ASSERT_TRUE(testing::WaitDurable(*db_->durability(), engine().last_seq()).ok());
    const Status s = db_->CheckpointNow();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Waits until the writer trimmed the log through `seq`.
  void WaitForTrim(Seq seq) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (db_->stats().commits.trimmed_through < seq && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_GE(db_->stats().commits.trimmed_through, seq);
  }
  Engine& engine() { return *db_->engine(); }
  Database& db() { return *db_; }
  const RecoveryReport& report() const { return db_->recovery(); }

 private:
  ManualClock* clock_;
  std::unique_ptr<Database> db_;
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
    live.Drive(1500, 2);
    live.Checkpoint();
  }
  Seq older = 0;
  {
    Live live(tmp.path(), &clock);
    EXPECT_GT(live.report().snapshot.last_seq, 0u);
    older = live.report().snapshot.last_seq;
    live.Drive(1500, 3);
    live.Checkpoint();  // the second snapshot: the log is trimmed through the first
    live.WaitForTrim(older);
    Seq first = 0;
    ASSERT_TRUE(live.db().log().FirstSeq(&first).ok());
    EXPECT_EQ(first, older + 1);
    before = Dump(live.engine());
  }
  std::vector<SnapshotInfo> snaps;
  ASSERT_TRUE(ListSnapshots(tmp.path(), &snaps).ok());
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_EQ(snaps[1].last_seq, older);
  Live again(tmp.path(), &clock);
  EXPECT_EQ(Dump(again.engine()), before);
  EXPECT_EQ(again.report().replayed, 0u) << "the newest snapshot covers everything";
}

// Flips one byte inside a snapshot's rows: its checksum no longer matches.
void Damage(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(40);
  f.put('\x7f');
}

TEST(RecoveryTest, DamagedNewestSnapshotFallsBackToThePreviousOne) {
  TempDir tmp;
  ManualClock clock(1'000'000);
  std::vector<Row> before;
  for (int round = 0; round < 2; ++round) {
    Live live(tmp.path(), &clock);
    live.Drive(800, 10 + static_cast<std::uint64_t>(round));
    live.Checkpoint();
    before = Dump(live.engine());
  }
  std::vector<SnapshotInfo> snaps;
  ASSERT_TRUE(ListSnapshots(tmp.path(), &snaps).ok());
  ASSERT_EQ(snaps.size(), 2u);
  Damage(snaps[0].path);
  Live again(tmp.path(), &clock);
  EXPECT_EQ(again.report().snapshot.last_seq, snaps[1].last_seq);
  ASSERT_EQ(again.report().warnings.size(), 1u);
  EXPECT_NE(again.report().warnings[0].find("checksum"), std::string::npos) << again.report().warnings[0];
  EXPECT_EQ(Dump(again.engine()), before);
}

TEST(RecoveryTest, ADamagedSnapshotDoesNotCountAsOneOfTheKept) {
  // [newest damaged, previous good] + a new checkpoint: the good one must
  // stay (and the log after it), or one more damaged file would leave no
  // way back.
  TempDir tmp;
  ManualClock clock(1'000'000);
  std::vector<SnapshotInfo> snaps;
  {
    Live live(tmp.path(), &clock);
    live.Drive(800, 21);
    live.Checkpoint();
    live.Drive(800, 22);
    live.Checkpoint();
    ASSERT_TRUE(ListSnapshots(tmp.path(), &snaps).ok());
    ASSERT_EQ(snaps.size(), 2u);
    live.WaitForTrim(snaps[1].last_seq);
  }
  const SnapshotInfo good = snaps[1];
  Damage(snaps[0].path);
  std::vector<Row> before;
  {
    Live live(tmp.path(), &clock);
    EXPECT_EQ(live.report().snapshot.last_seq, good.last_seq);
    live.Drive(800, 23);
    live.Checkpoint();
    ASSERT_TRUE(ListSnapshots(tmp.path(), &snaps).ok());
    EXPECT_EQ(snaps.size(), 3u) << "newest, damaged, good";
    EXPECT_TRUE(std::ifstream(good.path).good()) << "the last good snapshot before the new one was deleted";
    Seq first = 0;
    ASSERT_TRUE(live.db().log().FirstSeq(&first).ok());
    EXPECT_LE(first, good.last_seq + 1) << "the log was trimmed past the last good snapshot";
    before = Dump(live.engine());
  }
  // The new one is damaged too: the good one and the log still hold it all.
  Damage(snaps[0].path);
  Live again(tmp.path(), &clock);
  EXPECT_EQ(again.report().snapshot.last_seq, good.last_seq);
  EXPECT_EQ(again.report().warnings.size(), 2u);
  EXPECT_EQ(Dump(again.engine()), before);
}

TEST(RecoveryTest, MissingRecordsAreRefusedNotSkipped) {
  TempDir tmp;
  ManualClock clock(1'000'000);
  {
    Live live(tmp.path(), &clock);
    live.Drive(300, 4);
  }
  DatabaseOptions options;
  options.engine.clock = &clock;
  options.writer = false;
  options.recover = false;
  std::unique_ptr<Database> db;
  ASSERT_TRUE(Database::Open(tmp.path(), options, &db).ok());
  ASSERT_TRUE(db->log().TrimThrough(10).ok());  // no snapshot covers 1..10
  std::unique_ptr<Engine> engine;
  RecoveryReport report;
  Status s = db->Recover(nullptr, &engine, &report);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
  db.reset();
  options.recover = true;
  s = Database::Open(tmp.path(), options, &db);
  EXPECT_TRUE(s.IsCorruption()) << "Open refuses too: " << s.ToString();
  EXPECT_NE(s.message().find("cannot recover"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace idrecon
