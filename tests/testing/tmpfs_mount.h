// TmpfsMount: a small tmpfs mounted at a path for a test's lifetime, to run
// out of disk space on purpose. Needs root (CI runs tests as root); where the
// mount fails, tests skip with REQUIRE_TMPFS and the reason.
#pragma once

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace idrecon::testing {

class TmpfsMount {
 public:
  // `size` as mount(8) takes it: "2m", "256k".
  TmpfsMount(const std::string& path, const std::string& size) : path_(path) {
    std::filesystem::create_directories(path);
    const std::string opts = "size=" + size + ",mode=0755";
    if (::mount("tmpfs", path.c_str(), "tmpfs", 0, opts.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool Resize(const std::string& size) {
    const std::string opts = "size=" + size;
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0;
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace idrecon::testing

#define REQUIRE_TMPFS(m)                                                                   \
  if (!(m).mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << (m).error() << "); " \
                                   << "this test runs as root in CI"
