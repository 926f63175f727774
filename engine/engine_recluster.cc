// Engine: the link graph's bookkeeping and re-clustering (docs/api.md §9),
// and the guard's split (docs/api.md §8) built on it.
//
// Merges keep their evidence on the surviving root (cluster_links.h);
// re-clustering recomputes a set of clusters as the components of their
// link graph: shared keys (not through a split value), merge links whose
// two values are not split, pair links between live contacts, legacy
// groups. It costs O(size of the clusters), never a scan of the store, and
// runs with the structure lock held exclusively (structure_lock.h), so no
// request sees it half done, and none is between finding a root and
// locking it.
#include <algorithm>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "engine/engine_impl.h"

namespace idrecon {

void Engine::Impl::PrepareMergeLinks(ContactId survivor, ContactId demoted, std::string_view email,
                                     std::string_view phone, PreparedMerge* p) {
  // try_emplace first: it may rehash, and only pointers survive a rehash.
  LinkShard& ss = links_[ClusterStripe(survivor)];
  p->survivor_links = &ss.try_emplace(survivor).first->second;
  LinkShard& ds = links_[ClusterStripe(demoted)];
  auto it = ds.find(demoted);
  p->demoted_links = it == ds.end() ? nullptr : &it->second;
  p->legacy_members = 0;
  if (any_legacy_.load(std::memory_order_relaxed)) {
    ContactId m = demoted;
    do {
      if (store_.Get(m).flags & Contact::kLegacyLinked) ++p->legacy_members;
      m = store_.Get(m).next;
    } while (m != demoted);
  }
  ClusterLinks& s = *p->survivor_links;
  const std::size_t dm = p->demoted_links ? p->demoted_links->merges.size() : 0;
  const std::size_t dp = p->demoted_links ? p->demoted_links->pairs.size() : 0;
  s.merges.reserve(s.merges.size() + dm + 1);
  s.pairs.reserve(s.pairs.size() + dp + p->legacy_members + 1);
  p->link.email.assign(email);
  p->link.phone.assign(phone);
}

void Engine::Impl::MaterializeLegacyLocked(ContactId demoted, PreparedMerge& p) noexcept {
  if (p.legacy_members == 0) return;
  ContactId anchor = 0;
  ContactId m = demoted;
  do {
    Contact& c = store_.Get(m);
    if (c.flags & Contact::kLegacyLinked) {
      c.flags &= ~static_cast<std::uint32_t>(Contact::kLegacyLinked);
      if (anchor == 0) {
        anchor = m;
      } else {
        p.survivor_links->pairs.push_back(PairLink{anchor, m, 0, true});  // reserved
      }
    }
    m = c.next;
  } while (m != demoted);
}

void Engine::Impl::MoveMergeLinksLocked(ContactId survivor, ContactId demoted, PreparedMerge& p, Seq seq,
                                        Millis at) noexcept {
  ClusterLinks& s = *p.survivor_links;
  if (p.demoted_links != nullptr) {
    for (MergeLink& l : p.demoted_links->merges) s.merges.push_back(std::move(l));  // reserved
    for (PairLink& l : p.demoted_links->pairs) s.pairs.push_back(l);
    links_[ClusterStripe(demoted)].erase(demoted);
  }
  if (p.link.email.empty() && p.link.phone.empty()) {
    s.pairs.push_back(PairLink{demoted, survivor, seq, true});  // no evidence: never disappears
  } else {
    p.link.seq = seq;
    p.link.at = at;
    s.merges.push_back(std::move(p.link));
  }
}

void Engine::Impl::PlanRecluster(std::vector<ContactId> roots, ReclusterPlan* plan, bool drop_dead_links) {
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  *plan = ReclusterPlan{};
  std::vector<std::uint32_t> group;  // per member: index of its old root
  std::vector<std::pair<ContactId, std::uint32_t>> by_id;
  for (std::uint32_t g = 0; g < roots.size(); ++g) {
    const ContactId r = roots[g];
    if (store_.Get(r).deleted_at != Contact::kNotDeleted) continue;
    plan->old_roots.push_back(r);
    ContactId m = r;
    do {
      by_id.emplace_back(m, g);
      m = store_.Get(m).next;
    } while (m != r);
  }
  std::sort(by_id.begin(), by_id.end());
  const std::size_t n = by_id.size();
  plan->members.resize(n);
  group.resize(n);
  std::unordered_map<ContactId, std::uint32_t> pos;
  pos.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    plan->members[i] = by_id[i].first;
    group[i] = by_id[i].second;
    pos.emplace(by_id[i].first, i);
  }

