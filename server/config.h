// Config: idrecon-server's settings, and the pure function that derives them
// from the command line, the environment and an optional .env file.
//
// Precedence, highest first: command-line flag, real environment variable,
// .env file, built-in default. Flags take "--name value" or "--name=value".
//
//   flag                      variable              default
//   --host H                  HOST                  127.0.0.1
//   --port P                  PORT                  3000 (0 picks a free port)
//   --threads N               THREADS               hardware concurrency (≥1)
//   --max-body-bytes B        MAX_BODY_BYTES        16384
//   --idle-timeout-seconds S  IDLE_TIMEOUT_SECONDS  30
//   --data-dir D              DATA_DIR              ./data (created if missing)
//   --sync fsync|nosync       SYNC                  fsync
//   --snapshot-every SPEC     SNAPSHOT_EVERY        1000000,300s (N changes and/or
//                                                   Ns/Nm/Nh; "off" disables)
//   --log-max-mib M           LOG_MAX_MIB           1048576 (1 TiB of map)
//   --auth-token-file F       AUTH_TOKEN (the token itself)  none: no auth
//   --access-log PATH         ACCESS_LOG            off; "-" = stderr
//   --max-connections N       MAX_CONNECTIONS       10000
//   --header-timeout-seconds S HEADER_TIMEOUT_SECONDS 10
//   --max-requests-per-connection N  MAX_REQUESTS_PER_CONNECTION  10000
//   --version                                       prints version, exits 0
//   --help, -h                                      prints usage, exits 0
//
// An empty variable (PORT=) counts as unset. The .env format: KEY=VALUE lines,
// blank lines and '#' comment lines ignored, an optional "export " prefix,
// values optionally wrapped in matching single or double quotes (taken
// literally, no escapes); variables we do not know are ignored. ParseConfig
// never touches the process: the caller supplies the environment lookup and
// the .env text, so tests can drive every case.
//
// Thread-safety: pure functions; Config is a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace idrecon {

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3000;
  unsigned threads = 1;
  std::size_t max_body_bytes = 16384;
  unsigned idle_timeout_seconds = 30;
  std::string data_dir = "./data";
  bool sync = true;                               // false: --sync nosync
  std::uint64_t snapshot_every_changes = 1000000;  // 0: not by count
  std::uint64_t snapshot_every_seconds = 300;      // 0: not by time
  std::uint64_t log_max_mib = 1048576;
  std::string auth_token_file;  // read by main; wins over auth_token
  std::string auth_token;       // from AUTH_TOKEN
  std::string access_log;       // "" = off, "-" = stderr, else a file appended to
  std::size_t max_connections = 10000;
  unsigned header_timeout_seconds = 10;
  std::size_t max_requests_per_connection = 10000;
};

struct ConfigResult {
  enum class Action {
    kRun,    // start the server with `config`
    kHelp,   // print Usage() to stdout, exit 0
    kVersion,  // print the version to stdout, exit 0
    kError,  // print `error` (one line) to stderr, exit 2
  };
  Action action = Action::kRun;
  Config config;
  std::string error;
};

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// `args` excludes argv[0]. `hardware_threads` is the default thread count
// (0, as std::thread::hardware_concurrency() may report, means 1).
ConfigResult ParseConfig(std::span<const std::string_view> args, const EnvLookup& env,
                         std::string_view dotenv_text, unsigned hardware_threads);

// The --help text (several lines, ends with a newline).
std::string Usage();

// The contents of the file at `path`, or an empty string when it does not
// exist or cannot be read (the .env file is optional).
std::string ReadOptionalFile(const std::string& path);

}  // namespace idrecon
