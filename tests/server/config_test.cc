#include "server/config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace idrecon {
namespace {

struct Inputs {
  std::vector<std::string_view> args;
  std::map<std::string, std::string, std::less<>> env;
  std::string dotenv;
  unsigned hardware_threads = 4;
};

Inputs Args(std::vector<std::string_view> args) {
  Inputs in;
  in.args = std::move(args);
  return in;
}

ConfigResult Parse(const Inputs& in) {
  const EnvLookup lookup = [&in](std::string_view name) -> std::optional<std::string> {
    const auto it = in.env.find(name);
    if (it == in.env.end()) return std::nullopt;
    return it->second;
  };
  return ParseConfig(in.args, lookup, in.dotenv, in.hardware_threads);
}

Config ParseOk(const Inputs& in) {
  const ConfigResult r = Parse(in);
  EXPECT_EQ(r.action, ConfigResult::Action::kRun) << r.error;
  return r.config;
}

std::string ParseError(const Inputs& in) {
  const ConfigResult r = Parse(in);
  EXPECT_EQ(r.action, ConfigResult::Action::kError);
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << "one line: " << r.error;
  return r.error;
}

TEST(ConfigTest, Defaults) {
  const Config c = ParseOk({});
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 3000);
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.max_body_bytes, 16384u);
  EXPECT_EQ(c.idle_timeout_seconds, 30u);
}

TEST(ConfigTest, UnknownHardwareConcurrencyMeansOneThread) {
  Inputs in;
  in.hardware_threads = 0;
  EXPECT_EQ(ParseOk(in).threads, 1u);
}

TEST(ConfigTest, FlagsInBothForms) {
  const Config c = ParseOk(Args({"--host", "0.0.0.0", "--port=80", "--threads", "3", "--max-body-bytes=100",
                             "--idle-timeout-seconds", "5"}));
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 80);
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.max_body_bytes, 100u);
  EXPECT_EQ(c.idle_timeout_seconds, 5u);
}

TEST(ConfigTest, LastFlagWins) { EXPECT_EQ(ParseOk(Args({"--port", "1", "--port=2"})).port, 2); }

TEST(ConfigTest, PortZeroAndMaximum) {
  EXPECT_EQ(ParseOk(Args({"--port", "0"})).port, 0);
  EXPECT_EQ(ParseOk(Args({"--port", "65535"})).port, 65535);
}

TEST(ConfigTest, Help) {
  EXPECT_EQ(Parse(Args({"--help"})).action, ConfigResult::Action::kHelp);
  EXPECT_EQ(Parse(Args({"-h"})).action, ConfigResult::Action::kHelp);
  EXPECT_EQ(Parse(Args({"--port", "1", "--help"})).action, ConfigResult::Action::kHelp);
  const std::string usage = Usage();
  for (std::string_view word : {"--host", "--port", "--threads", "--max-body-bytes", "--idle-timeout-seconds",
                                "HOST", "PORT", "THREADS", ".env"}) {
    EXPECT_NE(usage.find(word), std::string::npos) << word;
  }
}

TEST(ConfigTest, EnvironmentVariables) {
  Inputs in;
  in.env = {{"HOST", "::1"}, {"PORT", "8080"}, {"THREADS", "2"}, {"MAX_BODY_BYTES", "1000"},
            {"IDLE_TIMEOUT_SECONDS", "9"}, {"UNRELATED", "x"}};
  const Config c = ParseOk(in);
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.threads, 2u);
  EXPECT_EQ(c.max_body_bytes, 1000u);
  EXPECT_EQ(c.idle_timeout_seconds, 9u);
}

TEST(ConfigTest, EmptyEnvironmentVariableCountsAsUnset) {
  Inputs in;
  in.env = {{"PORT", ""}};
  EXPECT_EQ(ParseOk(in).port, 3000);
}

