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

// mkdir -p; Ok if it already exists as a directory.
Status CreateDirectories(const std::string& path);
// fsync a directory, so a rename or create inside it is durable.
Status SyncDirectory(const std::string& path);

}  // namespace idrecon
