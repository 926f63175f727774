// ParseTimestamp: the timestamp texts that existing deployments' databases
// really write, to milliseconds since the Unix epoch (UTC).
//
// Contract. Accepted forms (docs/api.md §5):
//   2026-11-22T02:05:10.752Z            ISO 8601 / docs/api.md §1 (what export writes)
//   2026-11-22 02:05:00.567+00          PostgreSQL timestamptz text
//   2026-11-22 01:20:19.123 +00:00      Sequelize on SQLite (a space before the offset)
//   2026-11-22 02:05:10                 no offset at all: taken as UTC (MySQL
//                                       DATETIME as Sequelize writes it)
// Date and time are separated by 'T' or one space. The fraction has 0–9
// digits and is truncated to milliseconds (toward the past, also before
// 1970). The offset is Z/z, or +/-HH, +/-HHMM, +/-HH:MM (up to 23:59), and is
// honoured: 02:05+01 is 01:05Z. Fields are range-checked (month, day of that
// month, hour ≤ 23, minute ≤ 59, second ≤ 59). Anything else is
// InvalidArgument with the reason, for a person; the message never repeats
// the text (it is a field of a personal record, and messages reach logs).
//
// Pure; thread-safe.
#pragma once

#include <string_view>

#include "engine/clock.h"
#include "engine/status.h"

namespace idrecon::tools {

Status ParseTimestamp(std::string_view text, Millis* out);

// Days since 1970-01-01 of a proleptic Gregorian date (exposed for tests).
long long DaysFromCivil(long long y, unsigned m, unsigned d);

}  // namespace idrecon::tools
