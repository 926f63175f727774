// idrecon-bench-engine: Engine::Identify micro-benchmarks (Google Benchmark).
//
// Index: N contacts (1M and 10M) in clusters of 1–20 contacts (size =
// 1 + floor(19·u³), mean ≈ 5.35), built through Engine::Identify itself (no
// sink, system clock): contact 0 of a cluster brings a fresh email and phone
// (a primary); contact k ≥ 1 brings a fresh email with the cluster's first
// phone (k odd) or the first email with a fresh phone (k even), so every
// contact is a secondary carrying two values, one of them new. Emails look
// like "emma.chen3kf9a@gmail.com" (~24 bytes), phones "+15550001234" (12).
// Values are a pure function of (cluster, member), so the benchmark keeps no
// per-contact state of its own and the RSS delta is the engine's alone.
//
// Benchmarks (each op timed individually with steady_clock, whose ~20 ns
// cost is included: p50_ns/p99_ns counters are per-op latency; "Time" is
// the mean wall time of one op on one thread, so all threads together do
// threads / Time ops per second; Google Benchmark's items_per_second is the
// per-thread rate):
//   Build/<N>          builds the index once: build_s, ns_per_contact,
//                      rss_bytes_per_contact (VmRSS delta / contacts)
//   Lookup/<N>         a known email or phone of a random cluster (uniform:
//                      at 10M nearly every lookup misses every cache)
//   LookupZipf/<N>     the same, but the cluster drawn with Zipf(0.99)
//                      popularity, as idrecon-load's repeat requests are
//                      (popular clusters spread over the index by a hash of
//                      their rank, so their contacts are not adjacent)
//   NewPrimary/<N>     two fresh values
//   NewSecondary/<N>   a known email of a random cluster + a fresh phone
//   Merge/<N>          email of cluster 2i + phone of cluster 2i+1 (each
//                      pair joined once; i from a shared counter)
//   Mix/<N>            80% lookup, 15% new primary, 4% new secondary, 1% merge
// at 1 and 2 threads; the "Stripes1" variants repeat Lookup and Mix with
// Engine::Options::lock_stripes = 1 (one coarse lock) on its own 1M index;
// the "Scattered" ones repeat Lookup and LookupZipf on a 1M index built in
// rounds (member k of every cluster in round k), so that, as in a shop whose
// customers come back over time, a cluster's members are not adjacent.
// Hash flooding:
//   HashValue/<hash>   ns to hash one value (the Lookup emails, ~24 bytes,
//                      and 36-byte flood values alternately) with std::hash
//                      or the engine's keyed hash (engine/value_hash.h)
//   Flood/<hash>/<k>   an engine already holding k emails that all share one
//                      std::hash (tests/engine/std_hash_collisions.h), then
//                      each op a request with one more such email (a new
//                      contact), as a flooding client sends them. <hash> is
//                      std_hash (the fixed-seed hash injected through
//                      Options::value_hash: every value in one overflow map
//                      and one lock stripe) or keyed (the default); keyed
//                      must stay flat as k grows.
// Match keys (engine/match_key.h, normalisation on, default region IN), ns
// for one key, with its scratch string reused as the engine reuses it:
//   EmailKey/<case>    lower (already lower case: no copy) or mixed
//   PhoneKey/<case>    one value over and over (a hit in the thread's memo
//                      of recent keys): e164 "+919876543210", intl
//                      "+91 98765 43210", national "098765 43210", bare
//                      "9876543210", not_possible "+91 12" (digits only)
//   PhoneKey/e164_fresh  65536 distinct E.164 values in turn: nearly every
//                      key is a libphonenumber parse
// The whole run takes ~1–2 minutes (most of it building 10M contacts).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>
#include <vector>

#include "bench/load/workload.h"
#include "bench/value_names.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "engine/match_key.h"
#include "engine/value_hash.h"
#include "tests/engine/std_hash_collisions.h"

