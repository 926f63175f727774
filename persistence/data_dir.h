// DataDir: the directory that holds one idrecon database, and the exclusive
// claim on it.
//
// Layout:
//   <dir>/LOCK                 flock()ed while a process uses the directory;
//                              holds that process's pid, for the error message
//   <dir>/log/                 the LMDB mutation log (log_format.md)
//   <dir>/snapshot-<seq>.snap  snapshots, named by the last seq they cover
//
// Open creates the directory (and parents) if missing and takes the lock; a
// second process opening the same directory gets a clear error instead of
// two writers corrupting one log. The lock is released when the DataDir is
// destroyed or the process dies (flock is tied to the open file).
//
// The directory holds personal data: every directory idrecon creates is
// 0700 and every file 0600, whatever the umask (the mode is set after
// creating). log/ and LOCK are tightened to that on every Open; a data
// directory that already existed keeps its mode (it may be a mount point, or
// something an operator chose).
//
// Thread-safety: immutable after Open; safe to share.
#pragma once

#include <memory>
#include <string>

#include "engine/status.h"

namespace idrecon {

class DataDir {
 public:
  static Status Open(const std::string& path, std::unique_ptr<DataDir>* out);
  ~DataDir();
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::string& path() const { return path_; }
  std::string log_dir() const { return path_ + "/log"; }

 private:
  DataDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}

  std::string path_;
  int lock_fd_;
};

inline constexpr unsigned kPrivateDirMode = 0700;
inline constexpr unsigned kPrivateFileMode = 0600;

// mkdir -p; Ok if it already exists as a directory. Directories it creates
// are kPrivateDirMode whatever the umask; existing ones are left alone.
Status CreateDirectories(const std::string& path);
// open(path, flags | O_CREAT | O_CLOEXEC) of a file that is kPrivateFileMode
// whatever the umask, and even if it existed with another mode. *fd on Ok.
Status OpenPrivateFile(const std::string& path, int flags, int* fd);
// chmod to `mode`; Ok if `path` does not exist.
Status SetMode(const std::string& path, unsigned mode);
// fsync a directory, so a rename or create inside it is durable.
Status SyncDirectory(const std::string& path);

}  // namespace idrecon
