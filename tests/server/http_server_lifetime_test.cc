// HttpServer in this process (no binary): what happens to the connections
// still open when Run() has returned and the server is destroyed. Stop()
// leaves their sessions in the io_context; destroying it frees them, and
// each one's destructor leaves the server's session registry, so the
// registry must still exist then (under ASan a use after free aborts here).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>

#include "server/http_message.h"
#include "server/http_server.h"
#include "testing/http_client.h"

namespace idrecon::testing {
namespace {

HttpResponse Ok(const HttpRequest&) {
  HttpResponse response;
  response.body = R"({"ok":true})";
  return response;
}

TEST(HttpServerLifetimeTest, DestroyingAStoppedServerClosesItsOpenConnections) {
  std::optional<Connection> idle, mid_header;
  {
    HttpServerOptions options;
    options.threads = 2;
    HttpServer server(options, Ok, nullptr);
    ASSERT_TRUE(server.Start().ok());
    std::thread runner([&server] { server.Run(); });

    // A served keep-alive connection, waiting for its next request…
    idle.emplace(server.port());
    ASSERT_TRUE(idle->Send(Get("/health")));
    const std::optional<Response> r = idle->ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    // …and one in the middle of a header. Once the served one has had its
    // answer, both sessions are live; the half header is read before Stop.
    mid_header.emplace(server.port());
    ASSERT_TRUE(mid_header->Send("GET /health HTTP/1.1\r\nHost: te"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));

    server.Stop();
    runner.join();
  }  // ~HttpServer frees both sessions
  EXPECT_TRUE(idle->WaitForClose(kIoTimeout));
  EXPECT_TRUE(mid_header->WaitForClose(kIoTimeout));
}

}  // namespace
}  // namespace idrecon::testing
