// Hostile clients against the real idrecon-server.
//
// Each test starts the server binary with small limits (header timeout 2 s,
// idle timeout 3 s, 300 connections), starts a well-behaved client on its
// own keep-alive connection — opened before the attack — and then attacks:
// slow-loris, thousands of idle connections, oversized headers, oversized
// and lying Content-Length, malformed chunked bodies, a pipelined flood,
// clients that never read, half-closed sockets. While the attack runs the
// well-behaved client must keep getting exactly the right answers, each in
// under kMaxLatency, on the same connection, and the server's VmRSS must
// stay within kRssBound of what it was before the attack. Afterwards a new
// connection is served and SIGTERM ends the server with status 0 (under
// ASan that also means no error and no leak at exit).
//
// At the end the program prints a table, attack → expected → observed, for
// README's Security section. Every wait has a deadline; only 127.0.0.1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "testing/http_client.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace idrecon::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// ---------------------------------------------------------------------------
// Limits and tolerances

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

constexpr int kHeaderTimeoutSeconds = 2;
constexpr int kIdleTimeoutSeconds = 3;
constexpr std::size_t kMaxConnections = 300;
constexpr std::size_t kMaxBodyBytes = 16384;
constexpr auto kHeaderTimeout = seconds(kHeaderTimeoutSeconds);
constexpr auto kIdleTimeout = seconds(kIdleTimeoutSeconds);
// The server's lingering close after an error response (server/session.h).
constexpr auto kDrainTimeout = seconds(2);
// How late past a timeout a close may come (scheduling on a loaded 2-core machine).
constexpr auto kSlack = kSanitized ? milliseconds(3000) : milliseconds(1500);
// How early: the server's timer starts when it reads the byte, after we sent it.
constexpr auto kEarly = milliseconds(150);
// Every request of the well-behaved client must be answered within this.
constexpr auto kMaxLatency = kSanitized ? milliseconds(2000) : milliseconds(1000);
// How far the server's VmRSS may rise above its level before the attack.
// Under ASan the allocator's redzones, shadow memory and (small, see
// TableEnvironment) quarantine add tens of MiB of churn that is not growth.
constexpr std::uint64_t kRssBound = std::uint64_t{kSanitized ? 128 : 64} << 20;

// The docs/api.md §2 worked example, seeded into every server: two clusters.
constexpr std::string_view kSeed[] = {
    R"({"email":"lorraine@hillvalley.edu","phoneNumber":"123456"})",
    R"({"email":"mcfly@hillvalley.edu","phoneNumber":"123456"})",
    R"({"email":"george@hillvalley.edu","phoneNumber":"919191"})",
    R"({"email":"biffsucks@hillvalley.edu","phoneNumber":717171})",
    R"({"email":"george@hillvalley.edu","phoneNumber":"717171"})",
};
constexpr std::string_view kLookupA = R"({"email":"mcfly@hillvalley.edu"})";
constexpr std::string_view kClusterA =
    R"({"contact":{"primaryContatctId":1,"primaryContactId":1,)"
    R"("emails":["lorraine@hillvalley.edu","mcfly@hillvalley.edu"],)"
    R"("phoneNumbers":["123456"],"secondaryContactIds":[2]}})";
constexpr std::string_view kLookupB = R"({"phoneNumber":"717171"})";
constexpr std::string_view kClusterB =
    R"({"contact":{"primaryContatctId":3,"primaryContactId":3,)"
    R"("emails":["george@hillvalley.edu","biffsucks@hillvalley.edu"],)"
    R"("phoneNumbers":["919191","717171"],"secondaryContactIds":[4]}})";
constexpr std::string_view kHealthBody = R"({"status":"ok"})";
constexpr std::string_view kMalformedBody = R"({"error":"malformed HTTP request"})";
constexpr std::string_view kTooManyBody = R"({"error":"too many connections; try again later"})";
constexpr int kSeededContacts = 4;

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double Secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Fmt(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string Mib(std::int64_t bytes) { return Fmt("%+.1f MiB", static_cast<double>(bytes) / (1 << 20)); }

// VmRSS of a process in bytes, or 0 when it cannot be read.
std::uint64_t ReadRss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// How many sockets the process holds open (its listener and connections):
// the server's own view of which connections it has let go.
std::size_t CountSockets(pid_t pid) {
  std::size_t sockets = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    if (std::filesystem::read_symlink(entry.path(), link_ec).string().starts_with("socket:")) ++sockets;
  }
  return sockets;
}

// ---------------------------------------------------------------------------
// The table printed at the end of the run.

struct Row {
  std::string attack;
  std::string expected;
  std::string observed;
};

std::vector<Row>& Table() {
  static std::vector<Row> rows;
  return rows;
}

class TableEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // Thousands of client sockets plus the server's (it inherits this limit).
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 65536);
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    // ASan keeps freed memory in a 256 MiB quarantine by default, which
    // would read as RSS growth; a small one keeps the memory check honest.
    if (kSanitized) {
      std::string options = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
      if (options.find("quarantine_size_mb") == std::string::npos) {
        options += std::string(options.empty() ? "" : ":") + "quarantine_size_mb=16";
        ::setenv("ASAN_OPTIONS", options.c_str(), 1);
      }
    }
  }
  void TearDown() override {
    if (Table().empty()) return;
    std::printf("\nHostile clients (server: --header-timeout-seconds %d --idle-timeout-seconds %d "
                "--max-connections %zu, headers 8 KiB, body %zu B)%s\n"
                "Asserted during every attack: each well-behaved request correct and under %lld ms, "
                "server VmRSS under +%llu MiB\n\n",
                kHeaderTimeoutSeconds, kIdleTimeoutSeconds, kMaxConnections, kMaxBodyBytes,
                kSanitized ? " [sanitizer build]" : "", static_cast<long long>(kMaxLatency.count()),
                static_cast<unsigned long long>(kRssBound >> 20));
    std::printf("| attack | expected | observed |\n|---|---|---|\n");
    for (const Row& row : Table()) {
      std::printf("| %s | %s | %s |\n", row.attack.c_str(), row.expected.c_str(), row.observed.c_str());
    }
    std::printf("\n");
    std::fflush(stdout);
  }
};

[[maybe_unused]] const auto* const kTableEnvironment = ::testing::AddGlobalTestEnvironment(new TableEnvironment);

// ---------------------------------------------------------------------------
// A raw, non-blocking client socket: attackers need to send without reading,
// read without sending, half-close, and watch many sockets at once.

enum class ReadState { kOpen, kEof, kReset };

class RawSocket {
 public:
  RawSocket() = default;
  ~RawSocket() { Close(); }
  RawSocket(RawSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}
  RawSocket& operator=(RawSocket&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
      buffer_ = std::move(other.buffer_);
    }
    return *this;
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  // Connects to 127.0.0.1:port; `receive_buffer` / `send_buffer` > 0
  // shrink SO_RCVBUF / SO_SNDBUF first (so back-pressure shows quickly). The
  // socket is non-blocking afterwards. Invalid on failure.
  static RawSocket Connect(std::uint16_t port, Clock::time_point deadline, int receive_buffer = 0,
                           int send_buffer = 0) {
    RawSocket s;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return s;
    s.fd_ = fd;
    if (receive_buffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    if (send_buffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      if (errno != EINPROGRESS) {
        s.Close();
        return s;
      }
      pollfd pfd{fd, POLLOUT, 0};
      int error = 0;
      socklen_t length = sizeof error;
      if (::poll(&pfd, 1, MillisLeft(deadline)) <= 0 ||
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
        s.Close();
      }
    }
    return s;
  }

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  std::string& buffer() { return buffer_; }

  // Sends what the socket takes now: bytes sent (0 when it would block), or
  // -1 when the connection is gone.
  long TrySend(std::string_view data) {
    if (data.empty()) return 0;
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) return n;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
  }

  bool SendAll(std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
      const long n = TrySend(data);
      if (n < 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
      if (data.empty()) break;
      pollfd pfd{fd_, POLLOUT, 0};
      if (::poll(&pfd, 1, MillisLeft(deadline)) <= 0) return false;
    }
    return true;
  }

