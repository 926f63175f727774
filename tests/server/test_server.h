// Test harness for the real idrecon-server binary: a child process with its
// ready line on a pipe and its stderr in a file, temporary directories, and a
// small blocking HTTP/1.1 client over a plain POSIX socket (127.0.0.1 only).
//
// Every wait takes a deadline, so a hung server fails a test instead of
// hanging CI. The server binary is IDRECON_SERVER_PATH (set by CMake on the
// server_test_support library).
//
// Thread-safety: a ServerProcess belongs to one thread (the test's);
// Connection and Client objects belong to one thread each.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idrecon::test {

using Clock = std::chrono::steady_clock;

// Generous: sanitizer builds start slowly on a loaded 2-core CI machine.
inline constexpr auto kStartTimeout = std::chrono::seconds(30);
inline constexpr auto kIoTimeout = std::chrono::seconds(10);
inline constexpr auto kExitTimeout = std::chrono::seconds(15);

int MillisLeft(Clock::time_point deadline);

// A fresh directory under /tmp, removed (recursively) on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view tag = "idrecon-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process running idrecon-server in its own fresh working directory
// (so no stray .env applies; the default ./data lands there too), with its
// stdout on a pipe and its stderr redirected to a file in that directory
// (a file never fills up and blocks the server the way an unread pipe would).
// The destructor SIGKILLs a still-running child and removes the directory.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Spawns the server with `args` (argv[1..]). Returns false, with a
  // message, on failure.
  bool Spawn(const std::vector<std::string>& args, std::string* error);

  // Spawn, then wait for the ready line
  // "idrecon-server listening on http://127.0.0.1:PORT (threads N)" and take
  // the port from it. On failure the message includes the server's stderr.
  bool Start(const std::vector<std::string>& args, std::string* error, Clock::duration timeout = kStartTimeout);

  // Reads stdout until the first newline; returns the line (without it), or
  // nullopt on timeout or end of file.
  std::optional<std::string> ReadLine(Clock::duration timeout);

  // Waits for the process to exit; returns its wait status, or nullopt on
  // timeout (the process keeps running).
  std::optional<int> WaitForExit(Clock::duration timeout);

  bool Signal(int signal);
  // SIGKILL and reap; returns the wait status (nullopt if there was no child
  // or it could not be reaped within the timeout).
  std::optional<int> Kill(Clock::duration timeout = kExitTimeout);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  const std::string& ready_line() const { return ready_line_; }
  // Everything the server has written to stderr so far.
  std::string StderrText() const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string ready_line_;
  std::string dir_;
};

// What the server's stderr says about startup and shutdown, in either of its
// formats: the sentence form ("recovered 4 contacts in 2 clusters ...",
// "stopped; log durable through seq 5") or logfmt (msg="recovered"
// contacts=4 clusters=2 ..., msg="stopped" durable_seq=5).
struct RecoveryLog {
  std::uint64_t contacts = 0;
  std::uint64_t clusters = 0;
};
std::optional<RecoveryLog> FindRecoveryLog(std::string_view stderr_text);
std::optional<std::uint64_t> FindStoppedDurableSeq(std::string_view stderr_text);

// "exited with status 0", "killed by signal 9", ...
std::string DescribeWaitStatus(int status);

struct Response {
  std::string status_line;
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& name) const;
};

// A client connection; the read buffer survives across responses so
// pipelined responses that arrive together are split correctly.
class Connection {
 public:
  explicit Connection(std::uint16_t port);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool Send(std::string_view data, Clock::duration timeout = kIoTimeout);

  // Reads one response. A 1xx interim response is returned like any other.
  // A response to HEAD has no body whatever its Content-Length says.
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
  std::optional<Response> PostJson(std::string_view target, std::string_view body) {
    return Request(PostRequest(target, body));
  }
  std::optional<Response> GetPath(std::string_view target) { return Request(GetRequest(target)); }

  // Whether the last Request() failed because no connection could be
  // opened (nothing was sent), rather than for want of an answer.
  bool last_connect_failed() const { return last_connect_failed_; }

  static std::string PostRequest(std::string_view target, std::string_view body);
  static std::string GetRequest(std::string_view target);

 private:
  std::uint16_t port_;
  std::unique_ptr<Connection> connection_;
  bool last_connect_failed_ = false;
};

std::string Post(std::string_view target, std::string_view body, std::string_view extra_headers = "");
std::string Get(std::string_view target, std::string_view extra_headers = "");

// The usual test flags: loopback, an ephemeral port, two I/O threads.
std::vector<std::string> ServerArgs(const std::string& data_dir, std::vector<std::string> extra = {});

// The seed for a randomized test: $IDRECON_SEED if set, else a fresh random
// one. The caller prints it.
std::uint64_t TestSeed();

}  // namespace idrecon::test
