// Proves the graceful-stop and data-directory promises (docs/api.md §4,
// docs/durability.md) on the real binary:
//   - SIGTERM while several clients are sending: the server exits 0 within a
//     few seconds, and after a restart every acknowledged response is still
//     there (same checks as the crash test) and docs/api.md §1 holds;
//   - a second server on a data directory in use is refused (exit 1, a
//     message saying "in use") and the first one keeps serving; once the
//     first has stopped the directory can be used again;
//   - a restart after a clean stop logs what it recovered and serves the very
//     same rows, byte for byte, and continues the ids (with and without
//     snapshots).
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tests/server/durability_support.h"
#include "testing/process.h"
#include "testing/seed.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace idrecon::testing {
namespace {

constexpr unsigned kClients = 4;
// The server's shutdown grace is 5 s; a clean stop must not need more.
constexpr auto kStopBudget = std::chrono::seconds(8);

void ExpectCleanExit(ServerProcess& server) {
  ASSERT_TRUE(server.Signal(SIGTERM));
  const std::optional<int> status = server.WaitForExit(kExitTimeout);
  ASSERT_TRUE(status) << "idrecon-server did not exit after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << DescribeWaitStatus(*status) << "\n" << server.StderrText();
}

TEST(ServerShutdownTest, SigtermUnderLoadExitsZeroAndLosesNothing) {
  const std::uint64_t seed = TestSeed();
  std::printf("IDRECON_SEED=%llu\n", static_cast<unsigned long long>(seed));
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("IDRECON_SEED=" + std::to_string(seed));

  TempDir data("idrecon-shutdown-data");
  ASSERT_TRUE(data.ok());
  History history;
  {
    ServerProcess server;
    std::string error;
    ASSERT_TRUE(server.Start(ServerArgs(data.path()), &error)) << error;
    LoadDriver load(server.port(), kClients, seed);
    const bool flowing = load.WaitForAcks(300, std::chrono::seconds(30));
    const auto signalled = Clock::now();
    ASSERT_TRUE(server.Signal(SIGTERM));
    const std::optional<int> status = server.WaitForExit(kExitTimeout);
    const auto stop_time = Clock::now() - signalled;
    load.Stop();
    ASSERT_TRUE(flowing) << "load never got going; stderr:\n" << server.StderrText();
    ASSERT_TRUE(status) << "idrecon-server did not exit after SIGTERM";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << DescribeWaitStatus(*status) << "\n" << server.StderrText();
    EXPECT_LT(stop_time, kStopBudget);
    EXPECT_TRUE(FindStoppedDurableSeq(server.StderrText())) << server.StderrText();
    std::uint64_t unanswered = 0, refused = 0;
    for (const auto& client : load.clients) {
      refused += client->refused ? 1 : 0;
      EXPECT_TRUE(client->problems.empty()) << FormatProblems(client->problems);
      unanswered += client->unanswered;
      for (IdentifyAck& ack : client->acks) history.AddAck(std::move(ack));
      for (const ContactJson& row : client->rows) history.AddContactRow(row);
    }
    // A request sent just as the server closed its idle keep-alive
    // connection goes unanswered (the client may retry it); it must simply
    // not be acknowledged, which the checks below cover.
    std::printf("stopped in %.3f s; %zu identify acks; %llu requests unanswered, %llu clients then refused\n",
                std::chrono::duration<double>(stop_time).count(), history.acks.size(),
                static_cast<unsigned long long>(unanswered), static_cast<unsigned long long>(refused));
  }

  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(ServerArgs(data.path()), &error)) << error;
  EXPECT_TRUE(FindRecoveryLog(server.StderrText())) << server.StderrText();
  std::vector<ContactJson> contacts;
  const std::vector<std::string> problems = VerifyServer(server.port(), history, &contacts);
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems:\n" << FormatProblems(problems);
  EXPECT_GE(contacts.size(), history.MaxAckedId());
  ExpectCleanExit(server);
}

