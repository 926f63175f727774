// The one conversion of an errno value into a Status for the persistence
// layer's file operations: "<what>: <strerror>", as an IOError.
#pragma once

#include <cstring>
#include <string>

#include "engine/status.h"

namespace idrecon {

inline Status ErrnoStatus(const std::string& what, int err) { return Status::IOError(what + ": " + std::strerror(err)); }

}  // namespace idrecon