  std::vector<std::uint32_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0u);
  auto find = [&](std::uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  auto unite = [&](std::uint32_t a, std::uint32_t b) { parent[find(a)] = find(b); };
  auto is_split = [&](GuardField f, const std::string& key) { return split_keys_.count({f, key}) != 0; };

  // Shared keys, and the first carrier of each key (members are by id).
  std::vector<std::string> email_key(n), phone_key(n);
  std::unordered_map<std::string, std::uint32_t> first_email, first_phone;
  std::vector<std::uint32_t> legacy_anchor(roots.size(), UINT32_MAX);
  for (std::uint32_t i = 0; i < n; ++i) {
    const Contact& c = store_.Get(plan->members[i]);
    const std::string_view email = arena_.View(c.email), phone = arena_.View(c.phone);
    if (!email.empty()) email_key[i] = StoredKey(GuardField::kEmail, email);
    if (!phone.empty()) phone_key[i] = StoredKey(GuardField::kPhone, phone);
    if (!email.empty()) {
      auto [it, fresh] = first_email.try_emplace(email_key[i], i);
      if (!fresh && !is_split(GuardField::kEmail, email_key[i])) unite(i, it->second);
    }
    if (!phone.empty()) {
      auto [it, fresh] = first_phone.try_emplace(phone_key[i], i);
      if (!fresh && !is_split(GuardField::kPhone, phone_key[i])) unite(i, it->second);
    }
    if (c.flags & Contact::kLegacyLinked) {
      std::uint32_t& anchor = legacy_anchor[group[i]];
      if (anchor == UINT32_MAX) {
        anchor = i;
      } else {
        unite(i, anchor);
      }
    }
  }

  // Links the old clusters kept.
  struct PendingMerge {
    MergeLink link;
    std::uint32_t email_carrier, phone_carrier;  // UINT32_MAX: none among the members
  };
  std::vector<PendingMerge> merges;
  std::vector<PairLink> pairs;
  for (ContactId r : plan->old_roots) {
    const LinkShard& shard = links_[ClusterStripe(r)];
    auto it = shard.find(r);
    if (it == shard.end()) continue;
    for (const MergeLink& l : it->second.merges) {
      const std::string ek = StoredKey(GuardField::kEmail, l.email), pk = StoredKey(GuardField::kPhone, l.phone);
      auto e = first_email.find(ek);
      auto p = first_phone.find(pk);
      const std::uint32_t ec = e == first_email.end() ? UINT32_MAX : e->second;
      const std::uint32_t pc = p == first_phone.end() ? UINT32_MAX : p->second;
      if (ec != UINT32_MAX && pc != UINT32_MAX && !is_split(GuardField::kEmail, ek) && !is_split(GuardField::kPhone, pk)) {
        unite(ec, pc);
      }
      merges.push_back(PendingMerge{l, ec, pc});
    }
    for (const PairLink& l : it->second.pairs) {
      auto a = pos.find(l.a);
      auto b = pos.find(l.b);
      if (a == pos.end() || b == pos.end()) continue;  // a contact left: the link went with it
      unite(a->second, b->second);
      pairs.push_back(l);
    }
  }

  // Components: each one's oldest member is its primary.
  std::vector<std::uint32_t> oldest(n, UINT32_MAX);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t c = find(i);
    if (oldest[c] == UINT32_MAX || Older(plan->members[i], plan->members[oldest[c]])) oldest[c] = i;
  }
  plan->new_root.resize(n);
  plan->flags.resize(n);
  std::unordered_map<std::string, char> seen_email, seen_phone;  // key + component
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t c = find(i);
    plan->new_root[i] = plan->members[oldest[c]];
    std::uint32_t f = store_.Get(plan->members[i]).flags & Contact::kLegacyLinked;
    const std::string tag = std::to_string(c) + ":";
    if (!email_key[i].empty() && seen_email.try_emplace(tag + email_key[i], 1).second) f |= Contact::kFirstEmailCarrier;
    if (!phone_key[i].empty() && seen_phone.try_emplace(tag + phone_key[i], 1).second) f |= Contact::kFirstPhoneCarrier;
    plan->flags[i] = f;
  }
  plan->new_roots = plan->new_root;
  std::sort(plan->new_roots.begin(), plan->new_roots.end());
  plan->new_roots.erase(std::unique(plan->new_roots.begin(), plan->new_roots.end()), plan->new_roots.end());
  plan->links.resize(plan->new_roots.size());
  plan->ring_tail.resize(plan->new_roots.size());
  plan->component.resize(n);
  plan->old_root.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    plan->component[i] = static_cast<std::uint32_t>(
        std::lower_bound(plan->new_roots.begin(), plan->new_roots.end(), plan->new_root[i]) - plan->new_roots.begin());
    plan->old_root[i] = roots[group[i]];
  }
  auto links_of = [&](std::uint32_t member) -> ClusterLinks& { return plan->links[plan->component[member]]; };
  for (PendingMerge& m : merges) {
    const bool email_split = is_split(GuardField::kEmail, StoredKey(GuardField::kEmail, m.link.email));
    const bool phone_split = is_split(GuardField::kPhone, StoredKey(GuardField::kPhone, m.link.phone));
    // A link whose value has no live carrier anywhere is gone (docs/api.md
    // §9). Only a rebuild under other keys makes such links (no contact
    // ever leaves), and it runs alone, so it may ask the index; online, a
    // value's carriers may sit in clusters outside this set (a split
    // value's do), so the link is kept.
    if (drop_dead_links) {
      Value ev = MakeValue(m.link.email, StoredKey(GuardField::kEmail, m.link.email));
      Value pv = MakeValue(m.link.phone, StoredKey(GuardField::kPhone, m.link.phone));
      if (FindEmail(ev) == nullptr || FindPhone(pv) == nullptr) continue;
    }
    if (m.email_carrier == UINT32_MAX && m.phone_carrier == UINT32_MAX) {
      // Neither side here: it belongs with clusters elsewhere (it was
      // through a split value); keep it with the first component.
      links_of(0).merges.push_back(std::move(m.link));
      continue;
    }
    // With the component that holds its carriers; a link through a split
    // value stays with the split value's carrier, so an unsplit finds it.
    const std::uint32_t at = phone_split && m.phone_carrier != UINT32_MAX   ? m.phone_carrier
                             : email_split && m.email_carrier != UINT32_MAX ? m.email_carrier
                             : m.email_carrier != UINT32_MAX                ? m.email_carrier
                                                                            : m.phone_carrier;
    links_of(at).merges.push_back(std::move(m.link));
  }
  for (const PairLink& l : pairs) links_of(pos.at(l.a)).pairs.push_back(l);
  // Legacy groups: each old cluster's legacy contacts are one group, marked
  // by flags alone. A component that now holds the groups of several old
  // clusters keeps the flags of one and turns each other group into pair
  // links, so a later re-clustering still tells the groups apart.
  std::vector<std::uint32_t> kept_group(plan->new_roots.size(), UINT32_MAX);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!(plan->flags[i] & Contact::kLegacyLinked)) continue;
    std::uint32_t& kept = kept_group[plan->component[i]];
    if (kept == UINT32_MAX) kept = group[i];
    if (group[i] == kept) continue;
    const std::uint32_t anchor = legacy_anchor[group[i]];
    if (anchor != i) links_of(i).pairs.push_back(PairLink{plan->members[anchor], plan->members[i], 0, true});
    plan->flags[i] &= ~static_cast<std::uint32_t>(Contact::kLegacyLinked);
  }
  // Room in the shards for every new root's entry, made now: Apply cannot fail.
  for (std::size_t k = 0; k < plan->new_roots.size(); ++k) {
    if (!plan->links[k].empty()) links_[ClusterStripe(plan->new_roots[k])].try_emplace(plan->new_roots[k]);
  }
}