TEST(ServerShutdownTest, SecondServerOnTheSameDataDirIsRefused) {
  TempDir data("idrecon-lock-data");
  ASSERT_TRUE(data.ok());
  ServerProcess first;
  std::string error;
  ASSERT_TRUE(first.Start(ServerArgs(data.path()), &error)) << error;

  {
    ServerProcess second;
    ASSERT_TRUE(second.Spawn(ServerArgs(data.path()), &error)) << error;
    const std::optional<int> status = second.WaitForExit(kStartTimeout);
    ASSERT_TRUE(status) << "a second server on a data directory in use kept running";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << DescribeWaitStatus(*status);
    EXPECT_NE(second.StderrText().find("in use"), std::string::npos) << second.StderrText();
    EXPECT_FALSE(second.ReadLine(std::chrono::milliseconds(0))) << "the refused server printed a ready line";
  }

  // The first is unharmed.
  Client client(first.port());
  std::optional<Response> r = client.PostJson("/identify", IdentifyJson("lock@example.test", "1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  r = client.GetPath("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  ExpectCleanExit(first);

  // Once it has stopped, the directory is free again.
  ServerProcess third;
  ASSERT_TRUE(third.Start(ServerArgs(data.path()), &error)) << error;
  Client again(third.port());
  r = again.GetPath("/contacts/1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  ExpectCleanExit(third);
}

// The worked example of docs/api.md §2: 4 contacts in 2 clusters, 5 changes.
const std::vector<std::string> kWorkedExample = {
    R"({"email":"lorraine@hillvalley.edu","phoneNumber":"123456"})",
    R"({"email":"mcfly@hillvalley.edu","phoneNumber":"123456"})",
    R"({"email":null,"phoneNumber":"123456"})",
    R"({"email":"mcfly@hillvalley.edu"})",
    R"({"email":"george@hillvalley.edu","phoneNumber":"919191"})",
    R"({"email":"biffsucks@hillvalley.edu","phoneNumber":717171})",
    R"({"email":"george@hillvalley.edu","phoneNumber":"717171"})",
};

class ServerRestartTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ServerRestartTest, RestartAfterCleanStopServesTheSameData) {
  TempDir data("idrecon-restart-data");
  ASSERT_TRUE(data.ok());
  const std::vector<std::string> args = ServerArgs(data.path(), {"--snapshot-every", GetParam()});
  std::map<std::string, std::string> before;  // request -> response body
  {
    ServerProcess server;
    std::string error;
    ASSERT_TRUE(server.Start(args, &error)) << error;
    Client client(server.port());
    for (const std::string& body : kWorkedExample) {
      const std::optional<Response> r = client.PostJson("/identify", body);
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << body << " -> " << r->body;
    }
    for (int id = 1; id <= 5; ++id) {
      const std::optional<Response> r = client.GetPath("/contacts/" + std::to_string(id));
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, id <= 4 ? 200 : 404) << r->body;
      before["/contacts/" + std::to_string(id)] = r->body;
    }
    for (const std::string& body : kWorkedExample) {
      const std::optional<Response> r = client.PostJson("/identify", body);
      ASSERT_TRUE(r);
      before[body] = r->body;
    }
    ExpectCleanExit(server);
    EXPECT_EQ(FindStoppedDurableSeq(server.StderrText()), std::optional<std::uint64_t>(5)) << server.StderrText();
  }

  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(args, &error)) << error;
  const std::optional<RecoveryLog> recovered = FindRecoveryLog(server.StderrText());
  ASSERT_TRUE(recovered) << server.StderrText();
  EXPECT_EQ(recovered->contacts, 4u);
  EXPECT_EQ(recovered->clusters, 2u);
  Client client(server.port());
  for (const auto& [request, body] : before) {
    const std::optional<Response> r =
        request.starts_with("/") ? client.GetPath(request) : client.PostJson("/identify", request);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, body) << request;
  }
  // Ids continue after the highest one used.
  const std::optional<Response> r = client.PostJson("/identify", IdentifyJson("doc@hillvalley.edu", std::nullopt));
  ASSERT_TRUE(r);
  IdentifyBody fresh;
  ASSERT_TRUE(ParseIdentifyBody(r->body, &fresh, &error)) << error;
  EXPECT_EQ(fresh.primary, 5u);
  ExpectCleanExit(server);
}

// "off": recovery replays the whole log; "1": a snapshot after every change,
// so recovery loads a snapshot and replays a trimmed tail.
INSTANTIATE_TEST_SUITE_P(Snapshots, ServerRestartTest, ::testing::Values("off", "1"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           return param_info.param == "off" ? std::string("NoSnapshots") : std::string("SnapshotEveryChange");
                         });

}  // namespace
}  // namespace idrecon::testing
