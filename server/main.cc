// idrecon-server: parses the configuration, recovers the engine from the
// data directory (snapshot + log), and serves HTTP until SIGINT/SIGTERM, then
// finishes in-flight requests and commits the log. Exit status: 0 after a clean stop or --help,
// 2 for a bad flag, value or host, 1 when the server cannot start.

#include <algorithm>
#include <chrono>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <exception>
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
#include "server/config.h"
#include "server/http_server.h"
#include "server/service_context.h"

namespace {

int RunServer(int argc, char** argv) {
  using idrecon::ConfigResult;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto env = [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  const ConfigResult parsed =
      idrecon::ParseConfig(args, env, idrecon::ReadOptionalFile(".env"), std::thread::hardware_concurrency());
  switch (parsed.action) {
    case ConfigResult::Action::kHelp:
      std::fputs(idrecon::Usage().c_str(), stdout);
      return 0;
    case ConfigResult::Action::kError:
      std::fprintf(stderr, "idrecon-server: %s\n", parsed.error.c_str());
      return 2;
    case ConfigResult::Action::kRun:
      break;
  }
  const idrecon::Config& config = parsed.config;
  using idrecon::Status;

  // The data directory: claim it, open the log, rebuild the state.
  std::unique_ptr<idrecon::DataDir> data_dir;
  if (Status s = idrecon::DataDir::Open(config.data_dir, &data_dir); !s.ok()) {
    std::fprintf(stderr, "idrecon-server: %s\n", s.message().c_str());
    return 1;
  }
  idrecon::MutationLog::Options log_options;
  log_options.sync = config.sync;
  log_options.max_map_bytes = static_cast<std::size_t>(config.log_max_mib) << 20;
  log_options.initial_map_bytes = std::min(log_options.initial_map_bytes, log_options.max_map_bytes);
  std::unique_ptr<idrecon::MutationLog> log;
  if (Status s = idrecon::MutationLog::Open(data_dir->log_dir(), log_options, &log); !s.ok()) {
    std::fprintf(stderr, "idrecon-server: %s\n", s.message().c_str());
    return 1;
  }
  idrecon::LogWriter writer(log.get());
  auto make_engine = [](idrecon::ChangeSink* sink) {
    return [sink] {
      idrecon::Engine::Options options;
      options.clock = &idrecon::SystemClock::Instance();
      options.sink = sink;
      return std::make_unique<idrecon::Engine>(options);
    };
  };
  std::unique_ptr<idrecon::Engine> engine;
  idrecon::RecoveryReport report;
  if (Status s = idrecon::Recover(config.data_dir, *log, make_engine(&writer), &engine, &report); !s.ok()) {
    std::fprintf(stderr, "idrecon-server: cannot recover %s: %s\n", config.data_dir.c_str(), s.ToString().c_str());
    return 1;
  }
  for (const std::string& warning : report.warnings) std::fprintf(stderr, "idrecon-server: warning: %s\n", warning.c_str());
  std::fprintf(stderr,
               "idrecon-server: recovered %zu contacts in %zu clusters from %s (snapshot seq %llu) + %llu log "
               "records in %.3f s; sync=%s\n",
               engine->contact_count(), engine->cluster_count(),
               report.snapshot.path.empty() ? "no snapshot" : report.snapshot.path.c_str(),
               static_cast<unsigned long long>(report.snapshot.last_seq),
               static_cast<unsigned long long>(report.replayed), report.seconds, config.sync ? "fsync" : "nosync");
  writer.Start(report.last_seq);

  idrecon::Checkpointer::Options checkpoint_options;
  checkpoint_options.every_changes = config.snapshot_every_changes;
  checkpoint_options.every_seconds = config.snapshot_every_seconds;
  idrecon::Checkpointer checkpointer(config.data_dir, log.get(), &writer, make_engine(nullptr), checkpoint_options);
  checkpointer.Start();

  idrecon::ServiceContext context{*engine, &writer};

  idrecon::HttpServerOptions server_options;
  server_options.host = config.host;
  server_options.port = config.port;
  server_options.threads = config.threads;
  server_options.max_body_bytes = config.max_body_bytes;
  server_options.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  server_options.stop_on_signals = true;
  idrecon::HttpServer server(server_options, context);
  if (const Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "idrecon-server: %s\n", s.message().c_str());
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
  if (!flushed.ok()) {
    std::fprintf(stderr, "idrecon-server: the log failed: %s\n", flushed.ToString().c_str());
    return 1;
  }
  const idrecon::LogWriter::Stats stats = writer.stats();
  std::fprintf(stderr,
               "idrecon-server: stopped; log durable through seq %llu; %llu changes in %llu commits "
               "(%.2f per commit, mean commit %.3f ms)\n",
               static_cast<unsigned long long>(writer.durable_seq()), static_cast<unsigned long long>(stats.changes),
               static_cast<unsigned long long>(stats.commits),
               stats.commits ? static_cast<double>(stats.changes) / static_cast<double>(stats.commits) : 0.0,
               stats.commits ? static_cast<double>(stats.commit_micros) / 1000.0 / static_cast<double>(stats.commits)
                             : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return RunServer(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "idrecon-server: fatal: %s\n", e.what());
    return 1;
  }
}
