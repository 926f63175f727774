#include "tools/normalization_converter.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "engine/clock.h"
#include "persistence/dir_settings.h"
#include "tools/store.h"

namespace idrecon::tools {

Status ConvertNormalization(const std::string& data_dir, const NormalizationSettings& to, ConvertSummary* summary) {
  std::unique_ptr<Database> db;
  if (Status s = OpenStore(data_dir, false, false, &db); !s.ok()) return s;
  summary->from = db->normalization();
  if (summary->from == to) {
    summary->unchanged = true;
    return Status::Ok();
  }
  bool empty = false;
  if (Status s = db->IsEmpty(&empty); !s.ok()) return s;
  if (empty) return WriteDirSettings(data_dir, to);

  std::unique_ptr<Engine> old;
  RecoveryReport report;
  if (Status s = db->Recover(nullptr, &old, &report); !s.ok()) return s;
  const Seq last_seq = report.last_seq;
  summary->clusters_before = old->cluster_count();

  Engine::Options options;
  options.clock = &SystemClock::Instance();
  options.normalization = to;
  Engine fresh(options);
  Status status;
  std::vector<std::pair<ContactId, ContactId>> links;
  std::vector<ContactId> legacy;
  old->ForEachContact([&](const ContactRow& row) {
    if (!status.ok()) return;
    status = fresh.RestoreContact(row);
    if (!row.deleted_at && row.linked_id != 0) links.emplace_back(row.id, row.linked_id);
    if (row.legacy_linked) legacy.push_back(row.id);
  });
  if (!status.ok()) return status;
  for (const auto& [secondary, primary] : links) {
    if (Status s = fresh.RestoreLink(secondary, primary); !s.ok()) return s;
  }
  if (Status s = fresh.RestoreLegacyLinked(legacy, false); !s.ok()) return s;
  old->ForEachClusterLinks([&](ContactId root, const ClusterLinks& l) {
    if (status.ok()) status = fresh.RestoreClusterLinks(root, l);
  });
  if (!status.ok()) return status;
  // Guards follow their values into the new keys; two that become one key
  // are one guard, split if either was (with both one's members).
  const MatchKeys keys(to);
  std::vector<GuardEntry> guards;
  old->ListGuards(&guards);
  std::map<std::pair<GuardField, std::string>, GuardEntry> merged;
  for (GuardEntry g : guards) {
    if (g.reason == GuardReason::kFile) continue;
    std::string scratch;
    g.value = std::string(g.field == GuardField::kEmail ? keys.EmailKey(g.value, &scratch) : keys.PhoneKey(g.value, &scratch));
    auto [it, fresh_key] = merged.try_emplace({g.field, g.value}, g);
    if (fresh_key) continue;
    GuardEntry& into = it->second;
    into.split = into.split || g.split;
    into.split_members.insert(into.split_members.end(), g.split_members.begin(), g.split_members.end());
    std::sort(into.split_members.begin(), into.split_members.end());
    into.split_members.erase(std::unique(into.split_members.begin(), into.split_members.end()), into.split_members.end());
  }
  for (const auto& [key, g] : merged) {
    if (Status s = fresh.RestoreGuard(g); !s.ok()) return s;
  }
  fresh.FinishRestore(last_seq);
  old.reset();
  fresh.ReclusterAll(SystemClock::Instance().NowMillis());
  summary->contacts = fresh.contact_count();
  summary->clusters_after = fresh.cluster_count();

  SnapshotInfo info;
  if (Status s = WriteSnapshot(fresh, last_seq, data_dir, &info); !s.ok()) return s;
  summary->snapshot_path = info.path;
  if (Status s = WriteDirSettings(data_dir, to); !s.ok()) return s;
  std::vector<SnapshotInfo> snapshots;
  if (Status s = ListSnapshots(data_dir, &snapshots); !s.ok()) return s;
  for (const SnapshotInfo& other : snapshots) {
    if (other.path != info.path) ::unlink(other.path.c_str());
  }
  if (Status s = SyncDirectory(data_dir); !s.ok()) return s;
  // Records under the old keys must never be replayed under the new ones.
  return db->log().TrimThrough(last_seq);
}

}  // namespace idrecon::tools
