// idrecon-null-server: the HTTP ceiling — the same transport as
// idrecon-server (HttpServer: listener, sessions, keep-alive, the same parser
// limits and response path) with a fixed /identify-shaped 200 body and no
// engine, no JSON parsing, no log. bench/run.sh measures it as the
// denominator of its ratios (bench/README.md). It lives in server/ because it
// is the server's transport; bench/ only runs it.
//
//   idrecon-null-server [--host H] [--port P] [--threads N]
//
// Prints the same ready line as idrecon-server (with its own name), e.g.
//   idrecon-null-server listening on http://127.0.0.1:40123 (threads 1)
// and serves until SIGINT/SIGTERM.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/http_server.h"

int main(int argc, char** argv) {
  idrecon::HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 1;
  options.stop_on_signals = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 < argc && a == "--host") {
      options.host = argv[++i];
    } else if (i + 1 < argc && a == "--port") {
      options.port = static_cast<std::uint16_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (i + 1 < argc && a == "--threads") {
      options.threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
      if (options.threads == 0) options.threads = 1;
    } else {
      std::fprintf(stderr, "usage: idrecon-null-server [--host H] [--port P] [--threads N]\n");
      return 2;
    }
  }
  // The size of a typical answer for a one-contact cluster.
  static const std::string kBody =
      R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":["lorraine@hillvalley.edu"],)"
      R"("phoneNumbers":["+15550123456"],"secondaryContactIds":[]}})";
  idrecon::RequestHandler handler = [](const idrecon::HttpRequest&) {
    idrecon::HttpResponse r;
    r.body = kBody;
    return r;
  };
  idrecon::HttpServer server(options, handler, nullptr);
  if (const idrecon::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "idrecon-null-server: %s\n", s.message().c_str());
    return 1;
  }
  std::string address = server.address();
  if (address.find(':') != std::string::npos) address = "[" + address + "]";
  std::printf("idrecon-null-server listening on http://%s:%u (threads %u)\n", address.c_str(),
              static_cast<unsigned>(server.port()), options.threads);
  std::fflush(stdout);
  server.Run();
  return 0;
}
