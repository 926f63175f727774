// The tests' one HTTP/1.1 client: the response parser (TakeResponse), a
// blocking client connection over a plain POSIX socket to 127.0.0.1, a
// keep-alive client that reconnects on demand, and the request builders.
//
// Every wait takes a deadline, so a hung server fails a test instead of
// hanging CI.
//
// Thread-safety: free functions are thread-safe; a Connection or a Client
// belongs to one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace idrecon::testing {

using Clock = std::chrono::steady_clock;

// Generous: sanitizer builds start slowly on a loaded 2-core CI machine.
inline constexpr auto kStartTimeout = std::chrono::seconds(30);
inline constexpr auto kIoTimeout = std::chrono::seconds(10);
inline constexpr auto kExitTimeout = std::chrono::seconds(15);

// Milliseconds until `deadline` for poll(), 0 once it has passed.
int MillisLeft(Clock::time_point deadline);

struct Response {
  std::string status_line;
  int status = 0;  // -1 when the status line is too short to hold one
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The header's value, or "" when absent; `name` in lower case.
  std::string Header(const std::string& name) const;
};

// Takes one complete response off the front of `buffer`, framed by
// Content-Length (all the server sends); a response to HEAD has no body
// whatever its Content-Length says. nullopt: not complete yet, and `buffer`
// is left as it was. Header lines without a colon are skipped.
std::optional<Response> TakeResponse(std::string* buffer, bool head_request = false);

// A client connection to 127.0.0.1:port; the read buffer survives across
// responses so pipelined responses that arrive together are split correctly.
class Connection {
 public:
  explicit Connection(std::uint16_t port);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool Send(std::string_view data, Clock::duration timeout = kIoTimeout);

  // Reads one response. A 1xx interim response is returned like any other.
  std::optional<Response> ReadResponse(Clock::duration timeout = kIoTimeout, bool head_request = false);

  // True when the server closes the connection (EOF or reset) before the
  // deadline, with no further bytes.
  bool WaitForClose(Clock::duration timeout);

 private:
  bool Fill(Clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
};

// One request at a time over a keep-alive connection that is (re)opened on
// demand: after the server answered "Connection: close", or after an I/O
// error. Request() returns nullopt when the server cannot be reached or did
// not answer in full.
class Client {
 public:
  explicit Client(std::uint16_t port) : port_(port) {}
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  std::optional<Response> Request(std::string_view raw_request, Clock::duration timeout = kIoTimeout);
  std::optional<Response> PostJson(std::string_view target, std::string_view body);
  std::optional<Response> GetPath(std::string_view target);

  // Whether the last Request() failed because no connection could be
  // opened (nothing was sent), rather than for want of an answer.
  bool last_connect_failed() const { return last_connect_failed_; }

 private:
  std::uint16_t port_;
  std::unique_ptr<Connection> connection_;
  bool last_connect_failed_ = false;
};

// Raw requests, for Connection::Send and Client::Request. `extra_headers`
// is inserted as is (each line ending in \r\n).
std::string Post(std::string_view target, std::string_view body, std::string_view extra_headers = "");
std::string Get(std::string_view target, std::string_view extra_headers = "");

}  // namespace idrecon::testing
