// Helpers for the tools' end-to-end tests: run a command with a time limit,
// run idrecon-server as a child and talk HTTP to it. Every wait is bounded;
// every child is killed when its owner goes out of scope.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace idrecon::testing {

struct CommandResult {
  int exit_code = -1;  // -1: killed (timeout) or did not start
  std::string out, err;
  bool timed_out = false;
};

// Runs argv[0] (searched on PATH) with `input` on stdin; kills it after `limit`.
CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::seconds limit = std::chrono::seconds(120),
                         const std::string& input = "");

// Writes / reads a whole file.
void WriteFile(const std::string& path, const std::string& data);
std::string ReadFile(const std::string& path);

struct HttpResponse {
  int status = 0;
  std::string body;
};

// A child idrecon-server on 127.0.0.1, an OS-chosen port.
class ServerProcess {
 public:
  ServerProcess(const std::string& binary, const std::string& data_dir);
  ~ServerProcess();  // SIGTERM, then SIGKILL after 10 s
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool ready() const { return port_ != 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  // Stops it (SIGTERM) and returns its exit status (-1 if it had to be killed).
  int Stop();

  HttpResponse Post(const std::string& path, const std::string& body) const;
  HttpResponse Get(const std::string& path) const;

 private:
  HttpResponse Send(const std::string& request) const;

  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace idrecon::testing