void Engine::Impl::ApplyRecluster(ReclusterPlan& plan, Millis now, Seq seq) noexcept {
  const std::size_t n = plan.members.size();
  if (n == 0) return;
  Seq last = seq;
  for (ContactId r : plan.old_roots) last = std::max(last, store_.Get(r).last_seq);
  // Roots first, so nothing ever points at a contact that is not a root yet.
  for (std::size_t k = 0; k < plan.new_roots.size(); ++k) {
    Contact& c = store_.Get(plan.new_roots[k]);
    c.live_members() = 0;
    c.last_seq = last;
    c.parent.store(plan.new_roots[k], std::memory_order_release);
    plan.ring_tail[k] = plan.new_roots[k];
  }
  for (std::size_t i = 0; i < n; ++i) {
    const ContactId m = plan.members[i];
    Contact& c = store_.Get(m);
    const ContactId root = plan.new_roots[plan.component[i]];
    // linkedId or precedence changed: updatedAt (docs/api.md §1).
    if (plan.old_root[i] != root) c.updated_at = now;
    c.flags = plan.flags[i];
    c.parent.store(root, std::memory_order_release);
    store_.Get(root).live_members() += 1;
    if (m != root) {  // members in id order after their root
      store_.Get(plan.ring_tail[plan.component[i]]).next = m;
      plan.ring_tail[plan.component[i]] = m;
    }
  }
  for (std::size_t k = 0; k < plan.new_roots.size(); ++k) store_.Get(plan.ring_tail[k]).next = plan.new_roots[k];
  // Links: each new root's entry (made by Plan) takes its share; old roots
  // that are no longer roots with links lose theirs.
  for (ContactId r : plan.old_roots) {
    const auto k = static_cast<std::size_t>(std::lower_bound(plan.new_roots.begin(), plan.new_roots.end(), r) -
                                            plan.new_roots.begin());
    if (k == plan.new_roots.size() || plan.new_roots[k] != r || plan.links[k].empty()) links_[ClusterStripe(r)].erase(r);
  }
  for (std::size_t k = 0; k < plan.new_roots.size(); ++k) {
    if (plan.links[k].empty()) continue;
    links_[ClusterStripe(plan.new_roots[k])].find(plan.new_roots[k])->second = std::move(plan.links[k]);
  }
  clusters_.fetch_add(plan.new_roots.size(), std::memory_order_relaxed);
  clusters_.fetch_sub(plan.old_roots.size(), std::memory_order_relaxed);
}

