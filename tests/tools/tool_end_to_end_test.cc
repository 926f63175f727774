// idrecon-tool as a user runs it: the real binary on real data directories,
// a real SQLite database, and the real idrecon-server serving the result.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <string>

#include "persistence/crc32c.h"
#include "testing/http_client.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/tool_process.h"

namespace idrecon::testing {
namespace {


using ContactId = std::uint32_t;

std::string Cluster(ContactId primary, std::vector<std::string> emails, std::vector<std::string> phones,
                    std::vector<ContactId> secondaries) {
  auto list = [](const auto& items, bool quote) {
    std::string s = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) s += ",";
      if constexpr (std::is_same_v<std::decay_t<decltype(items[0])>, std::string>) {
        s += quote ? "\"" + items[i] + "\"" : items[i];
      } else {
        s += std::to_string(items[i]);
      }
    }
    return s + "]";
  };
  const std::string id = std::to_string(primary);
  return "{\"contact\":{\"primaryContatctId\":" + id + ",\"primaryContactId\":" + id + ",\"emails\":" +
         list(emails, true) + ",\"phoneNumbers\":" + list(phones, true) + ",\"secondaryContactIds\":" +
         list(secondaries, false) + "}}";
}

TEST(ToolCliTest, HelpAndBadArguments) {
  EXPECT_EQ(Tool({"--help"}).exit_code, 0);
  for (const char* cmd : {"import", "export", "rebuild", "verify", "stats"}) {
    CommandResult r = Tool({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find(std::string("usage: idrecon-tool ") + cmd), std::string::npos) << r.out;
  }
  TempDir dir;
  const std::string d = dir.path() + "/data";
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"import", "--data-dir", d},
           {"import", "--data-dir", d, "--csv", "a", "--requests", "b"},
           {"import", "--data-dir", d, "--csv", "a", "--renumber"},
           {"import", "--csv", "a"},
           {"export", "--data-dir", d},
           {"export", "--data-dir", d, "--csv", "--jsonl"},
           {"export", "--data-dir", d, "--csv", "--nope"},
           {"stats", "--data-dir", d, "--top", "many"},
           {"verify", "--data-dir"},
           {"verify", "--data-dir", d, "stray"},
       }) {
    CommandResult r = Tool(bad);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(bad) << r.err;
    EXPECT_FALSE(r.err.empty());
  }
  // A directory that does not exist is an error (1), and is not created.
  CommandResult r = Tool({"verify", "--data-dir", d});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no data directory"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d));
}

// A CSV with varied rows: clusters, deleted rows, gaps, awkward values.
std::string GeneratedCsv(int n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string csv = "id,phoneNumber,email,linkedId,linkPrecedence,createdAt,updatedAt,deletedAt\n";
  long long t = 1700000000000;
  for (int id = 1; id <= n; ++id) {
    if (rng() % 17 == 0) continue;  // a gap
    t += rng() % 5000;
    const std::string phone = rng() % 4 == 0 ? "" : std::to_string(100000 + rng() % (n / 2 + 1));
    std::string email = rng() % 5 == 0 ? "" : "user" + std::to_string(rng() % (n / 2 + 1)) + "@example.com";
    if (email.empty() && phone.empty()) email = "only" + std::to_string(id) + "@example.com";
    if (id % 97 == 0) email = "\"odd, \"\"quoted\"\" " + std::to_string(id) + "\"";
    const std::string linked = rng() % 3 == 0 && id > 1 ? std::to_string(1 + rng() % (id - 1)) : "";
    char ts[64];
    const long long secs = t / 1000;
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::snprintf(ts, sizeof(ts), "%04d-%02d-%02d %02d:%02d:%02d.%03lld+00", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, t % 1000);
    const std::string deleted = rng() % 23 == 0 ? ts : "";
    csv += std::to_string(id) + "," + phone + "," + email + "," + linked + "," +
           (linked.empty() ? "primary" : "secondary") + "," + ts + "," + ts + "," + deleted + "\n";
  }
  return csv;
}

