// Config: idrecon-server's settings, and the pure function that derives them
// from the command line, the environment and an optional .env file.
//
// The options are written once, as the table kOptions in config.cc: flag,
// variable, default, help text and parser. ParseConfig reads that table and
// Usage() prints it, so `idrecon-server --help` is the complete list.
//
// Precedence, highest first: command-line flag, real environment variable,
// .env file, default. Flags take "--name value" or "--name=value".
//
// Variables are the flag's name with an IDRECON_ prefix (--data-dir:
// IDRECON_DATA_DIR), so that a variable some shell or program sets for its own
// use (tcsh sets HOST to the machine's name) is never taken for a setting.
// The port is also read from PORT, the name hosting platforms and container
// habits use; when one source sets both, IDRECON_PORT wins. An unprefixed
// name of an option (DATA_DIR, AUTH_TOKEN, …; HOST excepted, see above) is
// not read, and its presence is returned as a warning, so a setting meant for
// the server is never dropped without a word.
//
// An empty variable (IDRECON_PORT=) counts as unset, except the two auth
// variables: IDRECON_AUTH_TOKEN or IDRECON_AUTH_TOKEN_FILE set but empty is an
// error, because reading it as unset would turn authentication off. The token
// itself is never a flag (a command line shows in `ps`) and never echoed in a
// message.
//
// The .env format: KEY=VALUE lines, blank lines and '#' comment lines ignored,
// an optional "export " prefix, values optionally wrapped in matching single
// or double quotes (taken literally, no escapes); keys we do not know are
// ignored. ParseConfig never touches the process: the caller supplies the
// environment lookup and the .env text, so tests can drive every case.
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
#include <vector>

namespace idrecon {

// ParseConfig sets every field: the defaults are the option table's, not
// these zero values.
struct Config {
  std::string host;
  std::uint16_t port = 0;
  unsigned threads = 0;
  std::size_t max_body_bytes = 0;
  unsigned idle_timeout_seconds = 0;
  unsigned header_timeout_seconds = 0;
  std::size_t max_connections = 0;
  std::size_t max_requests_per_connection = 0;
  std::string data_dir;
  bool sync = false;                           // true: fsync; false: --sync nosync
  std::uint64_t snapshot_every_changes = 0;  // 0: not by count
  std::uint64_t snapshot_every_seconds = 0;  // 0: not by time
  std::uint64_t log_max_mib = 0;
  std::string auth_token_file;  // read by LoadAuthToken; wins over auth_token
  std::string auth_token;       // from IDRECON_AUTH_TOKEN; empty: none
  std::string access_log;       // "" = off, "-" = stderr, else a file appended to
  // docs/api.md §6: nullopt when not given (the data directory's own setting).
  std::optional<bool> normalize;
  std::string default_region;   // upper case; only with normalize = true
  std::string guard_file;       // "" = none
  std::uint32_t guard_max_contacts = 0;  // 0 = off
  std::uint32_t guard_max_cluster = 0;   // 0 = off
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
  // With kRun: one line each, for the start-up log (variables set but not read).
  std::vector<std::string> warnings;
};

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// `args` excludes argv[0]. `hardware_threads` is the default thread count
// (0, as std::thread::hardware_concurrency() may report, means 1).
ConfigResult ParseConfig(std::span<const std::string_view> args, const EnvLookup& env,
                         std::string_view dotenv_text, unsigned hardware_threads);

// The --help text, generated from the option table (ends with a newline).
std::string Usage();

// The contents of the file at `path`, or an empty string when it does not
// exist or cannot be read (the .env file is optional).
std::string ReadOptionalFile(const std::string& path);

}  // namespace idrecon