void Engine::Impl::PrepareSplit(GuardField field, Value& v, bool split, const GuardState* g, PreparedSplit* p) {
  std::vector<ContactId> roots;
  p->key_it = split_keys_.end();
  const ContactId end = store_.end();
  if (split) {
    const ValueIndex::Entry* e = field == GuardField::kEmail ? FindEmail(v) : FindPhone(v);
    if (e != nullptr) {
      const ContactId root = FindRoot(e->carrier);
      roots.push_back(root);
      MembersOf(root, &p->members);
    }
    SplitKeys one;
    one.emplace(field, std::string(v.key));
    auto it = split_keys_.insert(one.extract(one.begin())).position;
    try {
      PlanRecluster(roots, &p->plan);  // without the links through the value
    } catch (...) {
      split_keys_.erase(it);
      throw;
    }
    p->key_node = split_keys_.extract(it);
    return;
  }
  for (ContactId m : g->split_members) {
    if (m < end && store_.Get(m).deleted_at == Contact::kNotDeleted) roots.push_back(FindRoot(m));
  }
  auto it = split_keys_.find({field, std::string(v.key)});
  SplitKeys::node_type out;
  if (it != split_keys_.end()) out = split_keys_.extract(it);
  try {
    PlanRecluster(roots, &p->plan);  // with its links back
  } catch (...) {
    if (!out.empty()) split_keys_.insert(std::move(out));
    throw;
  }
  // Back in the set until FinishSplit drops it (through key_it): if the
  // change is not made, nothing changed.
  if (!out.empty()) p->key_it = split_keys_.insert(std::move(out)).position;
}

void Engine::Impl::FinishSplit(PreparedSplit& p, bool split, GuardState* g, Millis now, Seq seq) noexcept {
  if (split) {
    split_keys_.insert(std::move(p.key_node));
    g->split = true;
    g->split_members = std::move(p.members);
  } else if (p.key_it != split_keys_.end()) {
    split_keys_.erase(p.key_it);
  }
  ApplyRecluster(p.plan, now, seq);
}

