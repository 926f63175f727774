#include "testing/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "testing/temp_dir.h"

namespace idrecon::testing {

pid_t Spawn(const std::vector<std::string>& argv, const SpawnOptions& options, std::string* error) {
  // Everything the child needs is built before fork: between fork and exec
  // only async-signal-safe calls are allowed.
  std::vector<std::string> storage = argv;
  std::vector<char*> args;
  for (std::string& arg : storage) args.push_back(arg.data());
  args.push_back(nullptr);
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    // dup2 clears FD_CLOEXEC on the copies.
    if ((options.stdin_fd >= 0 && ::dup2(options.stdin_fd, STDIN_FILENO) < 0) ||
        (options.stdout_fd >= 0 && ::dup2(options.stdout_fd, STDOUT_FILENO) < 0) ||
        (options.stderr_fd >= 0 && ::dup2(options.stderr_fd, STDERR_FILENO) < 0) ||
        (cwd != nullptr && ::chdir(cwd) != 0)) {
      ::_exit(127);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

std::optional<int> WaitForExit(pid_t pid, Clock::duration timeout) {
  if (pid <= 0) return std::nullopt;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if ((r < 0 && errno != EINTR) || Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::seconds limit, const std::string& input) {
  CommandResult result;
  const TempDir dir("idrecon-cmd");
  if (!dir.ok()) return result;
  const std::string in_path = dir.path() + "/in", out_path = dir.path() + "/out", err_path = dir.path() + "/err";
  WriteFile(in_path, input);
  SpawnOptions options;
  options.stdin_fd = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  options.stdout_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  options.stderr_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::string error;
  const pid_t pid = options.stdin_fd >= 0 && options.stdout_fd >= 0 && options.stderr_fd >= 0
                        ? Spawn(argv, options, &error)
                        : -1;
  for (int fd : {options.stdin_fd, options.stdout_fd, options.stderr_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (pid < 0) {
    result.err = error;
    return result;
  }
  std::optional<int> status = WaitForExit(pid, limit);
  if (!status) {
    ::kill(pid, SIGKILL);
    status = WaitForExit(pid, kExitTimeout);
    result.timed_out = true;
  }
  if (status && WIFEXITED(*status) && !result.timed_out) result.exit_code = WEXITSTATUS(*status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

}  // namespace idrecon::testing
