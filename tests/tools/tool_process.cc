#include "tool_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

namespace idrecon::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Waits for `pid` until `deadline`; returns its exit code, or -1 after killing it.
int WaitUntil(pid_t pid, SteadyClock::time_point deadline, bool* timed_out) {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (SteadyClock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      if (timed_out) *timed_out = true;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> v;
  for (std::string& a : args) v.push_back(a.data());
  v.push_back(nullptr);
  return v;
}

}  // namespace

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

CommandResult RunCommand(const std::vector<std::string>& argv_in, std::chrono::seconds limit, const std::string& input) {
  CommandResult result;
  char tmpl[] = "/tmp/idrecon-cmd-XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  if (dir == nullptr) return result;
  const std::string in_path = std::string(dir) + "/in", out_path = std::string(dir) + "/out",
                    err_path = std::string(dir) + "/err";
  WriteFile(in_path, input);
  std::vector<std::string> args = argv_in;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open(in_path.c_str(), O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> v = Argv(args);
    ::execvp(v[0], v.data());
    ::_exit(127);
  }
  if (pid > 0) result.exit_code = WaitUntil(pid, SteadyClock::now() + limit, &result.timed_out);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  ::unlink(in_path.c_str());
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  ::rmdir(dir);
  return result;
}

ServerProcess::ServerProcess(const std::string& binary, const std::string& data_dir) {
  int fds[2];
  if (::pipe(fds) != 0) {
    error_ = "pipe failed";
    return;
  }
  std::vector<std::string> args = {binary, "--port", "0", "--threads", "2", "--data-dir", data_dir,
                                    "--sync", "nosync", "--snapshot-every", "off"};
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> v = Argv(args);
    ::execv(v[0], v.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  // Read the ready line, at most 30 s.
  std::string line;
  const auto deadline = SteadyClock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos && SteadyClock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  const std::string marker = "listening on http://127.0.0.1:";
  const auto at = line.find(marker);
  if (at == std::string::npos) {
    error_ = "no ready line from idrecon-server (got '" + line + "')";
    return;
  }
  port_ = std::atoi(line.c_str() + at + marker.size());
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const int code = WaitUntil(pid_, SteadyClock::now() + std::chrono::seconds(10), nullptr);
  pid_ = -1;
  port_ = 0;
  return code;
}

ServerProcess::~ServerProcess() { Stop(); }

HttpResponse ServerProcess::Send(const std::string& request) const {
  HttpResponse response;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return response;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return response;
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (raw.compare(0, 9, "HTTP/1.1 ") == 0) response.status = std::atoi(raw.c_str() + 9);
  const auto body_at = raw.find("\r\n\r\n");
  if (body_at != std::string::npos) response.body = raw.substr(body_at + 4);
  return response;
}

HttpResponse ServerProcess::Post(const std::string& path, const std::string& body) const {
  return Send("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

HttpResponse ServerProcess::Get(const std::string& path) const {
  return Send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

}  // namespace idrecon::testing