  // Appends whatever has arrived (up to about `max_bytes`) to buffer(),
  // without waiting.
  ReadState ReadAvailable(std::size_t max_bytes = SIZE_MAX) {
    char chunk[65536];
    std::size_t taken = 0;
    while (true) {
      if (taken >= max_bytes) return ReadState::kOpen;
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        taken += static_cast<std::size_t>(n);
        continue;
      }
      if (n == 0) return ReadState::kEof;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadState::kOpen;
      if (errno == EINTR) continue;
      return ReadState::kReset;
    }
  }

  // Waits for one complete response.
  std::optional<Response> ReadResponse(Clock::time_point deadline) {
    while (true) {
      if (std::optional<Response> r = TakeResponse(&buffer_)) return r;
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, MillisLeft(deadline)) <= 0) return std::nullopt;
      if (ReadAvailable() != ReadState::kOpen) {
        return TakeResponse(&buffer_);
      }
    }
  }

  // Reads until the server closes (end of file or reset) or the deadline;
  // true if it closed. What arrived stays in buffer().
  bool WaitForClose(Clock::time_point deadline) {
    while (true) {
      if (ReadAvailable() != ReadState::kOpen) return true;
      pollfd pfd{fd_, POLLIN | POLLRDHUP, 0};
      if (::poll(&pfd, 1, MillisLeft(deadline)) <= 0) return false;
    }
  }

  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

std::string Describe(const std::optional<Response>& r) {
  if (!r) return "no response";
  return r->status_line + " " + r->body.substr(0, 80);
}

// ---------------------------------------------------------------------------
// The well-behaved client: one keep-alive connection, opened before the
// attack, cycling through lookups of the seeded clusters, /health and
// creations of new contacts, checking every body; and VmRSS sampled as it goes.

struct GoodReport {
  std::size_t requests = 0;
  std::size_t failures = 0;
  std::size_t reconnects = 0;
  std::vector<std::string> errors;  // the first few
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::uint64_t rss_before = 0, rss_peak = 0, rss_after = 0;

  std::string Summary() const {
    return "well-behaved client " + std::to_string(requests) + " req, " + std::to_string(failures) +
           " failed, p99 " + Fmt("%.1f", p99_ms) + " ms, max " + Fmt("%.1f", max_ms) + " ms; RSS peak " +
           Mib(static_cast<std::int64_t>(rss_peak) - static_cast<std::int64_t>(rss_before));
  }
};

class GoodClient {
 public:
  static constexpr std::size_t kMinRequests = 20;

  GoodClient(std::uint16_t port, pid_t pid, std::atomic<int>* next_contact)
      : port_(port), pid_(pid), next_contact_(next_contact) {}
  ~GoodClient() { Stop(); }

  void Start() {
    report_ = GoodReport{};
    report_.rss_before = ReadRss(pid_);
    report_.rss_peak = report_.rss_before;
    completed_ = 0;
    connection_ = std::make_unique<Connection>(port_);  // before the attack begins
    // One round trip now, so the connection is a served session.
    Check(Post("/identify", kLookupA), kClusterA);
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
  }

  GoodReport Stop() {
    if (thread_.joinable()) {
      // At least a few requests, even when the attack was quick.
      const auto deadline = Clock::now() + kIoTimeout;
      while (completed_ < kMinRequests && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
      stop_ = true;
      thread_.join();
      std::sort(latencies_.begin(), latencies_.end());
      if (!latencies_.empty()) {
        const auto at = [&](double q) {
          return latencies_[std::min(latencies_.size() - 1, static_cast<std::size_t>(q * latencies_.size()))];
        };
        report_.p50_ms = at(0.50);
        report_.p99_ms = at(0.99);
        report_.max_ms = latencies_.back();
      }
      report_.rss_after = ReadRss(pid_);
      connection_.reset();
    }
    return report_;
  }

 private:
  void Loop() {
    auto next_sample = Clock::now();
    for (std::size_t i = 0; !stop_; ++i) {
      switch (i % 4) {
        case 0: Check(Post("/identify", kLookupA), kClusterA); break;
        case 1: Check(Post("/identify", kLookupB), kClusterB); break;
        case 2: Check(Get("/health"), kHealthBody); break;
        default: {
          const int n = next_contact_->fetch_add(1);
          const std::string email = "good-" + std::to_string(n) + "@client.test";
          const std::string phone = std::to_string(7000000 + n);
          Check(Post("/identify", R"({"email":")" + email + R"(","phoneNumber":")" + phone + R"("})"),
                R"("emails":[")" + email + R"("],"phoneNumbers":[")" + phone + R"("],"secondaryContactIds":[]}})");
          break;
        }
      }
      if (Clock::now() >= next_sample) {
        report_.rss_peak = std::max(report_.rss_peak, ReadRss(pid_));
        next_sample = Clock::now() + milliseconds(50);
      }
      ++completed_;
      std::this_thread::sleep_for(milliseconds(10));
    }
    report_.rss_peak = std::max(report_.rss_peak, ReadRss(pid_));
  }

  // Sends one request and checks the answer: 200 and exactly `body`, or,
  // for a creation, a body that ends with `body` after a fresh primary id.
  void Check(const std::string& request, std::string_view body) {
    ++report_.requests;
    if (connection_ == nullptr || !connection_->connected()) {
      ++report_.reconnects;
      connection_ = std::make_unique<Connection>(port_);
    }
    const auto start = Clock::now();
    std::optional<Response> r;
    if (connection_->Send(request)) r = connection_->ReadResponse();
    const auto latency = Clock::now() - start;
    latencies_.push_back(Millis(latency));
    bool ok = r && r->status == 200;
    if (ok && body.starts_with("\"emails\"")) {
      // {"contact":{"primaryContatctId":N,"primaryContactId":N,<body>
      const std::size_t id_at = std::string_view(r->body).find("\"primaryContatctId\":");
      const std::string id = id_at == std::string::npos ? "" : std::to_string(std::atoi(r->body.c_str() + id_at + 20));
      ok = std::atoi(id.c_str()) > kSeededContacts &&
           r->body == R"({"contact":{"primaryContatctId":)" + id + R"(,"primaryContactId":)" + id + "," +
                          std::string(body);
    } else if (ok) {
      ok = r->body == body;
    }
    if (ok && latency > kMaxLatency) {
      ok = false;
      r->status_line += " (too slow: " + Fmt("%.0f", Millis(latency)) + " ms)";
    }
    if (!ok) {
      ++report_.failures;
      if (report_.errors.size() < 5) {
        report_.errors.push_back(request.substr(0, request.find('\r')) + " → " + Describe(r));
      }
      connection_.reset();  // a failed exchange leaves the stream unusable
    } else if (r->Header("connection") == "close") {
      connection_.reset();
    }
  }

  const std::uint16_t port_;
  const pid_t pid_;
  std::atomic<int>* const next_contact_;
  std::unique_ptr<Connection> connection_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> completed_{0};
  std::thread thread_;
  std::vector<double> latencies_;
  GoodReport report_;
};

// ---------------------------------------------------------------------------
// The fixture: a fresh server per attack, seeded with two clusters.

class HostileClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(data_dir_.ok());
    std::string error;
    // The server inherits RLIMIT_NOFILE: lower ours while it starts.
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    if (ServerFdLimit() > 0) {
      rlimit low = saved;
      low.rlim_cur = ServerFdLimit();
      ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    }
    const bool started = server_.Start(ServerArgs(data_dir_.path(),
                                               {"--header-timeout-seconds", std::to_string(kHeaderTimeoutSeconds),
                                                "--idle-timeout-seconds", std::to_string(kIdleTimeoutSeconds),
                                                "--max-connections", std::to_string(kMaxConnections),
                                                "--max-body-bytes", std::to_string(kMaxBodyBytes)}),
                              &error);
    ::setrlimit(RLIMIT_NOFILE, &saved);
    ASSERT_TRUE(started) << error;
    port_ = server_.port();
    Client client(port_);
    for (std::string_view body : kSeed) {
      const std::optional<Response> r = client.PostJson("/identify", body);
      ASSERT_TRUE(r && r->status == 200) << Describe(r);
    }
    for (int id = 1; id <= kSeededContacts; ++id) {
      const std::optional<Response> r = client.GetPath("/contacts/" + std::to_string(id));
      ASSERT_TRUE(r && r->status == 200) << Describe(r);
      contact_bodies_.push_back(r->body);
    }
    good_ = std::make_unique<GoodClient>(port_, server_.pid(), &next_contact_);
  }

  void TearDown() override {
    if (good_) good_->Stop();
    if (!server_.running()) return;
    ASSERT_TRUE(server_.Signal(SIGTERM));
    const std::optional<int> status = server_.WaitForExit(kExitTimeout);
    ASSERT_TRUE(status.has_value()) << "idrecon-server did not exit within the timeout after SIGTERM";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "idrecon-server " << DescribeWaitStatus(*status) << "; stderr:\n"
        << server_.StderrText();
  }

  // 0: the server inherits the test's limit (raised by TableEnvironment).
  virtual rlim_t ServerFdLimit() const { return 0; }

  // The well-behaved client starts on its own connection before the attack.
  void BeginAttack() { good_->Start(); }

  // Stops it and checks what it saw; returns its summary for the table.
  std::string EndAttack() {
    const GoodReport report = good_->Stop();
    EXPECT_EQ(report.failures, 0u) << "the well-behaved client was hurt; first errors:\n"
                                   << [&] {
                                        std::string all;
                                        for (const std::string& e : report.errors) all += "  " + e + "\n";
                                        return all;
                                      }();
    EXPECT_EQ(report.reconnects, 0u) << "the well-behaved client's connection was dropped";
    EXPECT_GE(report.requests, GoodClient::kMinRequests);
    EXPECT_LT(report.max_ms, Millis(kMaxLatency));
    EXPECT_LT(report.rss_peak, report.rss_before + kRssBound)
        << "VmRSS rose from " << report.rss_before << " to " << report.rss_peak << " bytes";
    EXPECT_LT(report.rss_after, report.rss_before + kRssBound);
    std::printf("  [%s] %s\n", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                report.Summary().c_str());
    ExpectHealthy();
    return report.Summary();
  }

  // The process is alive and a new connection is served correctly.
  void ExpectHealthy() {
    ASSERT_FALSE(server_.WaitForExit(milliseconds(0)).has_value()) << "the server died; stderr:\n"
                                                                   << server_.StderrText();
    Client client(port_);
    std::optional<Response> r = client.GetPath("/health");
    ASSERT_TRUE(r) << "no answer to GET /health after the attack";
    EXPECT_EQ(r->status, 200);
    r = client.PostJson("/identify", kLookupB);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, kClusterB);
  }

  static void AddRow(std::string attack, std::string expected, std::string observed) {
    Table().push_back({std::move(attack), std::move(expected), std::move(observed)});
  }

  static Clock::time_point In(Clock::duration d) { return Clock::now() + d; }

  TempDir data_dir_{"idrecon-hostile"};
  ServerProcess server_;
  std::uint16_t port_ = 0;
  std::vector<std::string> contact_bodies_;  // GET /contacts/1..4
  std::atomic<int> next_contact_{1};
  std::unique_ptr<GoodClient> good_;
};

