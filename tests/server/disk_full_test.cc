// Proves the failure half of docs/api.md §4 on the real binary: when
// the mutation log cannot grow (--log-max-mib 1, no snapshots to trim it),
// the failed commit is sticky and loses nothing acknowledged:
//   - the request whose change could not be made durable gets 503 with a JSON
//     {"error": ...}, never a 200;
//   - /health answers 503 {"status":"unavailable","error":...};
//   - lookups of acknowledged data still answer 200 with the same cluster;
//   - anything that would change the state (a new value) gets 503, and a
//     value that exists only in memory (its commit failed) is not shown;
//   - after a restart with room (--log-max-mib 64) on the same data
//     directory, exactly the acknowledged contacts are back, with the same
//     ids and values, and new requests work again with fresh ids.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/server/durability_support.h"
#include "testing/http_client.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace idrecon::testing {
namespace {

constexpr unsigned kClients = 4;
constexpr std::size_t kEmailBytes = 300;

struct Acked {
  std::uint32_t id;
  std::string email;
  std::string phone;
};

// A distinct 300-byte email for request n.
std::string LongEmail(std::uint64_t n) {
  const std::string head = "d" + std::to_string(n) + "-";
  const std::string tail = "@example.test";
  return head + std::string(kEmailBytes - head.size() - tail.size(), 'x') + tail;
}

std::string PhoneFor(std::uint64_t n) { return std::to_string(1000000000 + n); }

TEST(ServerDiskFullTest, FullLogRefusesChangesKeepsAcknowledgedDataAndRecovers) {
  TempDir data("idrecon-diskfull-data");
  ASSERT_TRUE(data.ok());
  std::vector<Acked> acked;
  std::vector<Acked> refused;  // id unknown (0): the request got 503
  std::string first_refusal;

  {
    ServerProcess server;
    std::string error;
    ASSERT_TRUE(server.Start(ServerArgs(data.path(), {"--log-max-mib", "1", "--snapshot-every", "off"}), &error))
        << error;

    // Distinct new contacts from several clients until the log refuses one.
    std::atomic<bool> full{false};
    std::atomic<std::uint64_t> next{0};
    std::mutex mu;
    std::vector<std::string> problems;  // guarded by mu, like acked/refused
    auto client_loop = [&] {
      Client client(server.port());
      while (!full.load()) {
        const std::uint64_t n = next.fetch_add(1);
        const std::string email = LongEmail(n), phone = PhoneFor(n);
        const std::optional<Response> response = client.PostJson("/identify", IdentifyJson(email, phone));
        std::lock_guard lock(mu);
        if (!response) {
          problems.push_back("no answer to request " + std::to_string(n));
          full = true;
          return;
        }
        if (response->status == 503) {
          refused.push_back({0, email, phone});
          if (first_refusal.empty()) first_refusal = response->body;
          full = true;
          return;
        }
        IdentifyBody body;
        std::string parse_error;
        if (response->status != 200 || !ParseIdentifyBody(response->body, &body, &parse_error)) {
          problems.push_back("request " + std::to_string(n) + ": " + response->status_line + " " + response->body +
                             " " + parse_error);
          full = true;
          return;
        }
        if (!body.secondaries.empty() || body.emails != std::vector<std::string>{email} ||
            body.phones != std::vector<std::string>{phone}) {
          problems.push_back("request " + std::to_string(n) + " did not create one new primary: " + response->body);
        }
        acked.push_back({body.primary, email, phone});
      }
    };
    std::vector<std::thread> clients;
    for (unsigned i = 0; i < kClients; ++i) clients.emplace_back(client_loop);
    // 1 MiB holds a few thousand such records; give up (and fail) long
    // before CI would time out.
    const auto deadline = Clock::now() + std::chrono::seconds(90);
    while (!full.load() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    full = true;
    for (std::thread& t : clients) t.join();
    ASSERT_TRUE(problems.empty()) << FormatProblems(problems) << server.StderrText();
    ASSERT_FALSE(refused.empty()) << "no 503 after " << acked.size() << " new contacts in a 1 MiB log";
    ASSERT_FALSE(acked.empty()) << "the very first request was refused: " << first_refusal;
    std::printf("the log filled up after %zu acknowledged contacts; first refusal: %s\n", acked.size(),
                first_refusal.c_str());

    std::string message;
    EXPECT_TRUE(ParseErrorBody(first_refusal, &message, &error)) << error;

    Client client(server.port());
    // /health reports the sticky error.
    std::optional<Response> r = client.GetPath("/health");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503) << r->body;
    std::string status, reason;
    ASSERT_TRUE(ParseHealthBody(r->body, &status, &reason, &error)) << error;
    EXPECT_EQ(status, "unavailable");
    EXPECT_FALSE(reason.empty()) << r->body;

    // Acknowledged data is still served, by value and by id.
    for (const Acked& a : {acked.front(), acked[acked.size() / 2], acked.back()}) {
      for (const std::string& body : {IdentifyJson(a.email, std::nullopt), IdentifyJson(std::nullopt, a.phone),
                                      IdentifyJson(a.email, a.phone)}) {
        r = client.PostJson("/identify", body);
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << "lookup of acknowledged contact " << a.id << ": " << r->body;
        IdentifyBody got;
        ASSERT_TRUE(ParseIdentifyBody(r->body, &got, &error)) << error;
        EXPECT_EQ(got.primary, a.id);
        EXPECT_TRUE(got.secondaries.empty());
      }
      r = client.GetPath("/contacts/" + std::to_string(a.id));
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      ContactJson row;
      ASSERT_TRUE(ParseContactBody(r->body, &row, &error)) << error;
      EXPECT_EQ(row.email, a.email);
      EXPECT_EQ(row.phone, a.phone);
    }

    // Changes are refused: a new contact, and a new value for a known one.
    for (const std::string& body : {IdentifyJson("brand-new@example.test", std::nullopt),
                                    IdentifyJson(acked.front().email, "5550000000")}) {
      r = client.PostJson("/identify", body);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 503) << body << " -> " << r->body;
      EXPECT_TRUE(ParseErrorBody(r->body, &message, &error)) << error;
    }

    // A value whose commit failed exists only in memory: showing it would
    // show data a crash loses.
    for (const Acked& lost : refused) {
      r = client.PostJson("/identify", IdentifyJson(lost.email, std::nullopt));
      ASSERT_TRUE(r);
      EXPECT_NE(r->status, 200) << "a refused contact is visible: " << r->body;
    }

    ASSERT_TRUE(server.Signal(SIGTERM));
    const std::optional<int> exit_status = server.WaitForExit(kExitTimeout);
    ASSERT_TRUE(exit_status) << "idrecon-server did not exit after SIGTERM with a failed log";
    // Exit 1 ("the log failed") is the documented outcome; a crash is not.
    EXPECT_TRUE(WIFEXITED(*exit_status)) << DescribeWaitStatus(*exit_status) << "\n" << server.StderrText();
    std::printf("SIGTERM with a failed log: %s\n", DescribeWaitStatus(*exit_status).c_str());
  }

