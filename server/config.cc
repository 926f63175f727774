#include "server/config.h"

#include <array>
#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>

namespace idrecon {
namespace {

// Where a raw setting came from; names the source in error messages.
enum class Source { kDefault, kDotEnv, kEnvironment, kFlag };

struct RawSetting {
  Source source = Source::kDefault;
  std::string value;
};

struct OptionSpec {
  std::string_view flag;  // without the leading "--"
  std::string_view env;
  // Parses `text` into `config`; returns an error fragment ("must be ...") or
  // an empty string on success.
  std::string (*apply)(std::string_view text, Config& config);
};

// Unsigned decimal in [min, max]; no sign, no spaces, no trailing bytes.
bool ParseUnsigned(std::string_view text, std::uint64_t min, std::uint64_t max, std::uint64_t* out) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return false;
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

std::string ApplyHost(std::string_view text, Config& config) {
  if (text.empty()) return "must not be empty";
  config.host = std::string(text);
  return {};
}

std::string ApplyPort(std::string_view text, Config& config) {
  std::uint64_t value = 0;
  if (!ParseUnsigned(text, 0, 65535, &value)) return "must be a whole number from 0 to 65535";
  config.port = static_cast<std::uint16_t>(value);
  return {};
}

std::string ApplyThreads(std::string_view text, Config& config) {
  std::uint64_t value = 0;
  if (!ParseUnsigned(text, 1, 1024, &value)) return "must be a whole number from 1 to 1024";
  config.threads = static_cast<unsigned>(value);
  return {};
}

std::string ApplyMaxBodyBytes(std::string_view text, Config& config) {
  std::uint64_t value = 0;
  if (!ParseUnsigned(text, 1, std::uint64_t{1} << 30, &value)) {
    return "must be a whole number from 1 to 1073741824";
  }
  config.max_body_bytes = static_cast<std::size_t>(value);
  return {};
}

std::string ApplyIdleTimeout(std::string_view text, Config& config) {
  std::uint64_t value = 0;
  if (!ParseUnsigned(text, 1, 86400, &value)) return "must be a whole number of seconds from 1 to 86400";
  config.idle_timeout_seconds = static_cast<unsigned>(value);
  return {};
}

std::string ApplyDataDir(std::string_view text, Config& config) {
  if (text.empty()) return "must not be empty";
  config.data_dir = std::string(text);
  return {};
}

std::string ApplySync(std::string_view text, Config& config) {
  if (text == "fsync") {
    config.sync = true;
  } else if (text == "nosync") {
    config.sync = false;
  } else {
    return "must be 'fsync' or 'nosync'";
  }
  return {};
}

// "N" (changes), "Ns" / "Nm" / "Nh" (time), or both joined by a comma;
// "off" (or "0") disables snapshots.
std::string ApplySnapshotEvery(std::string_view text, Config& config) {
  constexpr std::string_view kProblem =
      "must be a number of changes, a time like 300s/5m/1h, both joined by a comma, or 'off'";
  config.snapshot_every_changes = 0;
  config.snapshot_every_seconds = 0;
  if (text == "off" || text == "0") return {};
  if (text.empty()) return std::string(kProblem);
  bool seen_changes = false, seen_time = false;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return std::string(kProblem);
    std::uint64_t unit = 0;
    if (!part.empty() && (part.back() == 's' || part.back() == 'm' || part.back() == 'h')) {
      unit = part.back() == 's' ? 1 : part.back() == 'm' ? 60 : 3600;
      part.remove_suffix(1);
    }
    std::uint64_t value = 0;
    if (!ParseUnsigned(part, 1, std::uint64_t{1} << 40, &value)) return std::string(kProblem);
    if (unit == 0) {
      if (seen_changes) return std::string(kProblem);
      seen_changes = true;
      config.snapshot_every_changes = value;
    } else {
      if (seen_time) return std::string(kProblem);
      seen_time = true;
      config.snapshot_every_seconds = value * unit;
    }
  }
  return {};
}

std::string ApplyLogMaxMib(std::string_view text, Config& config) {
  std::uint64_t value = 0;
  if (!ParseUnsigned(text, 1, std::uint64_t{1} << 24, &value)) return "must be a whole number of MiB from 1 to 16777216";
  config.log_max_mib = value;
  return {};
}

std::string ApplyAuthTokenFile(std::string_view text, Config& config) {
  if (text.empty()) return "must not be empty";
  config.auth_token_file = std::string(text);
  return {};
}

std::string ApplyAuthToken(std::string_view text, Config& config) {
  if (text.size() < 16) return "must be at least 16 characters";
  config.auth_token = std::string(text);
  return {};
}

std::string ApplyAccessLog(std::string_view text, Config& config) {
  config.access_log = std::string(text);
  return {};
}

std::string ApplyMaxConnections(std::string_view text, Config& config) {
  std::uint64_t value = 0;
  if (!ParseUnsigned(text, 1, 1000000, &value)) return "must be a whole number from 1 to 1000000";
  config.max_connections = static_cast<std::size_t>(value);
  return {};
}

std::string ApplyHeaderTimeout(std::string_view text, Config& config) {
  std::uint64_t value = 0;
  if (!ParseUnsigned(text, 1, 3600, &value)) return "must be a whole number of seconds from 1 to 3600";
  config.header_timeout_seconds = static_cast<unsigned>(value);
  return {};
}

std::string ApplyMaxRequestsPerConnection(std::string_view text, Config& config) {
  std::uint64_t value = 0;
  if (!ParseUnsigned(text, 1, std::uint64_t{1} << 40, &value)) return "must be a whole number of at least 1";
  config.max_requests_per_connection = static_cast<std::size_t>(value);
  return {};
}

constexpr std::array<OptionSpec, 15> kOptions = {{
    {"host", "HOST", &ApplyHost},
    {"port", "PORT", &ApplyPort},
    {"threads", "THREADS", &ApplyThreads},
    {"max-body-bytes", "MAX_BODY_BYTES", &ApplyMaxBodyBytes},
    {"idle-timeout-seconds", "IDLE_TIMEOUT_SECONDS", &ApplyIdleTimeout},
    {"data-dir", "DATA_DIR", &ApplyDataDir},
    {"sync", "SYNC", &ApplySync},
    {"snapshot-every", "SNAPSHOT_EVERY", &ApplySnapshotEvery},
    {"log-max-mib", "LOG_MAX_MIB", &ApplyLogMaxMib},
    {"auth-token-file", "AUTH_TOKEN_FILE", &ApplyAuthTokenFile},
    {"auth-token", "AUTH_TOKEN", &ApplyAuthToken},
    {"access-log", "ACCESS_LOG", &ApplyAccessLog},
    {"max-connections", "MAX_CONNECTIONS", &ApplyMaxConnections},
    {"header-timeout-seconds", "HEADER_TIMEOUT_SECONDS", &ApplyHeaderTimeout},
    {"max-requests-per-connection", "MAX_REQUESTS_PER_CONNECTION", &ApplyMaxRequestsPerConnection},
}};

const OptionSpec* FindByFlag(std::string_view flag) {
  for (const OptionSpec& option : kOptions) {
    if (option.flag == flag) return &option;
  }
  return nullptr;
}

const OptionSpec* FindByEnv(std::string_view name) {
  for (const OptionSpec& option : kOptions) {
    if (option.env == name) return &option;
  }
  return nullptr;
}

std::size_t IndexOf(const OptionSpec* option) { return static_cast<std::size_t>(option - kOptions.data()); }

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

ConfigResult Error(std::string message) {
  ConfigResult result;
  result.action = ConfigResult::Action::kError;
  result.error = std::move(message);
  return result;
}

// Fills `settings` from the .env text; returns an error message or "".
std::string ReadDotEnv(std::string_view text, std::array<RawSetting, kOptions.size()>& settings) {
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);

