// DirSettings: the settings a data directory was created with, kept in the
// file `<dir>/settings` (docs/api.md §6: normalisation is a property of the
// directory, not of the process that opens it).
//
// Format: text, one `name=value` a line, `#` lines are comments:
//   normalize=off | normalize=on
//   default-region=CC          (only with normalize=on, and only when set)
// Written once, when the directory is created (or first opened by a
// version that keeps it), atomically: a temporary file, fsync, rename,
// fsync of the directory. A directory without the file predates it and has
// normalisation off. Unknown names are refused, so a newer setting is never
// silently ignored.
//
// ResolveDirSettings decides what an opener gets: the directory's own
// setting when it has one (an explicit, different request is refused with
// InvalidArgument naming both and the conversion command), the request (or
// off) for an empty directory.
//
// Thread-safety: free functions over the file system; the caller holds the
// directory's lock (DataDir).
#pragma once

#include <optional>
#include <string>

#include "engine/match_key.h"
#include "engine/status.h"

namespace idrecon {

// *present false (and *out untouched) when the file does not exist.
Status ReadDirSettings(const std::string& dir, bool* present, NormalizationSettings* out);
Status WriteDirSettings(const std::string& dir, const NormalizationSettings& settings);

// `requested`: what the opener was told (nullopt: nothing, use the
// directory's). `empty`: the directory holds no data yet. Writes the file
// when it is missing. *out: the setting to run with.
Status ResolveDirSettings(const std::string& dir, const std::optional<NormalizationSettings>& requested, bool empty,
                          NormalizationSettings* out);

}  // namespace idrecon
