// Timestamps in docs/api.md §1's text form: UTC, ISO 8601 with milliseconds,
// "2026-11-22T01:20:19.123Z". Pure functions; thread-safe.
#pragma once

#include <string>

#include "engine/clock.h"

namespace idrecon {

// Appends `ms` (milliseconds since the Unix epoch) to `out` as
// YYYY-MM-DDTHH:MM:SS.mmmZ. Years outside 0000–9999 are clamped into it.
void AppendIsoTimestamp(std::string& out, Millis ms);
std::string FormatIsoTimestamp(Millis ms);

}  // namespace idrecon
