// The guard's split (docs/api.md §8) and the link graph it re-clusters by
// (docs/api.md §9): a worked scenario, replay, and a randomized comparison
// with the components recomputed from scratch.
#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine_test_util.h"
#include "testing/seed.h"

namespace idrecon {
namespace {

using testing::Own;
using testing::OwnedView;

class VectorSink : public ChangeSink {
 public:
  void Append(const Change& c) override { changes.push_back({c, std::string(c.email), std::string(c.phone)}); }
  void ReplayInto(Engine* e) {
    for (auto& [c, email, phone] : changes) {
      Change copy = c;
      copy.email = email;
      copy.phone = phone;
      Status s = e->Apply(copy);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
  struct Owned {
    Change change;
    std::string email, phone;
  };
  std::vector<Owned> changes;
};

class EngineSplitTest : public ::testing::Test {
 protected:
  EngineSplitTest() : clock_(1'000'000) {}
  std::unique_ptr<Engine> Make(ChangeSink* sink) {
    Engine::Options o{&clock_, sink, 64, nullptr};
    return std::make_unique<Engine>(o);
  }
  OwnedView Identify(Engine& e, std::string_view email, std::string_view phone) {
    clock_.Advance(1000);
    IdentifyOutcome out;
    Status s = e.Identify({email, phone}, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return Own(out.cluster);
  }
  ContactId RootOf(Engine& e, ContactId id) {
    ContactRow row;
    EXPECT_TRUE(e.GetContact(id, &row).ok());
    return row.linked_id == 0 ? id : row.linked_id;
  }
  ManualClock clock_;
  VectorSink sink_;
};

TEST_F(EngineSplitTest, SplitUndoesAJunkMergeAndUnguardJoinsAgain) {
  auto e = Make(&sink_);
  Identify(*e, "a@x", "0000");
  Identify(*e, "b@x", "0000");  // 2: a secondary of 1 through the junk phone
  Identify(*e, "c@x", "555");   // 3
  Identify(*e, "b@x", "555");   // merges 3 into 1; evidence b@x + 555
  ASSERT_EQ(e->cluster_count(), 1u);

  clock_.Advance(1000);
  const Millis split_at = clock_.NowMillis();
  GuardEntry entry;
  bool changed = false;
  std::vector<ClusterView> clusters;
  ASSERT_TRUE(e->Guard(GuardField::kPhone, "0000", true, true, &entry, &changed, &clusters).ok());
  EXPECT_TRUE(changed);
  EXPECT_TRUE(entry.split);
  // Without the links through 0000: {1} alone; {2, 3} still joined by the
  // merge link (b@x, 555).
  ASSERT_EQ(clusters.size(), 2u);
  EXPECT_EQ(Own(clusters[0]), (OwnedView{1, {"a@x"}, {"0000"}, {}}));
  EXPECT_EQ(Own(clusters[1]), (OwnedView{2, {"b@x", "c@x"}, {"0000", "555"}, {3}}));
  ContactRow row;
  ASSERT_TRUE(e->GetContact(2, &row).ok());
  EXPECT_TRUE(row.is_primary);
  EXPECT_EQ(row.updated_at, split_at) << "a primary again: updatedAt is the split's time";
  ASSERT_TRUE(e->GetContact(3, &row).ok());
  EXPECT_EQ(row.linked_id, 2u);
  EXPECT_EQ(row.updated_at, split_at);
  ASSERT_TRUE(e->GetContact(1, &row).ok());
  EXPECT_LT(row.updated_at, split_at) << "contact 1 did not change";
  EXPECT_EQ(e->cluster_count(), 2u);
  // The junk phone joins nobody now.
  OwnedView d = Identify(*e, "d@x", "0000");
  EXPECT_EQ(d.primary, 4u);

  ASSERT_TRUE(e->Unguard(GuardField::kPhone, "0000", true, &entry, &clusters).ok());
  ASSERT_EQ(clusters.size(), 1u);
  EXPECT_EQ(clusters[0].primary_id, 1u);
  EXPECT_EQ(Own(clusters[0]).secondaries, (std::vector<ContactId>{2, 3}));
  EXPECT_EQ(RootOf(*e, 4), 4u) << "d@x came while guarded and has no link to them";

  // Replay gives the same state.
  auto replayed = Make(nullptr);
  sink_.ReplayInto(replayed.get());
  for (ContactId id = 1; id <= 4; ++id) {
    ContactRow a, b;
    ASSERT_TRUE(e->GetContact(id, &a).ok());
    ASSERT_TRUE(replayed->GetContact(id, &b).ok());
    EXPECT_EQ(a.linked_id, b.linked_id) << id;
    EXPECT_EQ(a.updated_at, b.updated_at) << id;
  }
}

// A merge that joins two parts of a split value lists the value once.
TEST_F(EngineSplitTest, AMergeAcrossASplitValueListsItOnce) {
  auto e = Make(&sink_);
  Identify(*e, "a@x", "0000");
  Identify(*e, "b@x", "0000");
  Identify(*e, "c@x", "555");
  Identify(*e, "b@x", "555");
  GuardEntry entry;
  bool changed = false;
  ASSERT_TRUE(e->Guard(GuardField::kPhone, "0000", true, true, &entry, &changed, nullptr).ok());
  OwnedView v = Identify(*e, "a@x", "555");  // joins {1} and {2, 3} again by a new merge
  EXPECT_EQ(v, (OwnedView{1, {"a@x", "b@x", "c@x"}, {"0000", "555"}, {2, 3}}));
  // Asking to split again answers with the clusters as they are now.
  std::vector<ClusterView> clusters;
  ASSERT_TRUE(e->Guard(GuardField::kPhone, "0000", true, true, &entry, &changed, &clusters).ok());
  EXPECT_FALSE(changed);
  ASSERT_EQ(clusters.size(), 1u);
  EXPECT_EQ(Own(clusters[0]), v);
}

// Two legacy groups (a format-1 snapshot's clusters) that a re-clustering
// joins stay two groups: a later split on the value that joined them
// separates them again.
TEST_F(EngineSplitTest, LegacyGroupsJoinedByARebuildStayApart) {
  Engine::Options o{&clock_, nullptr, 64, nullptr};
  o.normalization = NormalizationSettings{true, ""};
  Engine e(o);
  auto row = [](ContactId id, const char* email, const char* phone, ContactId linked) {
    ContactRow r;
    r.id = id;
    r.email = email;
    r.phone = phone;
    r.linked_id = linked;
    r.is_primary = linked == 0;
    r.created_at = r.updated_at = 1000 + id;
    return r;
  };
  // Under the old setting "Foo@x" and "foo@x" were two values.
  for (const ContactRow& r : {row(1, "a@x", "1", 0), row(2, "Foo@x", "2", 1), row(3, "foo@x", "3", 0),
                              row(4, "d@x", "4", 3)}) {
    ASSERT_TRUE(e.RestoreContact(r).ok());
  }
  ASSERT_TRUE(e.RestoreLink(2, 1).ok());
  ASSERT_TRUE(e.RestoreLink(4, 3).ok());
  ASSERT_TRUE(e.RestoreLegacyLinked({}, true).ok());
  e.FinishRestore(0);
  e.ReclusterAll(5000);
  ASSERT_EQ(e.cluster_count(), 1u) << "the new keys join them";
  GuardEntry entry;
  bool changed = false;
  std::vector<ClusterView> clusters;
  ASSERT_TRUE(e.Guard(GuardField::kEmail, "foo@x", true, true, &entry, &changed, &clusters).ok());
  ASSERT_EQ(clusters.size(), 2u);
  EXPECT_EQ(clusters[0].secondary_ids, (std::vector<ContactId>{2}));
  EXPECT_EQ(clusters[1].secondary_ids, (std::vector<ContactId>{4}));
}

// The link graph recomputed from scratch (docs/api.md §9): contacts joined
// by shared keys not split, and by each merge's evidence.
std::map<ContactId, ContactId> Components(const std::vector<ContactRow>& rows,
                                          const std::vector<std::pair<std::string, std::string>>& merges,
                                          const std::set<std::string>& split_phones) {
  std::map<ContactId, ContactId> parent;
  for (const ContactRow& r : rows) parent[r.id] = r.id;
  std::function<ContactId(ContactId)> find = [&](ContactId x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
  auto unite = [&](ContactId a, ContactId b) { parent[find(a)] = find(b); };
  std::map<std::string, ContactId> by_email, by_phone;
  for (const ContactRow& r : rows) {
    if (!r.email.empty()) {
      auto [it, fresh] = by_email.try_emplace(std::string(r.email), r.id);
      if (!fresh) unite(r.id, it->second);
    }
    if (!r.phone.empty() && !split_phones.count(std::string(r.phone))) {
      auto [it, fresh] = by_phone.try_emplace(std::string(r.phone), r.id);
      if (!fresh) unite(r.id, it->second);
    }
  }
  for (const auto& [email, phone] : merges) {
    if (split_phones.count(phone)) continue;
    auto e = by_email.find(email);
    ContactId p = 0;
    for (const ContactRow& r : rows) {
      if (r.phone == phone) p = r.id;
    }
    if (e != by_email.end() && p != 0) unite(e->second, p);
  }
  std::map<ContactId, ContactId> oldest;  // component -> smallest id (ids follow time here)
  for (const ContactRow& r : rows) {
    const ContactId c = find(r.id);
    if (!oldest.count(c) || r.id < oldest[c]) oldest[c] = r.id;
  }
  std::map<ContactId, ContactId> root;
  for (const ContactRow& r : rows) root[r.id] = oldest[find(r.id)];
  return root;
}

TEST_F(EngineSplitTest, RandomSplitsMatchComponentsFromScratch) {
  const std::uint64_t seed = testing::TestSeed();
  std::mt19937_64 rng(seed);
  auto e = Make(&sink_);
  std::vector<std::pair<std::string, std::string>> merges;
  std::set<std::string> split;
  const std::vector<std::string> phones = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"};
  for (int step = 0; step < 1500; ++step) {
    const int op = static_cast<int>(rng() % 10);
    const std::string phone = phones[rng() % phones.size()];
    if (op == 0) {
      GuardEntry entry;
      bool changed = false;
      ASSERT_TRUE(e->Guard(GuardField::kPhone, phone, true, true, &entry, &changed, nullptr).ok());
      split.insert(phone);
    } else if (op == 1 && !split.empty()) {
      const std::string p = *std::next(split.begin(), static_cast<long>(rng() % split.size()));
      GuardEntry entry;
      ASSERT_TRUE(e->Unguard(GuardField::kPhone, p, true, &entry, nullptr).ok());
      split.erase(p);
    } else {
      const std::string email = "e" + std::to_string(rng() % 40);
      IdentifyOutcome out;
      clock_.Advance(10);
      Status s = e->Identify({email, rng() % 4 == 0 ? "" : phone}, &out);
      ASSERT_TRUE(s.ok() || s.IsGuarded()) << s.ToString();
      if (s.ok() && out.merged) merges.emplace_back(email, phone);
    }
    std::vector<ContactRow> rows;
    std::vector<std::string> keep;  // the rows' strings outlive the engine call
    e->ForEachContact([&](const ContactRow& r) { rows.push_back(r); });
    const auto want = Components(rows, merges, split);
    for (const ContactRow& r : rows) {
      const ContactId got = r.linked_id == 0 ? r.id : r.linked_id;
      ASSERT_EQ(got, want.at(r.id)) << "contact " << r.id << " at step " << step << ", seed " << seed;
    }
  }
  auto replayed = Make(nullptr);
  sink_.ReplayInto(replayed.get());
  e->ForEachContact([&](const ContactRow& r) {
    ContactRow b;
    ASSERT_TRUE(replayed->GetContact(r.id, &b).ok());
    EXPECT_EQ(r.linked_id, b.linked_id) << r.id << " seed " << seed;
  });
}

}  // namespace
}  // namespace idrecon
