#include "tests/server/test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

namespace idrecon::test {

using std::chrono::milliseconds;

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

namespace {

std::string MakeTempDir(std::string_view tag) {
  std::string pattern = "/tmp/" + std::string(tag) + "-XXXXXX";
  const char* dir = ::mkdtemp(pattern.data());
  return dir == nullptr ? std::string() : std::string(dir);
}

}  // namespace

TempDir::TempDir(std::string_view tag) : path_(MakeTempDir(tag)) {}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

ServerProcess::~ServerProcess() {
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

bool ServerProcess::Spawn(const std::vector<std::string>& args, std::string* error) {
  if (pid_ > 0 || !dir_.empty()) {
    *error = "ServerProcess::Spawn called twice";
    return false;
  }
  dir_ = MakeTempDir("idrecon-server-cwd");
  if (dir_.empty()) {
    *error = std::string("mkdtemp: ") + std::strerror(errno);
    return false;
  }
  const std::string stderr_path = dir_ + "/stderr.log";
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
  std::vector<std::string> argv_storage = {IDRECON_SERVER_PATH};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const char* dir = dir_.c_str();

  pid_ = ::fork();
  if (pid_ < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    ::close(stderr_fd);
    return false;
  }
  if (pid_ == 0) {
    // Child: only async-signal-safe calls until exec. dup2 clears CLOEXEC on
    // the copies.
    if (::dup2(fds[1], STDOUT_FILENO) < 0 || ::dup2(stderr_fd, STDERR_FILENO) < 0 || ::chdir(dir) != 0) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  ::close(stderr_fd);
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
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    if (r < 0 || Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

bool ServerProcess::Signal(int signal) { return pid_ > 0 && ::kill(pid_, signal) == 0; }

std::optional<int> ServerProcess::Kill(Clock::duration timeout) {
  if (!Signal(SIGKILL)) return std::nullopt;
  return WaitForExit(timeout);
}

std::string ServerProcess::StderrText() const {
  if (dir_.empty()) return {};
  std::ifstream in(dir_ + "/stderr.log", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
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

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

std::string Response::Header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Connection::Connection(std::uint16_t port) {
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

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool Connection::Send(std::string_view data, Clock::duration timeout) {
  if (fd_ < 0) return false;
  const auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    pollfd pfd{fd_, POLLOUT, 0};
    if (::poll(&pfd, 1, MillisLeft(deadline)) <= 0) return false;
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<Response> Connection::ReadResponse(Clock::duration timeout, bool head_request) {
  if (fd_ < 0) return std::nullopt;
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

bool Connection::WaitForClose(Clock::duration timeout) {
  if (fd_ < 0) return false;
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

bool Connection::Fill(Clock::time_point deadline) {
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, MillisLeft(deadline)) <= 0) return false;
  char chunk[16384];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<Response> Client::Request(std::string_view raw_request, Clock::duration timeout) {
  last_connect_failed_ = false;
  if (connection_ == nullptr || !connection_->connected()) {
    connection_ = std::make_unique<Connection>(port_);
    if (!connection_->connected()) {
      connection_.reset();
      last_connect_failed_ = true;
      return std::nullopt;
    }
  }
  std::optional<Response> response;
  if (connection_->Send(raw_request, timeout)) response = connection_->ReadResponse(timeout);
  if (!response || response->Header("connection") == "close") connection_.reset();
  return response;
}

std::string Client::PostRequest(std::string_view target, std::string_view body) { return Post(target, body); }

std::string Client::GetRequest(std::string_view target) { return Get(target); }

std::string Post(std::string_view target, std::string_view body, std::string_view extra_headers) {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

std::string Get(std::string_view target, std::string_view extra_headers) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) + "\r\n";
}

std::vector<std::string> ServerArgs(const std::string& data_dir, std::vector<std::string> extra) {
  std::vector<std::string> args = {"--host", "127.0.0.1", "--port", "0", "--threads", "2", "--data-dir", data_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::uint64_t TestSeed() {
  if (const char* text = std::getenv("IDRECON_SEED"); text != nullptr && *text != '\0') {
    return std::strtoull(text, nullptr, 0);
  }
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace idrecon::test
