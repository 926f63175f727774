// Disk space: how much is free, whether two paths share a filesystem, and
// reserving a file's blocks before writing through a map.
//
// Why: the log and the snapshots usually share one filesystem, and a full
// disk makes the log's next commit fail — which is sticky. A snapshot must
// not take the space the log needs (checked with FreeBytes before writing
// one), and a log written through a memory map must own its blocks before a
// page is dirtied: a write fault on a hole of a full filesystem is SIGBUS,
// not an error (ReserveFileSpace).
//
// Thread-safety: free functions over the file system.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "engine/status.h"

namespace idrecon {

// Bytes an unprivileged writer may still use on the filesystem of `path`
// (statvfs: f_bavail * f_frsize).
Status FreeBytes(const std::string& path, std::uint64_t* bytes);

// Whether `a` and `b` are on one filesystem (the same st_dev).
Status SameFilesystem(const std::string& a, const std::string& b, bool* same);

// Allocates the blocks of [offset, offset + length) of `fd`'s file
// (fallocate, mode 0: the size grows if the range ends beyond it). IOError
// (ENOSPC: "No space left on device") when the filesystem cannot; Ok
// without reserving anything where fallocate is not supported. `what`
// names the file in messages.
Status ReserveFileSpace(int fd, off_t offset, off_t length, const std::string& what);

}  // namespace idrecon