// Sends `request` on a new connection and expects `status` with
// "Connection: close", a JSON error body, then the connection closed (the
// server's lingering close ends at our end of file, or after its drain).
// Returns the response (or nullopt) for the table.
std::optional<Response> ExpectRejected(std::uint16_t port, std::string_view request, int status,
                                       std::string_view what) {
  SCOPED_TRACE(std::string(what));
  RawSocket s = RawSocket::Connect(port, Clock::now() + kIoTimeout);
  EXPECT_TRUE(s.valid());
  if (!s.valid()) return std::nullopt;
  s.SendAll(request, Clock::now() + kIoTimeout);  // may fail once the server has answered and closed
  std::optional<Response> r = s.ReadResponse(Clock::now() + kIoTimeout);
  EXPECT_TRUE(r) << "no response";
  if (!r) return r;
  EXPECT_EQ(r->status, status) << r->status_line << " " << r->body;
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(r->body.starts_with(R"({"error":")")) << r->body;
  EXPECT_TRUE(s.WaitForClose(Clock::now() + kDrainTimeout + kSlack)) << "the connection stayed open";
  EXPECT_TRUE(s.buffer().empty()) << "bytes after the error response: " << s.buffer().substr(0, 100);
  return r;
}

// ---------------------------------------------------------------------------
// Slow-loris: headers trickled one byte at a time; and its body variant
// (a complete header, then the body trickled).

TEST_F(HostileClientsTest, SlowlorisIsCutOffByTheHeaderTimeout) {
  constexpr int kHeaderTricklers = 150;
  constexpr int kBodyTricklers = 50;
  constexpr auto kTick = milliseconds(100);  // 10 bytes/s: a 2 s timeout sees ~20
  BeginAttack();

  struct Trickler {
    RawSocket socket;
    std::string script;
    std::size_t sent = 0;
    Clock::time_point started;  // first header byte, or the header's end for a body trickler
    std::optional<Clock::duration> closed_after;
  };
  std::vector<Trickler> tricklers;
  const std::string endless_header = "POST /identify HTTP/1.1\r\nHost: test\r\nX-Slow: " + std::string(400, 's');
  const std::string body_header =
      "POST /identify HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n";
  for (int i = 0; i < kHeaderTricklers + kBodyTricklers; ++i) {
    Trickler t;
    t.socket = RawSocket::Connect(port_, In(kIoTimeout));
    ASSERT_TRUE(t.socket.valid()) << "connect " << i;
    t.script = i < kHeaderTricklers ? endless_header : R"({"email":")" + std::string(400, 'b');
    if (i >= kHeaderTricklers) {
      ASSERT_TRUE(t.socket.SendAll(body_header, In(kIoTimeout)));
      t.started = Clock::now();
    }
    tricklers.push_back(std::move(t));
  }

  std::size_t answered = 0;
  const auto deadline = In(kIdleTimeout + kHeaderTimeout + kSlack + seconds(2));
  std::size_t open = tricklers.size();
  while (open > 0 && Clock::now() < deadline) {
    for (Trickler& t : tricklers) {
      if (t.closed_after || t.sent >= t.script.size()) continue;
      const long n = t.socket.TrySend(std::string_view(t.script).substr(t.sent, 1));
      if (n > 0 && t.sent++ == 0 && t.started == Clock::time_point{}) t.started = Clock::now();
    }
    std::this_thread::sleep_for(kTick);
    for (Trickler& t : tricklers) {
      if (t.closed_after) continue;
      if (t.socket.ReadAvailable() != ReadState::kOpen) {
        t.closed_after = Clock::now() - t.started;
        --open;
        if (!t.socket.buffer().empty()) ++answered;
        t.socket.Close();
      }
    }
  }

  Clock::duration fastest = Clock::duration::max(), slowest = Clock::duration::zero();
  std::size_t closed = 0;
  for (const Trickler& t : tricklers) {
    if (!t.closed_after) continue;
    ++closed;
    fastest = std::min(fastest, *t.closed_after);
    slowest = std::max(slowest, *t.closed_after);
  }
  EXPECT_EQ(closed, tricklers.size()) << "slow-loris connections still open after " << Secs(deadline - Clock::now());
  EXPECT_EQ(answered, 0u) << "a trickled request got a response";
  EXPECT_GE(fastest, kHeaderTimeout - kEarly);
  EXPECT_LE(slowest, kHeaderTimeout + kSlack + kTick);
  const std::string good = EndAttack();
  AddRow("slow-loris: " + std::to_string(kHeaderTricklers) + " connections trickling a header 1 byte/100 ms; " +
             std::to_string(kBodyTricklers) + " trickling a 400-byte body",
         "closed without a response " + std::to_string(kHeaderTimeoutSeconds) +
             " s (header timeout) after the first header byte / the end of the header",
         std::to_string(closed) + "/" + std::to_string(tricklers.size()) + " closed after " +
             Fmt("%.2f", Secs(fastest)) + "–" + Fmt("%.2f", Secs(slowest)) + " s, " + std::to_string(answered) +
             " answered; " + good);
}

