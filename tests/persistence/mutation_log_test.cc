#include "persistence/mutation_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/temp_dir.h"

namespace idrecon {
namespace {

using testing::TempDir;

LogBatch Creates(Seq first, Seq last, std::size_t email_bytes = 20) {
  LogBatch batch;
  for (Seq s = first; s <= last; ++s) {
    std::string email = std::string(email_bytes, 'e') + std::to_string(s);
    Change c;
    c.kind = Change::Kind::kCreateContact;
    c.seq = s;
    c.id = static_cast<ContactId>(s);
    c.at = static_cast<Millis>(s);
    c.email = email;
    batch.Add(c);
  }
  return batch;
}

std::vector<Seq> ReadAll(const MutationLog& log, Seq after = 0, Seq upto = 0) {
  std::vector<Seq> seqs;
  Status s = log.ReadAfter(after, [&](const Change& c) {
    seqs.push_back(c.seq);
    return Status::Ok();
  }, upto);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return seqs;
}

TEST(MutationLogTest, AppendsReadsAndSurvivesReopen) {
  TempDir dir;
  {
    std::unique_ptr<MutationLog> log;
    ASSERT_TRUE(MutationLog::Open(dir.path(), {}, &log).ok());
    Seq first = 9, last = 9;
    ASSERT_TRUE(log->FirstSeq(&first).ok());
    ASSERT_TRUE(log->LastSeq(&last).ok());
    EXPECT_EQ(first, 0u);
    EXPECT_EQ(last, 0u);
    ASSERT_TRUE(log->Append(Creates(1, 10)).ok());
    ASSERT_TRUE(log->Append(Creates(11, 12)).ok());
  }
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), {}, &log).ok());
  Seq first = 0, last = 0;
  ASSERT_TRUE(log->FirstSeq(&first).ok());
  ASSERT_TRUE(log->LastSeq(&last).ok());
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(last, 12u);
  EXPECT_EQ(ReadAll(*log).size(), 12u);
  EXPECT_EQ(ReadAll(*log, 10), (std::vector<Seq>{11, 12}));
  EXPECT_EQ(ReadAll(*log, 2, 4), (std::vector<Seq>{3, 4}));
}

TEST(MutationLogTest, RefusesToAppendOutOfOrder) {
  TempDir dir;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), {}, &log).ok());
  ASSERT_TRUE(log->Append(Creates(5, 6)).ok());
  EXPECT_FALSE(log->Append(Creates(3, 3)).ok()) << "MDB_APPEND rejects a smaller key";
  EXPECT_EQ(ReadAll(*log), (std::vector<Seq>{5, 6}));
}

TEST(MutationLogTest, ReadingAcrossAGapIsCorruption) {
  TempDir dir;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), {}, &log).ok());
  ASSERT_TRUE(log->Append(Creates(1, 3)).ok());
  ASSERT_TRUE(log->Append(Creates(5, 6)).ok());
  Status s = log->ReadAfter(0, [](const Change&) { return Status::Ok(); });
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("gap"), std::string::npos) << s.message();
}

TEST(MutationLogTest, GrowsTheMapWhenFull) {
  TempDir dir;
  MutationLog::Options options;
  options.initial_map_bytes = 256 << 10;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), options, &log).ok());
  const std::size_t before = log->map_bytes();
  for (Seq s = 1; s <= 20000; s += 1000) ASSERT_TRUE(log->Append(Creates(s, s + 999, 200)).ok()) << s;
  EXPECT_GT(log->map_bytes(), before);
  EXPECT_EQ(ReadAll(*log).size(), 20000u);
}

TEST(MutationLogTest, AnUnsyncedLogGrowsItsWritableMapAndReopensSynced) {
  // sync = false maps the file writable (MDB_WRITEMAP): growing the map
  // extends the file, and a server started later with fsync reads it all.
  TempDir dir;
  MutationLog::Options options;
  options.sync = false;
  options.initial_map_bytes = 256 << 10;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), options, &log).ok());
  const std::size_t before = log->map_bytes();
  for (Seq s = 1; s <= 20000; s += 1000) ASSERT_TRUE(log->Append(Creates(s, s + 999, 200)).ok()) << s;
  EXPECT_GT(log->map_bytes(), before);
  EXPECT_EQ(ReadAll(*log).size(), 20000u);
  EXPECT_GT(log->file_bytes(), 0u);
  EXPECT_LE(log->file_bytes(), log->map_bytes()) << "counts allocated bytes, not the sparse size";
  log.reset();
  MutationLog::Options synced;
  synced.defer_meta_sync = true;
  ASSERT_TRUE(MutationLog::Open(dir.path(), synced, &log).ok());
  EXPECT_EQ(ReadAll(*log).size(), 20000u);
  ASSERT_TRUE(log->Append(Creates(20001, 20001)).ok());
  ASSERT_TRUE(log->Sync().ok());
  Seq last = 0;
  ASSERT_TRUE(log->LastSeq(&last).ok());
  EXPECT_EQ(last, 20001u);
}

TEST(MutationLogTest, AMapThatCannotGrowFailsCleanly) {
  TempDir dir;
  MutationLog::Options options;
  options.initial_map_bytes = 256 << 10;
  options.max_map_bytes = 512 << 10;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), options, &log).ok());
  Seq next = 1;
  Status s;
  while (s.ok() && next < 100000) {
    s = log->Append(Creates(next, next + 99, 200));
    if (s.ok()) next += 100;
  }
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("full"), std::string::npos) << s.message();
  // Everything committed before the failure is intact, nothing of the failed batch.
  EXPECT_EQ(ReadAll(*log).size(), next - 1);
}

TEST(MutationLogTest, TrimDeletesThroughASeq) {
  TempDir dir;
  std::unique_ptr<MutationLog> log;
  ASSERT_TRUE(MutationLog::Open(dir.path(), {}, &log).ok());
  ASSERT_TRUE(log->Append(Creates(1, 25000)).ok());
  ASSERT_TRUE(log->TrimThrough(22222).ok());
  Seq first = 0;
  ASSERT_TRUE(log->FirstSeq(&first).ok());
  EXPECT_EQ(first, 22223u);
  EXPECT_EQ(ReadAll(*log).size(), 25000u - 22222u);
  ASSERT_TRUE(log->Append(Creates(25001, 25001)).ok());
  ASSERT_TRUE(log->TrimThrough(30000).ok());
  ASSERT_TRUE(log->FirstSeq(&first).ok());
  EXPECT_EQ(first, 0u);
}

}  // namespace
}  // namespace idrecon
