#include "server/logger.h"

#include <unistd.h>

#include <cerrno>

#include "engine/clock.h"
#include "engine/timestamp.h"

namespace idrecon {
namespace {

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  }
  return false;
}

void AppendValue(std::string& out, std::string_view v) {
  if (!NeedsQuotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));  // UTF-8 passes through
    }
  }
  out.push_back('"');
}

}  // namespace

std::string Logger::Format(long long unix_millis, LogLevel level, std::string_view msg,
                           std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(96);
  line.append("ts=");
  AppendIsoTimestamp(line, unix_millis);
  line.append(" level=");
  line.append(LevelName(level));
  line.append(" msg=");
  AppendValue(line, msg);
  for (const LogField& f : fields) {
    line.push_back(' ');
    line.append(f.key);
    line.push_back('=');
    AppendValue(line, f.value);
  }
  line.push_back('\n');
  return line;
}

void Logger::Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) const {
  if (level < min_level_) return;
  const std::string line = Format(SystemClock::Instance().NowMillis(), level, msg, fields);
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a failing log
    done += static_cast<std::size_t>(n);
  }
}

std::string MaskEmail(std::string_view email) {
  const std::size_t at = email.rfind('@');
  if (at == std::string_view::npos) return email.empty() ? "" : std::string(1, email.front()) + "***";
  std::string out;
  if (at > 0) out.push_back(email.front());
  out.append("***@");
  const std::string_view domain = email.substr(at + 1);
  const std::size_t dot = domain.rfind('.');
  if (!domain.empty()) out.push_back(domain.front());
  out.append("***");
  if (dot != std::string_view::npos && dot > 0) out.append(domain.substr(dot));
  return out;
}

std::string MaskPhone(std::string_view phone) {
  if (phone.size() <= 3) return "***";
  return "***" + std::string(phone.substr(phone.size() - 3));
}

}  // namespace idrecon