// ---------------------------------------------------------------------------
// Thousands of idle connections.

TEST_F(HostileClientsTest, ThousandsOfIdleConnectionsAreRefusedOverTheLimit) {
  constexpr std::size_t kFlood = 2000;
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < kFlood + 200) {
    GTEST_SKIP() << "RLIMIT_NOFILE is " << limit.rlim_cur << " (hard " << limit.rlim_max << "); " << kFlood + 200
                 << " needed";
  }
  BeginAttack();  // its connection is one of the served ones

  struct Idle {
    RawSocket socket;
    Clock::time_point connected;
    std::optional<Clock::duration> closed_after;
  };
  std::vector<Idle> flood(kFlood);
  const auto flood_started = Clock::now();
  for (std::size_t i = 0; i < kFlood; ++i) {
    flood[i].socket = RawSocket::Connect(port_, In(kIoTimeout));
    ASSERT_TRUE(flood[i].socket.valid()) << "connect " << i << ": " << std::strerror(errno);
    flood[i].connected = Clock::now();
  }
  const double connect_seconds = Secs(Clock::now() - flood_started);

  // Over the limit: the canned 503 at once, then end of file. (Its framing
  // is checked by RefusedConnectionGetsAWellFramed503.)
  std::size_t refused = 0, bad = 0, well_framed = 0;
  // (Well before the idle timeout closes the served ones.)
  const auto settle = In(milliseconds(1000));
  while (Clock::now() < settle) {
    for (Idle& c : flood) {
      if (c.closed_after) continue;
      if (c.socket.ReadAvailable() != ReadState::kOpen) c.closed_after = Clock::now() - c.connected;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  std::vector<std::size_t> held;  // indexes of the connections the server took
  for (std::size_t i = 0; i < kFlood; ++i) {
    Idle& c = flood[i];
    if (!c.closed_after) {
      EXPECT_TRUE(c.socket.buffer().empty()) << "an idle connection got " << c.socket.buffer().substr(0, 80);
      held.push_back(i);
      continue;
    }
    std::string& bytes = c.socket.buffer();
    const std::optional<Response> r = TakeResponse(&bytes);
    if (r && r->status == 503 && r->Header("connection") == "close") {
      ++refused;
      if (r->body == kTooManyBody && bytes.empty()) ++well_framed;
    } else {
      ++bad;
      if (bad <= 3) ADD_FAILURE() << "connection " << i << " closed with " << Describe(r);
    }
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(refused + held.size(), kFlood);
  EXPECT_LT(held.size(), kMaxConnections) << "more than --max-connections were served";
  EXPECT_GE(held.size(), kMaxConnections - 10) << "far fewer than --max-connections were served";

  // A new client while the flood holds every slot: refused the same way.
  std::optional<Response> probe;
  {
    RawSocket s = RawSocket::Connect(port_, In(kIoTimeout));
    ASSERT_TRUE(s.valid());
    EXPECT_TRUE(s.WaitForClose(In(kIoTimeout))) << "a new connection during the flood was not closed";
    probe = TakeResponse(&s.buffer());
    ASSERT_TRUE(probe) << "a new connection during the flood got no response";
    EXPECT_EQ(probe->status, 503);
    EXPECT_EQ(probe->Header("connection"), "close");
  }
  // The served ones are still open on the server's side: its sockets are
  // the listener, the well-behaved client's and the held ones.
  const std::size_t server_sockets = CountSockets(server_.pid());
  EXPECT_EQ(server_sockets, 1 + 1 + held.size());

  // The held ones are served connections: the idle timeout closes them,
  // with no response.
  const auto deadline = In(kIdleTimeout + kSlack);
  std::size_t open = held.size();
  while (open > 0 && Clock::now() < deadline) {
    for (std::size_t i : held) {
      Idle& c = flood[i];
      if (c.closed_after) continue;
      if (c.socket.ReadAvailable() != ReadState::kOpen) {
        c.closed_after = Clock::now() - c.connected;
        --open;
      }
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  Clock::duration fastest = Clock::duration::max(), slowest = Clock::duration::zero();
  for (std::size_t i : held) {
    if (!flood[i].closed_after) continue;
    EXPECT_TRUE(flood[i].socket.buffer().empty()) << "an idle connection got " << flood[i].socket.buffer();
    fastest = std::min(fastest, *flood[i].closed_after);
    slowest = std::max(slowest, *flood[i].closed_after);
  }
  EXPECT_EQ(open, 0u) << "idle connections still open after the idle timeout";
  EXPECT_GE(fastest, kIdleTimeout - kEarly);
  EXPECT_LE(slowest, kIdleTimeout + kSlack + milliseconds(static_cast<int>(connect_seconds * 1000)));
  flood.clear();

  // Once the flood is gone, new connections are served again (EndAttack
  // checks one more).
  {
    Client fresh(port_);
    const std::optional<Response> r = fresh.PostJson("/identify", kLookupA);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, kClusterA);
  }
  const std::string good = EndAttack();
  AddRow(std::to_string(kFlood) + " idle connections (--max-connections " + std::to_string(kMaxConnections) + ")",
         "beyond the limit: 503 and close at once; served ones closed by the idle timeout (" +
             std::to_string(kIdleTimeoutSeconds) + " s); served connections unaffected",
         std::to_string(held.size()) + " held (+1 well-behaved), " + std::to_string(refused) +
             " got 503+close (" + std::to_string(well_framed) + " of them well framed); server sockets " +
             std::to_string(server_sockets) + "; new connection during the flood: " +
             (probe ? std::to_string(probe->status) : "none") +
             "; held ones closed after " + Fmt("%.2f", Secs(fastest)) + "–" + Fmt("%.2f", Secs(slowest)) +
             " s; after the flood new connections served; " + good);
}

// The canned answer to a connection over the limit must be a well-framed
// HTTP response: its Content-Length must match its body.
TEST_F(HostileClientsTest, RefusedConnectionGetsAWellFramed503) {
  std::vector<RawSocket> held;
  for (std::size_t i = 0; i + 1 < kMaxConnections; ++i) {
    held.push_back(RawSocket::Connect(port_, In(kIoTimeout)));
    ASSERT_TRUE(held.back().valid());
  }
  // The next ones are over the limit (the listener counts live sessions;
  // the setup client's may take a moment to go, hence a few tries).
  std::optional<Response> r;
  std::string rest;
  for (int attempt = 0; attempt < 5 && !r; ++attempt) {
    RawSocket s = RawSocket::Connect(port_, In(kIoTimeout));
    ASSERT_TRUE(s.valid());
    if (!s.WaitForClose(In(milliseconds(500)))) {
      held.push_back(std::move(s));  // taken as a session: fill one more slot
      continue;
    }
    r = TakeResponse(&s.buffer());
    rest = s.buffer();
  }
  ASSERT_TRUE(r) << "no 503 with " << held.size() << " connections held";
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_EQ(r->body, kTooManyBody) << "Content-Length: " << r->Header("content-length");
  EXPECT_EQ(rest, "") << "bytes after the declared Content-Length (the header says "
                      << r->Header("content-length") << ", the body is " << r->body.size() + rest.size() << " bytes)";
  AddRow("connection over --max-connections (framing of the canned 503)",
         "503 whose Content-Length matches its body",
         "Content-Length: " + r->Header("content-length") + ", body " + std::to_string(r->body.size() + rest.size()) +
             " bytes" + (rest.empty() ? "" : " — MISFRAMED (server bug)"));
}

// A server whose file-descriptor limit is below --max-connections (e.g.
// started by hand under `ulimit -n 1024` with the default 10000): accept()
// fails with EMFILE before the 503 limit is reached. Served connections
// must not notice; the listener backs off instead of spinning; once the
// flood goes, new connections are served again.
class HostileClientsLowFdTest : public HostileClientsTest {
 protected:
  static constexpr rlim_t kServerFds = 128;
  rlim_t ServerFdLimit() const override { return kServerFds; }
};

TEST_F(HostileClientsLowFdTest, DescriptorExhaustionDoesNotHurtServedConnections) {
  constexpr std::size_t kFlood = 400;
  BeginAttack();
  std::vector<RawSocket> flood;
  for (std::size_t i = 0; i < kFlood; ++i) {
    flood.push_back(RawSocket::Connect(port_, In(kIoTimeout)));  // the kernel's backlog completes them
    ASSERT_TRUE(flood.back().valid()) << i;
  }
  const auto flood_start = Clock::now();
  std::this_thread::sleep_for(kSanitized ? seconds(2) : seconds(1));
  const std::size_t server_sockets = CountSockets(server_.pid());
  std::size_t answered = 0;
  for (RawSocket& s : flood) {
    s.ReadAvailable();
    answered += s.buffer().empty() ? 0 : 1;
  }
  // Out of descriptors, the server cannot even accept to answer 503.
  EXPECT_LT(server_sockets, kServerFds);
  EXPECT_EQ(answered, 0u);
  // A new client now waits in the backlog; the flood goes away; it is served.
  RawSocket probe = RawSocket::Connect(port_, In(kIoTimeout));
  ASSERT_TRUE(probe.valid());
  ASSERT_TRUE(probe.SendAll(Post("/identify", kLookupA), In(kIoTimeout)));
  const auto probe_sent = Clock::now();
  flood.clear();
  const std::optional<Response> r = probe.ReadResponse(In(kIoTimeout));
  const auto probe_wait = Clock::now() - probe_sent;
  ASSERT_TRUE(r) << "a new connection was not served after the flood closed";
  EXPECT_EQ(r->body, kClusterA);
  EXPECT_LT(probe_wait, kMaxLatency + milliseconds(200)) << "the listener's back-off is 100 ms";
  probe.Close();
  // The listener backs off (100 ms) rather than logging in a tight loop.
  const std::string log = server_.StderrText();
  std::size_t accept_errors = 0;
  for (std::size_t at = log.find("accept failed"); at != std::string::npos; at = log.find("accept failed", at + 1)) {
    ++accept_errors;
  }
  const double seconds_flooded = Secs(Clock::now() - flood_start);
  EXPECT_LE(static_cast<double>(accept_errors), seconds_flooded * 10 + 5);
  const std::string good = EndAttack();
  AddRow(std::to_string(kFlood) + " connections against a server started with RLIMIT_NOFILE " +
             std::to_string(kServerFds) + " (below --max-connections)",
         "accept fails (EMFILE): the listener logs and retries every 100 ms; served connections unaffected; "
         "new ones wait in the backlog and are served once descriptors free up",
         "server held " + std::to_string(server_sockets) + " sockets, 0 of " + std::to_string(kFlood) +
             " answered (no 503: it cannot accept); " + std::to_string(accept_errors) + " \"accept failed\" lines in " +
             Fmt("%.1f", seconds_flooded) + " s; a new connection served " + Fmt("%.0f", Millis(probe_wait)) +
             " ms after the flood closed; " + good);
}

// ---------------------------------------------------------------------------
// Oversized headers.

TEST_F(HostileClientsTest, OversizedHeadersGet431AndClose) {
  BeginAttack();
  std::string many_headers;
  for (int i = 0; i < 300; ++i) many_headers += "X-Header-" + std::to_string(i) + ": " + std::string(30, 'h') + "\r\n";
  const std::vector<std::pair<std::string, std::string>> attacks = {
      {"one 10 KiB header", Get("/health", "X-Filler: " + std::string(10240, 'f') + "\r\n")},
      {"300 headers, 12 KiB", Get("/health", many_headers)},
      {"9 KiB request target", Get("/contacts/" + std::string(9216, '1'))},
      {"64 KiB header, no end", "GET /health HTTP/1.1\r\nX-Endless: " + std::string(65536, 'e')},
  };
  constexpr int kRounds = 10;
  constexpr int kParallel = 20;
  std::vector<std::string> observed;
  for (const auto& [what, request] : attacks) {
    std::map<int, int> statuses;
    const auto min_end = In(milliseconds(300));
    for (int round = 0; round < kRounds || Clock::now() < min_end; ++round) {
      std::vector<RawSocket> sockets;
      for (int i = 0; i < kParallel; ++i) {
        sockets.push_back(RawSocket::Connect(port_, In(kIoTimeout)));
        sockets.back().SendAll(request, In(kIoTimeout));
      }
      for (RawSocket& s : sockets) {
        const std::optional<Response> r = s.ReadResponse(In(kIoTimeout));
        statuses[r ? r->status : 0]++;
        ASSERT_TRUE(r) << what << ": no response";
        EXPECT_EQ(r->status, 431) << what << ": " << r->status_line;
        EXPECT_EQ(r->Header("connection"), "close") << what;
        EXPECT_EQ(r->body, R"({"error":"request header is larger than 8192 bytes"})") << what;
        EXPECT_TRUE(s.WaitForClose(In(kDrainTimeout + kSlack))) << what << ": not closed";
      }
    }
    std::string counts;
    for (const auto& [status, n] : statuses) counts += (counts.empty() ? "" : ", ") + std::to_string(n) + "× " + std::to_string(status);
    observed.push_back(what + ": " + counts);
  }
  // Just under the limit is still served.
  {
    RawSocket s = RawSocket::Connect(port_, In(kIoTimeout));
    ASSERT_TRUE(s.SendAll(Post("/identify", kLookupA, "X-Filler: " + std::string(7600, 'f') + "\r\n"), In(kIoTimeout)));
    const std::optional<Response> r = s.ReadResponse(In(kIoTimeout));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, kClusterA);
    observed.push_back("7.7 KiB header: 200");
  }
  const std::string good = EndAttack();
  std::string joined;
  for (const std::string& o : observed) joined += o + "; ";
  AddRow("oversized headers (≥ " + std::to_string(kRounds * kParallel) + " of each, " + std::to_string(kParallel) +
             " at a time)",
         "431 + Connection: close, then closed; a header under 8 KiB is served",
         joined + good);
}

// ---------------------------------------------------------------------------
// Oversized and malformed Content-Length.

TEST_F(HostileClientsTest, OversizedContentLengthGets413WithoutReadingTheBody) {
  BeginAttack();
  const std::string head = "POST /identify HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n";
  std::vector<std::string> observed;

  // 1 GB declared, nothing sent: the 413 comes at once.
  const auto min_end = In(seconds(1));
  for (int i = 0; i < 20 || Clock::now() < min_end; ++i) {
    const auto start = Clock::now();
    const std::optional<Response> r =
        ExpectRejected(port_, head + "Content-Length: 1000000000\r\n\r\n", 413, "Content-Length 1e9, no body");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, R"({"error":"request body is larger than 16384 bytes"})");
    EXPECT_LT(Clock::now() - start, kMaxLatency) << "the 413 waited for the body";
    if (i == 0) observed.push_back("1 GB declared, no body: 413 in " + Fmt("%.1f", Millis(Clock::now() - start)) + " ms");
  }
  // One byte over the limit.
  {
    const std::optional<Response> r = ExpectRejected(
        port_, head + "Content-Length: " + std::to_string(kMaxBodyBytes + 1) + "\r\n\r\n", 413, "limit + 1");
    observed.push_back("limit+1: " + (r ? std::to_string(r->status) : "none"));
  }
  // 1 GB declared and the client streams it as fast as it can: the server
  // answers 413 at once and drains at most 1 MiB / 2 s before closing.
  {
    RawSocket s = RawSocket::Connect(port_, In(kIoTimeout));
    ASSERT_TRUE(s.SendAll(head + "Content-Length: 1000000000\r\n\r\n", In(kIoTimeout)));
    const std::optional<Response> r = s.ReadResponse(In(kIoTimeout));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    const std::string junk(65536, 'j');
    std::size_t sent = 0;
    const auto start = Clock::now();
    const auto deadline = In(kDrainTimeout + kSlack + seconds(2));
    bool cut_off = false;
    while (Clock::now() < deadline) {
      const long n = s.TrySend(junk);
      if (n < 0) {
        cut_off = true;
        break;
      }
      sent += static_cast<std::size_t>(n);
      if (s.ReadAvailable() != ReadState::kOpen) {
        // End of file only says the server stopped sending; keep pushing
        // until the server's close shows as a reset.
      }
      pollfd pfd{s.fd(), POLLOUT, 0};
      ::poll(&pfd, 1, 50);
    }
    const auto took = Clock::now() - start;
    EXPECT_TRUE(cut_off) << "the server kept taking the body: " << sent << " bytes in " << Secs(took) << " s";
    EXPECT_LT(took, kDrainTimeout + kSlack);
    observed.push_back("1 GB declared and streamed: 413, then cut off after " + Fmt("%.1f", Secs(took)) + " s and " +
                       Fmt("%.1f", static_cast<double>(sent) / (1 << 20)) + " MiB");
  }
  // Malformed Content-Length values.
  for (const auto& [what, value] : std::vector<std::pair<std::string, std::string>>{
           {"overflowing", "Content-Length: 99999999999999999999999999\r\n"},
           {"negative", "Content-Length: -1\r\n"},
           {"not a number", "Content-Length: 12abc\r\n"},
           {"two different", "Content-Length: 5\r\nContent-Length: 50\r\n"}}) {
    const std::optional<Response> r = ExpectRejected(port_, head + value + "\r\n{}", 400, "Content-Length " + what);
    if (r) {
      EXPECT_EQ(r->body, kMalformedBody);
    }
    observed.push_back(what + ": " + (r ? std::to_string(r->status) : "none"));
  }
  const std::string good = EndAttack();
  std::string joined;
  for (const std::string& o : observed) joined += o + "; ";
  AddRow("oversized / malformed Content-Length",
         "413 before any body is read (body streamed anyway: cut off after ≤ 1 MiB / 2 s drain); "
         "malformed values: 400; connection closed",
         joined + good);
}

// ---------------------------------------------------------------------------
// A Content-Length that lies.

TEST_F(HostileClientsTest, LyingContentLengthIsTimedOutOrRejected) {
  BeginAttack();
  std::vector<std::string> observed;
  const std::string head = "POST /identify HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n";

  // Declares more than it sends: the body read times out, no response.
  {
    constexpr int kLiars = 30;
    std::vector<RawSocket> liars;
    const auto sent_at = Clock::now();
    for (int i = 0; i < kLiars; ++i) {
      liars.push_back(RawSocket::Connect(port_, In(kIoTimeout)));
      ASSERT_TRUE(liars.back().SendAll(head + "Content-Length: 100\r\n\r\n" + std::string(kLookupA), In(kIoTimeout)));
    }
    Clock::duration slowest = Clock::duration::zero();
    Clock::duration fastest = Clock::duration::max();
    for (RawSocket& s : liars) {
      EXPECT_TRUE(s.WaitForClose(sent_at + kHeaderTimeout + kSlack)) << "a body that never came kept the connection";
      const auto after = Clock::now() - sent_at;
      slowest = std::max(slowest, after);
      fastest = std::min(fastest, after);
      EXPECT_TRUE(s.buffer().empty()) << "response to a short body: " << s.buffer().substr(0, 100);
    }
    EXPECT_GE(fastest, kHeaderTimeout - kEarly);
    observed.push_back("declares 100, sends " + std::to_string(kLookupA.size()) + " (" + std::to_string(kLiars) +
                       " connections): no response, closed after " + Fmt("%.2f", Secs(fastest)) + "–" +
                       Fmt("%.2f", Secs(slowest)) + " s");
  }

  // Declares less than it sends: the first request gets the short body (not
  // JSON: 400, the connection stays usable); the remainder is parsed as the
  // next request, which is malformed: 400 and close. The request smuggled
  // behind it is never served.
  {
    RawSocket s = RawSocket::Connect(port_, In(kIoTimeout));
    ASSERT_TRUE(s.SendAll(head + "Content-Length: 5\r\n\r\n" + std::string(kLookupA) + Get("/health"), In(kIoTimeout)));
    const std::optional<Response> first = s.ReadResponse(In(kIoTimeout));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 400) << first->body;
    EXPECT_NE(first->Header("connection"), "close");
    const std::optional<Response> second = s.ReadResponse(In(kIoTimeout));
    ASSERT_TRUE(second) << "no response to the remainder";
    EXPECT_EQ(second->status, 400);
    EXPECT_EQ(second->body, kMalformedBody);
    EXPECT_EQ(second->Header("connection"), "close");
    EXPECT_TRUE(s.WaitForClose(In(kDrainTimeout + kSlack)));
    EXPECT_TRUE(s.buffer().empty()) << "the smuggled request was answered: " << s.buffer().substr(0, 100);
    observed.push_back("declares 5, sends " + std::to_string(kLookupA.size()) + " + GET /health: " +
                       std::to_string(first->status) + " (body not JSON), then " + std::to_string(second->status) +
                       " " + second->body + " + close; smuggled GET never answered");
  }

  // Declares less, and the remainder is all the client sends: a remainder
  // that cannot start a request line is rejected at once (400 + close)...
  {
    RawSocket s = RawSocket::Connect(port_, In(kIoTimeout));
    ASSERT_TRUE(s.SendAll(head + "Content-Length: 5\r\n\r\n" + std::string(kLookupA), In(kIoTimeout)));
    const std::optional<Response> first = s.ReadResponse(In(kIoTimeout));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 400);
    const std::optional<Response> second = s.ReadResponse(In(kIoTimeout));
    ASSERT_TRUE(second) << "no response to the remainder";
    EXPECT_EQ(second->body, kMalformedBody);
    EXPECT_EQ(second->Header("connection"), "close");
    EXPECT_TRUE(s.WaitForClose(In(kDrainTimeout + kSlack)));
    observed.push_back("declares 5, sends " + std::to_string(kLookupA.size()) + ", nothing more: " +
                       std::to_string(first->status) + ", then " + std::to_string(second->status) + " + close");
  }
  // ...one that could (only token characters, no line end) is an
  // unfinished header: closed by the header timeout, no response.
  {
    RawSocket s = RawSocket::Connect(port_, In(kIoTimeout));
    const auto sent_at = Clock::now();
    ASSERT_TRUE(s.SendAll(head + "Content-Length: 2\r\n\r\n{}PADDING", In(kIoTimeout)));
    const std::optional<Response> first = s.ReadResponse(In(kIoTimeout));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 400);
    EXPECT_TRUE(s.WaitForClose(sent_at + kHeaderTimeout + kSlack)) << "the remainder kept the connection";
    const auto took = Clock::now() - sent_at;
    EXPECT_GE(took, kHeaderTimeout - kEarly);
    EXPECT_TRUE(s.buffer().empty()) << s.buffer().substr(0, 100);
    observed.push_back("declares 2 of \"{}PADDING\": 400, then closed after " + Fmt("%.2f", Secs(took)) +
                       " s without a response");
  }

  // Content-Length together with Transfer-Encoding: chunked (request smuggling).
  {
    const std::optional<Response> r = ExpectRejected(
        port_, head + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + Get("/health"), 400,
        "Content-Length and chunked");
    observed.push_back("Content-Length + Transfer-Encoding: chunked: " + (r ? std::to_string(r->status) : "none") +
                       " + close");
  }
  const std::string good = EndAttack();
  std::string joined;
  for (const std::string& o : observed) joined += o + "; ";
  AddRow("lying Content-Length",
         "more than sent: closed by the header (body) timeout, no response; less: the rest is parsed as the next "
         "request → 400 + close, nothing smuggled",
         joined + good);
}