void Engine::Impl::ViewsOf(std::vector<ContactId> roots, std::vector<ClusterView>* views) const {
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  views->clear();
  views->resize(roots.size());
  for (std::size_t i = 0; i < roots.size(); ++i) BuildView(roots[i], &(*views)[i]);
}

void Engine::Impl::ForEachClusterLinks(const std::function<void(ContactId, const ClusterLinks&)>& fn) const {
  std::vector<std::pair<ContactId, const ClusterLinks*>> all;
  for (const LinkShard& shard : links_) {
    for (const auto& [root, links] : shard) {
      if (!links.empty()) all.emplace_back(root, &links);
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [root, links] : all) fn(root, *links);
}

Status Engine::Impl::RestoreClusterLinks(ContactId member, ClusterLinks links) {
  if (member == 0 || member >= store_.end() || store_.Get(member).deleted_at != Contact::kNotDeleted ||
      links.empty()) {
    return Status::Corruption("snapshot links name contact " + std::to_string(member) + ", which is not live");
  }
  for (const PairLink& l : links.pairs) {
    if (l.a == 0 || l.a >= store_.end() || l.b == 0 || l.b >= store_.end()) {
      return Status::Corruption("snapshot link names a missing contact");
    }
  }
  const ContactId root = FindRoot(member);
  if (root != member) return Status::Corruption("snapshot links name contact " + std::to_string(member) + ", which is not a primary");
  ClusterLinks& into = links_[ClusterStripe(root)][root];
  for (MergeLink& l : links.merges) into.merges.push_back(std::move(l));
  for (const PairLink& l : links.pairs) into.pairs.push_back(l);
  return Status::Ok();
}

Status Engine::Impl::RestoreLegacyLinked(const std::vector<ContactId>& ids, bool all) {
  const ContactId end = store_.end();
  if (all) {
    for (ContactId id = 1; id < end; ++id) {
      Contact& c = store_.Get(id);
      if (c.deleted_at != Contact::kNotDeleted) continue;
      const ContactId root = FindRoot(id);
      if (root != id || c.next != id) {
        c.flags |= Contact::kLegacyLinked;
        any_legacy_.store(true, std::memory_order_relaxed);
      }
    }
    return Status::Ok();
  }
  for (ContactId id : ids) {
    if (id == 0 || id >= end || store_.Get(id).deleted_at != Contact::kNotDeleted) {
      return Status::Corruption("snapshot marks contact " + std::to_string(id) + " as legacy-linked, which is not live");
    }
    store_.Get(id).flags |= Contact::kLegacyLinked;
    any_legacy_.store(true, std::memory_order_relaxed);
  }
  return Status::Ok();
}

void Engine::Impl::RefreshFirstCarriers(std::vector<ContactId> roots) {
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  for (ContactId root : roots) {
    std::vector<ContactId> members;
    MembersOf(root, &members);
    std::set<std::string> emails, phones;
    for (ContactId id : members) {
      Contact& c = store_.Get(id);
      std::uint32_t f = c.flags & Contact::kLegacyLinked;
      const std::string_view email = arena_.View(c.email), phone = arena_.View(c.phone);
      if (!email.empty() && emails.insert(StoredKey(GuardField::kEmail, email)).second) f |= Contact::kFirstEmailCarrier;
      if (!phone.empty() && phones.insert(StoredKey(GuardField::kPhone, phone)).second) f |= Contact::kFirstPhoneCarrier;
      c.flags = f;
    }
  }
}

void Engine::Impl::ReclusterAll(Millis now) {
  std::vector<ContactId> roots;
  const ContactId end = store_.end();
  for (ContactId id = 1; id < end; ++id) {
    if (store_.Get(id).deleted_at == Contact::kNotDeleted && IsRoot(id)) roots.push_back(id);
  }
  std::unique_lock<StructureLock> exclusive(structure_);
  ReclusterPlan plan;
  PlanRecluster(std::move(roots), &plan, true);
  ApplyRecluster(plan, now, last_seq());
}

}  // namespace idrecon
