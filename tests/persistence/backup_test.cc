// Backup of a data directory while a writer keeps committing: the copy opens
// as a data directory and holds exactly the state the source had durably
// reached at the copy's last seq.
#include "persistence/backup.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <atomic>
#include <thread>

#include "persistence/database.h"
#include "testing/temp_dir.h"

namespace idrecon {
namespace {

using testing::TempDir;

// The backup must run in another process (LMDB forbids opening one
// environment twice in a process), and fork() without exec() is not safe
// under ThreadSanitizer with threads running: so the test binary re-executes
// itself, and this hook, run before main(), does the backup and exits.
const bool kBackupChild = [] {
  const char* src = std::getenv("IDRECON_BACKUP_CHILD_SRC");
  const char* dst = std::getenv("IDRECON_BACKUP_CHILD_DST");
  if (src == nullptr || dst == nullptr) return false;
  BackupReport r;
  const Status s = BackupDataDir(src, dst, &r);
  std::printf("%llu %llu\n", static_cast<unsigned long long>(r.log_last_seq),
              static_cast<unsigned long long>(r.snapshots));
  std::fflush(stdout);
  ::_exit(s.ok() ? 0 : 1);
}();

std::vector<std::string> Dump(const Engine& e) {
  std::vector<std::string> rows;
  e.ForEachContact([&](const ContactRow& r) {
    rows.push_back(std::string(r.email) + "|" + std::string(r.phone) + "|" + std::to_string(r.linked_id) + "|" +
                   std::to_string(r.created_at) + "|" + std::to_string(r.updated_at));
  });
  return rows;
}

DatabaseOptions Options(ManualClock* clock, bool writer) {
  DatabaseOptions options;
  options.sync = false;
  options.writer = writer;
  options.engine.clock = clock;
  options.engine.lock_stripes = 16;
  options.checkpoints.every_changes = 0;
  options.checkpoints.every_seconds = 0;
  return options;
}

TEST(BackupTest, CopyTakenDuringWritesIsAConsistentDataDirectory) {
  TempDir src, dst;
  ManualClock clock(1'000'000);
  std::unique_ptr<Database> db;
  ASSERT_TRUE(Database::Open(src.path(), Options(&clock, true), &db).ok());
  Engine& engine = *db->engine();

  std::atomic<bool> stop{false};
  std::thread load([&] {
    for (int i = 0; !stop; ++i) {
      IdentifyOutcome out;
      // A new email every time (so every request is a change), phones shared
      // so clusters merge.
      const std::string e = "e" + std::to_string(i), p = "p" + std::to_string((i * 7) % 900);
      if (!engine.Identify({e, p}, &out).ok()) return;
      if (i == 2000) (void)db->CheckpointNow();  // a snapshot, then more log
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (db->durable_seq() < 3000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The backup runs in another process, as idrecon-tool would: LMDB forbids
  // opening one environment twice in the same process.
  const std::string out = dst.path() + "/copy";
  std::string command = "IDRECON_BACKUP_CHILD_SRC='" + src.path() + "' IDRECON_BACKUP_CHILD_DST='" + out +
                        "' /proc/" + std::to_string(::getpid()) + "/exe";
  FILE* child = ::popen(command.c_str(), "r");
  ASSERT_NE(child, nullptr);
  unsigned long long last = 0, snaps = 0;
  const bool read_ok = std::fscanf(child, "%llu %llu", &last, &snaps) == 2;
  const int status = ::pclose(child);
  BackupReport backup;
  backup.log_last_seq = last;
  backup.snapshots = snaps;
  stop = true;
  load.join();
  ASSERT_TRUE(read_ok);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "backup failed in the child";
  ASSERT_TRUE(db->Close().ok());
  EXPECT_GE(backup.log_last_seq, 3000u);
  EXPECT_GE(backup.snapshots, 1u);

  // The source replayed up to the copy's last seq...
  std::unique_ptr<Engine> expected;
  RecoveryReport expected_report;
  ASSERT_TRUE(db->Recover(nullptr, &expected, &expected_report, backup.log_last_seq).ok());
  // ...equals the copy, opened as a data directory of its own.
  std::unique_ptr<Database> copy;
  const Status s = Database::Open(out, Options(&clock, false), &copy);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(copy->recovery().last_seq, backup.log_last_seq);
  EXPECT_EQ(Dump(*copy->engine()), Dump(*expected));
  EXPECT_LT(copy->engine()->contact_count(), engine.contact_count() + 1);
}

TEST(BackupTest, RefusesANonEmptyDestinationAndAMissingSource) {
  TempDir src, dst;
  BackupReport report;
  EXPECT_TRUE(BackupDataDir(src.path() + "/nothing", dst.path() + "/x", &report).IsNotFound());
  std::unique_ptr<Database> db;
  ManualClock clock(1);
  ASSERT_TRUE(Database::Open(src.path(), Options(&clock, false), &db).ok());
  EXPECT_TRUE(BackupDataDir(src.path(), src.path(), &report).IsInvalidArgument()) << "not into itself";
  EXPECT_TRUE(BackupDataDir(src.path(), dst.path() + "/empty-log", &report).ok());
  EXPECT_EQ(report.log_last_seq, 0u);
}

}  // namespace
}  // namespace idrecon
