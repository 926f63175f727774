// Opening a data directory for an offline tool: Database::Open without a
// writer (the tool appends to and trims the log itself, if at all), with
// the machine to itself (snapshots load on every core), on the system clock.
//
// Contract: OpenStore fails with NotFound when `path` does not exist and
// `create` is false (a typo must not create an empty directory); with
// Unavailable when a server or another tool holds it. With `recover` the
// database's engine() holds the recovered state; without, the tool calls
// Database::Recover when it wants it. It brings along what the tools use
// beside it: snapshots (WriteSnapshot, ListSnapshots) and SyncDirectory.
//
// Thread-safety: none; one tool, one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/status.h"
#include "persistence/data_dir.h"
#include "persistence/database.h"
#include "persistence/snapshot.h"

namespace idrecon::tools {

// `normalization`: the setting the caller was told to use (nullopt: the
// directory's own); see DatabaseOptions::normalization.
Status OpenStore(const std::string& path, bool create, bool recover, std::unique_ptr<Database>* out,
                 std::optional<NormalizationSettings> normalization = std::nullopt);

// "1,234,567"
std::string Grouped(std::uint64_t n);

}  // namespace idrecon::tools
