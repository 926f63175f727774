// Metrics: the numbers GET /metrics exposes, in the Prometheus text format
// (version 0.0.4).
//
// RequestMetrics counts answered requests by endpoint and status and keeps a
// latency histogram per endpoint; ServiceMetrics renders those together with
// the guard's counters and gauges (values guarded, by reason) and gauges
// read at scrape time from the engine (clusters) and the database
// (durable contacts, commits, changes per commit, commit latency, durable
// seq, the sticky error, snapshot age).
//
// Thread-safety: Observe may be called from any number of threads (relaxed
// atomics: a scrape sees each counter exactly, and all of them at roughly
// one moment). Render is thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "persistence/database.h"

namespace idrecon {

class RequestMetrics {
 public:
  static constexpr std::array<std::string_view, 7> kEndpoints = {"identify", "lookup",  "contacts", "guard",
                                                                 "health",   "metrics", "other"};
  static constexpr std::array<int, 12> kStatuses = {200, 400, 401, 404, 405, 409,
                                                    413, 422, 431, 500, 503, 0};  // 0 = other
  static constexpr std::array<double, 15> kLatencyBounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                            0.0025,  0.005,  0.01,    0.025,  0.05,
                                                            0.1,     0.25,   0.5,     1.0,    2.5};

  // `endpoint` is one of kEndpoints (anything else counts as "other").
  void Observe(std::string_view endpoint, int status, std::chrono::nanoseconds latency);
  void Render(std::string& out) const;

 private:
  struct PerEndpoint {
    std::array<std::atomic<std::uint64_t>, kStatuses.size()> by_status{};
    std::array<std::atomic<std::uint64_t>, kLatencyBounds.size() + 1> latency{};  // not cumulative
    std::atomic<std::uint64_t> latency_sum_ns{0};
  };
  std::array<PerEndpoint, kEndpoints.size()> endpoints_;
};

class ServiceMetrics {
 public:
  // Sources may be null (not part of this process); none are owned. Without
  // a database every contact of the engine counts as durable.
  ServiceMetrics(const Engine* engine, const Database* database);

  RequestMetrics& requests() { return requests_; }
  // The guard's request counters (docs/api.md §8): requests of /identify and
  // /lookup that dropped a value, by field, and merges the cluster cap refused.
  void CountGuarded(std::uint8_t guarded) {
    if (guarded & kGuardedEmail) dropped_email_.fetch_add(1, std::memory_order_relaxed);
    if (guarded & kGuardedPhone) dropped_phone_.fetch_add(1, std::memory_order_relaxed);
  }
  void CountCapRefusal() { cap_refusals_.fetch_add(1, std::memory_order_relaxed); }
  // The whole exposition, ready to serve.
  std::string Render() const;

 private:
  RequestMetrics requests_;
  std::atomic<std::uint64_t> dropped_email_{0};
  std::atomic<std::uint64_t> dropped_phone_{0};
  std::atomic<std::uint64_t> cap_refusals_{0};
  const Engine* engine_;
  const Database* database_;
  const std::chrono::system_clock::time_point started_;
};

}  // namespace idrecon