namespace {

using idrecon::Engine;
using idrecon::IdentifyOutcome;
using idrecon::IdentifyQuery;
using idrecon::bench::kDomains;
using idrecon::bench::kFirstNames;
using idrecon::bench::kLastNames;
using idrecon::bench::Mix64;

// A value buffer with no heap allocation.
struct Value {
  char buf[48];
  std::size_t len = 0;
  std::string_view view() const { return {buf, len}; }
  void Append(const char* s) {
    while (*s) buf[len++] = *s++;
  }
};

// Unique per (cluster, member): u = cluster * 32 + member.
Value Email(std::uint64_t cluster, unsigned member) {
  const std::uint64_t u = cluster * 32 + member;
  const std::uint64_t h = Mix64(u);
  Value v;
  v.Append(kFirstNames[h & 15]);
  v.Append(".");
  v.Append(kLastNames[(h >> 4) & 15]);
  char tmp[16];
  int n = 0;
  std::uint64_t x = u;
  do {
    tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[x % 36];
    x /= 36;
  } while (x != 0);
  while (n > 0) v.buf[v.len++] = tmp[--n];
  v.Append("@");
  v.Append(kDomains[(h >> 8) & 7]);
  return v;
}

Value Phone(std::uint64_t cluster, unsigned member) {
  const std::uint64_t u = cluster * 32 + member;
  Value v;
  v.Append("+1");
  char digits[10];
  std::uint64_t x = u;
  for (int i = 9; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + x % 10);
    x /= 10;
  }
  for (char d : digits) v.buf[v.len++] = d;
  return v;
}

unsigned ClusterSize(std::uint64_t cluster) {
  const double u = static_cast<double>(Mix64(cluster ^ 0x5eed) >> 11) / 9007199254740992.0;
  return 1 + static_cast<unsigned>(19.0 * u * u * u);
}

long RssBytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

struct Index {
  std::unique_ptr<Engine> engine;
  std::uint64_t clusters = 0;
  std::uint64_t contacts = 0;
  std::atomic<std::uint64_t> next_fresh{0};  // fresh clusters for new values
  std::atomic<std::uint64_t> next_pair{0};   // merge pairs (2i, 2i+1)
  double build_seconds = 0;
  long rss_delta = 0;
};

// Fresh values live in clusters from this id on (never built).
constexpr std::uint64_t kFreshBase = std::uint64_t{1} << 27;

std::unique_ptr<Index> g_index[4];  // 0: 1M, 1: 10M, 2: 1M with one stripe, 3: 1M scattered

Index& Get(int which) { return *g_index[which]; }

// Member k of cluster c (see the top of this file); e0/p0 are its first
// email and phone.
void AddMember(Engine& engine, std::uint64_t c, unsigned k, const Value& e0, const Value& p0, IdentifyOutcome* out) {
  IdentifyQuery q;
  Value fresh;
  if (k == 0) {
    q.email = e0.view();
    q.phone = p0.view();
  } else if (k % 2 == 1) {
    fresh = Email(c, k);
    q.email = fresh.view();
    q.phone = p0.view();
  } else {
    fresh = Phone(c, k);
    q.email = e0.view();
    q.phone = fresh.view();
  }
  if (!engine.Identify(q, out).ok()) std::abort();
}

// Builds index `which`. Contiguous: each cluster's members one after the
// other, so they sit side by side in memory. Scattered: member k of every
// cluster is added in round k, as customers come back over time in a real
// shop, so a cluster's members are far apart (the same clusters and values).
void Build(int which, std::uint64_t target, std::size_t stripes, bool scattered = false) {
  auto idx = std::make_unique<Index>();
  Engine::Options options;
  options.clock = &idrecon::SystemClock::Instance();
  options.lock_stripes = stripes;
  const long rss0 = RssBytes();
  const auto t0 = std::chrono::steady_clock::now();
  idx->engine = std::make_unique<Engine>(options);
  IdentifyOutcome out;
  std::uint64_t c = 0;
  std::vector<unsigned> sizes;  // scattered only
  while (idx->contacts < target) {
    const unsigned size = std::min<std::uint64_t>(ClusterSize(c), target - idx->contacts);
    if (scattered) {
      sizes.push_back(size);
    } else {
      const Value e0 = Email(c, 0), p0 = Phone(c, 0);
      for (unsigned k = 0; k < size; ++k) AddMember(*idx->engine, c, k, e0, p0, &out);
    }
    idx->contacts += size;
    ++c;
  }
  for (unsigned k = 0; scattered && k < 20; ++k) {
    for (std::uint64_t cl = 0; cl < sizes.size(); ++cl) {
      if (k < sizes[cl]) AddMember(*idx->engine, cl, k, Email(cl, 0), Phone(cl, 0), &out);
    }
  }
  idx->clusters = c;
  idx->build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  idx->rss_delta = RssBytes() - rss0;
  g_index[which] = std::move(idx);
}

