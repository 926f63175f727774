// ServerProcess: the real idrecon-server binary as a child of the test, on
// 127.0.0.1 and a port of the OS's choosing, in a fresh working directory
// of its own (so no stray .env applies; the default ./data lands there too),
// with its stdout on a pipe (for the ready line) and its stderr in a file in
// that directory (a file never fills up and blocks the server the way an
// unread pipe would). The destructor SIGKILLs a still-running child and
// removes the directory.
//
// Also: ServerArgs (the usual test flags) and what the server's stderr says
// about recovery and shutdown.
//
// The binary is IDRECON_SERVER_PATH, compiled into idrecon_testing by CMake.
//
// Thread-safety: a ServerProcess belongs to one thread (the test's).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace idrecon::testing {

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
  // SIGTERM (a graceful stop), then WaitForExit.
  std::optional<int> Terminate(Clock::duration timeout = kExitTimeout);
  // SIGKILL, then WaitForExit.
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
  std::optional<TempDir> dir_;  // the working directory, once spawned
};

// The usual test flags: loopback, an ephemeral port, two I/O threads, the
// data directory; then `extra`.
std::vector<std::string> ServerArgs(const std::string& data_dir, std::vector<std::string> extra = {});

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

}  // namespace idrecon::testing
