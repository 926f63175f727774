// idrecon-server: parses the configuration, recovers the engine from the
// data directory (snapshot + log), and serves HTTP until SIGINT/SIGTERM, then
// finishes in-flight requests and commits the log.
//
// Exit status: 0 after a clean stop, --help or --version; 2 for a bad flag,
// value or host; 1 when the server cannot start or the log failed.
// stdout carries exactly one line, the ready line; everything else is
// logfmt on stderr (and the optional access log).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/guard_file.h"
#include "engine/engine.h"
#include "persistence/database.h"
#include "server/auth_token.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/logger.h"
#include "server/metrics.h"
#include "server/service_context.h"
#include "server/version.h"

namespace {

using idrecon::Config;
using idrecon::LoadAuthToken;
using idrecon::Logger;
using idrecon::Status;

std::string Fixed(double v, int digits = 3) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

// The access log's file descriptor: -1 off, 2 stderr, else an opened file.
int OpenAccessLog(const Config& config, const Logger& log) {
  if (config.access_log.empty()) return -1;
  if (config.access_log == "-") return 2;
  // Request paths carry contact ids: owner-only, whatever the umask.
  const int fd = ::open(config.access_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    log.Error("cannot open the access log", {{"path", config.access_log}});
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

int Serve(const Config& config, const Logger& log) {
  std::string auth_token;
  if (!LoadAuthToken(config, log, &auth_token)) return 2;
  const int access_fd = OpenAccessLog(config, log);
  if (!config.access_log.empty() && access_fd < 0) return 1;
  const Logger access_log(access_fd < 0 ? 2 : access_fd);

  // The data directory: claim it, open the log, rebuild the state, start
  // the log writer and the checkpointer.
  idrecon::DatabaseOptions options;
  options.sync = config.sync;
  options.max_map_bytes = static_cast<std::size_t>(config.log_max_mib) << 20;
  // bench/ measured both (docs/architecture.md): on 2 cores one coarse
  // engine lock beats 1024 stripes (cache misses dominate, contention is
  // low); with more cores the stripes let requests on different clusters
  // run in parallel.
  options.engine.lock_stripes = std::thread::hardware_concurrency() <= 2 ? 1 : 1024;
  // Startup recovery may use every core to load the snapshot.
  options.engine.restore_threads = std::max(1u, std::thread::hardware_concurrency());
  options.checkpoints.every_changes = config.snapshot_every_changes;
  options.checkpoints.every_seconds = config.snapshot_every_seconds;
  options.checkpoints.on_checkpoint = [&log](const Status& s, idrecon::Seq seq) {
    if (s.ok()) {
      log.Info("snapshot written", {{"seq", seq}});
    } else {
      log.Error("snapshot failed; the log keeps every change, a later checkpoint retries", {{"error", s.ToString()}});
    }
  };
  // The one place the storage error's detail is written (/health says only
  // "storage error" to unauthenticated callers).
  options.log_writer.on_failure = [&log](const Status& s) {
    log.Error("storage error: changes are refused with 503 until a restart recovers from disk",
              {{"error", s.ToString()}});
  };
  if (config.normalize) {
    options.normalization = idrecon::NormalizationSettings{*config.normalize, config.default_region};
  }
  options.engine.guard.max_contacts = config.guard_max_contacts;
  options.engine.guard.max_cluster = config.guard_max_cluster;
  if (!config.guard_file.empty()) {
    std::ifstream in(config.guard_file, std::ios::binary);
    if (!in) {
      log.Error("cannot read the guard file", {{"path", config.guard_file}, {"error", std::strerror(errno)}});
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::vector<idrecon::GuardFileEntry> entries;
    if (Status s = idrecon::ParseGuardFile(text.str(), &entries); !s.ok()) {
      log.Error(s.message(), {{"path", config.guard_file}});
      return 2;
    }
    for (idrecon::GuardFileEntry& e : entries) options.file_guards.emplace_back(e.field, std::move(e.value));
  }
  std::unique_ptr<idrecon::Database> db;
  if (Status s = idrecon::Database::Open(config.data_dir, options, &db); !s.ok()) {
    log.Error(s.message(), {{"data_dir", config.data_dir}});
    // A setting that contradicts the directory is the command line's fault.
    return s.IsInvalidArgument() ? 2 : 1;
  }
  const idrecon::RecoveryReport& report = db->recovery();
  if (report.removed_temporaries > 0) {
    log.Info("removed snapshot temporaries left by a crash", {{"count", report.removed_temporaries}});
  }
  for (const std::string& warning : report.warnings) log.Warn(warning);
  idrecon::Engine& engine = *db->engine();
  log.Info("recovered", {{"contacts", engine.contact_count()},
                         {"clusters", engine.cluster_count()},
                         {"snapshot", report.snapshot.path.empty() ? "none" : report.snapshot.path},
                         {"snapshot_seq", report.snapshot.last_seq},
                         {"replayed", report.replayed},
                         {"seconds", Fixed(report.seconds)},
                         {"sync", config.sync ? "fsync" : "nosync"},
                         {"normalize", idrecon::Describe(db->normalization())}});

  idrecon::ServiceMetrics metrics(&engine, db.get());
  idrecon::ServiceContext context{engine, db->durability(), &metrics, auth_token};

  idrecon::HttpServerOptions server_options;
  server_options.host = config.host;
  server_options.port = config.port;
  server_options.threads = config.threads;
  server_options.max_body_bytes = config.max_body_bytes;
  server_options.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  server_options.header_timeout = std::chrono::seconds(config.header_timeout_seconds);
  server_options.max_connections = config.max_connections;
  server_options.max_requests_per_connection = config.max_requests_per_connection;
  server_options.stop_on_signals = true;
  const bool access_on = access_fd >= 0;
  server_options.on_response = [&metrics, &access_log, access_on](const idrecon::ResponseRecord& r) {
    metrics.requests().Observe(r.endpoint, r.status, r.latency);
    if (!access_on) return;
    // The path without its query string: a query could carry personal data.
    std::string_view path = r.target.substr(0, r.target.find('?'));
    access_log.Info("request", {{"method", r.method},
                                {"path", path},
                                {"status", r.status},
                                {"bytes", r.body_bytes},
                                {"us", static_cast<long long>(r.latency.count() / 1000)}});
  };
  idrecon::HttpServer server(server_options, context);
  if (const Status s = server.Start(); !s.ok()) {
    log.Error(s.message());
    return s.IsInvalidArgument() ? 2 : 1;
  }

  std::string address = server.address();
  if (address.find(':') != std::string::npos) address = "[" + address + "]";  // IPv6 literal
  // The one ready line: scripts and tests wait for it and read the port from it.
  std::printf("idrecon-server listening on http://%s:%u (threads %u)\n", address.c_str(),
              static_cast<unsigned>(server.port()), config.threads);
  std::fflush(stdout);

  server.Run();
  // In-flight requests are answered (or the grace period passed). Commit
  // whatever the engine handed the log, then stop.
  const Status flushed = db->Close();
  if (access_fd > 2) ::close(access_fd);
  if (!flushed.ok()) {
    log.Error("stopped; the log failed", {{"error", flushed.ToString()}});
    return 1;
  }
  const idrecon::DatabaseStats stats = db->stats();
  const double commits = static_cast<double>(stats.commits.commits);
  log.Info("stopped",
           {{"durable_seq", stats.durable_seq},
            {"changes", stats.commits.changes},
            {"commits", stats.commits.commits},
            {"meta_syncs", stats.commits.meta_syncs},
            {"changes_per_commit", Fixed(commits > 0 ? static_cast<double>(stats.commits.changes) / commits : 0, 2)},
            {"mean_commit_ms", Fixed(commits > 0 ? static_cast<double>(stats.commits.commit_micros) / 1000 / commits : 0)}});
  return 0;
}

int Main(int argc, char** argv) {
  using idrecon::ConfigResult;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto env = [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  const ConfigResult parsed =
      idrecon::ParseConfig(args, env, idrecon::ReadOptionalFile(".env"), std::thread::hardware_concurrency());
  const Logger log;
  switch (parsed.action) {
    case ConfigResult::Action::kHelp:
      std::fputs(idrecon::Usage().c_str(), stdout);
      return 0;
    case ConfigResult::Action::kVersion:
      std::printf("idrecon-server %s (commit %s)\n", idrecon::kVersion, idrecon::kGitCommit);
      return 0;
    case ConfigResult::Action::kError:
      std::fprintf(stderr, "idrecon-server: %s\n", parsed.error.c_str());
      return 2;
    case ConfigResult::Action::kRun:
      break;
  }
  for (const std::string& warning : parsed.warnings) log.Warn(warning);
  return Serve(parsed.config, log);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "idrecon-server: fatal: %s\n", e.what());
    return 1;
  }
}
