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
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/clock.h"
#include "engine/engine.h"
#include "persistence/checkpointer.h"
#include "persistence/data_dir.h"
#include "persistence/log_writer.h"
#include "persistence/mutation_log.h"
#include "persistence/recovery.h"
#include "persistence/snapshot.h"
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
  const int fd = ::open(config.access_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) log.Error("cannot open the access log", {{"path", config.access_log}});
  return fd;
}

std::chrono::system_clock::time_point FileTime(const std::string& path) {
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtime));
}

int Serve(const Config& config, const Logger& log) {
  std::string auth_token;
  if (!LoadAuthToken(config, log, &auth_token)) return 2;
  const int access_fd = OpenAccessLog(config, log);
  if (!config.access_log.empty() && access_fd < 0) return 1;
  const Logger access_log(access_fd < 0 ? 2 : access_fd);

  // The data directory: claim it, open the log, rebuild the state.
  std::unique_ptr<idrecon::DataDir> data_dir;
  if (Status s = idrecon::DataDir::Open(config.data_dir, &data_dir); !s.ok()) {
    log.Error(s.message(), {{"data_dir", config.data_dir}});
    return 1;
  }
  int stale = 0;
  if (Status s = idrecon::RemoveSnapshotTemporaries(config.data_dir, &stale); !s.ok()) {
    log.Warn("cannot remove a stale snapshot temporary", {{"error", s.ToString()}});
  } else if (stale > 0) {
    log.Info("removed snapshot temporaries left by a crash", {{"count", stale}});
  }
  idrecon::MutationLog::Options log_options;
  log_options.sync = config.sync;
  // One device flush per commit instead of two; the writer acknowledges a
  // commit once the next sync has completed (see MutationLog).
  log_options.defer_meta_sync = true;
  log_options.max_map_bytes = static_cast<std::size_t>(config.log_max_mib) << 20;
  log_options.initial_map_bytes = std::min(log_options.initial_map_bytes, log_options.max_map_bytes);
  std::unique_ptr<idrecon::MutationLog> mutation_log;
  if (Status s = idrecon::MutationLog::Open(data_dir->log_dir(), log_options, &mutation_log); !s.ok()) {
    log.Error("cannot open the mutation log", {{"error", s.ToString()}});
    return 1;
  }
  idrecon::LogWriter writer(mutation_log.get());
  // bench/ measured both (DESIGN.md asks): on 2 cores one coarse engine lock
  // beats 1024 stripes (cache misses dominate, contention is low); with more
  // cores the stripes let requests on different clusters run in parallel.
  const std::size_t lock_stripes = std::thread::hardware_concurrency() <= 2 ? 1 : 1024;
  // Startup recovery may use every core to load the snapshot; the
  // checkpointer's private engine (built in the background while serving)
  // uses one.
  auto make_engine = [lock_stripes](idrecon::ChangeSink* sink, unsigned restore_threads) {
    return [sink, lock_stripes, restore_threads] {
      idrecon::Engine::Options options;
      options.clock = &idrecon::SystemClock::Instance();
      options.sink = sink;
      options.lock_stripes = lock_stripes;
      options.restore_threads = restore_threads;
      return std::make_unique<idrecon::Engine>(options);
    };
  };
  std::unique_ptr<idrecon::Engine> engine;
  idrecon::RecoveryReport report;
  if (Status s = idrecon::Recover(config.data_dir, *mutation_log,
                                   make_engine(&writer, std::max(1u, std::thread::hardware_concurrency())), &engine,
                                   &report); !s.ok()) {
    log.Error("cannot recover the data directory", {{"data_dir", config.data_dir}, {"error", s.ToString()}});
    return 1;
  }
  for (const std::string& warning : report.warnings) log.Warn(warning);
  log.Info("recovered", {{"contacts", engine->contact_count()},
                         {"clusters", engine->cluster_count()},
                         {"snapshot", report.snapshot.path.empty() ? "none" : report.snapshot.path},
                         {"snapshot_seq", report.snapshot.last_seq},
                         {"replayed", report.replayed},
                         {"seconds", Fixed(report.seconds)},
                         {"sync", config.sync ? "fsync" : "nosync"}});
  // nosync commits only reach the page cache (~15 µs): the I/O threads
  // make them themselves rather than hand each change to the writer thread.
  writer.SetCallerCommits(!config.sync);
  writer.Start(report.last_seq);

  idrecon::Checkpointer::Options checkpoint_options;
  checkpoint_options.every_changes = config.snapshot_every_changes;
  checkpoint_options.every_seconds = config.snapshot_every_seconds;
  checkpoint_options.on_checkpoint = [&log](const Status& s, idrecon::Seq seq) {
    if (s.ok()) {
      log.Info("snapshot written", {{"seq", seq}});
    } else {
      log.Error("snapshot failed; the log keeps every change, a later checkpoint retries", {{"error", s.ToString()}});
    }
  };
  idrecon::Checkpointer checkpointer(config.data_dir, mutation_log.get(), &writer, make_engine(nullptr, 1),
                                     checkpoint_options);
  checkpointer.Start();

  idrecon::ServiceMetrics metrics(engine.get(), &writer, &checkpointer, FileTime(report.snapshot.path));
  idrecon::ServiceContext context{*engine, &writer, &metrics, auth_token};

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
  // whatever the engine handed the log, then stop the checkpointer.
  checkpointer.Stop();
  const Status flushed = writer.Stop();
  if (access_fd > 2) ::close(access_fd);
  if (!flushed.ok()) {
    log.Error("stopped; the log failed", {{"error", flushed.ToString()}});
    return 1;
  }
  const idrecon::LogWriter::Stats stats = writer.stats();
  const double commits = static_cast<double>(stats.commits);
  log.Info("stopped", {{"durable_seq", writer.durable_seq()},
                       {"changes", stats.changes},
                       {"commits", stats.commits},
                       {"meta_syncs", stats.meta_syncs},
                       {"changes_per_commit", Fixed(commits > 0 ? static_cast<double>(stats.changes) / commits : 0, 2)},
                       {"mean_commit_ms", Fixed(commits > 0 ? static_cast<double>(stats.commit_micros) / 1000 / commits : 0)}});
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
