#include "testing/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace idrecon::testing {

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

std::string Response::Header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::optional<Response> TakeResponse(std::string* buffer, bool head_request) {
  const std::size_t header_end = buffer->find("\r\n\r\n");
  if (header_end == std::string::npos) return std::nullopt;
  Response response;
  std::string_view head(buffer->data(), header_end);
  std::size_t line_end = head.find("\r\n");
  response.status_line = std::string(head.substr(0, line_end));
  // "HTTP/1.1 200 OK": the code starts at offset 9.
  response.status = response.status_line.size() >= 12 ? std::atoi(response.status_line.c_str() + 9) : -1;
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    response.headers[name] = std::string(value);
  }
  const std::size_t length = head_request ? 0 : std::strtoul(response.Header("content-length").c_str(), nullptr, 10);
  if (buffer->size() < header_end + 4 + length) return std::nullopt;
  response.body = buffer->substr(header_end + 4, length);
  buffer->erase(0, header_end + 4 + length);
  return response;
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
  while (true) {
    if (std::optional<Response> response = TakeResponse(&buffer_, head_request)) return response;
    if (!Fill(deadline)) return std::nullopt;
  }
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

std::optional<Response> Client::PostJson(std::string_view target, std::string_view body) {
  return Request(Post(target, body));
}

std::optional<Response> Client::GetPath(std::string_view target) { return Request(Get(target)); }

std::string Post(std::string_view target, std::string_view body, std::string_view extra_headers) {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

std::string Get(std::string_view target, std::string_view extra_headers) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) + "\r\n";
}

}  // namespace idrecon::testing
