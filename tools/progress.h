// Progress: a one-line progress meter on stderr for long runs.
//
// Contract: prints only when stderr is a terminal, at most every 250 ms:
// "<what>: <done> rows, <rate> rows/s, <pct>% ETA <s> s" (pct and ETA only
// when the total work is known, in any unit, e.g. bytes of input). Finish()
// clears the line. Nothing is printed when stderr is a file or a pipe, so
// tests and logs see only the final summary lines.
//
// Thread-safety: none.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace idrecon::tools {

class Progress {
 public:
  Progress(std::string what, std::uint64_t total_work);
  ~Progress() { Finish(); }
  // `work`: done so far in the unit of total_work; `rows`: rows so far.
  void Update(std::uint64_t work, std::uint64_t rows);
  void Finish();
  double seconds() const;

 private:
  std::string what_;
  std::uint64_t total_;
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// Seconds since `start`, for the timing lines.
double SecondsSince(std::chrono::steady_clock::time_point start);

}  // namespace idrecon::tools
