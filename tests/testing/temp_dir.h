// TempDir: a fresh directory under $TMPDIR (or /tmp), named after `tag`,
// removed with its contents when the TempDir is destroyed. ok() is false
// (and path() empty) if it could not be created.
//
// Header-only, so suites that need nothing else from tests/testing/ use it
// without linking idrecon_testing.
//
// Thread-safety: a TempDir belongs to one thread; distinct ones never clash.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace idrecon::testing {

class TempDir {
 public:
  explicit TempDir(std::string_view tag = "idrecon-test") {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + std::string(tag) +
                          "-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = std::move(pattern);
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace idrecon::testing
