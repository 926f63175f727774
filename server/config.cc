#include "server/config.h"

#include <array>
#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <type_traits>

#include "engine/match_key.h"
#include "engine/status.h"

namespace idrecon {
namespace {

// Unsigned decimal in [min, max]; no sign, no spaces, no trailing bytes.
bool ParseUnsigned(std::string_view text, std::uint64_t min, std::uint64_t max, std::uint64_t* out) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return false;
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

// A whole number in [kMin, kMax] into config.*kField.
template <auto kField, std::uint64_t kMin, std::uint64_t kMax>
std::string ApplyNumber(std::string_view text, Config& config) {
  std::uint64_t value = 0;
  if (!ParseUnsigned(text, kMin, kMax, &value)) {
    return "must be a whole number from " + std::to_string(kMin) + " to " + std::to_string(kMax);
  }
  using Field = std::remove_reference_t<decltype(config.*kField)>;
  config.*kField = static_cast<Field>(value);
  return {};
}

template <auto kField>
std::string ApplyNonEmpty(std::string_view text, Config& config) {
  if (text.empty()) return "must not be empty";
  config.*kField = std::string(text);
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

// Both auth settings see their empty values (kEmptyIsSet): empty must not
// quietly mean "no authentication".
std::string ApplyAuthTokenFile(std::string_view text, Config& config) {
  if (text.empty()) return "is empty; name the file that holds the token, or leave it out to run without auth";
  config.auth_token_file = std::string(text);
  return {};
}

std::string ApplyAuthToken(std::string_view text, Config& config) {
  if (text.empty()) return "is empty; set a token of at least 16 characters, or unset it to run without auth";
  if (text.size() < 16) return "must be at least 16 characters";
  config.auth_token = std::string(text);
  return {};
}

std::string ApplyAccessLog(std::string_view text, Config& config) {
  config.access_log = std::string(text);
  return {};
}

std::string ApplyNormalize(std::string_view text, Config& config) {
  if (text == "on" || text == "off") {
    config.normalize = text == "on";
    return {};
  }
  return "must be 'on' or 'off'";
}

std::string ApplyDefaultRegion(std::string_view text, Config& config) {
  if (Status s = ParseRegion(text, &config.default_region); !s.ok()) return "is not valid: " + s.message();
  return {};
}


// Option traits.
constexpr unsigned kEnvOnly = 1;     // no flag: a secret must not show in `ps`
constexpr unsigned kSecret = 2;      // never echoed in a message
constexpr unsigned kEmptyIsSet = 4;  // an empty variable is a value, not "unset"

struct OptionSpec {
  std::string_view flag;        // without the leading "--"
  std::string_view value_name;  // "H" in "--host H"
  std::string_view env;         // IDRECON_<FLAG>
  std::string_view alias_env;   // a second name, lower in its source; may be empty
  // Parsed like any value when nothing else sets the option; empty: the
  // field keeps its zero value, described by default_text.
  std::string_view default_value;
  std::string_view default_text;  // for --help when default_value is empty
  std::string_view help;
  // Parses `text` into `config`; returns an error fragment ("must be ...") or
  // an empty string on success.
  std::string (*apply)(std::string_view text, Config& config);
  unsigned traits = 0;
};

// The one list of options: ParseConfig reads it and Usage() prints it.
constexpr std::array kOptions = {
    OptionSpec{"host", "H", "IDRECON_HOST", "", "127.0.0.1", "", "address to listen on", &ApplyNonEmpty<&Config::host>},
    OptionSpec{"port", "P", "IDRECON_PORT", "PORT", "3000", "",
               "TCP port; 0 picks a free one (the ready line says which)", &ApplyNumber<&Config::port, 0, 65535>},
    OptionSpec{"threads", "N", "IDRECON_THREADS", "", "", "the CPU count", "I/O threads, 1 to 1024", &ApplyNumber<&Config::threads, 1, 1024>},
    OptionSpec{"data-dir", "D", "IDRECON_DATA_DIR", "", "./data", "",
               "where the log and snapshots live; created if missing; one server per directory", &ApplyNonEmpty<&Config::data_dir>},
    OptionSpec{"sync", "fsync|nosync", "IDRECON_SYNC", "", "fsync", "",
               "fsync every commit, or leave it to the OS: a power loss may then lose recent changes", &ApplySync},
    OptionSpec{"snapshot-every", "WHEN", "IDRECON_SNAPSHOT_EVERY", "", "1000000,300s", "",
               "snapshot after N changes and/or a time (300s, 5m, 1h), e.g. 1000000,300s; 'off' disables",
               &ApplySnapshotEvery},
    OptionSpec{"log-max-mib", "M", "IDRECON_LOG_MAX_MIB", "", "1048576", "",
               "the most the log's memory map may grow to, in MiB", &ApplyNumber<&Config::log_max_mib, 1, std::uint64_t{1} << 24>},
    OptionSpec{"max-body-bytes", "B", "IDRECON_MAX_BODY_BYTES", "", "16384", "",
               "largest request body; a larger one gets 413", &ApplyNumber<&Config::max_body_bytes, 1, std::uint64_t{1} << 30>},
    OptionSpec{"idle-timeout-seconds", "S", "IDRECON_IDLE_TIMEOUT_SECONDS", "", "30", "",
               "keep-alive idle timeout between requests", &ApplyNumber<&Config::idle_timeout_seconds, 1, 86400>},
    OptionSpec{"header-timeout-seconds", "S", "IDRECON_HEADER_TIMEOUT_SECONDS", "", "10", "",
               "a started request's header (and each body read) must arrive within S", &ApplyNumber<&Config::header_timeout_seconds, 1, 3600>},
    OptionSpec{"max-connections", "N", "IDRECON_MAX_CONNECTIONS", "", "10000", "",
               "more connections get 503 and are closed", &ApplyNumber<&Config::max_connections, 1, 1000000>},
    OptionSpec{"max-requests-per-connection", "N", "IDRECON_MAX_REQUESTS_PER_CONNECTION", "", "10000", "",
               "then the connection is closed", &ApplyNumber<&Config::max_requests_per_connection, 1, std::uint64_t{1} << 40>},
    OptionSpec{"auth-token-file", "F", "IDRECON_AUTH_TOKEN_FILE", "", "", "none",
               "require 'Authorization: Bearer <token>' on every endpoint but /health, the token read from F",
               &ApplyAuthTokenFile, kEmptyIsSet},
    OptionSpec{"auth-token", "T", "IDRECON_AUTH_TOKEN", "", "", "none",
               "the token itself (at least 16 characters), instead of a file", &ApplyAuthToken,
               kEnvOnly | kSecret | kEmptyIsSet},
    OptionSpec{"access-log", "PATH", "IDRECON_ACCESS_LOG", "", "", "off",
               "one logfmt line per request to PATH ('-' = stderr)", &ApplyAccessLog},
    OptionSpec{"normalize", "on|off", "IDRECON_NORMALIZE", "", "", "the data directory's setting",
               "match emails case-insensitively and phones by E.164 form; chosen when the directory is created",
               &ApplyNormalize},
    OptionSpec{"default-region", "CC", "IDRECON_DEFAULT_REGION", "", "", "none",
               "with --normalize on: the region of phone numbers without a country code (IN, US, ...)",
               &ApplyDefaultRegion},
    OptionSpec{"guard-file", "F", "IDRECON_GUARD_FILE", "", "", "none",
               "values that must never join people, one a line: email:V or phone:V ('#' comments); read at start",
               &ApplyNonEmpty<&Config::guard_file>},
    OptionSpec{"guard-max-contacts", "N", "IDRECON_GUARD_MAX_CONTACTS", "", "0", "",
               "guard a value once N live contacts carry it; 0 = off",
               &ApplyNumber<&Config::guard_max_contacts, 0, 4294967295u>},
    OptionSpec{"guard-max-cluster", "M", "IDRECON_GUARD_MAX_CLUSTER", "", "0", "",
               "refuse (409) a merge of clusters with more than M live contacts together; 0 = off",
               &ApplyNumber<&Config::guard_max_cluster, 0, 4294967295u>},
};

// The unprefixed names that are not warned about: set by shells for their
// own use (tcsh's HOST).
constexpr std::string_view kIgnoredUnprefixed[] = {"HOST"};

// Where a raw setting came from; names the source in error messages.
enum class Source { kDefault, kDotEnv, kEnvironment, kFlag };

struct RawSetting {
  Source source = Source::kDefault;
  bool by_alias = false;   // set through alias_env (loses to env in the same source)
  std::string_view name;   // the variable or flag it was read from
  std::string value;
};

using Settings = std::array<RawSetting, kOptions.size()>;

const OptionSpec* FindByFlag(std::string_view flag) {
  for (const OptionSpec& option : kOptions) {
    if (option.flag == flag) return &option;
  }
  return nullptr;
}

std::size_t IndexOf(const OptionSpec* option) { return static_cast<std::size_t>(option - kOptions.data()); }

std::string_view Unprefixed(const OptionSpec& option) { return option.env.substr(std::string_view("IDRECON_").size()); }

bool WarnsUnprefixed(const OptionSpec& option) {
  const std::string_view name = Unprefixed(option);
  if (name == option.alias_env) return false;  // PORT is read
  for (std::string_view ignored : kIgnoredUnprefixed) {
    if (name == ignored) return false;
  }
  return true;
}

// Records `value` from variable `name` of `source` when it is one of ours.
// Returns false when `name` is no option's variable.
bool SetFromVariable(Settings& settings, std::string_view name, std::string_view value, Source source) {
  for (const OptionSpec& option : kOptions) {
    const bool primary = name == option.env;
    if (!primary && (option.alias_env.empty() || name != option.alias_env)) continue;
    if (value.empty() && (option.traits & kEmptyIsSet) == 0) return true;  // empty counts as unset
    RawSetting& setting = settings[IndexOf(&option)];
    if (!primary && setting.source == source && !setting.by_alias) return true;  // the prefixed name wins
    setting = RawSetting{source, !primary, primary ? option.env : option.alias_env, std::string(value)};
    return true;
  }
  return false;
}

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

std::string NotReadWarning(std::string_view name, std::string_view where, const OptionSpec& option) {
  return std::string(name) + " is set" + std::string(where) + " but not read; the variable is " +
         std::string(option.env);
}

// Fills `settings` from the .env text and warns about unprefixed names;
// returns an error message or "".
std::string ReadDotEnv(std::string_view text, Settings& settings, std::vector<std::string>* warnings) {
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
    if (SetFromVariable(settings, key, value, Source::kDotEnv)) continue;
    for (const OptionSpec& option : kOptions) {
      if (key == Unprefixed(option) && WarnsUnprefixed(option) && !value.empty()) {
        warnings->push_back(NotReadWarning(key, " in .env", option));
      }
    }
  }
  return {};
}

void ReadEnvironment(const EnvLookup& env, Settings& settings, std::vector<std::string>* warnings) {
  if (!env) return;
  for (const OptionSpec& option : kOptions) {
    // The alias first, so the prefixed name (read second) replaces it.
    for (std::string_view name : {option.alias_env, option.env}) {
      if (name.empty()) continue;
      if (std::optional<std::string> value = env(name)) SetFromVariable(settings, name, *value, Source::kEnvironment);
    }
    if (!WarnsUnprefixed(option)) continue;
    if (std::optional<std::string> value = env(Unprefixed(option)); value && !value->empty()) {
      warnings->push_back(NotReadWarning(Unprefixed(option), " in the environment", option));
    }
  }
}

std::string Describe(const RawSetting& setting) {
  switch (setting.source) {
    case Source::kFlag: return "--" + std::string(setting.name);
    case Source::kEnvironment: return std::string(setting.name) + " (environment)";
    case Source::kDotEnv: return std::string(setting.name) + " (.env)";
    case Source::kDefault: break;
  }
  return "default " + std::string(setting.name);
}

}  // namespace

ConfigResult ParseConfig(std::span<const std::string_view> args, const EnvLookup& env,
                         std::string_view dotenv_text, unsigned hardware_threads) {
  Settings settings;
  for (std::size_t i = 0; i < kOptions.size(); ++i) {
    settings[i] = RawSetting{Source::kDefault, false, kOptions[i].flag, std::string(kOptions[i].default_value)};
  }
  std::vector<std::string> warnings;
  if (std::string error = ReadDotEnv(dotenv_text, settings, &warnings); !error.empty()) return Error(std::move(error));
  ReadEnvironment(env, settings, &warnings);

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
    if ((option->traits & kEnvOnly) != 0) {
      return Error("--" + std::string(name) + " is not an option: a command line shows in `ps`; set " +
                   std::string(option->env) + " or use --auth-token-file");
    }
    if (!value) {
      if (i + 1 >= args.size()) return Error("option '--" + std::string(name) + "' needs a value");
      value = args[++i];
    }
    settings[IndexOf(option)] = RawSetting{Source::kFlag, false, option->flag, std::string(*value)};
  }
  if (help || version) {
    ConfigResult result;
    result.action = help ? ConfigResult::Action::kHelp : ConfigResult::Action::kVersion;
    return result;
  }

