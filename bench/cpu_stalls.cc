// idrecon-cpu-stalls: how often this machine takes the CPU away from a
// running thread, and for how long. The floor under every tail latency that
// bench/run.sh reports.
//
//   idrecon-cpu-stalls [--seconds 5] [--threshold-us 20]
//
// One thread per online CPU, pinned to it, reads steady_clock in a tight
// loop; any gap of --threshold-us or more between two consecutive reads is
// time the thread did not run: an interrupt, a kernel thread, or (on a VM)
// the hypervisor running something else on that vCPU, which the guest's
// "steal" counter does not always show. Prints one line per CPU:
//
//   cpu=0 lost_pct=4.9 gaps_100us=12 gaps_500us=3 gaps_1ms=1 max_us=1840
//
// A server whose vCPU stops for 2 ms answers every request due in those
// 2 ms at least that late, whatever its code does: if gaps of 1 ms or more
// happen every few hundred ms, an open-loop p99 near 1 ms says more about
// the machine than about the server. All threads spin at once (as the
// server and the harness do under load), since a single busy vCPU is often
// left alone. Run it on an otherwise idle machine.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct CpuResult {
  int cpu = 0;
  bool pinned = false;
  std::int64_t lost_us = 0;  // sum of the gaps at or over the threshold
  std::int64_t gaps_100us = 0, gaps_500us = 0, gaps_1ms = 0;
  std::int64_t max_us = 0;
};

void Spin(Clock::time_point end, std::int64_t threshold_us, CpuResult* r) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(r->cpu, &set);
  r->pinned = pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
  Clock::time_point prev = Clock::now();
  for (;;) {
    const Clock::time_point now = Clock::now();
    if (now >= end) break;
    const std::int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(now - prev).count();
    prev = now;
    if (us < threshold_us) continue;
    r->lost_us += us;
    r->gaps_100us += us >= 100;
    r->gaps_500us += us >= 500;
    r->gaps_1ms += us >= 1000;
    r->max_us = std::max(r->max_us, us);
  }
}

[[noreturn]] void Usage() {
  std::fprintf(stderr, "usage: idrecon-cpu-stalls [--seconds S (0 < S <= 600)] [--threshold-us N (>= 1)]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  long threshold_us = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) Usage();
    char* end = nullptr;
    if (a == "--seconds") {
      seconds = std::strtod(argv[++i], &end);
      if (*end != '\0' || !(seconds > 0 && seconds <= 600)) Usage();
    } else if (a == "--threshold-us") {
      threshold_us = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || threshold_us < 1) Usage();
    } else {
      Usage();
    }
  }
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    std::perror("sched_getaffinity");
    return 1;
  }
  std::vector<CpuResult> results;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) results.push_back(CpuResult{.cpu = cpu});
  }
  const Clock::time_point end =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (CpuResult& r : results) threads.emplace_back(Spin, end, threshold_us, &r);
  for (std::thread& t : threads) t.join();
  for (const CpuResult& r : results) {
    std::printf("cpu=%d lost_pct=%.1f gaps_100us=%lld gaps_500us=%lld gaps_1ms=%lld max_us=%lld%s\n", r.cpu,
                100.0 * static_cast<double>(r.lost_us) / (seconds * 1e6), static_cast<long long>(r.gaps_100us),
                static_cast<long long>(r.gaps_500us), static_cast<long long>(r.gaps_1ms),
                static_cast<long long>(r.max_us), r.pinned ? "" : " (not pinned)");
  }
  return 0;
}