// ---------------------------------------------------------------------------
// Malformed chunked encoding.

TEST_F(HostileClientsTest, MalformedChunkedEncodingGets400Or413AndClose) {
  BeginAttack();
  const std::string head =
      "POST /identify HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string tiny_chunks;
  for (std::size_t i = 0; i < kMaxBodyBytes + 100; ++i) tiny_chunks += "1\r\nx\r\n";
  const std::vector<std::tuple<std::string, std::string, int>> cases = {
      {"chunk size not hex", "zz\r\nhello\r\n0\r\n\r\n", 400},
      {"negative chunk size", "-5\r\nhello\r\n0\r\n\r\n", 400},
      {"chunk data without its CRLF", "5\r\nhelloXX\r\n0\r\n\r\n", 400},
      {"chunk size line without CRLF", "5 hello\r\n0\r\n\r\n", 400},
      {"bad chunk extension", "5;\x01\r\nhello\r\n0\r\n\r\n", 400},
      {"huge chunk size (2^64+)", "fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400},
      {"chunk size over the body limit", "100000\r\nhello\r\n0\r\n\r\n", 413},
      {"16 KiB+ of 1-byte chunks", tiny_chunks + "0\r\n\r\n", 413},
      {"bad trailer", "5\r\nhello\r\n0\r\nno colon here\r\n\r\n", 400},
  };
  std::vector<std::string> observed;
  constexpr int kRepeats = 20;
  for (const auto& [what, body, status] : cases) {
    int got = 0;
    for (int i = 0; i < kRepeats; ++i) {
      const std::optional<Response> r = ExpectRejected(port_, head + body, status, what);
      got = r ? r->status : 0;
      if (!r || r->status != status) break;
    }
    observed.push_back(what + ": " + std::to_string(got));
  }
  // A chunked body that never ends: the body read times out, no response.
  {
    RawSocket s = RawSocket::Connect(port_, In(kIoTimeout));
    const auto sent_at = Clock::now();
    ASSERT_TRUE(s.SendAll(head + "5\r\nhello\r\n", In(kIoTimeout)));
    EXPECT_TRUE(s.WaitForClose(sent_at + kHeaderTimeout + kSlack));
    EXPECT_TRUE(s.buffer().empty()) << s.buffer().substr(0, 100);
    EXPECT_GE(Clock::now() - sent_at, kHeaderTimeout - kEarly);
    observed.push_back("no last chunk: no response, closed after " + Fmt("%.2f", Secs(Clock::now() - sent_at)) + " s");
  }
  const std::string good = EndAttack();
  std::string joined;
  for (const std::string& o : observed) joined += o + "; ";
  AddRow("malformed chunked encoding (each case ×" + std::to_string(kRepeats) + ")",
         "400 (413 when over the body limit) + close; an unfinished body is closed by the timeout", joined + good);
}

// ---------------------------------------------------------------------------
// A pipelined flood: thousands of requests written without reading.

TEST_F(HostileClientsTest, PipelinedFloodIsAnsweredInOrderWithBoundedMemory) {
  constexpr int kRequests = 8000;  // < --max-requests-per-connection (10000)
  BeginAttack();
  std::string requests;
  std::vector<std::pair<int, std::string>> expected;
  // Every 8th is GET /metrics (~10 KB): ~10 MB of responses, more than the
  // socket buffers hold, so the server has to wait for the client.
  constexpr std::string_view kMetrics = "<metrics>";
  for (int i = 0; i < kRequests; ++i) {
    if (i % 8 == 7) {
      requests += Get("/metrics");
      expected.emplace_back(200, kMetrics);
      continue;
    }
    switch (i % 4) {
      case 0: {
        const int id = 1 + (i / 4) % kSeededContacts;
        requests += Get("/contacts/" + std::to_string(id));
        expected.emplace_back(200, contact_bodies_[static_cast<std::size_t>(id - 1)]);
        break;
      }
      case 1:
        requests += Post("/identify", kLookupA);
        expected.emplace_back(200, kClusterA);
        break;
      case 2:
        requests += Get("/contacts/" + std::to_string(1000 + i));
        expected.emplace_back(404, R"({"error":"no contact with id )" + std::to_string(1000 + i) + "\"}");
        break;
      default:
        requests += Post("/identify", kLookupB);
        expected.emplace_back(200, kClusterB);
        break;
    }
  }
  const std::uint64_t rss_before = ReadRss(server_.pid());
  RawSocket s = RawSocket::Connect(port_, In(kIoTimeout), 65536, 65536);
  ASSERT_TRUE(s.valid());

  // Phase 1: write for a while, never read.
  std::size_t written = 0;
  const auto write_phase = In(milliseconds(1500));
  while (written < requests.size() && Clock::now() < write_phase) {
    const long n = s.TrySend(std::string_view(requests).substr(written));
    ASSERT_GE(n, 0) << "the server dropped the pipelining connection";
    written += static_cast<std::size_t>(n);
    pollfd pfd{s.fd(), POLLOUT, 0};
    ::poll(&pfd, 1, 20);
  }
  const std::size_t written_unread = written;
  const std::uint64_t rss_unread = ReadRss(server_.pid());

  // Phase 2: read everything (writing the rest as the server takes it).
  std::size_t answered = 0, mismatched = 0;
  const auto start = Clock::now();
  const auto deadline = In(kSanitized ? seconds(60) : seconds(30));
  std::uint64_t rss_peak = rss_unread;
  auto next_sample = Clock::now();
  while (answered < expected.size() && Clock::now() < deadline) {
    pollfd pfd{s.fd(), static_cast<short>(POLLIN | (written < requests.size() ? POLLOUT : 0)), 0};
    ::poll(&pfd, 1, 100);
    if (written < requests.size()) {
      const long n = s.TrySend(std::string_view(requests).substr(written));
      ASSERT_GE(n, 0);
      written += static_cast<std::size_t>(n);
    }
    // A bounded bite at a time: TakeResponse() erases from the front, which
    // on a huge buffer would keep this client from reading for seconds (and
    // the server would rightly time its write out).
    const ReadState state = s.ReadAvailable(256 * 1024);
    while (std::optional<Response> r = TakeResponse(&s.buffer())) {
      const auto& [status, body] = expected[answered];
      const bool metrics_ok = body == kMetrics && r->status == 200 && r->body.find("\nidrecon_contacts ") != std::string::npos;
      if (!metrics_ok && (r->status != status || r->body != body)) {
        if (++mismatched <= 3) {
          ADD_FAILURE() << "response " << answered << ": expected " << status << " " << body << ", got "
                        << Describe(r);
        }
      }
      ++answered;
    }
    if (state != ReadState::kOpen) break;
    if (Clock::now() >= next_sample) {
      rss_peak = std::max(rss_peak, ReadRss(server_.pid()));
      next_sample = Clock::now() + milliseconds(50);
    }
  }
  const double read_seconds = Secs(Clock::now() - start);
  EXPECT_EQ(answered, expected.size()) << "of " << expected.size() << " pipelined requests; the connection "
                                      << (written < requests.size() ? "ended with requests unsent" : "ended")
                                      << " after " << read_seconds << " s of reading; server stderr:\n"
                                      << server_.StderrText();
  EXPECT_EQ(mismatched, 0u);
  EXPECT_LT(rss_peak, rss_before + kRssBound);
  EXPECT_LT(written_unread, requests.size()) << "the server took every request while its responses went unread";
  // The connection is still good.
  ASSERT_TRUE(s.SendAll(Get("/health"), In(kIoTimeout)));
  const std::optional<Response> health = s.ReadResponse(In(kIoTimeout));
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  s.Close();

  const std::string good = EndAttack();
  AddRow(std::to_string(kRequests) + " pipelined requests, 1/8 of them GET /metrics (" +
             Fmt("%.0f", static_cast<double>(requests.size()) / 1024) + " KiB), not read for 1.5 s, then read",
         "all answered, in order, complete; the server reads one request at a time, so memory stays flat",
         Fmt("%.0f", static_cast<double>(written_unread) / 1024) + " KiB taken while the client did not read (the server stopped reading; the rest waited in the client); " +
             std::to_string(answered) + "/" + std::to_string(expected.size()) + " answered in order, " +
             std::to_string(mismatched) + " wrong, read in " + Fmt("%.2f", read_seconds) + " s; server RSS " +
             Mib(static_cast<std::int64_t>(rss_peak) - static_cast<std::int64_t>(rss_before)) + "; " + good);
}