  ConfigResult result;
  result.config.threads = hardware_threads == 0 ? 1 : hardware_threads;
  for (std::size_t i = 0; i < kOptions.size(); ++i) {
    const RawSetting& setting = settings[i];
    if (setting.source == Source::kDefault && setting.value.empty()) continue;  // no default value
    const std::string problem = kOptions[i].apply(setting.value, result.config);
    if (!problem.empty()) {
      // Never echo a secret back (it would land in logs).
      const std::string shown = (kOptions[i].traits & kSecret) != 0 ? "" : " '" + setting.value + "'";
      return Error("invalid " + Describe(setting) + shown + ": " + problem);
    }
  }
  if (!result.config.default_region.empty() && result.config.normalize != true) {
    return Error("--default-region needs --normalize on");
  }
  result.warnings = std::move(warnings);
  return result;
}

namespace {

constexpr std::size_t kHelpColumn = 32;
constexpr std::size_t kWidth = 79;

// Appends `text` word-wrapped from column kHelpColumn; the current line of
// *out already holds `used` characters.
void AppendWrapped(std::string_view text, std::size_t used, std::string* out) {
  if (used >= kHelpColumn) {
    *out += '\n';
    used = 0;
  }
  out->append(kHelpColumn - used, ' ');
  std::size_t column = kHelpColumn;
  bool first = true;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (!first && column + 1 + word.size() > kWidth) {
      *out += '\n';
      out->append(kHelpColumn, ' ');
      column = kHelpColumn;
      first = true;
    }
    if (!first) {
      *out += ' ';
      ++column;
    }
    out->append(word);
    column += word.size();
    first = false;
  }
  *out += '\n';
}

