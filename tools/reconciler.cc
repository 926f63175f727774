#include "tools/reconciler.h"

#include <algorithm>
#include <string>

#include <boost/unordered/unordered_flat_map.hpp>

namespace idrecon::tools {
namespace {

constexpr std::uint32_t kNone = UINT32_MAX;

class DisjointSets {
 public:
  explicit DisjointSets(std::size_t n) : parent_(n) {
    for (std::size_t i = 0; i < n; ++i) parent_[i] = static_cast<std::uint32_t>(i);
  }
  std::uint32_t Find(std::uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];  // path halving
      x = parent_[x];
    }
    return x;
  }
  void Union(std::uint32_t a, std::uint32_t b) {
    a = Find(a);
    b = Find(b);
    if (a == b) return;
    if (a < b) std::swap(a, b);
    parent_[a] = b;  // deterministic: the smaller index is the root
  }

 private:
  std::vector<std::uint32_t> parent_;
};

std::string Was(const InputRow& r) {
  if (!r.secondary) return r.linked_id == 0 ? "primary" : "primary with linkedId " + std::to_string(r.linked_id);
  return r.linked_id == 0 ? "secondary without linkedId" : "secondary of " + std::to_string(r.linked_id);
}

}  // namespace

void Reconcile(std::vector<InputRow>* rows_ptr, Millis repair_time, ReconcileResult* result) {
  std::vector<InputRow>& rows = *rows_ptr;
  std::sort(rows.begin(), rows.end(), [](const InputRow& a, const InputRow& b) { return a.id < b.id; });
  const std::size_t n = rows.size();
  auto index_of = [&](ContactId id) -> std::uint32_t {
    auto it = std::lower_bound(rows.begin(), rows.end(), id, [](const InputRow& r, ContactId v) { return r.id < v; });
    return it != rows.end() && it->id == id ? static_cast<std::uint32_t>(it - rows.begin()) : kNone;
  };

  DisjointSets sets(n);
  {
    boost::unordered_flat_map<std::string_view, std::uint32_t> emails, phones;
    emails.reserve(n);
    phones.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      const InputRow& r = rows[i];
      if (!r.live()) continue;
      if (!r.email.empty()) {
        auto [it, fresh] = emails.try_emplace(r.email, i);
        if (!fresh) sets.Union(it->second, i);
      }
      if (!r.phone.empty()) {
        auto [it, fresh] = phones.try_emplace(r.phone, i);
        if (!fresh) sets.Union(it->second, i);
      }
    }
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    const InputRow& r = rows[i];
    if (!r.live() || r.linked_id == 0 || r.linked_id == r.id) continue;
    const std::uint32_t j = index_of(r.linked_id);
    if (j != kNone && rows[j].live()) sets.Union(i, j);
  }
  // The oldest live row of each group, by (createdAt, id).
  std::vector<std::uint32_t> oldest(n, kNone);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!rows[i].live()) continue;
    const std::uint32_t root = sets.Find(i);
    const std::uint32_t cur = oldest[root];
    if (cur == kNone || rows[i].created_at < rows[cur].created_at ||
        (rows[i].created_at == rows[cur].created_at && rows[i].id < rows[cur].id)) {
      oldest[root] = i;
    }
  }

  // Why a secondary's old linkedId L was not kept.
  auto why_link = [&](const InputRow& r) -> std::string {
    const ContactId l = r.linked_id;
    if (l == 0) return "linkPrecedence secondary without a linkedId";
    if (l == r.id) return "linkedId names the row itself";
    const std::uint32_t j = index_of(l);
    if (j == kNone) return "linkedId " + std::to_string(l) + " names no contact";
    if (!rows[j].live()) return "linkedId " + std::to_string(l) + " names a deleted contact";
    if (rows[j].secondary) return "linkedId " + std::to_string(l) + " is itself a secondary (a chain)";
    return "linkedId " + std::to_string(l) + " is not the oldest contact of the cluster";
  };

  std::vector<std::pair<ContactId, bool>> final_state(n);  // (linked id, secondary)
  for (std::uint32_t i = 0; i < n; ++i) {
    const InputRow& r = rows[i];
    if (!r.live()) {
      ++result->deleted;
      final_state[i] = r.secondary && r.linked_id != 0 ? std::make_pair(r.linked_id, true) : std::make_pair(ContactId{0}, false);
      if (r.secondary != (r.linked_id != 0)) {
        result->repairs.push_back(
            {r.line, r.id, "deleted row, was " + Was(r) + (r.secondary ? ", now primary" : ", linkedId cleared")});
      }
      continue;
    }
    ++result->live;
    const std::uint32_t p = oldest[sets.Find(i)];
    if (p == i) {
      ++result->clusters;
      final_state[i] = {0, false};
      if (!r.secondary && r.linked_id == 0) continue;
      std::string why;
      if (!r.secondary) {
        why = "linkPrecedence primary with a linkedId";
      } else {
        why = why_link(r);
        const std::uint32_t j = index_of(r.linked_id);
        if (j != kNone && j != i && rows[j].live()) why = "a secondary older than its primary " + std::to_string(r.linked_id);
        why += "; it is the oldest contact of its cluster";
      }
      result->repairs.push_back({r.line, r.id, "was " + Was(r) + ", now primary: " + why});
      continue;
    }
    const InputRow& primary = rows[p];
    final_state[i] = {primary.id, true};
    if (r.secondary && r.linked_id == primary.id) continue;
    std::string why;
    if (!r.secondary) {
      why = r.linked_id == primary.id ? "linkPrecedence primary with a linkedId"
                                      : "two primaries in one cluster (joined by a shared email/phone or a link); " +
                                            std::to_string(primary.id) + " is older";
    } else {
      why = why_link(r);
    }
    result->repairs.push_back({r.line, r.id, "was " + Was(r) + ", now secondary of " + std::to_string(primary.id) + ": " + why});
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    InputRow& r = rows[i];
    if (r.linked_id != final_state[i].first || r.secondary != final_state[i].second) {
      r.linked_id = final_state[i].first;
      r.secondary = final_state[i].second;
      r.updated_at = std::max(r.updated_at, repair_time);
    }
  }
}

}  // namespace idrecon::tools