    line = TrimSpaces(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = TrimSpaces(line.substr(7));
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return ".env line " + std::to_string(line_number) + ": expected KEY=VALUE";
    }
    const std::string_view key = TrimSpaces(line.substr(0, equals));
    std::string_view value = TrimSpaces(line.substr(equals + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    const OptionSpec* option = FindByEnv(key);
    if (option == nullptr || value.empty()) continue;
    settings[IndexOf(option)] = RawSetting{Source::kDotEnv, std::string(value)};
  }
  return {};
}

std::string Describe(const OptionSpec& option, Source source) {
  switch (source) {
    case Source::kFlag: return "--" + std::string(option.flag);
    case Source::kEnvironment: return std::string(option.env) + " (environment)";
    case Source::kDotEnv: return std::string(option.env) + " (.env)";
    case Source::kDefault: break;
  }
  return std::string(option.flag);
}

}  // namespace

ConfigResult ParseConfig(std::span<const std::string_view> args, const EnvLookup& env,
                         std::string_view dotenv_text, unsigned hardware_threads) {
  std::array<RawSetting, kOptions.size()> settings;

  if (std::string error = ReadDotEnv(dotenv_text, settings); !error.empty()) return Error(std::move(error));

  for (const OptionSpec& option : kOptions) {
    if (!env) break;
    std::optional<std::string> value = env(option.env);
    if (value && !value->empty()) settings[IndexOf(&option)] = RawSetting{Source::kEnvironment, std::move(*value)};
  }

  bool help = false, version = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      continue;
    }
    if (arg == "--version") {
      version = true;
      continue;
    }
    if (arg == "--auth-token" || arg.starts_with("--auth-token=")) {
      // A secret on the command line shows in `ps`; only the environment
      // variable or a file may carry it.
      return Error("pass the token in AUTH_TOKEN or with --auth-token-file, not on the command line");
    }
    if (!arg.starts_with("--")) {
      return Error("unexpected argument '" + std::string(arg) + "' (try --help)");
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> value;
    if (const std::size_t equals = name.find('='); equals != std::string_view::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }
    const OptionSpec* option = FindByFlag(name);
    if (option == nullptr) return Error("unknown option '--" + std::string(name) + "' (try --help)");
    if (!value) {
      if (i + 1 >= args.size()) return Error("option '--" + std::string(name) + "' needs a value");
      value = args[++i];
    }
    settings[IndexOf(option)] = RawSetting{Source::kFlag, std::string(*value)};
  }
  if (help || version) {
    ConfigResult result;
    result.action = help ? ConfigResult::Action::kHelp : ConfigResult::Action::kVersion;
    return result;
  }

  ConfigResult result;
  result.config.threads = hardware_threads == 0 ? 1 : hardware_threads;
  for (std::size_t i = 0; i < kOptions.size(); ++i) {
    if (settings[i].source == Source::kDefault) continue;
    const std::string problem = kOptions[i].apply(settings[i].value, result.config);
    if (!problem.empty()) {
      // Never echo a secret back (it would land in logs).
      const std::string shown = kOptions[i].flag == "auth-token" ? "" : " '" + settings[i].value + "'";
      return Error("invalid " + Describe(kOptions[i], settings[i].source) + shown + ": " + problem);
    }
  }
  return result;
}

