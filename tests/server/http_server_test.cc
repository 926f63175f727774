// Starts the real idrecon-server binary on an ephemeral port and talks HTTP/1.1
// to it over a plain POSIX socket. Every wait is bounded, so a hung server
// fails the test instead of hanging CI.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "testing/http_client.h"
#include "testing/server_process.h"

namespace idrecon::testing {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kRow1 = R"({"email":"lorraine@hillvalley.edu","phoneNumber":"123456"})";
constexpr std::string_view kRow1Response =
    R"({"contact":{"primaryContatctId":1,"primaryContactId":1,"emails":["lorraine@hillvalley.edu"],)"
    R"("phoneNumbers":["123456"],"secondaryContactIds":[]}})";
constexpr std::string_view kRow2 = R"({"email":"mcfly@hillvalley.edu","phoneNumber":123456})";
constexpr std::string_view kRow2Response =
    R"({"contact":{"primaryContatctId":1,"primaryContactId":1,)"
    R"("emails":["lorraine@hillvalley.edu","mcfly@hillvalley.edu"],)"
    R"("phoneNumbers":["123456"],"secondaryContactIds":[2]}})";

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {"--host", "127.0.0.1", "--port", "0", "--threads", "2",
                                     "--max-body-bytes", "16384", "--idle-timeout-seconds", "30"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::string error;
    ASSERT_TRUE(server_.Start(args, &error)) << error;
    // "idrecon-server listening on http://127.0.0.1:43123 (threads 2)"
    ASSERT_TRUE(server_.ready_line().ends_with(" (threads 2)")) << server_.ready_line();
    port_ = server_.port();
    started_ = true;
  }

  // Every test ends with SIGTERM and expects a clean exit with status 0.
  void TearDown() override {
    if (!started_) return;
    ASSERT_TRUE(server_.Signal(SIGTERM));
    const std::optional<int> status = server_.WaitForExit(kExitTimeout);
    ASSERT_TRUE(status.has_value()) << "idrecon-server did not exit after SIGTERM";
    ASSERT_TRUE(WIFEXITED(*status)) << "wait status " << *status;
    EXPECT_EQ(WEXITSTATUS(*status), 0);
  }

  // A new connection gets GET /health answered with 200.
  void ExpectServesNewConnections() const {
    Connection c(port_);
    ASSERT_TRUE(c.Send(Get("/health")));
    const std::optional<Response> r = c.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }

  static void ExpectJsonHeaders(const Response& r) {
    EXPECT_EQ(r.Header("server"), "idrecon");
    EXPECT_EQ(r.Header("content-type"), "application/json");
    EXPECT_EQ(r.Header("content-length"), std::to_string(r.body.size()));
  }

  static void ExpectJsonError(const Response& r) {
    ExpectJsonHeaders(r);
    EXPECT_TRUE(r.body.starts_with(R"({"error":")")) << r.body;
    EXPECT_TRUE(r.body.ends_with(R"("})")) << r.body;
  }

  ServerProcess server_;
  std::uint16_t port_ = 0;
  bool started_ = false;
};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.connected());

  ASSERT_TRUE(c.Send(Post("/identify", kRow1)));
  std::optional<Response> r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_line, "HTTP/1.1 200 OK");
  ExpectJsonHeaders(*r);
  EXPECT_EQ(r->Header("connection"), "");  // HTTP/1.1: keep-alive is implied
  EXPECT_EQ(r->body, kRow1Response);

  ASSERT_TRUE(c.Send(Post("/identify", kRow2)));
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, kRow2Response);

  ASSERT_TRUE(c.Send(Get("/contacts/2")));
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ExpectJsonHeaders(*r);
  EXPECT_TRUE(r->body.starts_with(R"({"id":2,"phoneNumber":"123456","email":"mcfly@hillvalley.edu",)"
                                  R"("linkedId":1,"linkPrecedence":"secondary","createdAt":")"))
      << r->body;

  ASSERT_TRUE(c.Send(Get("/health")));
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"status":"ok"})");

  ASSERT_TRUE(c.Send(Get("/no/such/path")));
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_line, "HTTP/1.1 404 Not Found");
  ExpectJsonError(*r);

  ASSERT_TRUE(c.Send(Get("/identify")));
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_line, "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(r->Header("allow"), "POST");
  ExpectJsonError(*r);

  ASSERT_TRUE(c.Send(Post("/health", "")));
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Header("allow"), "GET, HEAD");

  ASSERT_TRUE(c.Send(Post("/identify", R"({"email":1})")));
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  ExpectJsonError(*r);

  // Still the same connection, still serving.
  ASSERT_TRUE(c.Send(Get("/health")));
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Post("/identify", kRow1) + Post("/identify", kRow2) + Get("/contacts/3")));
  std::optional<Response> r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, kRow1Response);
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, kRow2Response);
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, R"({"error":"no contact with id 3"})");
}

TEST_F(HttpServerTest, OversizedBodyGets413AndClose) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.connected());
  const std::string body = R"({"email":")" + std::string(20000 - 12, 'a') + R"("})";
  ASSERT_EQ(body.size(), 20000u);
  ASSERT_TRUE(c.Send(Post("/identify", body)));
  const std::optional<Response> r = c.ReadResponse();
  ASSERT_TRUE(r) << "no response to an over-limit body";
  EXPECT_EQ(r->status_line, "HTTP/1.1 413 Payload Too Large");
  EXPECT_EQ(r->Header("connection"), "close");
  ExpectJsonError(*r);
  EXPECT_EQ(r->body, R"({"error":"request body is larger than 16384 bytes"})");
  EXPECT_TRUE(c.WaitForClose(kIoTimeout));

  ExpectServesNewConnections();  // the server is unharmed
}

