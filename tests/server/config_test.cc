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
  const ConfigResult r = Parse({});
  ASSERT_EQ(r.action, ConfigResult::Action::kRun) << r.error;
  EXPECT_TRUE(r.warnings.empty());
  const Config& c = r.config;
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 3000);
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.max_body_bytes, 16384u);
  EXPECT_EQ(c.idle_timeout_seconds, 30u);
  EXPECT_EQ(c.header_timeout_seconds, 10u);
  EXPECT_EQ(c.max_connections, 10000u);
  EXPECT_EQ(c.max_requests_per_connection, 10000u);
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_TRUE(c.sync);
  EXPECT_EQ(c.snapshot_every_changes, 1000000u);
  EXPECT_EQ(c.snapshot_every_seconds, 300u);
  EXPECT_EQ(c.log_max_mib, 1048576u);
  EXPECT_EQ(c.auth_token_file, "");
  EXPECT_EQ(c.auth_token, "");
  EXPECT_EQ(c.access_log, "");
}

// The help text is generated from the same table as the parser: each option
// shows its variable and the default the parser applies.
TEST(ConfigTest, HelpShowsEachOptionsVariableAndDefault) {
  const std::string usage = Usage();
  for (std::string_view line : {"(IDRECON_HOST; default 127.0.0.1)", "(IDRECON_PORT or PORT; default 3000)",
                                "(IDRECON_THREADS; default the CPU count)", "(IDRECON_DATA_DIR; default ./data)",
                                "(IDRECON_SYNC; default fsync)", "(IDRECON_SNAPSHOT_EVERY; default 1000000,300s)",
                                "(IDRECON_LOG_MAX_MIB; default 1048576)", "(IDRECON_MAX_BODY_BYTES; default 16384)",
                                "(IDRECON_AUTH_TOKEN_FILE; default none)", "IDRECON_AUTH_TOKEN=T",
                                "(IDRECON_ACCESS_LOG; default off)", "--max-requests-per-connection N"}) {
    EXPECT_NE(usage.find(line), std::string::npos) << line << "\n" << usage;
  }
  EXPECT_EQ(usage.find("--auth-token "), std::string::npos) << "the token is no flag";
  std::size_t start = 0;
  for (std::size_t end; (end = usage.find('\n', start)) != std::string::npos; start = end + 1) {
    EXPECT_LE(end - start, 79u) << usage.substr(start, end - start);
  }
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
                                "IDRECON_HOST", "PORT", "IDRECON_THREADS", ".env"}) {
    EXPECT_NE(usage.find(word), std::string::npos) << word;
  }
}

TEST(ConfigTest, EnvironmentVariables) {
  Inputs in;
  in.env = {{"IDRECON_HOST", "::1"}, {"PORT", "8080"}, {"IDRECON_THREADS", "2"}, {"IDRECON_MAX_BODY_BYTES", "1000"},
            {"IDRECON_IDLE_TIMEOUT_SECONDS", "9"}, {"UNRELATED", "x"}};
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
      "IDRECON_HOST=10.0.0.1\r\n"
      "export PORT = \"4000\"\n"
      "  IDRECON_THREADS='6'  \n"
      "DATABASE_URL=postgres://ignored\n"
      "IDRECON_MAX_BODY_BYTES=2048";  // no final newline
  const Config c = ParseOk(in);
  EXPECT_EQ(c.host, "10.0.0.1");
  EXPECT_EQ(c.port, 4000);
  EXPECT_EQ(c.threads, 6u);
  EXPECT_EQ(c.max_body_bytes, 2048u);
}

TEST(ConfigTest, PrecedenceFlagOverEnvironmentOverDotEnv) {
  Inputs in;
  in.dotenv = "PORT=1111\nIDRECON_THREADS=5\nIDRECON_HOST=1.1.1.1\n";
  in.env = {{"PORT", "2222"}, {"IDRECON_THREADS", "7"}};
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
  in.env = {{"IDRECON_THREADS", "lots"}};
  EXPECT_EQ(ParseError(in), "invalid IDRECON_THREADS (environment) 'lots': must be a whole number from 1 to 1024");
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
  env.env = {{"IDRECON_DATA_DIR", "/srv/d"}, {"IDRECON_SYNC", "fsync"}, {"IDRECON_SNAPSHOT_EVERY", "1h"}};
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
  in.env = {{"IDRECON_AUTH_TOKEN", "0123456789abcdef-token"}};
  EXPECT_EQ(ParseOk(in).auth_token, "0123456789abcdef-token");
  const std::string error = ParseError(Args({"--auth-token", "0123456789abcdef-token"}));
  EXPECT_NE(error.find("IDRECON_AUTH_TOKEN"), std::string::npos) << error;
  in.env = {{"IDRECON_AUTH_TOKEN", "short-secret"}};
  const std::string weak = ParseError(in);
  EXPECT_NE(weak.find("16"), std::string::npos) << weak;
  EXPECT_EQ(weak.find("short-secret"), std::string::npos) << "a secret is never echoed: " << weak;
}

