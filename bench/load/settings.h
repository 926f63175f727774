// Settings: idrecon-load's command line (the flags are listed atop
// bench/load/main.cc and in bench/README.md).
//
// ParseArgs prints the usage and exits with status 2 on a bad command line;
// it does not resolve the target (main does, and refuses anything but
// loopback). ParseTarget is the pure part: "http://HOST:PORT[/...]", HOST
// a name, an IPv4 address or a bracketed IPv6 address.
//
// Thread-safety: plain values and functions.
#pragma once

#include <cstdint>
#include <string>

#include "bench/load/workload.h"

namespace idrecon::load {

struct Settings {
  std::string host;
  std::string port;
  unsigned connections = 32;
  unsigned threads = 1;
  double duration = 10;
  double warmup = 2;
  double rate = 0;         // 0: closed loop
  bool busy_poll = false;  // threads never sleep: see RunPhase in main.cc
  std::uint64_t seed = 1;
  Mix mix;
  std::string mix_spec = "repeat=80,new=15,add=4,join=1";
  double zipf = 0.99;
  std::uint64_t preload = 0;
  bool check_values = true;
  std::string json_path;
};

// Prints `error` (if any) and the usage on stderr, then exits with status 2.
[[noreturn]] void Usage(const char* error);

// Splits "http://HOST:PORT[/path]" into HOST (brackets removed) and PORT;
// false when it has another shape.
bool ParseTarget(const std::string& target, std::string* host, std::string* port);

Settings ParseArgs(int argc, char** argv);

}  // namespace idrecon::load