// A known value of cluster c: member k's own new value (or the cluster's
// first email/phone for k = 0), k random.
Value KnownValue(const Index& idx, std::uint64_t c, std::mt19937_64& rng, bool* is_email) {
  unsigned size = ClusterSize(c);
  if (c + 1 == idx.clusters) size = 1;  // the last cluster may be truncated
  const unsigned k = static_cast<unsigned>(rng() % size);
  if (k == 0) {
    *is_email = rng() & 1;
    return *is_email ? Email(c, 0) : Phone(c, 0);
  }
  *is_email = k % 2 == 1;
  return *is_email ? Email(c, k) : Phone(c, k);
}

struct Latencies {
  std::vector<std::uint32_t> ns;
  void Report(benchmark::State& state) {
    if (ns.empty()) return;
    std::sort(ns.begin(), ns.end());
    // Counters are averaged over threads: each thread's own percentiles.
    state.counters["p50_ns"] = benchmark::Counter(ns[ns.size() / 2], benchmark::Counter::kAvgThreads);
    state.counters["p99_ns"] = benchmark::Counter(ns[ns.size() * 99 / 100], benchmark::Counter::kAvgThreads);
  }
};

enum class Op { kLookup, kLookupZipf, kNewPrimary, kNewSecondary, kMerge, kMix };

// The skew of idrecon-load's default --zipf.
const idrecon::load::ZipfSampler kPopularity(0.99);