TEST(ConfigTest, TheListenAddressIsNeverReadFromHost) {
  Inputs in;
  in.env = {{"HOST", "my-workstation.example"}};  // what tcsh sets
  in.dotenv = "HOST=10.1.1.1\n";
  const ConfigResult r = Parse(in);
  ASSERT_EQ(r.action, ConfigResult::Action::kRun) << r.error;
  EXPECT_EQ(r.config.host, "127.0.0.1");
  EXPECT_TRUE(r.warnings.empty()) << "HOST is the shell's, not a mistake: " << r.warnings.front();
  in.env["IDRECON_HOST"] = "::1";
  EXPECT_EQ(ParseOk(in).host, "::1");
}

TEST(ConfigTest, PortComesFromPortOrIdreconPortAndThePrefixedNameWins) {
  Inputs in;
  in.env = {{"PORT", "8080"}};
  EXPECT_EQ(ParseOk(in).port, 8080);
  in.env = {{"IDRECON_PORT", "9090"}};
  EXPECT_EQ(ParseOk(in).port, 9090);
  in.env = {{"PORT", "8080"}, {"IDRECON_PORT", "9090"}};
  EXPECT_EQ(ParseOk(in).port, 9090);
  in.env = {{"PORT", "8080"}, {"IDRECON_PORT", ""}};  // empty: unset
  EXPECT_EQ(ParseOk(in).port, 8080);

  Inputs dot;
  dot.dotenv = "IDRECON_PORT=9090\nPORT=8080\n";  // whatever the order of the lines
  EXPECT_EQ(ParseOk(dot).port, 9090);
  // Sources first: the environment's PORT beats the .env file's IDRECON_PORT.
  dot.env = {{"PORT", "7070"}};
  EXPECT_EQ(ParseOk(dot).port, 7070);
  // The error names the variable the value came from.
  dot.env = {{"PORT", "http"}};
  EXPECT_EQ(ParseError(dot), "invalid PORT (environment) 'http': must be a whole number from 0 to 65535");
}

TEST(ConfigTest, AnEmptyAuthTokenIsAnErrorNotAuthOff) {
  for (bool in_dotenv : {false, true}) {
    for (std::string_view name : {"IDRECON_AUTH_TOKEN", "IDRECON_AUTH_TOKEN_FILE"}) {
      Inputs in;
      if (in_dotenv) {
        in.dotenv = std::string(name) + "=\n";
      } else {
        in.env = {{std::string(name), ""}};
      }
      const std::string error = ParseError(in);
      EXPECT_EQ(error.rfind("invalid " + std::string(name) + (in_dotenv ? " (.env)" : " (environment)"), 0), 0u)
          << error;
      EXPECT_NE(error.find("is empty"), std::string::npos) << error;
      EXPECT_NE(error.find("without auth"), std::string::npos) << error;
    }
  }
  EXPECT_NE(ParseError(Args({"--auth-token-file="})).find("invalid --auth-token-file '': is empty"),
            std::string::npos);
  // Every other empty variable still counts as unset.
  Inputs in;
  in.env = {{"IDRECON_THREADS", ""}, {"IDRECON_DATA_DIR", ""}, {"IDRECON_ACCESS_LOG", ""}};
  const Config c = ParseOk(in);
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.data_dir, "./data");
}

TEST(ConfigTest, UnprefixedNamesAreNotReadButWarnedAbout) {
  Inputs in;
  in.env = {{"AUTH_TOKEN", "0123456789abcdef-token"}, {"DATA_DIR", "/srv/old"}, {"THREADS", ""}};
  in.dotenv = "SYNC=nosync\n";
  const ConfigResult r = Parse(in);
  ASSERT_EQ(r.action, ConfigResult::Action::kRun) << r.error;
  EXPECT_EQ(r.config.auth_token, "");
  EXPECT_EQ(r.config.data_dir, "./data");
  EXPECT_TRUE(r.config.sync);
  ASSERT_EQ(r.warnings.size(), 3u);
  EXPECT_EQ(r.warnings[0], "SYNC is set in .env but not read; the variable is IDRECON_SYNC");
  EXPECT_EQ(r.warnings[1], "DATA_DIR is set in the environment but not read; the variable is IDRECON_DATA_DIR");
  EXPECT_EQ(r.warnings[2], "AUTH_TOKEN is set in the environment but not read; the variable is IDRECON_AUTH_TOKEN");
  for (const std::string& w : r.warnings) EXPECT_EQ(w.find("0123456789abcdef"), std::string::npos) << w;
}

TEST(ConfigTest, VersionFlag) {
  EXPECT_EQ(Parse(Args({"--version"})).action, ConfigResult::Action::kVersion);
}

}  // namespace
}  // namespace idrecon
