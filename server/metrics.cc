#include "server/metrics.h"

#include <cinttypes>
#include <cstdio>
#include <vector>

namespace idrecon {
namespace {

void AppendDouble(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  out.append(buf);
}

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void Sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.push_back(' ');
  AppendDouble(out, value);
  out.push_back('\n');
}

void Sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.push_back(' ');
  out.append(std::to_string(value));
  out.push_back('\n');
}

std::string LeLabel(double bound) {
  std::string s = "le=\"";
  AppendDouble(s, bound);
  return s + "\"";
}

}  // namespace

void RequestMetrics::Observe(std::string_view endpoint, int status, std::chrono::nanoseconds latency) {
  std::size_t e = kEndpoints.size() - 1;
  for (std::size_t i = 0; i < kEndpoints.size(); ++i) {
    if (kEndpoints[i] == endpoint) e = i;
  }
  std::size_t s = kStatuses.size() - 1;
  for (std::size_t i = 0; i + 1 < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) s = i;
  }
  PerEndpoint& p = endpoints_[e];
  p.by_status[s].fetch_add(1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(latency).count();
  std::size_t b = 0;
  while (b < kLatencyBounds.size() && seconds > kLatencyBounds[b]) ++b;
  p.latency[b].fetch_add(1, std::memory_order_relaxed);
  p.latency_sum_ns.fetch_add(static_cast<std::uint64_t>(latency.count()), std::memory_order_relaxed);
}

void RequestMetrics::Render(std::string& out) const {
  Header(out, "idrecon_http_requests_total", "counter", "HTTP requests answered, by endpoint and status.");
  for (std::size_t e = 0; e < kEndpoints.size(); ++e) {
    for (std::size_t s = 0; s < kStatuses.size(); ++s) {
      const std::uint64_t n = endpoints_[e].by_status[s].load(std::memory_order_relaxed);
      if (n == 0 && !(kStatuses[s] == 200 && e == 0)) continue;  // keep the series sparse
      const std::string status = kStatuses[s] == 0 ? "other" : std::to_string(kStatuses[s]);
      Sample(out, "idrecon_http_requests_total",
             "endpoint=\"" + std::string(kEndpoints[e]) + "\",status=\"" + status + "\"", n);
    }
  }
  Header(out, "idrecon_http_request_duration_seconds", "histogram",
         "Time from a request fully read to its response starting to be written, including any wait for "
         "durability.");
  for (std::size_t e = 0; e < kEndpoints.size(); ++e) {
    const PerEndpoint& p = endpoints_[e];
    const std::string endpoint = "endpoint=\"" + std::string(kEndpoints[e]) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kLatencyBounds.size(); ++b) {
      cumulative += p.latency[b].load(std::memory_order_relaxed);
      Sample(out, "idrecon_http_request_duration_seconds_bucket", endpoint + "," + LeLabel(kLatencyBounds[b]),
             cumulative);
    }
    cumulative += p.latency[kLatencyBounds.size()].load(std::memory_order_relaxed);
    Sample(out, "idrecon_http_request_duration_seconds_bucket", endpoint + ",le=\"+Inf\"", cumulative);
    Sample(out, "idrecon_http_request_duration_seconds_sum", endpoint,
           static_cast<double>(p.latency_sum_ns.load(std::memory_order_relaxed)) / 1e9);
    Sample(out, "idrecon_http_request_duration_seconds_count", endpoint, cumulative);
  }
}

ServiceMetrics::ServiceMetrics(const Engine* engine, const Database* database)
    : engine_(engine), database_(database), started_(std::chrono::system_clock::now()) {}

