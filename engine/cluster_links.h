// ClusterLinks: the links of a cluster's link graph (docs/api.md §9) that
// the contacts themselves do not show.
//
// Two contacts carrying the same email or phone key are linked; the engine
// reads those links off the members. What it must remember is the rest:
//   - merge links: a request that merged two clusters joins every live
//     carrier of its email key to every live carrier of its phone key; kept
//     as that request's values (trimmed, as sent: its evidence), seq and
//     time, and gone once either value has no live carrier;
//   - pair links between two contacts: an import's row with a linkedId
//     (an import link), or a merge recorded before evidence was (a legacy
//     link, which never disappears).
// Contacts restored from a snapshot without links carry kLegacyLinked
// instead (contact_store.h).
//
// The engine keeps one ClusterLinks per cluster that has any, keyed by the
// cluster's root, in shards guarded by the root's cluster-lock stripe; a
// merge moves the demoted cluster's links to the survivor, re-clustering
// hands each link to the component that holds its carriers.
//
// Plain values; thread-safety is the engine's.
#pragma once

#include <string>
#include <vector>

#include "engine/change.h"
#include "engine/clock.h"

namespace idrecon {

struct MergeLink {
  std::string email;  // the merging request's values, as it sent them (trimmed)
  std::string phone;
  Seq seq = 0;
  Millis at = 0;
};

struct PairLink {
  ContactId a = 0;
  ContactId b = 0;
  Seq seq = 0;          // the change that recorded it (0: unknown)
  bool legacy = false;  // a merge without evidence; else an import link
};

struct ClusterLinks {
  std::vector<MergeLink> merges;
  std::vector<PairLink> pairs;
  bool empty() const { return merges.empty() && pairs.empty(); }
};

}  // namespace idrecon
