// docs/api.md §6–§8 as a user meets them: the real idrecon-tool and
// idrecon-server on one data directory. The normalisation setting belongs
// to the directory (import creates it, the server follows it, another one
// is refused with exit status 2, rebuild converts it); guards outlive a
// restart; a bad guard file stops the server.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "testing/http_client.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/tool_process.h"

namespace idrecon::testing {
namespace {


void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string Answer(Client& client, const std::string& method, const std::string& target, const std::string& body,
                   int want_status) {
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::optional<Response> r = client.Request(raw);
  if (!r) {
    ADD_FAILURE() << method << " " << target << " → no answer";
    return "";
  }
  EXPECT_EQ(r->status, want_status) << method << " " << target << " " << body << " → " << r->body;
  return r->body;
}

TEST(MatchingEndToEndTest, NormalisationBelongsToTheDirectory) {
  TempDir dir;
  const std::string d = dir.path() + "/data";
  const std::string requests = dir.path() + "/requests.jsonl";
  WriteText(requests,
            "{\"email\":\"Doc@HillValley.edu\",\"phoneNumber\":\"+91 98765 43210\"}\n"
            "{\"email\":\"marty@hillvalley.edu\",\"phoneNumber\":\"9876543210\"}\n");
  CommandResult r = Tool({"import", "--data-dir", d, "--requests", requests, "--normalize", "on", "--default-region", "IN"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  {
    ServerProcess server;
    std::string error;
    ASSERT_TRUE(server.Start(ServerArgs(d, {"--sync", "nosync"}), &error)) << error;
    Client client(server.port());
    const std::string body = Answer(client, "POST", "/identify", R"({"email":"doc@hillvalley.edu","phoneNumber":"098765 43210"})", 200);
    EXPECT_EQ(body, R"({"contact":{"primaryContatctId":1,"primaryContactId":1,)"
                    R"("emails":["Doc@HillValley.edu","marty@hillvalley.edu"],"phoneNumbers":["+91 98765 43210"],)"
                    R"("secondaryContactIds":[2]},"canonical":{"email":"doc@hillvalley.edu","phoneNumber":"+919876543210"}})");
    ASSERT_TRUE(server.Terminate().has_value());
  }
  // Another setting is refused, naming the directory's and the conversion.
  {
    ServerProcess server;
    std::string error;
    ASSERT_TRUE(server.Spawn(ServerArgs(d, {"--normalize", "off"}), &error)) << error;
    const std::optional<int> status = server.WaitForExit(std::chrono::seconds(20));
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << server.StderrText();
    EXPECT_NE(server.StderrText().find("on (default region IN)"), std::string::npos) << server.StderrText();
    EXPECT_NE(server.StderrText().find("idrecon-tool rebuild --normalize off"), std::string::npos) << server.StderrText();
  }
  r = Tool({"import", "--data-dir", d, "--requests", requests, "--merge", "--normalize", "off"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // rebuild converts: without normalisation the two contacts share nothing.
  r = Tool({"rebuild", "--data-dir", d, "--normalize", "off"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 clusters before, 2 after"), std::string::npos) << r.err;
  EXPECT_EQ(Tool({"verify", "--data-dir", d}).exit_code, 0);
  r = Tool({"export", "--data-dir", d, "--csv"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("2,9876543210,marty@hillvalley.edu,,primary,"), std::string::npos) << r.out;
  // And back: one person again.
  r = Tool({"rebuild", "--data-dir", d, "--normalize", "on", "--default-region", "IN"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 clusters before, 1 after"), std::string::npos) << r.err;
}

// Rows imported from CSV with a linkedId carry no evidence: a conversion
// keeps them together although they share no value.
TEST(MatchingEndToEndTest, ImportedClustersStayTogetherThroughARebuild) {
  TempDir dir;
  const std::string d = dir.path() + "/data";
  const std::string csv = dir.path() + "/contacts.csv";
  WriteText(csv,
            "id,phoneNumber,email,linkedId,linkPrecedence,createdAt,updatedAt,deletedAt\n"
            "1,111,a@x,,primary,2025-01-01T00:00:00.000Z,2025-01-01T00:00:00.000Z,\n"
            "2,222,b@x,1,secondary,2025-01-02T00:00:00.000Z,2025-01-02T00:00:00.000Z,\n");
  CommandResult r = Tool({"import", "--data-dir", d, "--csv", csv});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Tool({"rebuild", "--data-dir", d, "--normalize", "on"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 clusters before, 1 after"), std::string::npos) << r.err;
}

TEST(MatchingEndToEndTest, GuardsSurviveARestartAndTheFileIsChecked) {
  TempDir dir;
  const std::string d = dir.path() + "/data";
  const std::string guard_file = dir.path() + "/guards";
  WriteText(guard_file, "# shop's own numbers\nphone:0000000000\nemail:test@test.com  # a junk email\n");
  {
    ServerProcess server;
    std::string error;
    ASSERT_TRUE(server.Start(ServerArgs(d, {"--guard-file", guard_file, "--guard-max-contacts", "2"}), &error)) << error;
    Client client(server.port());
    Answer(client, "PUT", "/guard", R"({"email":"shared@x"})", 200);
    Answer(client, "POST", "/identify", R"({"email":"a@x","phoneNumber":"555"})", 200);
    Answer(client, "POST", "/identify", R"({"email":"b@x","phoneNumber":"555"})", 200);  // the 2nd carrier: auto
    EXPECT_EQ(Answer(client, "POST", "/identify", R"({"phoneNumber":"555"})", 422),
              R"({"error":"phoneNumber is a guarded value"})");
    ASSERT_TRUE(server.Kill().has_value());  // acknowledged guards are durable
  }
  {
    ServerProcess server;
    std::string error;
    ASSERT_TRUE(server.Start(ServerArgs(d, {"--guard-file", guard_file}), &error)) << error;
    Client client(server.port());
    const std::string body = Answer(client, "GET", "/guard", "", 200);
    for (const char* want : {R"({"email":"shared@x","reason":"api")", R"({"email":"test@test.com","reason":"file")",
                             R"({"phoneNumber":"0000000000","reason":"file")", R"({"phoneNumber":"555","reason":"auto","contacts":2)"}) {
      EXPECT_NE(body.find(want), std::string::npos) << want << " in " << body;
    }
    EXPECT_NE(Answer(client, "GET", "/metrics", "", 200).find("idrecon_guarded_values{reason=\"auto\"} 1"),
              std::string::npos);
    ASSERT_TRUE(server.Terminate().has_value());
  }
  WriteText(guard_file, "phone:0000000000\nfax:123\n");
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Spawn(ServerArgs(d, {"--guard-file", guard_file}), &error)) << error;
  const std::optional<int> status = server.WaitForExit(std::chrono::seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2);
  EXPECT_NE(server.StderrText().find("guard file line 2"), std::string::npos) << server.StderrText();
}

}  // namespace
}  // namespace idrecon::testing
