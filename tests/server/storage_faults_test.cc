// Storage faults against the real server:
//   - the disk fills up under the log (a small tmpfs), with fsync and with
//     nosync (whose log is a writable map): 503 and /health 503, no crash,
//     nothing acknowledged lost, a clean restart once space is back;
//   - the disk fills up under the snapshots only: the server keeps serving
//     and keeps every change in the log, reports the failure, leaves no
//     partial file, and a later checkpoint succeeds once space is back;
//   - a damaged newest snapshot at startup: fall back to the previous one +
//     log, with a warning; a damaged only snapshot whose log was trimmed:
//     refuse with a precise message, never start with data missing;
//   - SIGKILL while snapshots are being written: restart recovers everything
//     and removes the stale temporary;
//   - the data directory, log, snapshots and access log are private (0700
//     and 0600) whatever the umask.
// The tmpfs cases need root (mount); elsewhere they are skipped.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "testing/tmpfs_mount.h"
#include "tests/server/durability_support.h"
#include "testing/process.h"
#include "testing/seed.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace idrecon::testing {
namespace {

namespace fs = std::filesystem;

using testing::TmpfsMount;

std::string LongEmail(int i) { return std::to_string(i) + "-" + std::string(280, 'p') + "@example.test"; }

// Sends new contacts until a non-200; returns the acknowledged ones and the
// first refusal.
std::vector<IdentifyAck> FillUntilRefused(std::uint16_t port, int limit, std::optional<Response>* refusal) {
  std::vector<IdentifyAck> acks;
  Client client(port);
  for (int i = 0; i < limit; ++i) {
    const std::string email = LongEmail(i);
    auto r = client.PostJson("/identify", IdentifyJson(email, std::to_string(700000 + i)));
    if (!r) break;
    if (r->status != 200) {
      *refusal = r;
      break;
    }
    IdentifyAck ack;
    ack.email = email;
    ack.phone = std::to_string(700000 + i);
    std::string error;
    if (ParseIdentifyBody(r->body, &ack.body, &error)) acks.push_back(std::move(ack));
  }
  return acks;
}

std::size_t CountFiles(const std::string& dir, std::string_view suffix) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().string().ends_with(suffix);
  return n;
}

// The disk under the log fills up (a 2 MiB tmpfs) with --sync `sync`. With
// nosync the log is written through a writable map of a sparse file, where
// a page the disk has no block for is SIGBUS, not an error: the log must
// own its blocks before it dirties a page, so this too ends in 503s.
void DiskFullUnderTheLog(const std::string& sync) {
  TempDir tmp("idrecon-fault");
  const std::string data = tmp.path() + "/data";
  TmpfsMount disk(data, "2m");
  REQUIRE_TMPFS(disk);
  const std::vector<std::string> args =
      ServerArgs(data, {"--sync", sync, "--snapshot-every", "off", "--log-max-mib", "64"});
  History history;
  {
    ServerProcess server;
    std::string error;
    ASSERT_TRUE(server.Start(args, &error)) << error;
    std::optional<Response> refusal;
    auto acks = FillUntilRefused(server.port(), 20000, &refusal);
    if (const std::optional<int> died = server.WaitForExit(std::chrono::milliseconds(500))) {
      FAIL() << "the server " << DescribeWaitStatus(*died) << " while the disk filled, after " << acks.size()
             << " acknowledged contacts:\n"
             << server.StderrText();
    }
    ASSERT_TRUE(refusal.has_value()) << "the 2 MiB disk never filled";
    EXPECT_EQ(refusal->status, 503) << refusal->body;
    std::string message;
    EXPECT_TRUE(ParseErrorBody(refusal->body, &message, &error)) << refusal->body;
    ASSERT_GT(acks.size(), 100u);
    Client client(server.port());
    auto health = client.GetPath("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 503);
    // The open /health says only that storage failed; the refused change's
    // own 503 names the cause.
    EXPECT_EQ(health->body, R"({"status":"unavailable","error":"storage error"})");
    EXPECT_NE(message.find("No space left"), std::string::npos) << refusal->body;
    // The operator's log has the detail, once.
    const std::string log = server.StderrText();
    const std::size_t first = log.find("storage error: changes are refused");
    ASSERT_NE(first, std::string::npos) << log;
    EXPECT_EQ(log.find("storage error: changes are refused", first + 1), std::string::npos) << log;
    EXPECT_NE(log.find("No space left", first), std::string::npos) << log;
    // Stored data is still readable; nothing new is accepted.
    auto lookup = client.PostJson("/identify", IdentifyJson(*acks[0].email, std::nullopt));
    ASSERT_TRUE(lookup);
    EXPECT_EQ(lookup->status, 200);
    auto fresh = client.PostJson("/identify", IdentifyJson("new@x", std::nullopt));
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->status, 503);
    for (auto& a : acks) history.AddAck(std::move(a));
    server.Signal(SIGTERM);
    const std::optional<int> status = server.WaitForExit(kExitTimeout);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status)) << DescribeWaitStatus(*status) << "\n" << server.StderrText();
  }
  ASSERT_TRUE(disk.Resize("64m"));  // space is back
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(args, &error)) << error;
  std::vector<ContactJson> contacts;
  const auto problems = VerifyServer(server.port(), history, &contacts);
  EXPECT_TRUE(problems.empty()) << FormatProblems(problems);
  EXPECT_GE(contacts.size(), history.acks.size());
  Client client(server.port());
  auto fresh = client.PostJson("/identify", IdentifyJson("after-restart@x", std::nullopt));
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->status, 200);
}

