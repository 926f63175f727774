#include "testing/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <regex>

#include "testing/process.h"

namespace idrecon::testing {

ServerProcess::~ServerProcess() {
  Kill();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

bool ServerProcess::Spawn(const std::vector<std::string>& args, std::string* error) {
  if (dir_) {
    *error = "ServerProcess::Spawn called twice";
    return false;
  }
  dir_.emplace("idrecon-server-cwd");
  if (!dir_->ok()) {
    *error = std::string("mkdtemp: ") + std::strerror(errno);
    return false;
  }
  const std::string stderr_path = dir_->path() + "/stderr.log";
  const int stderr_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (stderr_fd < 0) {
    *error = std::string("open ") + stderr_path + ": " + std::strerror(errno);
    return false;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    ::close(stderr_fd);
    return false;
  }
  std::vector<std::string> argv = {IDRECON_SERVER_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions options;
  options.stdout_fd = fds[1];
  options.stderr_fd = stderr_fd;
  options.cwd = dir_->path();
  pid_ = testing::Spawn(argv, options, error);
  ::close(fds[1]);
  ::close(stderr_fd);
  if (pid_ < 0) {
    ::close(fds[0]);
    return false;
  }
  stdout_fd_ = fds[0];
  return true;
}

bool ServerProcess::Start(const std::vector<std::string>& args, std::string* error, Clock::duration timeout) {
  if (!Spawn(args, error)) return false;
  const std::optional<std::string> line = ReadLine(timeout);
  if (!line) {
    *error = "no ready line from idrecon-server within the timeout; stderr:\n" + StderrText();
    return false;
  }
  // "idrecon-server listening on http://127.0.0.1:43123 (threads 2)"
  const std::string prefix = "idrecon-server listening on http://127.0.0.1:";
  if (!line->starts_with(prefix)) {
    *error = "unexpected ready line: " + *line;
    return false;
  }
  const int port = std::atoi(line->c_str() + prefix.size());
  if (port <= 0 || port >= 65536) {
    *error = "no port in the ready line: " + *line;
    return false;
  }
  port_ = static_cast<std::uint16_t>(port);
  ready_line_ = *line;
  return true;
}

std::optional<std::string> ServerProcess::ReadLine(Clock::duration timeout) {
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

std::optional<int> ServerProcess::WaitForExit(Clock::duration timeout) {
  const std::optional<int> status = testing::WaitForExit(pid_, timeout);
  if (status) pid_ = -1;
  return status;
}

bool ServerProcess::Signal(int signal) { return pid_ > 0 && ::kill(pid_, signal) == 0; }

std::optional<int> ServerProcess::Terminate(Clock::duration timeout) {
  if (!Signal(SIGTERM)) return std::nullopt;
  return WaitForExit(timeout);
}

std::optional<int> ServerProcess::Kill(Clock::duration timeout) {
  if (!Signal(SIGKILL)) return std::nullopt;
  return WaitForExit(timeout);
}

std::string ServerProcess::StderrText() const { return dir_ ? ReadFile(dir_->path() + "/stderr.log") : std::string(); }

std::vector<std::string> ServerArgs(const std::string& data_dir, std::vector<std::string> extra) {
  std::vector<std::string> args = {"--host", "127.0.0.1", "--port", "0", "--threads", "2", "--data-dir", data_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

namespace {

// Calls `fn` on each line; stops at the first that yields a value.
template <class T, class Fn>
std::optional<T> FirstLine(std::string_view text, Fn fn) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string line(text.substr(0, end));
    if (std::optional<T> found = fn(line)) return found;
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> Number(const std::string& line, const std::regex& pattern) {
  std::smatch match;
  if (!std::regex_search(line, match, pattern)) return std::nullopt;
  return std::stoull(match[1].str());
}

}  // namespace

std::optional<RecoveryLog> FindRecoveryLog(std::string_view stderr_text) {
  static const std::regex sentence(R"(recovered (\d+) contacts in (\d+) clusters)");
  static const std::regex logfmt_msg(R"((^| )msg="?recovered"?( |$))");
  static const std::regex contacts(R"((?:^| )contacts=(\d+))");
  static const std::regex clusters(R"((?:^| )clusters=(\d+))");
  return FirstLine<RecoveryLog>(stderr_text, [&](const std::string& line) -> std::optional<RecoveryLog> {
    std::smatch match;
    if (std::regex_search(line, match, sentence)) {
      return RecoveryLog{std::stoull(match[1].str()), std::stoull(match[2].str())};
    }
    if (!std::regex_search(line, logfmt_msg)) return std::nullopt;
    const std::optional<std::uint64_t> n = Number(line, contacts), m = Number(line, clusters);
    if (!n || !m) return std::nullopt;
    return RecoveryLog{*n, *m};
  });
}

std::optional<std::uint64_t> FindStoppedDurableSeq(std::string_view stderr_text) {
  static const std::regex sentence(R"(stopped; log durable through seq (\d+))");
  static const std::regex logfmt_msg(R"((^| )msg="?stopped"?( |$))");
  static const std::regex seq(R"((?:^| )durable_seq=(\d+))");
  return FirstLine<std::uint64_t>(stderr_text, [&](const std::string& line) -> std::optional<std::uint64_t> {
    if (std::optional<std::uint64_t> n = Number(line, sentence)) return n;
    if (!std::regex_search(line, logfmt_msg)) return std::nullopt;
    return Number(line, seq);
  });
}

}  // namespace idrecon::testing
