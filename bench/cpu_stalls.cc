// idrecon-cpu-stalls: how often this machine takes the CPU away from a
// running thread, and for how long. The floor under every tail latency that
// bench/run.sh reports.
//
//   idrecon-cpu-stalls [--seconds 5] [--threshold-us 20] [--fsync-dir DIR]
//
// One thread per online CPU, pinned to it, reads steady_clock in a tight
// loop; any gap of --threshold-us or more between two consecutive reads is
// time the thread did not run: an interrupt, a kernel thread, or (on a VM)
// the hypervisor running something else on that vCPU, which the guest's
// "steal" counter does not always show. Prints one line per CPU:
//
//   cpu=0 lost_pct=4.9 gaps_100us=12 gaps_500us=3 gaps_1ms=1 gaps_5ms=0 period_ms=0 max_us=1840
//
// period_ms is the median time between the starts of consecutive gaps of
// 5 ms or more (0: fewer than two): a steady period means something stops
// the CPU on a clock, e.g. a host enforcing a CPU quota on the whole VM.
//
// --fsync-dir DIR adds what the fsync server adds: one more thread writes
// five random 4 KiB pages of a 16 MiB file in DIR and fdatasyncs them, in a
// loop (like a log commit), and a last line reports its commits/s. On the
// 2-vCPU dev VM this turns ~5 gaps of >= 1 ms per CPU into ~40, of 8-18 ms,
// on both CPUs at once, every 100 ms: the host counts the virtual disk's
// work against the VM's CPU quota and freezes the VM when it is used up.
//
// A server whose vCPU stops for 2 ms answers every request due in those
// 2 ms at least that late, whatever its code does: if gaps of 1 ms or more
// happen every few hundred ms, an open-loop p99 near 1 ms says more about
// the machine than about the server. All threads spin at once (as the
// server and the harness do under load), since a single busy vCPU is often
// left alone. Run it on an otherwise idle machine.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
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
  std::vector<std::int64_t> long_gap_starts_us;  // gaps >= 5 ms, from the start
};

// Median spacing of `starts` (0 with fewer than two).
std::int64_t MedianPeriod(const std::vector<std::int64_t>& starts) {
  if (starts.size() < 2) return 0;
  std::vector<std::int64_t> d;
  for (std::size_t i = 1; i < starts.size(); ++i) d.push_back(starts[i] - starts[i - 1]);
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
  return d[d.size() / 2];
}

// The --fsync-dir thread: five random pages and an fdatasync per loop until
// `end`. Returns the loops done, or -1 if the file could not be written.
long SyncLoop(const std::string& dir, Clock::time_point end) {
  const std::string path = dir + "/idrecon-cpu-stalls.tmp";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  ::unlink(path.c_str());  // gone when closed, whatever happens
  constexpr long kPages = 4096;  // 16 MiB, written once so loops overwrite
  std::vector<char> page(4096, 'x');
  long loops = 0;
  for (long p = 0; p < kPages; ++p) {
    if (::pwrite(fd, page.data(), page.size(), p * 4096) != 4096) loops = -1;
  }
  if (loops == 0 && ::fdatasync(fd) != 0) loops = -1;
  std::mt19937_64 rng(1);
  while (loops >= 0 && Clock::now() < end) {
    for (int i = 0; i < 5; ++i) {
      const long p = static_cast<long>(rng() % kPages);
      if (::pwrite(fd, page.data(), page.size(), p * 4096) != 4096) loops = -1;
    }
    if (loops < 0 || ::fdatasync(fd) != 0) {
      loops = -1;
      break;
    }
    ++loops;
  }
  ::close(fd);
  return loops;
}

void Spin(Clock::time_point end, std::int64_t threshold_us, CpuResult* r) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(r->cpu, &set);
  r->pinned = pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
  const Clock::time_point start = Clock::now();
  Clock::time_point prev = start;
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
    if (us >= 5000) {
      r->long_gap_starts_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(prev - start).count() - us);
    }
    r->max_us = std::max(r->max_us, us);
  }
}

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: idrecon-cpu-stalls [--seconds S (0 < S <= 600)] [--threshold-us N (>= 1)] [--fsync-dir DIR]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  long threshold_us = 20;
  std::string fsync_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) Usage();
    char* end = nullptr;
    if (a == "--seconds") {
      seconds = std::strtod(argv[++i], &end);
      if (*end != '\0' || !(seconds > 0 && seconds <= 600)) Usage();
    } else if (a == "--fsync-dir") {
      fsync_dir = argv[++i];
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
  long sync_loops = 0;
  if (!fsync_dir.empty()) sync_loops = SyncLoop(fsync_dir, end);
  for (std::thread& t : threads) t.join();
  for (const CpuResult& r : results) {
    std::printf("cpu=%d lost_pct=%.1f gaps_100us=%lld gaps_500us=%lld gaps_1ms=%lld gaps_5ms=%zu period_ms=%lld "
                "max_us=%lld%s\n",
                r.cpu, 100.0 * static_cast<double>(r.lost_us) / (seconds * 1e6), static_cast<long long>(r.gaps_100us),
                static_cast<long long>(r.gaps_500us), static_cast<long long>(r.gaps_1ms), r.long_gap_starts_us.size(),
                static_cast<long long>(MedianPeriod(r.long_gap_starts_us) / 1000), static_cast<long long>(r.max_us),
                r.pinned ? "" : " (not pinned)");
  }
  if (fsync_dir.empty()) return 0;
  if (sync_loops < 0) {
    std::fprintf(stderr, "idrecon-cpu-stalls: cannot write and fdatasync a file in %s\n", fsync_dir.c_str());
    return 1;
  }
  std::printf("fsync_loop commits_per_s=%.0f (5 random 4 KiB pages + fdatasync each, in %s)\n",
              static_cast<double>(sync_loops) / seconds, fsync_dir.c_str());
  return 0;
}
