// LogRecord: the byte encoding of one Change in the mutation log.
// The format is specified in log_format.md beside this file; keep them in step.
//
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/change.h"
#include "engine/status.h"

namespace idrecon {

// The version records are written in; version 1 records (no merge
// evidence, no guard records) are still read.
inline constexpr std::uint8_t kLogFormatVersion = 2;

// The 8-byte big-endian key of `seq`.
std::array<char, 8> EncodeLogKey(Seq seq);
// Inverse of EncodeLogKey; Corruption unless `key` is 8 bytes.
Status DecodeLogKey(std::string_view key, Seq* seq);

// Appends the value bytes of `change` (its seq goes into the checksum).
void EncodeLogValue(const Change& change, std::string* out);

// Parses a value stored under `seq`. On success `out`'s email/phone view
// into `value`. Corruption with a precise reason otherwise.
Status DecodeLogValue(Seq seq, std::string_view value, Change* out);

}  // namespace idrecon
