#include "bench/load/settings.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace idrecon::load {

[[noreturn]] void Usage(const char* error) {
  if (error) std::fprintf(stderr, "idrecon-load: %s\n", error);
  std::fprintf(stderr,
               "usage: idrecon-load --target http://127.0.0.1:PORT [--connections N] [--threads N]\n"
               "       [--duration S] [--warmup S] [--rate R] [--seed N] [--mix repeat=80,new=15,add=4,join=1]\n"
               "       [--zipf S] [--preload N] [--check full|shape] [--json FILE] [--busy-poll]\n"
               "--mix kinds: repeat new add join wildjoin junk (percent; see bench/load/main.cc)\n");
  std::exit(2);
}

bool ParseTarget(const std::string& target, std::string* host_out, std::string* port_out) {
  const std::string prefix = "http://";
  if (target.rfind(prefix, 0) != 0) return false;
  std::string rest = target.substr(prefix.size());
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  std::string host, port;
  if (!rest.empty() && rest[0] == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') return false;
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) return false;
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || port.empty()) return false;
  *host_out = host;
  *port_out = port;
  return true;
}

Settings ParseArgs(int argc, char** argv) {
  Settings s;
  std::string target;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) Usage((std::string(argv[i]) + " needs a value").c_str());
    return argv[++i];
  };
  auto number = [&](const std::string& v, const char* what) {
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(d >= 0)) Usage((std::string("bad value for ") + what).c_str());
    return d;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--target") target = need(i);
    else if (a == "--connections") s.connections = static_cast<unsigned>(number(need(i), "--connections"));
    else if (a == "--threads") s.threads = static_cast<unsigned>(number(need(i), "--threads"));
    else if (a == "--duration") s.duration = number(need(i), "--duration");
    else if (a == "--warmup") s.warmup = number(need(i), "--warmup");
    else if (a == "--rate") s.rate = number(need(i), "--rate");
    else if (a == "--busy-poll") s.busy_poll = true;
    else if (a == "--seed") s.seed = static_cast<std::uint64_t>(number(need(i), "--seed"));
    else if (a == "--zipf") s.zipf = number(need(i), "--zipf");
    else if (a == "--preload") s.preload = static_cast<std::uint64_t>(number(need(i), "--preload"));
    else if (a == "--json") s.json_path = need(i);
    else if (a == "--mix") {
      s.mix_spec = need(i);
      if (!Mix::Parse(s.mix_spec, &s.mix)) Usage("bad --mix");
    } else if (a == "--check") {
      const std::string v = need(i);
      if (v == "full") s.check_values = true;
      else if (v == "shape") s.check_values = false;
      else Usage("--check is full or shape");
    } else if (a == "--help" || a == "-h") {
      Usage(nullptr);
    } else {
      Usage(("unknown argument " + a).c_str());
    }
  }
  if (target.empty()) Usage("--target is required");
  if (!ParseTarget(target, &s.host, &s.port)) Usage("--target must be http://HOST:PORT");
  if (s.connections == 0 || s.threads == 0 || s.duration <= 0 || s.duration > 3600 || s.warmup > 600) {
    Usage("need --connections >= 1, --threads >= 1, 0 < --duration <= 3600, --warmup <= 600");
  }
  return s;
}

}  // namespace idrecon::load
