#include "persistence/disk_space.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>

#include "persistence/posix_error.h"

namespace idrecon {

Status FreeBytes(const std::string& path, std::uint64_t* bytes) {
  struct statvfs fs;
  if (::statvfs(path.c_str(), &fs) != 0) return ErrnoStatus("statvfs " + path, errno);
  *bytes = static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
  return Status::Ok();
}

Status SameFilesystem(const std::string& a, const std::string& b, bool* same) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) != 0) return ErrnoStatus("stat " + a, errno);
  if (::stat(b.c_str(), &sb) != 0) return ErrnoStatus("stat " + b, errno);
  *same = sa.st_dev == sb.st_dev;
  return Status::Ok();
}

Status ReserveFileSpace(int fd, off_t offset, off_t length, const std::string& what) {
  if (length <= 0) return Status::Ok();
  int rc;
  do {
    rc = ::fallocate(fd, 0, offset, length);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0 || errno == EOPNOTSUPP) return Status::Ok();
  return ErrnoStatus("reserve " + std::to_string(length) + " bytes of " + what, errno);
}

}  // namespace idrecon
