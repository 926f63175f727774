// A real PostgreSQL 15 round trip: a throwaway cluster (initdb in a
// temp dir as an unprivileged user, a free port on 127.0.0.1), the
// `contacts` table as Sequelize creates it, `\copy` out, import, export,
// `\copy` back into a second table, compare. The cluster is stopped and its
// files removed even when an assertion fails.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "testing/process.h"
#include "testing/temp_dir.h"

namespace idrecon::testing {
namespace {

const std::string kTool = IDRECON_TOOL_PATH;
const std::string kPgBin = "/usr/lib/postgresql/15/bin";

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class PostgresCluster {
 public:
  explicit PostgresCluster(const std::string& base) : root_(base + "/pg"), port_(FreePort()) {
    std::filesystem::create_directories(root_);
    std::filesystem::permissions(base, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                           std::filesystem::perms::others_exec);
    if (::geteuid() == 0) {  // PostgreSQL refuses to run as root: use nobody
      const passwd* pw = ::getpwnam("nobody");
      if (pw == nullptr || ::chown(root_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        error_ = "cannot hand " + root_ + " to nobody";
        return;
      }
      as_user_ = {"runuser", "-u", "nobody", "--"};
    }
    CommandResult r = As({kPgBin + "/initdb", "-D", root_ + "/data", "-U", "postgres", "--auth=trust", "--no-locale",
                          "-E", "UTF8", "--no-sync"});
    if (r.exit_code != 0) {
      error_ = "initdb failed: " + r.out + r.err;
      return;
    }
    r = As({kPgBin + "/pg_ctl", "-D", root_ + "/data", "-l", root_ + "/log", "-w", "-t", "60", "-o",
            "-p " + std::to_string(port_) + " -k " + root_ + " -c listen_addresses=127.0.0.1 -c fsync=off", "start"});
    if (r.exit_code != 0) {
      error_ = "pg_ctl start failed: " + r.out + r.err + ReadFile(root_ + "/log");
      return;
    }
    started_ = true;
  }
  ~PostgresCluster() {
    if (started_) {
      CommandResult r = As({kPgBin + "/pg_ctl", "-D", root_ + "/data", "-m", "immediate", "-w", "-t", "30", "stop"},
                           std::chrono::seconds(40));
      if (r.exit_code != 0) {  // last resort: the postmaster's pid
        const std::string pid = ReadFile(root_ + "/data/postmaster.pid");
        if (!pid.empty()) ::kill(std::atoi(pid.c_str()), SIGKILL);
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  bool ok() const { return started_; }
  const std::string& error() const { return error_; }

  // psql as the calling user, over TCP; `\copy` files are read/written by it.
  CommandResult Psql(const std::string& sql) {
    return RunCommand({kPgBin + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                       std::to_string(port_), "-U", "postgres", "-d", "postgres", "-At"},
                      std::chrono::seconds(60), sql);
  }

 private:
  CommandResult As(std::vector<std::string> args, std::chrono::seconds limit = std::chrono::seconds(120)) {
    args.insert(args.begin(), as_user_.begin(), as_user_.end());
    return RunCommand(args, limit);
  }

  std::string root_;
  int port_;
  std::vector<std::string> as_user_;
  bool started_ = false;
  std::string error_;
};

// Sequelize's DDL for the Node service's model (ENUM as a type of its own).
constexpr const char* kSchema = R"SQL(
CREATE TYPE "enum_contacts_linkPrecedence" AS ENUM('primary', 'secondary');
CREATE TABLE IF NOT EXISTS "contacts" ("id" SERIAL, "phoneNumber" VARCHAR(255), "email" VARCHAR(255),
  "linkedId" INTEGER, "linkPrecedence" "enum_contacts_linkPrecedence" DEFAULT 'primary',
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL,
  "deletedAt" TIMESTAMP WITH TIME ZONE, PRIMARY KEY ("id"));
CREATE TABLE "contacts2" (LIKE "contacts");
)SQL";

TEST(ToolPostgresTest, CopyOutImportExportCopyBackCompares) {
  ASSERT_TRUE(std::filesystem::exists(kPgBin + "/initdb")) << "PostgreSQL 15 is required (scripts/deps.sh installs it)";
  TempDir dir;
  PostgresCluster pg(dir.path());
  ASSERT_TRUE(pg.ok()) << pg.error();
  // Consistent data (so the round trip must be exact): clusters, a primary
  // with a larger id than its secondary, deleted rows with their link, id
  // gaps, awkward text, and timestamps written in a +05:30 session.
  std::string sql = std::string(kSchema) + "SET TIME ZONE 'Asia/Kolkata';\n" + R"SQL(
INSERT INTO contacts VALUES
 (1, '123456', 'lorraine@hillvalley.edu', NULL, 'primary', '2023-04-01 05:30:00.001+05:30', '2023-04-01 05:30:00.001+05:30', NULL),
 (2, '123456', 'mcfly@hillvalley.edu', 1, 'secondary', '2023-04-20 05:30:00.110+00', '2023-04-20 05:30:00.110+00', NULL),
 (3, '919191', 'george@hillvalley.edu', NULL, 'primary', '2023-04-11 00:00:00+00', '2023-04-11 00:00:00+00', NULL),
 (4, '717171', 'biffsucks@hillvalley.edu', 3, 'secondary', '2023-04-21 05:30:00.5+00', '2023-04-28 06:00:00.25+00', NULL),
 (5, NULL, 'only-email@x', 7, 'secondary', '2023-04-22 00:00:00+00', '2023-04-22 00:00:00+00', NULL),
 (7, '5550001', 'older@x', NULL, 'primary', '2023-04-02 00:00:00+00', '2023-04-02 00:00:00+00', NULL),
 (8, '5550001', NULL, 7, 'secondary', '2023-04-23 00:00:00+00', '2023-04-23 00:00:00+00', '2023-05-01 12:00:00.999+00'),
 (9, '42', 'comma, "quote"', NULL, 'primary', '2023-04-24 00:00:00+00', '2023-04-24 00:00:00+00', '2023-05-02 00:00:00+00'),
 (12, '\N', 'backslash-n@x', NULL, 'primary', '2023-04-25 23:59:59.999+00', '2023-04-25 23:59:59.999+00', NULL);
)SQL";
  CommandResult r = pg.Psql(sql);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string out_csv = dir.path() + "/contacts.csv", back_csv = dir.path() + "/back.csv";
  r = pg.Psql("SET TIME ZONE 'Asia/Kolkata';\n\\copy contacts TO '" + out_csv + "' CSV HEADER\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(ReadFile(out_csv).find("+05:30"), std::string::npos) << ReadFile(out_csv);

  const std::string d = dir.path() + "/data";
  r = RunCommand({kTool, "import", "--data-dir", d, "--csv", out_csv, "--strict"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // consistent data: nothing to repair
  r = RunCommand({kTool, "export", "--data-dir", d, "--csv", "--out", back_csv});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = pg.Psql("\\copy contacts2 FROM '" + back_csv + "' CSV HEADER\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = pg.Psql(
      "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM contacts2),"
      " (SELECT count(*) FROM (SELECT * FROM contacts EXCEPT SELECT * FROM contacts2) a),"
      " (SELECT count(*) FROM (SELECT * FROM contacts2 EXCEPT SELECT * FROM contacts) b);");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "9|9|0|0\n");
  r = pg.Psql("SELECT \"phoneNumber\" IS NULL, email FROM contacts2 WHERE id IN (5, 12) ORDER BY id;");
  EXPECT_EQ(r.out, "t|only-email@x\nf|backslash-n@x\n");
}

}  // namespace
}  // namespace idrecon::testing
