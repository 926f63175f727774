// Child processes for the tests that run the real binaries: start one with
// its standard streams where the test wants them, wait for it with a
// deadline, run a command to completion with a time limit, and read and
// write whole files.
//
// Every wait is bounded, so a hung child fails a test instead of hanging CI.
//
// Thread-safety: free functions are thread-safe; a pid belongs to the test
// that started it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "testing/http_client.h"  // Clock

namespace idrecon::testing {

// Where the child's standard streams go (-1: inherited) and its working
// directory (empty: inherited).
struct SpawnOptions {
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::string cwd;
};

// Starts argv[0] (searched on PATH when it has no '/') with `argv`. Returns
// the child's pid, or -1 with a message.
pid_t Spawn(const std::vector<std::string>& argv, const SpawnOptions& options, std::string* error);

// Waits for `pid` to exit; returns its wait status, or nullopt on timeout
// (the child keeps running) or if it is not our child.
std::optional<int> WaitForExit(pid_t pid, Clock::duration timeout);

// "exited with status 0", "killed by signal 9", ...
std::string DescribeWaitStatus(int status);

struct CommandResult {
  int exit_code = -1;  // -1: killed (timeout or signal) or did not start
  std::string out, err;
  bool timed_out = false;
};

// Runs argv[0] (searched on PATH) with `input` on stdin and its output in
// files; SIGKILLs it after `limit`.
CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::seconds limit = std::chrono::seconds(120),
                         const std::string& input = "");

// Writes / reads a whole file.
void WriteFile(const std::string& path, const std::string& data);
std::string ReadFile(const std::string& path);

}  // namespace idrecon::testing