  // Room again: everything acknowledged is back, nothing else.
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(ServerArgs(data.path(), {"--log-max-mib", "64", "--snapshot-every", "off"}), &error))
      << error;
  const std::optional<RecoveryLog> recovered = FindRecoveryLog(server.StderrText());
  ASSERT_TRUE(recovered) << "no recovery line in stderr:\n" << server.StderrText();
  EXPECT_EQ(recovered->contacts, acked.size()) << server.StderrText();
  Client client(server.port());
  std::optional<Response> r = client.GetPath("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;

  std::vector<ContactJson> contacts;
  std::vector<std::string> problems;
  ASSERT_TRUE(FetchAllContacts(server.port(), 2, &contacts, &problems, &error)) << error;
  std::vector<std::string> invariants = CheckInvariants(contacts);
  problems.insert(problems.end(), invariants.begin(), invariants.end());
  EXPECT_TRUE(problems.empty()) << FormatProblems(problems);
  EXPECT_EQ(contacts.size(), acked.size()) << "every committed contact was acknowledged, and only those";
  std::uint32_t max_id = 0;
  for (const Acked& a : acked) {
    max_id = std::max(max_id, a.id);
    ASSERT_LE(a.id, contacts.size()) << "acknowledged contact " << a.id << " is gone";
    const ContactJson& row = contacts[a.id - 1];
    EXPECT_EQ(row.email, a.email) << row.Describe();
    EXPECT_EQ(row.phone, a.phone) << row.Describe();
    EXPECT_EQ(row.precedence, "primary") << row.Describe();
  }

  // New requests work, with an id no acknowledged contact had.
  r = client.PostJson("/identify", IdentifyJson("after-restart@example.test", "5550000001"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  IdentifyBody fresh;
  ASSERT_TRUE(ParseIdentifyBody(r->body, &fresh, &error)) << error;
  EXPECT_GT(fresh.primary, max_id);
  // And link to what was acknowledged before the failure.
  r = client.PostJson("/identify", IdentifyJson(acked.front().email, "5550000002"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  IdentifyBody linked;
  ASSERT_TRUE(ParseIdentifyBody(r->body, &linked, &error)) << error;
  EXPECT_EQ(linked.primary, acked.front().id);
  ASSERT_EQ(linked.secondaries.size(), 1u);
  EXPECT_GT(linked.secondaries[0], fresh.primary);

  ASSERT_TRUE(server.Signal(SIGTERM));
  const std::optional<int> exit_status = server.WaitForExit(kExitTimeout);
  ASSERT_TRUE(exit_status);
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0)
      << DescribeWaitStatus(*exit_status) << "\n" << server.StderrText();
}

}  // namespace
}  // namespace idrecon::testing
