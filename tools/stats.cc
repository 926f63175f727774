#include "tools/stats.h"

#include <algorithm>
#include <chrono>

#include <boost/unordered/unordered_flat_map.hpp>

#include "api/json_writer.h"
#include "tools/progress.h"
#include "tools/store.h"

namespace idrecon::tools {

Status ComputeStats(const std::string& data_dir, std::size_t top, DataStats* out) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Database> db;
  if (Status s = OpenStore(data_dir, false, true, &db); !s.ok()) return s;
  const Engine* engine = db->engine();

  std::vector<std::uint32_t> size(engine->contact_count() + 1, 0);
  boost::unordered_flat_map<std::string_view, std::uint64_t> emails, phones;
  engine->ForEachContact([&](const ContactRow& r) {
    if (IsVacant(r)) {
      ++out->vacant;
      return;
    }
    ++out->contacts;
    if (r.deleted_at) {
      ++out->deleted;
      return;
    }
    ++out->live;
    ++size[r.is_primary ? r.id : r.linked_id];
    if (!r.email.empty()) ++emails[r.email];
    if (!r.phone.empty()) ++phones[r.phone];
  });
  std::vector<std::uint64_t> buckets;
  std::vector<std::pair<ContactId, std::uint64_t>> clusters;
  for (ContactId id = 1; id < size.size(); ++id) {
    if (size[id] == 0) continue;
    ++out->clusters;
    std::size_t b = 0;
    while ((std::uint64_t{1} << b) < size[id]) ++b;  // bucket b: (2^(b-1), 2^b]
    if (buckets.size() <= b) buckets.resize(b + 1);
    ++buckets[b];
    clusters.emplace_back(id, size[id]);
  }
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    const std::uint64_t hi = std::uint64_t{1} << b, lo = b == 0 ? 1 : (hi >> 1) + 1;
    out->size_histogram.emplace_back(lo == hi ? std::to_string(hi) : std::to_string(lo) + "-" + std::to_string(hi),
                                     buckets[b]);
  }
  auto by_size = [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; };
  const std::size_t nc = std::min(top, clusters.size());
  std::partial_sort(clusters.begin(), clusters.begin() + static_cast<std::ptrdiff_t>(nc), clusters.end(), by_size);
  out->largest.assign(clusters.begin(), clusters.begin() + static_cast<std::ptrdiff_t>(nc));

  std::vector<DataStats::SharedValue> shared;
  for (auto [map, kind] : {std::pair{&emails, "email"}, std::pair{&phones, "phoneNumber"}}) {
    std::vector<std::pair<std::string_view, std::uint64_t>> values;
    for (const auto& [value, count] : *map) {
      if (count >= 2) values.emplace_back(value, count);
    }
    const std::size_t nv = std::min(top, values.size());
    std::partial_sort(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(nv), values.end(), by_size);
    for (std::size_t i = 0; i < nv; ++i) shared.push_back({kind, std::string(values[i].first), values[i].second});
  }
  std::sort(shared.begin(), shared.end(), [](const auto& a, const auto& b) {
    if (a.contacts != b.contacts) return a.contacts > b.contacts;
    return std::tie(a.kind, a.value) < std::tie(b.kind, b.value);
  });
  if (shared.size() > top) shared.resize(top);
  out->most_shared = std::move(shared);

  out->log_bytes = db->log().file_bytes();
  if (Status s = db->log().FirstSeq(&out->log_first); !s.ok()) return s;
  if (Status s = db->log().LastSeq(&out->log_last); !s.ok()) return s;
  out->log_records = out->log_last == 0 ? 0 : out->log_last - out->log_first + 1;
  std::vector<SnapshotInfo> snapshots;
  if (Status s = ListSnapshots(db->path(), &snapshots); !s.ok()) return s;
  for (const SnapshotInfo& s : snapshots) out->snapshots.push_back({s.path, s.last_seq, s.bytes});
  out->seconds = SecondsSince(start);
  return Status::Ok();
}

std::string StatsText(const DataStats& s) {
  std::string o;
  auto line = [&](const std::string& text) { o += text + "\n"; };
  line("contacts:        " + Grouped(s.contacts) + " (" + Grouped(s.live) + " live, " + Grouped(s.deleted) +
       " deleted; " + Grouped(s.vacant) + " vacant ids)");
  line("clusters:        " + Grouped(s.clusters));
  line("cluster sizes:");
  for (const auto& [bucket, n] : s.size_histogram) line("  " + bucket + std::string(12 - std::min<std::size_t>(11, bucket.size()), ' ') + Grouped(n));
  line("largest clusters (primary id: live contacts):");
  for (const auto& [id, n] : s.largest) line("  " + std::to_string(id) + ": " + Grouped(n));
  line("most shared values (live contacts carrying them):");
  for (const auto& v : s.most_shared) line("  " + v.kind + " " + v.value + ": " + Grouped(v.contacts));
  line("log:             " + Grouped(s.log_bytes) + " bytes, " + Grouped(s.log_records) + " records" +
       (s.log_records ? " (seq " + std::to_string(s.log_first) + ".." + std::to_string(s.log_last) + ")" : ""));
  line("snapshots:       " + std::to_string(s.snapshots.size()));
  for (const auto& snap : s.snapshots) line("  " + snap.path + ": seq " + std::to_string(snap.seq) + ", " + Grouped(snap.bytes) + " bytes");
  return o;
}

std::string StatsJson(const DataStats& s) {
  std::string o;
  JsonWriter j(o);
  j.BeginObject();
  j.Key("contacts");
  j.Uint(s.contacts);
  j.Key("live");
  j.Uint(s.live);
  j.Key("deleted");
  j.Uint(s.deleted);
  j.Key("vacantIds");
  j.Uint(s.vacant);
  j.Key("clusters");
  j.Uint(s.clusters);
  j.Key("clusterSizes");
  j.BeginObject();
  for (const auto& [bucket, n] : s.size_histogram) {
    j.Key(bucket);
    j.Uint(n);
  }
  j.EndObject();
  j.Key("largestClusters");
  j.BeginArray();
  for (const auto& [id, n] : s.largest) {
    j.BeginObject();
    j.Key("primaryId");
    j.Uint(id);
    j.Key("contacts");
    j.Uint(n);
    j.EndObject();
  }
  j.EndArray();
  j.Key("mostSharedValues");
  j.BeginArray();
  for (const auto& v : s.most_shared) {
    j.BeginObject();
    j.Key("field");
    j.String(v.kind);
    j.Key("value");
    j.String(v.value);
    j.Key("contacts");
    j.Uint(v.contacts);
    j.EndObject();
  }
  j.EndArray();
  j.Key("log");
  j.BeginObject();
  j.Key("bytes");
  j.Uint(s.log_bytes);
  j.Key("records");
  j.Uint(s.log_records);
  j.Key("firstSeq");
  j.Uint(s.log_first);
  j.Key("lastSeq");
  j.Uint(s.log_last);
  j.EndObject();
  j.Key("snapshots");
  j.BeginArray();
  for (const auto& snap : s.snapshots) {
    j.BeginObject();
    j.Key("path");
    j.String(snap.path);
    j.Key("seq");
    j.Uint(snap.seq);
    j.Key("bytes");
    j.Uint(snap.bytes);
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  o.push_back('\n');
  return o;
}

}  // namespace idrecon::tools
