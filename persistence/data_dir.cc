#include "persistence/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "persistence/posix_error.h"

namespace idrecon {

Status CreateDirectories(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("empty directory path");
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), kPrivateDirMode) == 0) {
      // The umask may have taken bits away; what is left must be exact.
      if (::chmod(partial.c_str(), kPrivateDirMode) != 0) return ErrnoStatus("chmod " + partial, errno);
    } else if (errno != EEXIST) {
      return ErrnoStatus("create directory " + partial, errno);
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument(path + " exists and is not a directory");
  return Status::Ok();
}

Status OpenPrivateFile(const std::string& path, int flags, int* fd) {
  const int f = ::open(path.c_str(), flags | O_CREAT | O_CLOEXEC, kPrivateFileMode);
  if (f < 0) return ErrnoStatus("open " + path, errno);
  if (::fchmod(f, kPrivateFileMode) != 0) {
    const int err = errno;
    ::close(f);
    return ErrnoStatus("chmod " + path, err);
  }
  *fd = f;
  return Status::Ok();
}

Status SetMode(const std::string& path, unsigned mode) {
  if (::chmod(path.c_str(), mode) != 0 && errno != ENOENT) return ErrnoStatus("chmod " + path, errno);
  return Status::Ok();
}

Status SyncDirectory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory " + path, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync directory " + path, err);
  return Status::Ok();
}

Status DataDir::Open(const std::string& path, std::unique_ptr<DataDir>* out) {
  if (Status s = CreateDirectories(path); !s.ok()) return s;
  const std::string lock_path = path + "/LOCK";
  int fd = -1;
  if (Status s = OpenPrivateFile(lock_path, O_RDWR, &fd); !s.ok()) return s;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "unknown";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      return Status::Unavailable("data directory " + path + " is in use by another idrecon process (pid " + holder + ")");
    }
    return ErrnoStatus("lock " + lock_path, err);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus("write " + lock_path, err);
  }
  Status s = CreateDirectories(path + "/log");
  if (s.ok()) s = SetMode(path + "/log", kPrivateDirMode);
  if (!s.ok()) {
    ::close(fd);
    return s;
  }
  out->reset(new DataDir(path, fd));
  return Status::Ok();
}

DataDir::~DataDir() { ::close(lock_fd_); }

}  // namespace idrecon
