#include "tools/verifier.h"

#include <chrono>

#include <boost/unordered/unordered_flat_map.hpp>

#include "persistence/log_record.h"
#include "tools/progress.h"
#include "tools/store.h"

namespace idrecon::tools {

void CheckInvariants(const Engine& engine, const std::string& where, std::vector<std::string>* violations) {
  struct State {
    Millis created = 0;
    ContactId linked = 0;
    bool live = false;
    bool primary = false;
  };
  std::vector<State> state(engine.contact_count() + 1);
  engine.ForEachContact([&](const ContactRow& r) {
    state[r.id] = State{r.created_at, r.linked_id, !r.deleted_at.has_value(), r.is_primary};
  });
  auto cluster_of = [&](ContactId id) { return state[id].primary ? id : state[id].linked; };
  boost::unordered_flat_map<std::string_view, ContactId> emails, phones;
  engine.ForEachContact([&](const ContactRow& r) {
    if (r.deleted_at) return;
    const std::string who = where + "contact " + std::to_string(r.id);
    if (r.email.empty() && r.phone.empty()) violations->push_back(who + " is live but has neither email nor phone");
    if (!r.is_primary) {
      const ContactId p = r.linked_id;
      if (p == 0 || p >= state.size()) {
        violations->push_back(who + " is a secondary whose linkedId " + std::to_string(p) + " names no contact");
        return;
      }
      if (!state[p].live || !state[p].primary) {
        violations->push_back(who + " links to " + std::to_string(p) + ", which is not a live primary (docs/api.md §1 inv. 3)");
        return;
      }
      if (r.created_at < state[p].created || (r.created_at == state[p].created && r.id < p)) {
        violations->push_back(who + " is older than its primary " + std::to_string(p) + " (docs/api.md §1 inv. 2)");
      }
    } else if (r.linked_id != 0) {
      violations->push_back(who + " is a primary with linkedId " + std::to_string(r.linked_id));
    }
    const ContactId cluster = cluster_of(r.id);
    for (auto [value, map, name] : {std::tuple{r.email, &emails, "email"}, std::tuple{r.phone, &phones, "phoneNumber"}}) {
      if (value.empty()) continue;
      auto [it, fresh] = map->try_emplace(value, r.id);
      if (!fresh && cluster_of(it->second) != cluster) {
        violations->push_back(who + " (cluster " + std::to_string(cluster) + ") has the " + std::string(name) +
                              " of contact " + std::to_string(it->second) + " (cluster " +
                              std::to_string(cluster_of(it->second)) + ") (docs/api.md §1 inv. 4)");
      }
    }
  });
}

Status Verify(const std::string& data_dir, VerifyReport* report) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Database> db;
  if (Status s = OpenStore(data_dir, false, false, &db); !s.ok()) return s;
  auto& v = report->violations;

  // Snapshots.
  std::vector<SnapshotInfo> snapshots;
  if (Status s = ListSnapshots(db->path(), &snapshots); !s.ok()) return s;
  report->snapshots = snapshots.size();
  Seq best = 0;
  bool have_best = false;
  for (const SnapshotInfo& info : snapshots) {
    std::unique_ptr<Engine> engine = db->NewEngine();
    SnapshotInfo loaded;
    if (Status s = LoadSnapshot(info.path, engine.get(), &loaded); !s.ok()) {
      v.push_back(s.message());
      continue;
    }
    if (!have_best) {
      best = loaded.last_seq;
      have_best = true;
    }
  }

  // The log, record by record.
  bool log_sound = true;
  Seq prev = 0;
  Status scanned = db->log().ScanRaw([&](std::string_view key, std::string_view value) {
    Seq seq = 0;
    if (Status s = DecodeLogKey(key, &seq); !s.ok()) {
      v.push_back("log: a key of " + std::to_string(key.size()) + " bytes after record " + std::to_string(prev) +
                  ": " + s.message());
      log_sound = false;
      return;
    }
    ++report->log_records;
    if (report->log_first == 0) report->log_first = seq;
    report->log_last = seq;
    if (prev != 0 && seq != prev + 1) {
      v.push_back("log: sequence gap: record " + std::to_string(seq) + " follows " + std::to_string(prev) +
                  " (records " + std::to_string(prev + 1) + " to " + std::to_string(seq - 1) + " are missing)");
      log_sound = false;
    }
    prev = seq;
    Change change;
    if (Status s = DecodeLogValue(seq, value, &change); !s.ok()) {
      v.push_back("log: " + s.message());
      log_sound = false;
    }
  });
  if (!scanned.ok()) return scanned;
  if (report->log_records > 0 && report->log_first > best + 1) {
    v.push_back("log: starts at record " + std::to_string(report->log_first) + " but the newest usable snapshot covers " +
                (have_best ? "through " + std::to_string(best) : std::string("nothing")) + ": records " +
                std::to_string(best + 1) + " to " + std::to_string(report->log_first - 1) + " are missing");
    log_sound = false;
  }

  // The state the server would recover, and docs/api.md §1 on it.
  if (log_sound) {
    std::unique_ptr<Engine> engine;
    RecoveryReport recovered;
    if (Status s = db->Recover(nullptr, &engine, &recovered); !s.ok()) {
      v.push_back("recovery fails: " + s.message());
    } else {
      report->contacts = engine->contact_count();
      report->clusters = engine->cluster_count();
      CheckInvariants(*engine, "state: ", &v);
    }
  } else {
    v.push_back("state: not checked, because the log is damaged");
  }
  report->seconds = SecondsSince(start);
  return Status::Ok();
}

}  // namespace idrecon::tools
