// idrecon-server: parses the configuration, builds the engine and serves
// HTTP until SIGINT/SIGTERM. Exit status: 0 after a clean stop or --help,
// 2 for a bad flag, value or host, 1 when the server cannot start.

#include <chrono>
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

  idrecon::Engine::Options engine_options;
  engine_options.clock = &idrecon::SystemClock::Instance();
  idrecon::Engine engine(engine_options);
  idrecon::ServiceContext context{engine};

  idrecon::HttpServerOptions server_options;
  server_options.host = config.host;
  server_options.port = config.port;
  server_options.threads = config.threads;
  server_options.max_body_bytes = config.max_body_bytes;
  server_options.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  server_options.stop_on_signals = true;
  idrecon::HttpServer server(server_options, context);
  if (const idrecon::Status s = server.Start(); !s.ok()) {
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