TEST(StorageFaultsTest, DiskFullUnderTheLogRefusesChangesAndLosesNothing) { DiskFullUnderTheLog("fsync"); }

TEST(StorageFaultsTest, DiskFullUnderAnUnsyncedLogIs503NotACrash) { DiskFullUnderTheLog("nosync"); }

TEST(StorageFaultsTest, DiskFullUnderSnapshotsKeepsServingAndRetries) {
  TempDir tmp("idrecon-fault");
  const std::string data = tmp.path() + "/data";
  TmpfsMount snapshots(data, "256k");
  REQUIRE_TMPFS(snapshots);
  TmpfsMount log(data + "/log", "64m");  // the log has room; snapshots do not
  REQUIRE_TMPFS(log);
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(ServerArgs(data, {"--snapshot-every", "300"}), &error)) << error;
  std::optional<Response> refusal;
  const auto acks = FillUntilRefused(server.port(), 2000, &refusal);
  EXPECT_FALSE(refusal.has_value()) << "the log had room: " << refusal->status << " " << refusal->body;
  ASSERT_EQ(acks.size(), 2000u);
  // The checkpointer runs once a second: wait for its failure to show.
  Client client(server.port());
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  std::string metrics;
  while (Clock::now() < deadline) {
    auto m = client.GetPath("/metrics");
    ASSERT_TRUE(m);
    metrics = m->body;
    if (metrics.find("idrecon_snapshot_errors 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(metrics.find("idrecon_snapshot_errors 1"), std::string::npos) << metrics;
  while (Clock::now() < deadline && server.StderrText().find("snapshot failed") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(server.StderrText().find("snapshot failed"), std::string::npos) << server.StderrText();
  auto health = client.GetPath("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << "a failed snapshot is not a failed log";
  EXPECT_EQ(CountFiles(data, ".tmp"), 0u) << "no partial snapshot is left behind";
  auto more = client.PostJson("/identify", IdentifyJson("still-open@x", std::nullopt));
  ASSERT_TRUE(more);
  EXPECT_EQ(more->status, 200);

  // Space is back: the next checkpoint succeeds.
  ASSERT_TRUE(snapshots.Resize("64m"));
  for (int i = 0; i < 400; ++i) {
    auto r = client.PostJson("/identify", IdentifyJson("later" + std::to_string(i) + "@x", std::nullopt));
    ASSERT_TRUE(r);
  }
  const auto deadline2 = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline2 && CountFiles(data, ".snap") == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(CountFiles(data, ".snap"), 1u);
  server.Signal(SIGTERM);
  auto status = server.WaitForExit(kExitTimeout);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << DescribeWaitStatus(*status);

  History history;
  for (auto a : acks) history.AddAck(std::move(a));
  ServerProcess again;
  ASSERT_TRUE(again.Start(ServerArgs(data), &error)) << error;
  std::vector<ContactJson> contacts;
  const auto problems = VerifyServer(again.port(), history, &contacts);
  EXPECT_TRUE(problems.empty()) << FormatProblems(problems);
  EXPECT_EQ(contacts.size(), 2000u + 1 + 400);
}

// Two snapshots and a log; returns the newest snapshot's path.
std::string MakeDirectoryWithTwoSnapshots(const std::string& data, History* history) {
  ServerProcess server;
  std::string error;
  EXPECT_TRUE(server.Start(ServerArgs(data, {"--snapshot-every", "100"}), &error)) << error;
  Client client(server.port());
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 150; ++i) {
      const std::string email = "r" + std::to_string(round) + "-" + std::to_string(i) + "@x";
      const std::string phone = std::to_string(round * 1000 + i / 3);
      auto r = client.PostJson("/identify", IdentifyJson(email, phone));
      IdentifyAck ack;
      ack.email = email;
      ack.phone = phone;
      std::string parse_error;
      if (r && r->status == 200 && ParseIdentifyBody(r->body, &ack.body, &parse_error)) history->AddAck(ack);
    }
    // Wait for this round's snapshot (the checkpointer looks once a second).
    const std::size_t want = static_cast<std::size_t>(round) + 1;
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline && CountFiles(data, ".snap") < want) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  server.Signal(SIGTERM);
  server.WaitForExit(kExitTimeout);
  std::string newest;
  for (const auto& e : fs::directory_iterator(data)) {
    const std::string p = e.path().string();
    if (p.ends_with(".snap") && p > newest) newest = p;
  }
  return newest;
}

TEST(StorageFaultsTest, DamagedNewestSnapshotFallsBackToThePreviousOne) {
  TempDir tmp("idrecon-fault");
  const std::string data = tmp.path() + "/data";
  History history;
  const std::string newest = MakeDirectoryWithTwoSnapshots(data, &history);
  ASSERT_EQ(CountFiles(data, ".snap"), 2u);
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(ServerArgs(data), &error)) << error;
  EXPECT_NE(server.StderrText().find("skipped snapshot"), std::string::npos) << server.StderrText();
  std::vector<ContactJson> contacts;
  const auto problems = VerifyServer(server.port(), history, &contacts);
  EXPECT_TRUE(problems.empty()) << FormatProblems(problems);
  EXPECT_EQ(contacts.size(), 300u);
}

TEST(StorageFaultsTest, TruncatedOnlySnapshotWithTrimmedLogIsRefused) {
  TempDir tmp("idrecon-fault");
  const std::string data = tmp.path() + "/data";
  History history;
  const std::string newest = MakeDirectoryWithTwoSnapshots(data, &history);
  // Leave only the newest snapshot, cut in half: the log was trimmed through
  // the older one, so the records before it exist nowhere else.
  for (const auto& e : fs::directory_iterator(data)) {
    const std::string p = e.path().string();
    if (p.ends_with(".snap") && p != newest) fs::remove(p);
  }
  fs::resize_file(newest, fs::file_size(newest) / 2);
  ServerProcess server;
  std::string error;
  EXPECT_FALSE(server.Start(ServerArgs(data), &error, std::chrono::seconds(20)));
  auto status = server.WaitForExit(kExitTimeout);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << DescribeWaitStatus(*status);
  const std::string log = server.StderrText();
  EXPECT_NE(log.find("cannot recover"), std::string::npos) << log;
  EXPECT_NE(log.find("missing"), std::string::npos) << log;
  EXPECT_NE(log.find("skipped snapshot"), std::string::npos) << "it says which snapshot was bad: " << log;
}

unsigned ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 07777;  // never a real mode: the file is missing
  return st.st_mode & 07777;
}