TEST(ConfigTest, DotEnvFormat) {
  Inputs in;
  in.dotenv =
      "# a comment\n"
      "\n"
      "HOST=10.0.0.1\r\n"
      "export PORT = \"4000\"\n"
      "  THREADS='6'  \n"
      "DATABASE_URL=postgres://ignored\n"
      "MAX_BODY_BYTES=2048";  // no final newline
  const Config c = ParseOk(in);
  EXPECT_EQ(c.host, "10.0.0.1");
  EXPECT_EQ(c.port, 4000);
  EXPECT_EQ(c.threads, 6u);
  EXPECT_EQ(c.max_body_bytes, 2048u);
}

TEST(ConfigTest, PrecedenceFlagOverEnvironmentOverDotEnv) {
  Inputs in;
  in.dotenv = "PORT=1111\nTHREADS=5\nHOST=1.1.1.1\n";
  in.env = {{"PORT", "2222"}, {"THREADS", "7"}};
  in.args = {"--port", "3333"};
  const Config c = ParseOk(in);
  EXPECT_EQ(c.port, 3333);  // flag
  EXPECT_EQ(c.threads, 7u);  // environment over .env
  EXPECT_EQ(c.host, "1.1.1.1");  // .env over default
}

TEST(ConfigTest, OnlyTheWinningValueIsValidated) {
  Inputs in;
  in.dotenv = "PORT=not-a-port\n";
  in.args = {"--port", "5"};
  EXPECT_EQ(ParseOk(in).port, 5);
}

TEST(ConfigTest, BadFlags) {
  EXPECT_NE(ParseError(Args({"--bogus"})).find("unknown option '--bogus'"), std::string::npos);
  EXPECT_NE(ParseError(Args({"--bogus=1"})).find("unknown option '--bogus'"), std::string::npos);
  EXPECT_NE(ParseError(Args({"--port"})).find("needs a value"), std::string::npos);
  EXPECT_NE(ParseError(Args({"stray"})).find("unexpected argument 'stray'"), std::string::npos);
  EXPECT_NE(ParseError(Args({"-p", "1"})).find("unexpected argument '-p'"), std::string::npos);
}

TEST(ConfigTest, BadValues) {
  for (std::vector<std::string_view> args : std::vector<std::vector<std::string_view>>{
           {"--port", "65536"}, {"--port", "-1"}, {"--port", "80x"}, {"--port", ""}, {"--port="},
           {"--port", " 80"}, {"--port", "+80"}, {"--threads", "0"}, {"--threads", "1025"},
           {"--threads", "two"}, {"--max-body-bytes", "0"}, {"--max-body-bytes", "99999999999999999999"},
           {"--idle-timeout-seconds", "0"}, {"--idle-timeout-seconds", "1.5"}, {"--host", ""}}) {
    Inputs in;
    in.args = args;
    const std::string error = ParseError(in);
    EXPECT_NE(error.find("invalid --"), std::string::npos) << error;
  }
  EXPECT_EQ(ParseError(Args({"--port", "99999"})), "invalid --port '99999': must be a whole number from 0 to 65535");
}

TEST(ConfigTest, BadValuesNameTheirSource) {
  Inputs in;
  in.env = {{"THREADS", "lots"}};
  EXPECT_EQ(ParseError(in), "invalid THREADS (environment) 'lots': must be a whole number from 1 to 1024");
  Inputs dot;
  dot.dotenv = "PORT=http\n";
  EXPECT_EQ(ParseError(dot), "invalid PORT (.env) 'http': must be a whole number from 0 to 65535");
}

TEST(ConfigTest, MalformedDotEnvLine) {
  Inputs in;
  in.dotenv = "PORT=1\njust some words\n";
  EXPECT_EQ(ParseError(in), ".env line 2: expected KEY=VALUE");
}

