#include "engine/timestamp.h"

#include <cstdint>

namespace idrecon {
namespace {

// Howard Hinnant's days_from_civil inverse: days since 1970-01-01 → y/m/d.
void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

void AppendDigits(std::string& out, std::int64_t v, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

}  // namespace

void AppendIsoTimestamp(std::string& out, Millis ms) {
  // 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z in epoch ms.
  constexpr Millis kMin = -62167219200000;
  constexpr Millis kMax = 253402300799999;
  if (ms < kMin) ms = kMin;
  if (ms > kMax) ms = kMax;
  std::int64_t days = ms / 86400000;
  std::int64_t rem = ms % 86400000;
  if (rem < 0) {
    rem += 86400000;
    --days;
  }
  std::int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  AppendDigits(out, y, 4);
  out.push_back('-');
  AppendDigits(out, m, 2);
  out.push_back('-');
  AppendDigits(out, d, 2);
  out.push_back('T');
  AppendDigits(out, rem / 3600000, 2);
  out.push_back(':');
  AppendDigits(out, rem / 60000 % 60, 2);
  out.push_back(':');
  AppendDigits(out, rem / 1000 % 60, 2);
  out.push_back('.');
  AppendDigits(out, rem % 1000, 3);
  out.push_back('Z');
}

std::string FormatIsoTimestamp(Millis ms) {
  std::string out;
  out.reserve(24);
  AppendIsoTimestamp(out, ms);
  return out;
}

}  // namespace idrecon