// ---------------------------------------------------------------------------
// Clients that never read their responses.

TEST_F(HostileClientsTest, ClientsThatNeverReadAreClosedByTheWriteTimeout) {
  constexpr int kClients = 20;
  constexpr int kRequestsEach = 1000;  // GET /metrics: ~10 KB each, far more than the socket buffers hold
  BeginAttack();
  std::string requests;
  for (int i = 0; i < kRequestsEach; ++i) requests += Get("/metrics");

  // The server's sockets before: the listener and the well-behaved client's.
  const std::size_t sockets_before = CountSockets(server_.pid());
  const std::uint64_t rss_before = ReadRss(server_.pid());
  std::uint64_t rss_peak = rss_before;
  struct Deaf {
    RawSocket socket;
    std::size_t written = 0;
  };
  std::vector<Deaf> deaf(kClients);
  const auto start = Clock::now();
  for (Deaf& d : deaf) {
    d.socket = RawSocket::Connect(port_, In(kIoTimeout), 4096);
    ASSERT_TRUE(d.socket.valid());
  }
  // Send requests as the server takes them, never read, keep the sockets
  // open. The server's writes block once the buffers are full; it must then
  // give up on the write (idle timeout) and close. A client never sees that
  // close (the FIN waits behind the unread data), so the server's sockets
  // are counted instead.
  // The write timer starts only once the server's send buffers are full,
  // i.e. after it has produced megabytes of /metrics responses: ~0.5 s in a
  // release build, several seconds under TSan on a loaded machine (7.5 s
  // seen in a parallel ctest run).
  const auto fill_time = seconds(kSanitized ? 5 : 1);
  const auto deadline = In(kIdleTimeout + kSlack + fill_time + seconds(2));
  std::size_t peak_sockets = 0, sockets_now = CountSockets(server_.pid());
  Clock::duration released_after{};
  bool released = false;
  while (Clock::now() < deadline) {
    for (Deaf& d : deaf) {
      const long n = d.socket.TrySend(std::string_view(requests).substr(d.written));
      if (n > 0) d.written += static_cast<std::size_t>(n);
    }
    sockets_now = CountSockets(server_.pid());
    peak_sockets = std::max(peak_sockets, sockets_now);
    rss_peak = std::max(rss_peak, ReadRss(server_.pid()));
    if (peak_sockets >= sockets_before + kClients && sockets_now <= sockets_before) {
      released = true;
      released_after = Clock::now() - start;
      break;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(peak_sockets, sockets_before + kClients) << "the server never held all the deaf connections";
  EXPECT_TRUE(released) << "the server still holds " << sockets_now - sockets_before << " of " << kClients
                        << " connections that never read, " << Secs(Clock::now() - start) << " s after they connected";
  if (released) {
    // It was the write timeout: not earlier, and not much later.
    EXPECT_GE(released_after, kIdleTimeout - kEarly);
    EXPECT_LE(released_after, kIdleTimeout + kSlack + fill_time);
  }
  EXPECT_LT(rss_peak, rss_before + kRssBound);

  // Reading now finds the end of the stream (a reset: the server closed
  // with requests unread), well before all the responses.
  std::size_t ended = 0, max_received = 0;
  for (Deaf& d : deaf) {
    ended += d.socket.WaitForClose(In(kIoTimeout)) ? 1 : 0;
    max_received = std::max(max_received, d.socket.buffer().size());
  }
  EXPECT_EQ(ended, deaf.size());
  EXPECT_LT(max_received, std::size_t{kRequestsEach} * 9000) << "the server never had to block";
  deaf.clear();
  const std::string good = EndAttack();
  AddRow(std::to_string(kClients) + " clients pipelining " + std::to_string(kRequestsEach) +
             " GET /metrics (~10 KB each), never reading (4 KiB receive buffer), sockets kept open",
         "the server stops reading when its write blocks; the write times out (idle timeout, " +
             std::to_string(kIdleTimeoutSeconds) + " s) and the server closes the connection",
         "server held " + std::to_string(peak_sockets - sockets_before) + " and released all " +
             (released ? Fmt("%.2f", Secs(released_after)) : std::string("(not)")) +
             " s after they connected (clients see the close only when they read: it waits behind the unread "
             "data); server RSS " +
             Mib(static_cast<std::int64_t>(rss_peak) - static_cast<std::int64_t>(rss_before)) + "; " + good);
}

// ---------------------------------------------------------------------------
// Half-closed sockets.

TEST_F(HostileClientsTest, HalfClosedSocketsStillGetTheirAnswers) {
  BeginAttack();
  std::vector<std::string> observed;
  // A request, then shutdown(SHUT_WR): answered, then closed.
  {
    constexpr int kClients = 50;
    int answered = 0, total = 0;
    const auto min_end = In(seconds(1));
    while (Clock::now() < min_end) {
      std::vector<RawSocket> sockets;
      for (int i = 0; i < kClients; ++i) {
        sockets.push_back(RawSocket::Connect(port_, In(kIoTimeout)));
        ASSERT_TRUE(sockets.back().SendAll(Post("/identify", kLookupA), In(kIoTimeout)));
        sockets.back().ShutdownWrite();
      }
      for (RawSocket& s : sockets) {
        ++total;
        const std::optional<Response> r = s.ReadResponse(In(kIoTimeout));
        ASSERT_TRUE(r) << "a half-closed client got no answer";
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, kClusterA);
        answered += (r->status == 200 && r->body == kClusterA) ? 1 : 0;
        EXPECT_TRUE(s.WaitForClose(In(kSlack))) << "not closed after the answer";
        EXPECT_TRUE(s.buffer().empty());
      }
    }
    observed.push_back(std::to_string(answered) + "/" + std::to_string(total) + " (" + std::to_string(kClients) +
                       " at a time) request + SHUT_WR answered, then closed");
  }
  // Three pipelined requests, then SHUT_WR: all three answered in order.
  {
    RawSocket s = RawSocket::Connect(port_, In(kIoTimeout));
    ASSERT_TRUE(s.SendAll(Post("/identify", kLookupA) + Get("/contacts/3") + Post("/identify", kLookupB),
                          In(kIoTimeout)));
    s.ShutdownWrite();
    std::optional<Response> r = s.ReadResponse(In(kIoTimeout));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, kClusterA);
    r = s.ReadResponse(In(kIoTimeout));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, contact_bodies_[2]);
    r = s.ReadResponse(In(kIoTimeout));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, kClusterB);
    EXPECT_TRUE(s.WaitForClose(In(kSlack)));
    observed.push_back("3 pipelined + SHUT_WR: 3 answered in order, then closed");
  }
  // Half a header, or half a body, then SHUT_WR: closed at once, no answer.
  for (const auto& [what, partial] : std::vector<std::pair<std::string, std::string>>{
           {"half a header", "POST /identify HTTP/1.1\r\nHost: te"},
           {"half a body", "POST /identify HTTP/1.1\r\nHost: test\r\nContent-Length: 50\r\n\r\n{\"email\":"}}) {
    RawSocket s = RawSocket::Connect(port_, In(kIoTimeout));
    const auto sent_at = Clock::now();
    ASSERT_TRUE(s.SendAll(partial, In(kIoTimeout)));
    s.ShutdownWrite();
    EXPECT_TRUE(s.WaitForClose(In(kIoTimeout))) << what;
    const auto took = Clock::now() - sent_at;
    EXPECT_LT(took, kHeaderTimeout - kEarly) << what << ": waited for the timeout instead of seeing the end of file";
    EXPECT_TRUE(s.buffer().empty()) << what << ": " << s.buffer().substr(0, 100);
    observed.push_back(what + " + SHUT_WR: closed in " + Fmt("%.0f", Millis(took)) + " ms, no response");
  }
  const std::string good = EndAttack();
  std::string joined;
  for (const std::string& o : observed) joined += o + "; ";
  AddRow("half-closed sockets (shutdown(SHUT_WR) after sending)",
         "complete requests are answered, then the connection is closed; a partial one is closed without an answer",
         joined + good);
}

}  // namespace
}  // namespace idrecon::testing