template <class F>
void Timed(Latencies& lat, F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  const auto t1 = std::chrono::steady_clock::now();
  lat.ns.push_back(static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
}

void DoOp(Index& idx, Op op, std::mt19937_64& rng, IdentifyOutcome* out) {
  IdentifyQuery q;
  switch (op) {
    case Op::kLookup:
    case Op::kLookupZipf: {
      const std::uint64_t c = op == Op::kLookup ? rng() % idx.clusters
                                                : Mix64(kPopularity.Sample(idx.clusters, rng)) % idx.clusters;
      bool is_email = false;
      const Value v = KnownValue(idx, c, rng, &is_email);
      (is_email ? q.email : q.phone) = v.view();
      if (!idx.engine->Identify(q, out).ok()) std::abort();
      return;
    }
    case Op::kNewPrimary: {
      const std::uint64_t c = kFreshBase + idx.next_fresh.fetch_add(1, std::memory_order_relaxed);
      const Value e = Email(c, 0), p = Phone(c, 0);
      q.email = e.view();
      q.phone = p.view();
      if (!idx.engine->Identify(q, out).ok() || !out->created_contact) std::abort();
      return;
    }
    case Op::kNewSecondary: {
      const std::uint64_t c = rng() % idx.clusters;
      const std::uint64_t f = kFreshBase + idx.next_fresh.fetch_add(1, std::memory_order_relaxed);
      const Value e = Email(c, 0), p = Phone(f, 0);
      q.email = e.view();
      q.phone = p.view();
      if (!idx.engine->Identify(q, out).ok() || !out->created_contact) std::abort();
      return;
    }
    case Op::kMerge: {
      const std::uint64_t i = idx.next_pair.fetch_add(1, std::memory_order_relaxed);
      if (2 * i + 1 >= idx.clusters) std::abort();  // ran out of pairs: lower the iterations
      const Value e = Email(2 * i, 0), p = Phone(2 * i + 1, 0);
      q.email = e.view();
      q.phone = p.view();
      if (!idx.engine->Identify(q, out).ok() || !out->merged) std::abort();
      return;
    }
    case Op::kMix: {
      const unsigned r = static_cast<unsigned>(rng() % 100);
      return DoOp(idx, r < 80 ? Op::kLookup : r < 95 ? Op::kNewPrimary : r < 99 ? Op::kNewSecondary : Op::kMerge,
                  rng, out);
    }
  }
}

void RunOp(benchmark::State& state, int which, Op op) {
  Index& idx = Get(which);
  std::mt19937_64 rng(1234 + static_cast<std::uint64_t>(state.thread_index()) * 7919 +
                      idx.next_fresh.load() * 31);
  IdentifyOutcome out;
  Latencies lat;
  lat.ns.reserve(static_cast<std::size_t>(state.max_iterations));
  for (auto _ : state) {
    Timed(lat, [&] { DoOp(idx, op, rng, &out); });
    benchmark::DoNotOptimize(out.cluster.primary_id);
  }
  state.SetItemsProcessed(state.iterations());
  lat.Report(state);
}

void BM_Build(benchmark::State& state, const char* name, int which, std::uint64_t target, std::size_t stripes,
              bool scattered = false) {
  for (auto _ : state) Build(which, target, stripes, scattered);
  const Index& idx = Get(which);
  state.counters["contacts"] = static_cast<double>(idx.contacts);
  state.counters["clusters"] = static_cast<double>(idx.clusters);
  state.counters["build_s"] = idx.build_seconds;
  state.counters["ns_per_contact"] = idx.build_seconds * 1e9 / static_cast<double>(idx.contacts);
  state.counters["rss_bytes_per_contact"] = static_cast<double>(idx.rss_delta) / static_cast<double>(idx.contacts);
  std::printf("# index %s: %llu contacts in %llu clusters built in %.2f s (%.0f ns/contact); RSS +%.1f MiB = %.1f "
              "bytes/contact\n",
              name, static_cast<unsigned long long>(idx.contacts),
              static_cast<unsigned long long>(idx.clusters), idx.build_seconds,
              idx.build_seconds * 1e9 / static_cast<double>(idx.contacts),
              static_cast<double>(idx.rss_delta) / 1048576.0,
              static_cast<double>(idx.rss_delta) / static_cast<double>(idx.contacts));
  std::fflush(stdout);
}

// Iterations per thread, bounded so the run stays short and the merge pairs
// (clusters/2: ~87k at 1M, ~870k at 10M) never run out.
// `only`: the names of the ops to register (empty: all).
void RegisterOps(const char* size, int which, const std::vector<int>& threads,
                 const std::vector<std::string>& only = {}) {
  struct OpSpec {
    const char* name;
    Op op;
    std::int64_t iterations;
  };
  const OpSpec ops[] = {{"Lookup", Op::kLookup, 500000},
                        {"LookupZipf", Op::kLookupZipf, 500000},
                        {"NewPrimary", Op::kNewPrimary, 100000},
                        {"NewSecondary", Op::kNewSecondary, 100000},
                        {"Merge", Op::kMerge, 10000},
                        {"Mix", Op::kMix, 300000}};
  for (const OpSpec& spec : ops) {
    if (!only.empty() && std::find(only.begin(), only.end(), spec.name) == only.end()) continue;
    for (int t : threads) {
      benchmark::RegisterBenchmark((std::string(spec.name) + "/" + size).c_str(),
                                   [which, op = spec.op](benchmark::State& s) { RunOp(s, which, op); })
          ->Iterations(spec.iterations)
          ->Threads(t)
          ->UseRealTime()
          ->Unit(benchmark::kNanosecond);
    }
  }
}

std::uint64_t StdHash(std::string_view s) { return std::hash<std::string_view>{}(s); }

void BM_HashValue(benchmark::State& state, bool keyed) {
  const idrecon::ValueHasher hasher = keyed ? idrecon::ValueHasher() : idrecon::ValueHasher(&StdHash);
  const std::vector<std::string> flood = idrecon::testing::StdHashCollisions(512);
  std::vector<std::string> values;
  for (std::uint64_t i = 0; i < 1024; ++i) values.push_back(i % 2 ? flood[i / 2] : std::string(Email(i, 0).view()));
  std::uint64_t sum = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    sum += hasher(values[i++ & 1023]);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

void BM_Flood(benchmark::State& state, bool keyed, std::size_t present) {
  const std::vector<std::string> flood =
      idrecon::testing::StdHashCollisions(present + static_cast<std::size_t>(state.max_iterations));
  Engine::Options options;
  options.clock = &idrecon::SystemClock::Instance();
  options.value_hash = keyed ? nullptr : &StdHash;
  Engine engine(options);
  IdentifyOutcome out;
  for (std::size_t i = 0; i < present; ++i) {
    if (!engine.Identify({flood[i], ""}, &out).ok()) std::abort();
  }
  Latencies lat;
  lat.ns.reserve(static_cast<std::size_t>(state.max_iterations));
  std::size_t next = present;
  for (auto _ : state) {
    Timed(lat, [&] {
      if (!engine.Identify({flood[next++], ""}, &out).ok() || !out.created_contact) std::abort();
    });
  }
  state.SetItemsProcessed(state.iterations());
  lat.Report(state);
}

void RegisterFlood() {
  for (bool keyed : {false, true}) {
    const std::string hash = keyed ? "keyed" : "std_hash";
    benchmark::RegisterBenchmark(("HashValue/" + hash).c_str(), [keyed](benchmark::State& s) { BM_HashValue(s, keyed); })
        ->Unit(benchmark::kNanosecond);
    for (std::size_t k : {1000, 10000, 30000}) {
      benchmark::RegisterBenchmark(("Flood/" + hash + "/" + std::to_string(k)).c_str(),
                                   [keyed, k](benchmark::State& s) { BM_Flood(s, keyed, k); })
          ->Iterations(1000)
          ->UseRealTime()
          ->Unit(benchmark::kNanosecond);
    }
  }
}

void BM_EmailKey(benchmark::State& state, std::string_view value) {
  const idrecon::MatchKeys keys(idrecon::NormalizationSettings{true, "IN"});
  std::string scratch;
  for (auto _ : state) {
    benchmark::DoNotOptimize(keys.EmailKey(value, &scratch));
  }
  state.SetItemsProcessed(state.iterations());
}

// `values` in turn: one value is a memo hit every time; 65536 distinct ones
// (64 times the memo's slots) nearly always miss it.
void BM_PhoneKey(benchmark::State& state, const std::vector<std::string>& values) {
  const idrecon::MatchKeys keys(idrecon::NormalizationSettings{true, "IN"});
  std::string scratch;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(keys.PhoneKey(values[i], &scratch));
    if (++i == values.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void RegisterMatchKeys() {
  static constexpr std::pair<const char*, std::string_view> kEmails[] = {
      {"lower", "emma.chen3kf9a@gmail.com"}, {"mixed", "Emma.Chen3KF9A@Gmail.com"}};
  static constexpr std::pair<const char*, std::string_view> kPhones[] = {
      {"e164", "+919876543210"},   {"intl", "+91 98765 43210"}, {"national", "098765 43210"},
      {"bare", "9876543210"},      {"not_possible", "+91 12"}};
  for (const auto& [name, value] : kEmails) {
    benchmark::RegisterBenchmark((std::string("EmailKey/") + name).c_str(),
                                 [value = value](benchmark::State& s) { BM_EmailKey(s, value); })
        ->Unit(benchmark::kNanosecond);
  }
  for (const auto& [name, value] : kPhones) {
    benchmark::RegisterBenchmark((std::string("PhoneKey/") + name).c_str(),
                                 [value = value](benchmark::State& s) { BM_PhoneKey(s, {std::string(value)}); })
        ->Unit(benchmark::kNanosecond);
  }
  std::vector<std::string> fresh;
  for (int i = 0; i < 65536; ++i) fresh.push_back("+919" + std::to_string(876500000 + i * 7));
  benchmark::RegisterBenchmark("PhoneKey/e164_fresh", [fresh](benchmark::State& s) { BM_PhoneKey(s, fresh); })
      ->Unit(benchmark::kNanosecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RegisterMatchKeys();  // no engine at all
  RegisterFlood();  // small engines of their own, first: they take a few seconds
  // Registration order is run order: each index is built before its ops.
  benchmark::RegisterBenchmark("Build/1M", [](benchmark::State& s) { BM_Build(s, "1M", 0, 1000000, 1024); })
      ->Iterations(1)->Unit(benchmark::kMillisecond);
  RegisterOps("1M", 0, {1, 2});
  benchmark::RegisterBenchmark("Build/1M_Stripes1", [](benchmark::State& s) { BM_Build(s, "1M_Stripes1", 2, 1000000, 1); })
      ->Iterations(1)->Unit(benchmark::kMillisecond);
  RegisterOps("1M_Stripes1", 2, {1, 2}, {"Lookup", "Mix"});
  benchmark::RegisterBenchmark("Build/1M_Scattered",
                               [](benchmark::State& s) { BM_Build(s, "1M_Scattered", 3, 1000000, 1024, true); })
      ->Iterations(1)->Unit(benchmark::kMillisecond);
  RegisterOps("1M_Scattered", 3, {1, 2}, {"Lookup", "LookupZipf"});
  benchmark::RegisterBenchmark("Build/10M", [](benchmark::State& s) { BM_Build(s, "10M", 1, 10000000, 1024); })
      ->Iterations(1)->Unit(benchmark::kMillisecond);
  RegisterOps("10M", 1, {1, 2});
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