std::string Usage() {
  return "usage: idrecon-server [--host H] [--port P] [--threads N] [--data-dir D] [--version]\n"
         "                      [--sync fsync|nosync] [--snapshot-every SPEC] [--log-max-mib M]\n"
         "                      [--max-body-bytes B] [--idle-timeout-seconds S] [--help]\n"
         "\n"
         "Serves the idrecon identity-reconciliation HTTP API (POST /identify,\n"
         "GET /contacts/{id}, GET /health).\n"
         "\n"
         "  --host H                  address to listen on        (HOST, default 127.0.0.1)\n"
         "  --port P                  TCP port; 0 picks a free one (PORT, default 3000)\n"
         "  --threads N               I/O threads                 (THREADS, default: CPU count)\n"
         "  --max-body-bytes B        largest request body        (MAX_BODY_BYTES, default 16384)\n"
         "  --idle-timeout-seconds S  idle keep-alive timeout     (IDLE_TIMEOUT_SECONDS, default 30)\n"
         "  --data-dir D              where the log and snapshots live (DATA_DIR, default ./data)\n"
         "  --sync fsync|nosync       fsync every commit, or leave it to the OS: a power loss\n"
         "                            may then lose recent changes (SYNC, default fsync)\n"
         "  --snapshot-every SPEC     snapshot after N changes and/or a time (300s, 5m, 1h),\n"
         "                            e.g. 1000000,300s; 'off' disables (SNAPSHOT_EVERY)\n"
         "  --log-max-mib M           largest the log may grow, in MiB (LOG_MAX_MIB, default 1048576)\n"
         "  --auth-token-file F       require 'Authorization: Bearer <token>' (token read from F;\n"
         "                            or AUTH_TOKEN=<token>); /health stays open\n"
         "  --access-log PATH         one logfmt line per request to PATH ('-' = stderr) (ACCESS_LOG)\n"
         "  --max-connections N       more get 503 and are closed (MAX_CONNECTIONS, default 10000)\n"
         "  --header-timeout-seconds S  a started request's header must arrive within S\n"
         "                            (HEADER_TIMEOUT_SECONDS, default 10)\n"
         "  --max-requests-per-connection N  then the connection is closed\n"
         "                            (MAX_REQUESTS_PER_CONNECTION, default 10000)\n"
         "  --version                 print the version and the commit it was built from\n"
         "  --help, -h                print this help and exit\n"
         "\n"
         "Flags take '--name value' or '--name=value'. Variables are read from the\n"
         "environment and from an optional .env file in the working directory;\n"
         "flags win over the environment, which wins over .env.\n";
}

std::string ReadOptionalFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return {};
  std::ostringstream contents;
  contents << file.rdbuf();
  return std::move(contents).str();
}

}  // namespace idrecon
