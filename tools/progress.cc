#include "tools/progress.h"

#include <unistd.h>

#include <cstdio>

namespace idrecon::tools {

Progress::Progress(std::string what, std::uint64_t total_work)
    : what_(std::move(what)), total_(total_work), tty_(::isatty(2) == 1),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Progress::seconds() const { return SecondsSince(start_); }

void Progress::Update(std::uint64_t work, std::uint64_t rows) {
  if (!tty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? static_cast<double>(rows) / secs : 0;
  if (total_ > 0 && work > 0) {
    const double frac = static_cast<double>(work) / static_cast<double>(total_);
    const double eta = frac > 0 ? secs / frac - secs : 0;
    std::fprintf(stderr, "\r%s: %llu rows, %.0f rows/s, %.0f%% ETA %.0f s   ", what_.c_str(),
                 static_cast<unsigned long long>(rows), rate, frac * 100, eta);
  } else {
    std::fprintf(stderr, "\r%s: %llu rows, %.0f rows/s   ", what_.c_str(), static_cast<unsigned long long>(rows), rate);
  }
  shown_ = true;
}

void Progress::Finish() {
  if (shown_) std::fputs("\r\033[K", stderr);
  shown_ = false;
}

}  // namespace idrecon::tools