void AppendOptionHelp(const OptionSpec& option, std::string* out) {
  std::string left = "  ";
  if ((option.traits & kEnvOnly) != 0) {
    left += std::string(option.env) + "=" + std::string(option.value_name);
  } else {
    left += "--" + std::string(option.flag) + " " + std::string(option.value_name);
  }
  *out += left;
  AppendWrapped(option.help, left.size(), out);
  std::string where;
  if ((option.traits & kEnvOnly) == 0) {
    where = std::string(option.env);
    if (!option.alias_env.empty()) where += " or " + std::string(option.alias_env);
    where += "; ";
  }
  where += "default ";
  where += option.default_value.empty() ? option.default_text : option.default_value;
  AppendWrapped("(" + where + ")", 0, out);
}

}  // namespace

std::string Usage() {
  std::string out =
      "usage: idrecon-server [options]\n"
      "\n"
      "Serves the idrecon identity-reconciliation HTTP API (POST /identify,\n"
      "GET /contacts/{id}, GET /health, GET /metrics).\n"
      "\n"
      "Options, each with the variable it is also read from and its default:\n";
  for (const OptionSpec& option : kOptions) AppendOptionHelp(option, &out);
  out +=
      "  --version                     print the version and the commit built from\n"
      "  --help, -h                    print this help and exit\n"
      "\n"
      "Flags take '--name value' or '--name=value'. Variables are read from the\n"
      "environment and from an optional .env file in the working directory;\n"
      "flags win over the environment, which wins over .env; IDRECON_PORT wins\n"
      "over PORT. An empty variable counts as unset, except IDRECON_AUTH_TOKEN and\n"
      "IDRECON_AUTH_TOKEN_FILE: empty, they are an error.\n";
  return out;
}

std::string ReadOptionalFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return {};
  std::ostringstream contents;
  contents << file.rdbuf();
  return std::move(contents).str();
}

}  // namespace idrecon