TEST_F(HttpServerTest, OversizedChunkedBodyGets413) {
  StartServer({"--max-body-bytes", "100"});
  Connection c(port_);
  ASSERT_TRUE(c.connected());
  const std::string chunk(80, 'x');
  ASSERT_TRUE(c.Send("POST /identify HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "50\r\n" + chunk + "\r\n50\r\n" + chunk + "\r\n0\r\n\r\n"));
  const std::optional<Response> r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, R"({"error":"request body is larger than 100 bytes"})");
  EXPECT_EQ(r->Header("connection"), "close");
}

TEST_F(HttpServerTest, ChunkedBodyWithinLimitIsServed) {
  StartServer();
  Connection c(port_);
  const std::string body(kRow1);
  char size_hex[16];
  std::snprintf(size_hex, sizeof size_hex, "%zx", body.size());
  ASSERT_TRUE(c.Send("POST /identify HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" +
                     std::string(size_hex) + "\r\n" + body + "\r\n0\r\n\r\n"));
  const std::optional<Response> r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, kRow1Response);
}

TEST_F(HttpServerTest, OversizedHeaderGets431) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.Send(Get("/health", "X-Filler: " + std::string(10000, 'f') + "\r\n")));
  const std::optional<Response> r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  ExpectJsonError(*r);
  EXPECT_EQ(r->Header("connection"), "close");
}

TEST_F(HttpServerTest, MalformedRequestGets400AndClose) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.Send("THIS IS NOT HTTP\r\n\r\n"));
  const std::optional<Response> r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, R"({"error":"malformed HTTP request"})");
  EXPECT_TRUE(c.WaitForClose(kIoTimeout));
}

TEST_F(HttpServerTest, ExpectContinueIsHonoured) {
  StartServer();
  Connection c(port_);
  const std::string body(kRow1);
  ASSERT_TRUE(c.Send("POST /identify HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  std::optional<Response> r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_line, "HTTP/1.1 100 Continue");
  ASSERT_TRUE(c.Send(body));
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, kRow1Response);
}

TEST_F(HttpServerTest, ConnectionCloseAndHttp10AreHonoured) {
  StartServer();
  {
    Connection c(port_);
    ASSERT_TRUE(c.Send(Get("/health", "Connection: close\r\n")));
    const std::optional<Response> r = c.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("connection"), "close");
    EXPECT_TRUE(c.WaitForClose(kIoTimeout));
  }
  {
    Connection c(port_);
    ASSERT_TRUE(c.Send("GET /health HTTP/1.0\r\n\r\n"));
    const std::optional<Response> r = c.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status_line, "HTTP/1.0 200 OK");
    EXPECT_TRUE(c.WaitForClose(kIoTimeout));
  }
}

TEST_F(HttpServerTest, HeadGetsHeadersWithoutBody) {
  StartServer();
  Connection c(port_);
  // If the server sent a body, it would be read as the start of the next response.
  ASSERT_TRUE(c.Send("HEAD /health HTTP/1.1\r\nHost: test\r\n\r\n" + Get("/health")));
  std::optional<Response> r = c.ReadResponse(kIoTimeout, /*head=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"), "15");
  EXPECT_EQ(r->Header("content-type"), "application/json");
  r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r->body, R"({"status":"ok"})");
}

TEST_F(HttpServerTest, IdleConnectionIsClosed) {
  StartServer({"--idle-timeout-seconds", "1"});
  Connection c(port_);
  ASSERT_TRUE(c.Send(Get("/health")));
  ASSERT_TRUE(c.ReadResponse());
  const auto start = Clock::now();
  EXPECT_TRUE(c.WaitForClose(kIoTimeout));
  EXPECT_GE(Clock::now() - start, milliseconds(500));
}

TEST_F(HttpServerTest, ClientDisconnectMidRequestDoesNotHurtTheServer) {
  StartServer();
  {
    Connection c(port_);
    ASSERT_TRUE(c.Send("POST /identify HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n{\"em"));
  }  // closed with the body unfinished
  ExpectServesNewConnections();
}

// No server is started: these run the binary for its exit status alone.
TEST(HttpServerCommandLineTest, HelpExitsZeroAndBadFlagExitsTwo) {
  {
    ServerProcess help;
    std::string error;
    ASSERT_TRUE(help.Spawn({"--help"}, &error)) << error;
    const std::optional<std::string> first_line = help.ReadLine(kStartTimeout);
    ASSERT_TRUE(first_line);
    EXPECT_TRUE(first_line->starts_with("usage: idrecon-server")) << *first_line;
    const std::optional<int> status = help.WaitForExit(kExitTimeout);
    ASSERT_TRUE(status);
    ASSERT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 0);
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--bogus"}, std::vector<std::string>{"--port", "99999"},
        std::vector<std::string>{"--threads=0"}}) {
    ServerProcess bad;
    std::string error;
    ASSERT_TRUE(bad.Spawn(args, &error)) << error;
    const std::optional<int> status = bad.WaitForExit(kExitTimeout);
    ASSERT_TRUE(status) << args[0];
    ASSERT_TRUE(WIFEXITED(*status)) << args[0];
    EXPECT_EQ(WEXITSTATUS(*status), 2) << args[0];
  }
}

}  // namespace
}  // namespace idrecon::testing
