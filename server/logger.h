// Logger: one structured line per event, in logfmt, on stderr (or a file).
//
//   ts=2026-11-22T03:00:04.318Z level=info msg="recovered" contacts=4 seconds=0.004
//
// Values that need it are quoted with \" and \\ escaped and control bytes as
// \xNN, so a line can always be parsed back. Personal data (emails, phone
// numbers) must never be passed as a field unmasked: use MaskEmail /
// MaskPhone (and nothing the server logs today carries request values).
//
// Thread-safety: Log may be called from any thread; each line is written
// with a single write() so lines from different threads never interleave.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace idrecon {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// One key=value pair of a log line. Numbers are passed as their text.
struct LogField {
  std::string_view key;
  std::string value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <class N, class = decltype(std::to_string(N{}))>
  LogField(std::string_view k, N n) : key(k), value(std::to_string(n)) {}
};

class Logger {
 public:
  // Writes to `fd` (not owned). Lines below `min_level` are dropped.
  explicit Logger(int fd = 2, LogLevel min_level = LogLevel::kInfo) : fd_(fd), min_level_(min_level) {}

  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {}) const;
  void Info(std::string_view msg, std::initializer_list<LogField> fields = {}) const { Log(LogLevel::kInfo, msg, fields); }
  void Warn(std::string_view msg, std::initializer_list<LogField> fields = {}) const { Log(LogLevel::kWarn, msg, fields); }
  void Error(std::string_view msg, std::initializer_list<LogField> fields = {}) const { Log(LogLevel::kError, msg, fields); }

  // The text of one line (with its trailing newline), for tests and reuse.
  static std::string Format(long long unix_millis, LogLevel level, std::string_view msg,
                            std::initializer_list<LogField> fields);

 private:
  int fd_;
  LogLevel min_level_;
};

// "lorraine@hillvalley.edu" → "l***@h***.edu"; "123456" → "***456".
std::string MaskEmail(std::string_view email);
std::string MaskPhone(std::string_view phone);

}  // namespace idrecon