TEST(StorageFaultsTest, TheServersFilesArePrivateWhateverTheUmask) {
  TempDir tmp("idrecon-modes");
  const std::string data = tmp.path() + "/data", access = tmp.path() + "/access.log";
  const mode_t old_umask = ::umask(0);  // the child inherits it
  ServerProcess server;
  std::string error;
  const bool started = server.Start(ServerArgs(data, {"--access-log", access, "--snapshot-every", "1"}), &error);
  ::umask(old_umask);
  ASSERT_TRUE(started) << error;
  Client client(server.port());
  for (int i = 0; i < 3; ++i) {
    auto r = client.PostJson("/identify", IdentifyJson("modes" + std::to_string(i) + "@x", std::nullopt));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline && CountFiles(data, ".snap") == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(server.Signal(SIGTERM));
  ASSERT_TRUE(server.WaitForExit(kExitTimeout).has_value());
  ASSERT_GE(CountFiles(data, ".snap"), 1u);
  for (const std::string& dir : {data, data + "/log"}) EXPECT_EQ(ModeOf(dir), 0700u) << dir;
  std::vector<std::string> files = {access, data + "/LOCK", data + "/log/data.mdb", data + "/log/lock.mdb"};
  for (const auto& e : fs::directory_iterator(data)) {
    if (e.path().string().ends_with(".snap")) files.push_back(e.path().string());
  }
  for (const std::string& file : files) EXPECT_EQ(ModeOf(file), 0600u) << file;
}

TEST(StorageFaultsTest, SigkillWhileSnapshottingLosesNothing) {
  TempDir tmp("idrecon-fault");
  const std::string data = tmp.path() + "/data";
  const std::uint64_t seed = TestSeed();
  std::cout << "[ seed ] IDRECON_SEED=" << seed << "\n";
  std::mt19937_64 rng(seed);
  History history;
  for (int round = 0; round < 4; ++round) {
    ServerProcess server;
    std::string error;
    // A snapshot after every change: the checkpointer is nearly always busy.
    ASSERT_TRUE(server.Start(ServerArgs(data, {"--snapshot-every", "1"}), &error)) << error;
    if (round > 0) {
      std::vector<ContactJson> contacts;
      const auto problems = VerifyServer(server.port(), history, &contacts);
      ASSERT_TRUE(problems.empty()) << "round " << round << ": " << FormatProblems(problems);
      EXPECT_EQ(CountFiles(data, ".tmp"), 0u) << "stale temporaries are removed at startup";
    }
    {
      LoadDriver load(server.port(), 3, seed + static_cast<std::uint64_t>(round) * 101);
      ASSERT_TRUE(load.WaitForAcks(200, std::chrono::seconds(30)));
      std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 1500));
      server.Kill();
      load.Stop();
      for (auto& c : load.clients) {
        for (auto& a : c->acks) history.AddAck(std::move(a));
        for (auto& r : c->rows) history.AddContactRow(r);
      }
    }
  }
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(ServerArgs(data), &error)) << error;
  std::vector<ContactJson> contacts;
  const auto problems = VerifyServer(server.port(), history, &contacts);
  EXPECT_TRUE(problems.empty()) << FormatProblems(problems);
}

}  // namespace
}  // namespace idrecon::testing