TEST(ToolRoundTripTest, ExportThenImportIsIdentity) {
  TempDir dir;
  const std::string csv = dir.path() + "/in.csv";
  WriteFile(csv, GeneratedCsv(3000, 7));
  const std::string a = dir.path() + "/a", b = dir.path() + "/b";
  CommandResult r = Tool({"import", "--data-dir", a, "--csv", csv, "--repair-time", "2024-01-01T00:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("repair: "), std::string::npos);  // the generated links need repairs
  ASSERT_EQ(Tool({"export", "--data-dir", a, "--csv", "--out", dir.path() + "/a.csv"}).exit_code, 0);
  ASSERT_EQ(Tool({"export", "--data-dir", a, "--jsonl", "--out", dir.path() + "/a.jsonl"}).exit_code, 0);
  r = Tool({"import", "--data-dir", b, "--csv", dir.path() + "/a.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // nothing left to repair, nothing malformed
  ASSERT_EQ(Tool({"export", "--data-dir", b, "--csv", "--out", dir.path() + "/b.csv"}).exit_code, 0);
  ASSERT_EQ(Tool({"export", "--data-dir", b, "--jsonl", "--out", dir.path() + "/b.jsonl"}).exit_code, 0);
  const std::string exported = ReadFile(dir.path() + "/a.csv");
  EXPECT_GT(exported.size(), 1000u);
  EXPECT_EQ(exported, ReadFile(dir.path() + "/b.csv"));
  EXPECT_EQ(ReadFile(dir.path() + "/a.jsonl"), ReadFile(dir.path() + "/b.jsonl"));
  EXPECT_EQ(Tool({"verify", "--data-dir", b}).exit_code, 0);
  // The same snapshot bytes, too.
  CommandResult ha = Tool({"rebuild", "--data-dir", a}), hb = Tool({"rebuild", "--data-dir", b});
  ASSERT_EQ(ha.exit_code, 0);
  EXPECT_EQ(ha.out.substr(0, 64), hb.out.substr(0, 64));

  // Importing into a non-empty directory is refused without --merge; with
  // --merge the ids must not collide unless --renumber.
  r = Tool({"import", "--data-dir", b, "--csv", dir.path() + "/a.csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--merge"), std::string::npos) << r.err;
  r = Tool({"import", "--data-dir", b, "--csv", dir.path() + "/a.csv", "--merge"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--renumber"), std::string::npos) << r.err;
  r = Tool({"import", "--data-dir", b, "--csv", dir.path() + "/a.csv", "--merge", "--renumber"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Tool({"verify", "--data-dir", b}).exit_code, 0);
  CommandResult stats = Tool({"stats", "--data-dir", b, "--json"});
  ASSERT_EQ(stats.exit_code, 0);
  EXPECT_NE(stats.out.find("\"clusterSizes\""), std::string::npos);
}

TEST(ToolRebuildTest, DeterministicAndVerifyCatchesDamage) {
  TempDir dir;
  std::string requests;
  for (int i = 0; i < 2000; ++i) {
    requests += "{\"email\":\"u" + std::to_string(i % 700) + "@x\",\"phoneNumber\":" + std::to_string(5000 + i % 450) +
                "}\n";
  }
  requests += "{\"email\":\"needle-in-the-log@example.com\"}\nnot json\n{\"email\":\"  \"}\n";
  WriteFile(dir.path() + "/req.jsonl", requests);
  const std::string d = dir.path() + "/d";
  CommandResult r = Tool({"import", "--data-dir", d, "--requests", dir.path() + "/req.jsonl", "--strict"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 2002: "), std::string::npos) << r.err;
  r = Tool({"import", "--data-dir", d, "--requests", dir.path() + "/req.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("malformed: line 2002: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("malformed: line 2003: "), std::string::npos) << r.out;

  // Same log, same bytes: from the log alone, from snapshot + log, and in a copy.
  CommandResult first = Tool({"rebuild", "--data-dir", d, "--from-log"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_GE(first.out.size(), 64u);
  const std::string sha = first.out.substr(0, 64);
  EXPECT_EQ(Tool({"rebuild", "--data-dir", d}).out.substr(0, 64), sha);
  const std::string copy = dir.path() + "/copy";
  std::filesystem::copy(d, copy, std::filesystem::copy_options::recursive);
  std::filesystem::remove(copy + "/LOCK");
  for (const auto& e : std::filesystem::directory_iterator(copy)) {
    if (e.path().extension() == ".snap") std::filesystem::remove(e.path());
  }
  CommandResult copied = Tool({"rebuild", "--data-dir", copy});
  EXPECT_EQ(copied.out.substr(0, 64), sha);
  EXPECT_EQ(Tool({"verify", "--data-dir", d}).exit_code, 0);

  // A flipped byte in the log.
  {
    const std::string mdb = copy + "/log/data.mdb";
    std::string bytes = ReadFile(mdb);
    const auto at = bytes.find("needle-in-the-log");
    ASSERT_NE(at, std::string::npos);
    bytes[at + 3] ^= 0x20;
    WriteFile(mdb, bytes);
    r = Tool({"verify", "--data-dir", copy});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("violation: log: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("checksum"), std::string::npos) << r.out;
  }
  // A broken link in a snapshot (with a valid checksum): a secondary made to
  // link to another secondary.
  {
    std::string snap_path;
    for (const auto& e : std::filesystem::directory_iterator(d)) {
      if (e.path().extension() == ".snap") snap_path = e.path();
    }
    ASSERT_FALSE(snap_path.empty());
    std::string s = ReadFile(snap_path);
    auto u32 = [&](std::size_t at) {
      std::uint32_t v = 0;
      for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
      return v;
    };
    auto u16 = [&](std::size_t at) { return static_cast<std::size_t>(static_cast<unsigned char>(s[at]) | (static_cast<unsigned char>(s[at + 1]) << 8)); };
    std::size_t pos = 28, first_secondary_at = 0;  // after the header
    std::uint32_t first_secondary = 0, second_secondary_at = 0;
    for (std::uint32_t id = 1; pos + 4 < s.size() && second_secondary_at == 0; ++id) {
      if (u32(pos + 24) != 0) {
        if (first_secondary == 0) {
          first_secondary = id;
          first_secondary_at = pos;
        } else {
          second_secondary_at = static_cast<std::uint32_t>(pos);
        }
      }
      std::size_t p = pos + 28;
      p += 2 + u16(p);
      p += 2 + u16(p);
      pos = p;
    }
    ASSERT_NE(second_secondary_at, 0u);
    ASSERT_NE(first_secondary_at, 0u);
    for (int i = 0; i < 4; ++i) s[second_secondary_at + 24 + static_cast<std::size_t>(i)] = static_cast<char>(first_secondary >> (8 * i));
    const std::uint32_t crc = crc32c::Value(std::string_view(s).substr(0, s.size() - 4));
    for (int i = 0; i < 4; ++i) s[s.size() - 4 + static_cast<std::size_t>(i)] = static_cast<char>(crc >> (8 * i));
    WriteFile(snap_path, s);
    r = Tool({"verify", "--data-dir", d});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("violation: snapshot "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("does not join a lone live contact to a live primary"), std::string::npos) << r.out;
  }
}

// The `contacts` table exactly as Sequelize creates it on SQLite, with the
// inconsistencies the Node services leave behind.
constexpr const char* kSqliteSchema =
    "CREATE TABLE `contacts` (`id` INTEGER PRIMARY KEY AUTOINCREMENT, `phoneNumber` VARCHAR(255), "
    "`email` VARCHAR(255), `linkedId` INTEGER, `linkPrecedence` TEXT DEFAULT 'primary', "
    "`createdAt` DATETIME NOT NULL, `updatedAt` DATETIME NOT NULL, `deletedAt` DATETIME);\n";

std::string Insert(int id, const char* phone, const char* email, const char* linked, const char* prec,
                   const char* created, const char* deleted = nullptr) {
  auto q = [](const char* v) { return v ? "'" + std::string(v) + "'" : std::string("NULL"); };
  const std::string ts = "'2023-04-" + std::string(created) + " +00:00'";
  return "INSERT INTO contacts VALUES (" + std::to_string(id) + "," + q(phone) + "," + q(email) + "," +
         (linked ? linked : "NULL") + ",'" + prec + "'," + ts + "," + ts + "," +
         (deleted ? "'2023-05-" + std::string(deleted) + " +00:00'" : std::string("NULL")) + ");\n";
}

TEST(ToolSqliteTest, ImportedDatabaseIsServedAsSpecSays) {
  TempDir dir;
  const std::string db = dir.path() + "/node.sqlite";
  std::string sql = kSqliteSchema;
  sql += Insert(1, "111", "a@x", nullptr, "primary", "01 10:00:00.100");
  sql += Insert(2, "111", "b@x", "1", "secondary", "02 10:00:00.200");
  sql += Insert(3, "333", "c@x", "2", "secondary", "03 10:00:00.300");   // chain 3 → 2 → 1
  sql += Insert(4, "444", "d@x", nullptr, "primary", "04 10:00:00.400");
  sql += Insert(5, "444", "e@x", nullptr, "primary", "05 10:00:00.500"); // two primaries share 444
  sql += Insert(6, "666", "f@x", "99", "secondary", "06 10:00:00.600");  // linkedId names no row
  sql += Insert(7, "777", "g@x", nullptr, "primary", "08 10:00:00.800");
  sql += Insert(8, "888", "h@x", "7", "secondary", "07 10:00:00.700");   // older than its primary
  sql += Insert(9, "999", "i@x", nullptr, "primary", "09 10:00:00.900");
  sql += Insert(10, "999", "i@x", nullptr, "primary", "09 10:00:00.900"); // concurrent duplicate
  sql += Insert(11, "1111", "j@x", nullptr, "primary", "10 10:00:00.000");
  sql += Insert(12, "1212", "k@x", "11", "secondary", "11 10:00:00.000"); // a link and nothing else
  sql += Insert(13, "111", "gone@x", "1", "secondary", "12 10:00:00.000", "01 00:00:00.000");  // deleted
  sql += Insert(15, "1515", "l@x", nullptr, "primary", "13 10:00:00.000");  // id 14 is a gap
  CommandResult r = RunCommand({"sqlite3", db}, std::chrono::seconds(60), sql);
  ASSERT_EQ(r.exit_code, 0) << "sqlite3 is required (scripts/deps.sh installs it): " << r.err;
  r = RunCommand({"sqlite3", "-header", "-csv", db, "SELECT * FROM contacts ORDER BY id;"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  WriteFile(dir.path() + "/contacts.csv", r.out);
  ASSERT_NE(r.out.find("2023-04-01 10:00:00.100 +00:00"), std::string::npos) << r.out;

  const std::string d = dir.path() + "/data";
  r = Tool({"import", "--data-dir", d, "--csv", dir.path() + "/contacts.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* note : {"id 3: was secondary of 2, now secondary of 1: linkedId 2 is itself a secondary",
                           "id 5: was primary, now secondary of 4: two primaries",
                           "id 6: was secondary of 99, now primary: linkedId 99 names no contact",
                           "id 7: was primary, now secondary of 8", "id 8: was secondary of 7, now primary",
                           "id 10: was primary, now secondary of 9"}) {
    EXPECT_NE(r.out.find(note), std::string::npos) << note << "\n" << r.out;
  }
  EXPECT_EQ(Tool({"verify", "--data-dir", d}).exit_code, 0);

  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(ServerArgs(d, {"--sync", "nosync", "--snapshot-every", "off"}), &error)) << error;
  Client client(server.port());
  auto identify = [&](const std::string& body) {
    const std::optional<Response> resp = client.PostJson("/identify", body);
    if (!resp) {
      ADD_FAILURE() << body << " → no answer";
      return std::string();
    }
    EXPECT_EQ(resp->status, 200) << body << " → " << resp->body;
    return resp->body;
  };
  EXPECT_EQ(identify(R"({"email":"c@x"})"), Cluster(1, {"a@x", "b@x", "c@x"}, {"111", "333"}, {2, 3}));
  EXPECT_EQ(identify(R"({"phoneNumber":"444"})"), Cluster(4, {"d@x", "e@x"}, {"444"}, {5}));
  EXPECT_EQ(identify(R"({"email":"f@x"})"), Cluster(6, {"f@x"}, {"666"}, {}));
  EXPECT_EQ(identify(R"({"email":"g@x"})"), Cluster(8, {"h@x", "g@x"}, {"888", "777"}, {7}));
  EXPECT_EQ(identify(R"({"phoneNumber":999})"), Cluster(9, {"i@x"}, {"999"}, {10}));
  EXPECT_EQ(identify(R"({"email":"k@x"})"), Cluster(11, {"j@x", "k@x"}, {"1111", "1212"}, {12}));
  // The deleted row takes no part; the next id is above every imported id.
  EXPECT_EQ(identify(R"({"email":"gone@x"})"), Cluster(16, {"gone@x"}, {}, {}));
  // Imported timestamps decide merges: cluster 4 (Apr 4) is older than 8 (Apr 7).
  EXPECT_EQ(identify(R"({"email":"d@x","phoneNumber":"777"})"),
            Cluster(4, {"d@x", "e@x", "g@x", "h@x"}, {"444", "777", "888"}, {5, 7, 8}));
  const std::optional<Response> vacant = client.GetPath("/contacts/14");
  ASSERT_TRUE(vacant);
  EXPECT_EQ(vacant->status, 404);
  const std::optional<Response> deleted = client.GetPath("/contacts/13");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  EXPECT_EQ(deleted->body,
            R"({"id":13,"phoneNumber":"111","email":"gone@x","linkedId":1,"linkPrecedence":"secondary",)"
            R"("createdAt":"2023-04-12T10:00:00.000Z","updatedAt":"2023-04-12T10:00:00.000Z",)"
            R"("deletedAt":"2023-05-01T00:00:00.000Z"})");
  const std::optional<int> status = server.Terminate();
  ASSERT_TRUE(status) << "idrecon-server did not exit after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << DescribeWaitStatus(*status);

  // What the server added is exported too, and SQLite loads the export back.
  r = Tool({"export", "--data-dir", d, "--csv", "--out", dir.path() + "/back.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunCommand({"sqlite3", db, ".import --csv " + dir.path() + "/back.csv contacts_back"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunCommand({"sqlite3", db, "SELECT count(*), sum(linkPrecedence = 'secondary') FROM contacts_back;"});
  EXPECT_EQ(r.out, "15|8\n");  // 14 imported + 1 created; secondaries 2, 3, 5, 7, 8, 10, 12 and deleted 13
}

}  // namespace
}  // namespace idrecon::testing
