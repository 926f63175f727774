// Starts the real idrecon-server binary on an ephemeral port and talks HTTP/1.1
// to it over a plain POSIX socket. Every wait is bounded, so a hung server
// fails the test instead of hanging CI.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace idrecon {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous: sanitizer builds start slowly on a loaded 2-core CI machine.
constexpr auto kStartTimeout = seconds(30);
constexpr auto kIoTimeout = seconds(10);
constexpr auto kExitTimeout = seconds(10);

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// A child process running idrecon-server, with its stdout on a pipe.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  // Spawns the server with `args` in a fresh empty directory (so no stray
  // .env applies). Returns false, with a message, on failure.
  bool Spawn(const std::vector<std::string>& args, std::string* error) {
    char dir_template[] = "/tmp/idrecon-http-test-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    if (dir == nullptr) {
      *error = std::string("mkdtemp: ") + std::strerror(errno);
      return false;
    }
    dir_ = dir;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      *error = std::string("pipe: ") + std::strerror(errno);
      return false;
    }
    std::vector<std::string> argv_storage = {IDRECON_SERVER_PATH};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_storage) argv.push_back(arg.data());
    argv.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ < 0) {
      *error = std::string("fork: ") + std::strerror(errno);
      return false;
    }
    if (pid_ == 0) {
      // Child: only async-signal-safe calls until exec.
      if (::dup2(fds[1], STDOUT_FILENO) < 0 || ::chdir(dir) != 0) ::_exit(127);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    stdout_fd_ = fds[0];
    return true;
  }

  // Reads stdout until the first newline; returns the line (without it).
  std::optional<std::string> ReadLine(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string line;
    while (true) {
      pollfd pfd{stdout_fd_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, MillisLeft(deadline));
      if (ready <= 0) return std::nullopt;
      char c;
      const ssize_t n = ::read(stdout_fd_, &c, 1);
      if (n <= 0) return std::nullopt;
      if (c == '\n') return line;
      line.push_back(c);
    }
  }

  // Waits for the process to exit; returns its wait status or nullopt on
  // timeout.
  std::optional<int> WaitForExit(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return status;
      }
      if (r < 0 || Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(milliseconds(10));
    }
  }

  bool Signal(int signal) { return pid_ > 0 && ::kill(pid_, signal) == 0; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string dir_;
};

struct Response {
  std::string status_line;
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A client connection; the read buffer survives across responses so
// pipelined responses that arrive together are split correctly.
class Connection {
 public:
  explicit Connection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Loopback connect to a listening socket completes (or fails) at once.
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool Send(std::string_view data) {
    const auto deadline = Clock::now() + kIoTimeout;
    while (!data.empty()) {
      pollfd pfd{fd_, POLLOUT, 0};
      if (::poll(&pfd, 1, MillisLeft(deadline)) <= 0) return false;
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response. A 1xx interim response is returned like any other.
  // A response to HEAD has no body whatever its Content-Length says.
  std::optional<Response> ReadResponse(Clock::duration timeout = kIoTimeout, bool head_request = false) {
    const auto deadline = Clock::now() + timeout;
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    Response response;
    std::string_view head(buffer_.data(), header_end);
    std::size_t line_end = head.find("\r\n");
    response.status_line = std::string(head.substr(0, line_end));
    if (response.status_line.size() < 12) return std::nullopt;
    response.status = std::atoi(response.status_line.c_str() + 9);
    while (line_end != std::string_view::npos) {
      head.remove_prefix(line_end + 2);
      line_end = head.find("\r\n");
      const std::string_view line = head.substr(0, line_end);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return std::nullopt;
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      response.headers[name] = std::string(value);
    }
    buffer_.erase(0, header_end + 4);
    const std::size_t length = head_request ? 0 : std::strtoul(response.Header("content-length").c_str(), nullptr, 10);
    while (buffer_.size() < length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // True when the server closes the connection (EOF or reset) before the
  // deadline, with no further bytes.
  bool WaitForClose(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, MillisLeft(deadline)) <= 0) return false;
      char scratch[256];
      const ssize_t n = ::recv(fd_, scratch, sizeof scratch, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return buffer_.empty();
      if (n < 0) return false;
      buffer_.append(scratch, static_cast<std::size_t>(n));
    }
  }

 private:
  bool Fill(Clock::time_point deadline) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, MillisLeft(deadline)) <= 0) return false;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

std::string Post(std::string_view target, std::string_view body, std::string_view extra_headers = "") {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) + "\r\n";
}

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
    ASSERT_TRUE(server_.Spawn(args, &error)) << error;
    const std::optional<std::string> line = server_.ReadLine(kStartTimeout);
    ASSERT_TRUE(line.has_value()) << "no ready line from idrecon-server within the timeout";
    // "idrecon-server listening on http://127.0.0.1:43123 (threads 2)"
    const std::string prefix = "idrecon-server listening on http://127.0.0.1:";
    ASSERT_TRUE(line->starts_with(prefix)) << *line;
    ASSERT_TRUE(line->ends_with(" (threads 2)")) << *line;
    const int port = std::atoi(line->c_str() + prefix.size());
    ASSERT_GT(port, 0) << *line;
    ASSERT_LT(port, 65536) << *line;
    port_ = static_cast<std::uint16_t>(port);
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

  // The server is unharmed.
  Connection next(port_);
  ASSERT_TRUE(next.Send(Get("/health")));
  const std::optional<Response> health = next.ReadResponse();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
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
  Connection c(port_);
  ASSERT_TRUE(c.Send(Get("/health")));
  const std::optional<Response> r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
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
}  // namespace idrecon
