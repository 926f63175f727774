#include "tools/timestamp_parser.h"

#include <string>

namespace idrecon::tools {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at s[*pos]; false if they are not all digits.
bool Digits(std::string_view s, std::size_t* pos, std::size_t n, int* out) {
  if (*pos > s.size() || s.size() - *pos < n) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

long long DaysFromCivil(long long y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

Status ParseTimestamp(std::string_view s, Millis* out) {
  // The text is not echoed: it is a field of personal records.
  auto bad = [](const std::string& why) { return Status::InvalidArgument("bad timestamp: " + why); };
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(s, &pos, 4, &year) || pos >= s.size() || s[pos++] != '-' || !Digits(s, &pos, 2, &month) ||
      pos >= s.size() || s[pos++] != '-' || !Digits(s, &pos, 2, &day)) {
    return bad("expected a date YYYY-MM-DD");
  }
  if (month < 1 || month > 12) return bad("month out of range");
  if (day < 1 || day > DaysInMonth(year, month)) return bad("day out of range");
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != ' ')) return bad("expected 'T' or a space after the date");
  ++pos;
  if (!Digits(s, &pos, 2, &hour) || pos >= s.size() || s[pos++] != ':' || !Digits(s, &pos, 2, &minute) ||
      pos >= s.size() || s[pos++] != ':' || !Digits(s, &pos, 2, &second)) {
    return bad("expected a time HH:MM:SS");
  }
  if (hour > 23 || minute > 59 || second > 59) return bad("time out of range");
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (n < 3) millis = millis * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return bad("no digits after '.'");
    if (n > 9) return bad("more than 9 fraction digits");
    for (std::size_t i = n; i < 3; ++i) millis *= 10;
  }
  if (pos < s.size() && s[pos] == ' ') ++pos;  // Sequelize-on-SQLite: "… +00:00"
  int offset_minutes = 0;
  if (pos < s.size()) {
    const char sign = s[pos];
    if (sign == 'Z' || sign == 'z') {
      ++pos;
    } else if (sign == '+' || sign == '-') {
      ++pos;
      int oh = 0, om = 0;
      if (!Digits(s, &pos, 2, &oh)) return bad("expected an offset +HH, +HHMM or +HH:MM");
      if (pos < s.size()) {
        if (s[pos] == ':') ++pos;
        if (!Digits(s, &pos, 2, &om)) return bad("expected an offset +HH, +HHMM or +HH:MM");
      }
      if (oh > 23 || om > 59) return bad("offset out of range");
      offset_minutes = (oh * 60 + om) * (sign == '-' ? -1 : 1);
    } else {
      return bad("unexpected text after the time");
    }
  }
  if (pos != s.size()) return bad("unexpected text after the offset");
  const long long days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const long long secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60LL;
  *out = static_cast<Millis>(secs * 1000 + millis);
  return Status::Ok();
}

}  // namespace idrecon::tools