std::string ServiceMetrics::Render() const {
  std::string out;
  out.reserve(8192);
  requests_.Render(out);
  const auto now = std::chrono::system_clock::now();
  Header(out, "idrecon_uptime_seconds", "gauge", "Seconds since the server started.");
  Sample(out, "idrecon_uptime_seconds", "", std::chrono::duration<double>(now - started_).count());
  DatabaseStats db;
  if (database_ != nullptr) db = database_->stats();
  if (engine_ != nullptr) {
    // Only what a restart brings back: a contact whose create record is not
    // durable yet (or never will be, after the log failed) is not counted.
    Header(out, "idrecon_contacts", "gauge", "Contacts ever created (live and deleted) whose creation is durable.");
    Sample(out, "idrecon_contacts", "",
           database_ != nullptr ? db.durable_contacts : static_cast<std::uint64_t>(engine_->contact_count()));
    Header(out, "idrecon_clusters", "gauge", "Clusters (people), i.e. live primary contacts.");
    Sample(out, "idrecon_clusters", "", static_cast<std::uint64_t>(engine_->cluster_count()));
    std::vector<GuardEntry> guards;
    engine_->ListGuards(&guards);
    std::uint64_t by_reason[3] = {0, 0, 0};
    for (const GuardEntry& g : guards) ++by_reason[static_cast<int>(g.reason) - 1];
    Header(out, "idrecon_guarded_values", "gauge", "Guarded values, by why they are guarded.");
    for (GuardReason r : {GuardReason::kFile, GuardReason::kApi, GuardReason::kAuto}) {
      Sample(out, "idrecon_guarded_values", "reason=\"" + std::string(GuardReasonName(r)) + "\"",
             by_reason[static_cast<int>(r) - 1]);
    }
  }
  Header(out, "idrecon_guard_dropped_total", "counter",
         "Requests of /identify and /lookup that dropped a guarded value, by field.");
  Sample(out, "idrecon_guard_dropped_total", "field=\"email\"", dropped_email_.load(std::memory_order_relaxed));
  Sample(out, "idrecon_guard_dropped_total", "field=\"phoneNumber\"", dropped_phone_.load(std::memory_order_relaxed));
  Header(out, "idrecon_guard_cap_refusals_total", "counter", "Merges refused by the cluster cap (409).");
  Sample(out, "idrecon_guard_cap_refusals_total", "", cap_refusals_.load(std::memory_order_relaxed));
  if (database_ != nullptr) {
    const CommitStats& stats = db.commits;
    Header(out, "idrecon_log_commits_total", "counter", "Log transactions committed (each one sync).");
    Sample(out, "idrecon_log_commits_total", "", stats.commits);
    Header(out, "idrecon_log_meta_syncs_total", "counter",
           "Extra syncs that made the last commit durable when no next commit came to do it.");
    Sample(out, "idrecon_log_meta_syncs_total", "", stats.meta_syncs);
    Header(out, "idrecon_log_changes_total", "counter", "Changes committed to the log.");
    Sample(out, "idrecon_log_changes_total", "", stats.changes);
    Header(out, "idrecon_log_changes_per_commit", "gauge", "Mean changes per commit since start (group commit).");
    Sample(out, "idrecon_log_changes_per_commit", "",
           stats.commits == 0 ? 0.0 : static_cast<double>(stats.changes) / static_cast<double>(stats.commits));
    Header(out, "idrecon_log_max_changes_per_commit", "gauge", "Largest commit since start, in changes.");
    Sample(out, "idrecon_log_max_changes_per_commit", "", stats.max_batch);
    Header(out, "idrecon_log_commit_duration_seconds", "histogram", "Time to write and sync one commit.");
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < CommitStats::kLatencyBounds.size(); ++b) {
      cumulative += stats.latency_counts[b];
      Sample(out, "idrecon_log_commit_duration_seconds_bucket", LeLabel(CommitStats::kLatencyBounds[b]), cumulative);
    }
    cumulative += stats.latency_counts.back();
    Sample(out, "idrecon_log_commit_duration_seconds_bucket", "le=\"+Inf\"", cumulative);
    Sample(out, "idrecon_log_commit_duration_seconds_sum", "", static_cast<double>(stats.commit_micros) / 1e6);
    Sample(out, "idrecon_log_commit_duration_seconds_count", "", cumulative);
    Header(out, "idrecon_log_durable_seq", "gauge", "Highest change sequence number known durable.");
    Sample(out, "idrecon_log_durable_seq", "", db.durable_seq);
    Header(out, "idrecon_log_failed", "gauge",
           "1 after a commit failed: changes are refused until restart (see /health for why).");
    Sample(out, "idrecon_log_failed", "", static_cast<std::uint64_t>(db.failed ? 1 : 0));

    const Checkpointer::Stats& snapshots = db.checkpoints;
    Header(out, "idrecon_snapshots_written_total", "counter", "Snapshots written by this process.");
    Sample(out, "idrecon_snapshots_written_total", "", snapshots.snapshots_written);
    Header(out, "idrecon_snapshot_age_seconds", "gauge",
           "Seconds since the newest snapshot was written; +Inf when there is none.");
    if (db.last_snapshot_time.time_since_epoch().count() == 0) {
      out.append("idrecon_snapshot_age_seconds +Inf\n");
    } else {
      Sample(out, "idrecon_snapshot_age_seconds", "", std::chrono::duration<double>(now - db.last_snapshot_time).count());
    }
    Header(out, "idrecon_snapshot_errors", "gauge", "1 when the last snapshot attempt failed.");
    Sample(out, "idrecon_snapshot_errors", "", static_cast<std::uint64_t>(snapshots.last_error.empty() ? 0 : 1));
  }
  return out;
}

}  // namespace idrecon
