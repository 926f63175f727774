// Database::Open, the one entry point to a data directory: it creates a
// missing directory only when asked, recovers what was written (in both sync
// modes), refuses a second opener, removes the snapshot temporaries a crash
// left, and Close commits everything; offline opens have no writer.
#include "persistence/database.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "persistence/backup.h"

#include "testing/log_writer_support.h"
#include "testing/temp_dir.h"

namespace idrecon {
namespace {

namespace fs = std::filesystem;
using testing::IdentifyAndWait;
using testing::TempDir;

class DatabaseTest : public ::testing::Test {
 protected:
  DatabaseOptions Options(bool sync = true) {
    DatabaseOptions options;
    options.sync = sync;
    options.engine.clock = &clock_;
    options.engine.lock_stripes = 16;
    options.checkpoints.every_changes = 0;  // checkpoints only when a test asks
    options.checkpoints.every_seconds = 0;
    return options;
  }
  std::unique_ptr<Database> OpenOk(const std::string& path, const DatabaseOptions& options) {
    std::unique_ptr<Database> db;
    const Status s = Database::Open(path, options, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return db;
  }
  std::string Path() const { return tmp_.path() + "/nested/data"; }

  TempDir tmp_;
  ManualClock clock_{1'000'000};
};

TEST_F(DatabaseTest, CreatesAMissingDirectoryWithItsLog) {
  auto db = OpenOk(Path(), Options());
  ASSERT_TRUE(db);
  EXPECT_TRUE(fs::exists(Path() + "/LOCK"));
  EXPECT_TRUE(fs::exists(Path() + "/log/data.mdb"));
  ASSERT_NE(db->engine(), nullptr);
  ASSERT_NE(db->durability(), nullptr);
  EXPECT_EQ(db->engine()->contact_count(), 0u);
  EXPECT_EQ(db->recovery().last_seq, 0u);
  bool empty = false;
  ASSERT_TRUE(db->IsEmpty(&empty).ok());
  EXPECT_TRUE(empty);
  EXPECT_TRUE(db->Close().ok());
}

TEST_F(DatabaseTest, RefusesAMissingDirectoryWhenNotCreating) {
  DatabaseOptions options = Options();
  options.create_if_missing = false;
  std::unique_ptr<Database> db;
  const Status s = Database::Open(Path(), options, &db);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_FALSE(fs::exists(tmp_.path() + "/nested")) << "a typo must not create a directory";
  EXPECT_EQ(db, nullptr);
}

TEST_F(DatabaseTest, RecoversWhatWasWrittenInBothSyncModes) {
  for (const bool sync : {true, false}) {
    SCOPED_TRACE(sync ? "fsync" : "nosync");
    const std::string path = tmp_.path() + (sync ? "/fsync" : "/nosync");
    {
      auto db = OpenOk(path, Options(sync));
      ASSERT_TRUE(db);
      for (int i = 0; i < 100; ++i) {
        Seq seq = 0;
        ASSERT_TRUE(IdentifyAndWait(*db->engine(), *db->durability(), "c" + std::to_string(i) + "@x", &seq).ok());
      }
      EXPECT_EQ(db->durable_seq(), 100u);
      EXPECT_EQ(db->stats().durable_contacts, 100u);
      EXPECT_TRUE(db->Close().ok());
    }
    auto db = OpenOk(path, Options(sync));
    ASSERT_TRUE(db);
    EXPECT_EQ(db->engine()->contact_count(), 100u);
    EXPECT_EQ(db->recovery().replayed, 100u);
    EXPECT_EQ(db->durable_seq(), 100u);
    IdentifyOutcome out;
    ASSERT_TRUE(db->engine()->Identify({"new@x", ""}, &out).ok());
    EXPECT_EQ(out.cluster.primary_id, 101u) << "ids continue after the highest ever used";
  }
}

TEST_F(DatabaseTest, CloseCommitsWhatTheEngineHandedOver) {
  {
    auto db = OpenOk(Path(), Options());
    ASSERT_TRUE(db);
    IdentifyOutcome out;
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(db->engine()->Identify({"x" + std::to_string(i), ""}, &out).ok());
    EXPECT_TRUE(db->Close().ok());
    EXPECT_EQ(db->durable_seq(), 50u);
    EXPECT_TRUE(db->Close().ok()) << "idempotent";
  }
  auto db = OpenOk(Path(), Options());
  ASSERT_TRUE(db);
  EXPECT_EQ(db->engine()->contact_count(), 50u);
}

TEST_F(DatabaseTest, ASecondOpenOfTheSameDirectoryIsRefused) {
  auto first = OpenOk(Path(), Options());
  ASSERT_TRUE(first);
  std::unique_ptr<Database> second;
  DatabaseOptions offline = Options();
  offline.writer = false;
  Status s = Database::Open(Path(), offline, &second);
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();
  first.reset();
  EXPECT_TRUE(Database::Open(Path(), offline, &second).ok()) << "free again once the first is closed";
}

TEST_F(DatabaseTest, RemovesSnapshotTemporariesLeftByACrash) {
  fs::create_directories(Path());
  const std::string stale = Path() + "/snapshot-00000000000000000007.snap.tmp";
  std::ofstream(stale) << "half a snapshot";
  const std::string unrelated = Path() + "/notes.txt";
  std::ofstream(unrelated) << "not ours";
  auto db = OpenOk(Path(), Options());
  ASSERT_TRUE(db);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(unrelated));
  EXPECT_EQ(db->recovery().removed_temporaries, 1u);
}

TEST_F(DatabaseTest, OpenSyncsTheLogBeforeAnythingIsServed) {
  // What a killed process committed may be only in the page cache (a
  // deferred meta page, or a nosync log); Open flushes it before it returns,
  // so nothing a restarted server shows can be lost to a power cut.
  for (const bool writer : {true, false}) {
    DatabaseOptions options = Options(/*sync=*/false);
    options.writer = writer;
    auto db = OpenOk(Path(), options);
    ASSERT_TRUE(db);
    EXPECT_EQ(db->log().syncs(), 1u) << (writer ? "server" : "tool");
  }
}

unsigned ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 07777;  // never a real mode: the file is missing
  return st.st_mode & 07777;
}

// umask(0) for the scope: files come out as idrecon asks, not as a careful
// umask would have trimmed them.
class OpenUmask {
 public:
  OpenUmask() : old_(::umask(0)) {}
  ~OpenUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST_F(DatabaseTest, EverythingItCreatesIsPrivateWhateverTheUmask) {
  OpenUmask umask0;
  const std::string copy = tmp_.path() + "/backup/copy";
  {
    auto db = OpenOk(Path(), Options());
    ASSERT_TRUE(db);
    Seq seq = 0;
    ASSERT_TRUE(IdentifyAndWait(*db->engine(), *db->durability(), "private@x", &seq).ok());
    ASSERT_TRUE(db->CheckpointNow().ok());
  }
  std::vector<SnapshotInfo> snaps;
  ASSERT_TRUE(ListSnapshots(Path(), &snaps).ok());
  ASSERT_EQ(snaps.size(), 1u);
  BackupReport report;
  ASSERT_TRUE(BackupDataDir(Path(), copy, &report).ok());
  const std::string snapshot_name = snaps[0].path.substr(snaps[0].path.rfind('/'));
  for (const std::string& dir : {tmp_.path() + "/nested", Path(), Path() + "/log", tmp_.path() + "/backup", copy,
                                 copy + "/log"}) {
    EXPECT_EQ(ModeOf(dir), 0700u) << dir;
  }
  for (const std::string& file : {Path() + "/LOCK", Path() + "/log/data.mdb", Path() + "/log/lock.mdb", snaps[0].path,
                                  copy + snapshot_name, copy + "/log/data.mdb", copy + "/log/lock.mdb"}) {
    EXPECT_EQ(ModeOf(file), 0600u) << file;
  }
  // Files an earlier version left readable by everyone are tightened.
  for (const std::string& file : {Path() + "/LOCK", Path() + "/log/data.mdb", Path() + "/log/lock.mdb"}) {
    ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  }
  ASSERT_EQ(::chmod((Path() + "/log").c_str(), 0755), 0);
  auto db = OpenOk(Path(), Options());
  ASSERT_TRUE(db);
  EXPECT_EQ(ModeOf(Path() + "/log"), 0700u);
  for (const std::string& file : {Path() + "/LOCK", Path() + "/log/data.mdb", Path() + "/log/lock.mdb"}) {
    EXPECT_EQ(ModeOf(file), 0600u) << file;
  }
}

TEST_F(DatabaseTest, OfflineOpensHaveNoWriterAndRecoverWhenAsked) {
  {
    auto db = OpenOk(Path(), Options());
    ASSERT_TRUE(db);
    Seq seq = 0;
    ASSERT_TRUE(IdentifyAndWait(*db->engine(), *db->durability(), "a@x", &seq).ok());
    ASSERT_TRUE(db->CheckpointNow().ok());
    ASSERT_TRUE(IdentifyAndWait(*db->engine(), *db->durability(), "b@x", &seq).ok());
  }
  DatabaseOptions options = Options();
  options.writer = false;
  {
    auto db = OpenOk(Path(), options);
    ASSERT_TRUE(db);
    EXPECT_EQ(db->durability(), nullptr);
    ASSERT_NE(db->engine(), nullptr);
    EXPECT_EQ(db->engine()->contact_count(), 2u);
    EXPECT_EQ(db->recovery().snapshot.last_seq, 1u);
    EXPECT_EQ(db->recovery().replayed, 1u);
    EXPECT_TRUE(db->CheckpointNow().IsInvalidArgument());
  }
  options.recover = false;
  auto db = OpenOk(Path(), options);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->engine(), nullptr);
  bool empty = true;
  ASSERT_TRUE(db->IsEmpty(&empty).ok());
  EXPECT_FALSE(empty);
  std::unique_ptr<Engine> engine;
  RecoveryReport report;
  ASSERT_TRUE(db->Recover(nullptr, &engine, &report, 1).ok());
  EXPECT_EQ(engine->contact_count(), 1u) << "recovery up to a seq";
  EXPECT_EQ(db->NewEngine()->contact_count(), 0u);
}

}  // namespace
}  // namespace idrecon