TEST(ConfigTest, PersistenceDefaultsAndFlags) {
  Config c = ParseOk({});
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_TRUE(c.sync);
  EXPECT_EQ(c.snapshot_every_changes, 1000000u);
  EXPECT_EQ(c.snapshot_every_seconds, 300u);
  c = ParseOk(Args({"--data-dir", "/var/lib/idrecon", "--sync=nosync", "--snapshot-every", "5000,2m",
                    "--log-max-mib", "64"}));
  EXPECT_EQ(c.data_dir, "/var/lib/idrecon");
  EXPECT_FALSE(c.sync);
  EXPECT_EQ(c.snapshot_every_changes, 5000u);
  EXPECT_EQ(c.snapshot_every_seconds, 120u);
  EXPECT_EQ(c.log_max_mib, 64u);
  Inputs env;
  env.env = {{"DATA_DIR", "/srv/d"}, {"SYNC", "fsync"}, {"SNAPSHOT_EVERY", "1h"}};
  c = ParseOk(env);
  EXPECT_EQ(c.data_dir, "/srv/d");
  EXPECT_EQ(c.snapshot_every_changes, 0u);
  EXPECT_EQ(c.snapshot_every_seconds, 3600u);
  c = ParseOk(Args({"--snapshot-every", "off"}));
  EXPECT_EQ(c.snapshot_every_changes, 0u);
  EXPECT_EQ(c.snapshot_every_seconds, 0u);
}

TEST(ConfigTest, BadPersistenceValuesAreErrors) {
  EXPECT_NE(ParseError(Args({"--sync", "sometimes"})).find("'fsync' or 'nosync'"), std::string::npos);
  for (std::string_view bad : {"", "5x", "10,20", "1s,2s", "-3", "5m,", ",5m"}) {
    EXPECT_NE(ParseError(Args({"--snapshot-every", bad})).find("--snapshot-every"), std::string::npos) << bad;
  }
  EXPECT_NE(ParseError(Args({"--data-dir="})).find("--data-dir"), std::string::npos);
  EXPECT_NE(ParseError(Args({"--log-max-mib", "0"})).find("--log-max-mib"), std::string::npos);
}

TEST(ConfigTest, OperatingFlags) {
  Config c = ParseOk(Args({"--auth-token-file", "/etc/idrecon/token", "--access-log", "-", "--max-connections",
                           "50", "--header-timeout-seconds", "3", "--max-requests-per-connection", "7"}));
  EXPECT_EQ(c.auth_token_file, "/etc/idrecon/token");
  EXPECT_EQ(c.access_log, "-");
  EXPECT_EQ(c.max_connections, 50u);
  EXPECT_EQ(c.header_timeout_seconds, 3u);
  EXPECT_EQ(c.max_requests_per_connection, 7u);
  c = ParseOk({});
  EXPECT_EQ(c.auth_token, "");
  EXPECT_EQ(c.access_log, "");
  EXPECT_EQ(c.max_connections, 10000u);
  EXPECT_EQ(c.header_timeout_seconds, 10u);
}

TEST(ConfigTest, AuthTokenComesFromTheEnvironmentNeverTheCommandLine) {
  Inputs in;
  in.env = {{"AUTH_TOKEN", "0123456789abcdef-token"}};
  EXPECT_EQ(ParseOk(in).auth_token, "0123456789abcdef-token");
  const std::string error = ParseError(Args({"--auth-token", "0123456789abcdef-token"}));
  EXPECT_NE(error.find("AUTH_TOKEN"), std::string::npos) << error;
  in.env = {{"AUTH_TOKEN", "short-secret"}};
  const std::string weak = ParseError(in);
  EXPECT_NE(weak.find("16"), std::string::npos) << weak;
  EXPECT_EQ(weak.find("short-secret"), std::string::npos) << "a secret is never echoed: " << weak;
}

TEST(ConfigTest, VersionFlag) {
  EXPECT_EQ(Parse(Args({"--version"})).action, ConfigResult::Action::kVersion);
}

}  // namespace
}  // namespace idrecon
