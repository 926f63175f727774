#include "server/auth_token.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace idrecon {

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  const std::string text(host);
  in_addr v4;
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    static constexpr unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6.s6_addr, kLoopback, 16) == 0) return true;
    return std::memcmp(v6.s6_addr, kMappedPrefix, 12) == 0 && v6.s6_addr[12] == 127;
  }
  return false;
}

namespace {

// The token of the file at `path`; false (logged) when it cannot be used.
bool ReadTokenFile(const std::string& path, const Logger& log, std::string* token) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    log.Error("cannot read the auth token file", {{"path", path}, {"error", std::strerror(errno)}});
    return false;
  }
  std::string text = ReadOptionalFile(path);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
    text.pop_back();
  }
  if (text.size() < 16) {
    log.Error("the auth token file must hold a token of at least 16 characters", {{"path", path}});
    return false;
  }
  if ((st.st_mode & S_IROTH) != 0) log.Warn("the auth token file is readable by everyone", {{"path", path}});
  *token = std::move(text);
  return true;
}

}  // namespace

bool LoadAuthToken(const Config& config, const Logger& log, std::string* token) {
  token->clear();
  if (!config.auth_token_file.empty()) {
    if (!ReadTokenFile(config.auth_token_file, log, token)) return false;
    log.Info("auth on: every endpoint but /health needs the bearer token",
             {{"token_from", "file"}, {"path", config.auth_token_file}});
    return true;
  }
  if (!config.auth_token.empty()) {
    *token = config.auth_token;
    log.Info("auth on: every endpoint but /health needs the bearer token", {{"token_from", "IDRECON_AUTH_TOKEN"}});
    return true;
  }
  log.Info("auth off: no token is required (set --auth-token-file or IDRECON_AUTH_TOKEN to require one)");
  if (!IsLoopbackHost(config.host)) {
    log.Warn("listening on a non-loopback address without an auth token: anyone who can reach the port can read "
             "and change contacts",
             {{"host", config.host}});
  }
  return true;
}

}  // namespace idrecon
