// Engine behaviour against docs/api.md §6–§8: match keys, the guard, the
// cluster cap and Lookup.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine_test_util.h"
#include "testing/seed.h"

namespace idrecon {
namespace {

using testing::Own;
using testing::OwnedView;

// Keeps every change with its own copies of the strings.
class RecordingSink : public ChangeSink {
 public:
  struct Owned {
    Change change;
    std::string email, phone;
  };
  void Append(const Change& c) override {
    std::lock_guard<std::mutex> lock(mu_);
    changes.push_back(Owned{c, std::string(c.email), std::string(c.phone)});
  }
  void ReplayInto(Engine* engine) {
    for (Owned& o : changes) {
      Change c = o.change;
      c.email = o.email;
      c.phone = o.phone;
      Status s = engine->Apply(c);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
  std::vector<Owned> changes;

 private:
  std::mutex mu_;
};

class EngineMatchingTest : public ::testing::Test {
 protected:
  EngineMatchingTest() : clock_(1'000'000) {}
  std::unique_ptr<Engine> Make(NormalizationSettings norm = {}, GuardSettings guard = {}) {
    Engine::Options o{&clock_, &sink_, 64, nullptr};
    o.normalization = norm;
    o.guard = guard;
    return std::make_unique<Engine>(o);
  }
  Status Try(Engine& e, std::string_view email, std::string_view phone) {
    clock_.Advance(1000);
    return e.Identify({email, phone}, &out_);
  }
  OwnedView Identify(Engine& e, std::string_view email, std::string_view phone) {
    Status s = Try(e, email, phone);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return Own(out_.cluster);
  }
  ManualClock clock_;
  RecordingSink sink_;
  IdentifyOutcome out_;
};

TEST_F(EngineMatchingTest, NormalisationJoinsSpellingsOfOneValue) {
  auto e = Make({true, "IN"});
  OwnedView first = Identify(*e, "Lorraine@HillValley.edu", "+91 98765 43210");
  EXPECT_EQ(out_.canonical_email, "lorraine@hillvalley.edu");
  EXPECT_EQ(out_.canonical_phone, "+919876543210");
  OwnedView same = Identify(*e, "lorraine@hillvalley.EDU", "098765 43210");
  EXPECT_EQ(same.primary, first.primary);
  EXPECT_FALSE(out_.created_contact) << "every key is known: no row";
  // One entry per key, written as its first carrier's spelling.
  EXPECT_EQ(same.emails, (std::vector<std::string>{"Lorraine@HillValley.edu"}));
  EXPECT_EQ(same.phones, (std::vector<std::string>{"+91 98765 43210"}));
  Identify(*e, "mcfly@hillvalley.edu", "9876543210");
  EXPECT_TRUE(out_.created_contact);
  EXPECT_EQ(Own(out_.cluster).phones, (std::vector<std::string>{"+91 98765 43210"}));
  ContactRow row;
  ASSERT_TRUE(e->GetContact(2, &row).ok());
  EXPECT_EQ(row.phone, "9876543210") << "rows keep the value as sent";
}

TEST_F(EngineMatchingTest, WithoutNormalisationValuesMatchByteForByte) {
  auto e = Make();
  const ContactId a = Identify(*e, "A@x.com", "").primary;
  const ContactId b = Identify(*e, "a@x.com", "").primary;
  EXPECT_NE(a, b);
  EXPECT_TRUE(out_.canonical_email.empty()) << "no canonical keys when off";
}

TEST_F(EngineMatchingTest, GuardedValueIsDroppedAndStoredNowhere) {
  auto e = Make();
  GuardEntry entry;
  bool changed = false;
  ASSERT_TRUE(e->Guard(GuardField::kEmail, " test@test.com ", false, true, &entry, &changed, nullptr).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(entry.value, "test@test.com");
  EXPECT_EQ(entry.reason, GuardReason::kApi);
  ASSERT_TRUE(e->Guard(GuardField::kEmail, "test@test.com", false, true, &entry, &changed, nullptr).ok());
  EXPECT_FALSE(changed) << "guarding twice changes nothing";

  OwnedView v = Identify(*e, "test@test.com", "555");
  EXPECT_EQ(out_.guarded, kGuardedEmail);
  EXPECT_TRUE(v.emails.empty()) << "the guarded email is stored nowhere";
  OwnedView w = Identify(*e, "test@test.com", "666");
  EXPECT_NE(w.primary, v.primary) << "a guarded value joins nobody";

  const std::size_t before = e->contact_count();
  const Seq seq = e->last_seq();
  Status s = Try(*e, "test@test.com", "");
  EXPECT_TRUE(s.IsGuarded()) << s.ToString();
  EXPECT_NE(s.message().find("email"), std::string::npos);
  EXPECT_EQ(s.message().find("test@test.com"), std::string::npos) << "names the field, not the value";
  EXPECT_EQ(e->contact_count(), before);
  EXPECT_EQ(e->last_seq(), seq);

  ASSERT_TRUE(e->Unguard(GuardField::kEmail, "test@test.com", true, &entry, nullptr).ok());
  EXPECT_TRUE(e->Unguard(GuardField::kEmail, "test@test.com", true, &entry, nullptr).IsNotFound());
  Identify(*e, "test@test.com", "555");
  EXPECT_EQ(out_.guarded, 0);
}

TEST_F(EngineMatchingTest, AutoGuardAfterTheNthCarrier) {
  auto e = Make({}, GuardSettings{3, 0});
  for (int i = 0; i < 3; ++i) {
    Identify(*e, "c" + std::to_string(i) + "@x.com", "0000000000");
    EXPECT_EQ(out_.guarded, 0) << "the request that makes the N-th carrier runs normally";
  }
  std::vector<GuardEntry> guards;
  e->ListGuards(&guards);
  ASSERT_EQ(guards.size(), 1u);
  EXPECT_EQ(guards[0].field, GuardField::kPhone);
  EXPECT_EQ(guards[0].value, "0000000000");
  EXPECT_EQ(guards[0].reason, GuardReason::kAuto);
  EXPECT_EQ(guards[0].contacts, 3u);
  OwnedView v = Identify(*e, "c9@x.com", "0000000000");
  EXPECT_EQ(out_.guarded, kGuardedPhone);
  EXPECT_EQ(v.secondaries.size(), 0u) << "the fourth customer is not fused into the first";
  ASSERT_FALSE(sink_.changes.empty());
  bool logged = false;
  for (const auto& c : sink_.changes) logged |= c.change.kind == Change::Kind::kGuard;
  EXPECT_TRUE(logged) << "an auto guard is a change";
}

TEST_F(EngineMatchingTest, ClusterCapRefusesAMergeAndChangesNothing) {
  auto e = Make({}, GuardSettings{0, 3});
  Identify(*e, "a@x", "1");
  Identify(*e, "a2@x", "1");  // cluster 1: two contacts
  Identify(*e, "b@x", "2");
  Identify(*e, "b2@x", "2");  // cluster 3: two contacts
  const Seq seq = e->last_seq();
  Status s = Try(*e, "a@x", "2");
  ASSERT_TRUE(s.IsClusterCap()) << s.ToString();
  EXPECT_EQ(out_.cap_clusters[0], 1u);
  EXPECT_EQ(out_.cap_clusters[1], 3u);
  EXPECT_EQ(e->last_seq(), seq);
  EXPECT_EQ(e->cluster_count(), 2u);

  LookupOutcome look;
  ASSERT_TRUE(e->Lookup({"a@x", "2"}, &look).ok());
  EXPECT_TRUE(look.refused_by_cap);
  EXPECT_EQ(look.creates, LookupOutcome::Creates::kNone);
  EXPECT_EQ(look.cluster_count, 2u);

  auto roomy = Make({}, GuardSettings{0, 4});
  Identify(*roomy, "a@x", "1");
  Identify(*roomy, "a2@x", "1");
  Identify(*roomy, "b@x", "2");
  Identify(*roomy, "b2@x", "2");
  EXPECT_TRUE(Try(*roomy, "a@x", "2").ok()) << "exactly the cap is allowed";
}

TEST_F(EngineMatchingTest, LookupSaysWhatIdentifyWouldDoAndChangesNothing) {
  auto e = Make();
  Identify(*e, "lorraine@x", "123456");
  Identify(*e, "george@x", "919191");
  const Seq seq = e->last_seq();
  const std::size_t contacts = e->contact_count();
  LookupOutcome look;
  ASSERT_TRUE(e->Lookup({"new@x", "777"}, &look).ok());
  EXPECT_EQ(look.creates, LookupOutcome::Creates::kPrimary);
  EXPECT_EQ(look.primary_id, 0u);
  EXPECT_EQ(look.cluster_count, 0u);
  ASSERT_TRUE(e->Lookup({"mcfly@x", "123456"}, &look).ok());
  EXPECT_EQ(look.creates, LookupOutcome::Creates::kSecondary);
  EXPECT_EQ(look.primary_id, 1u);
  ASSERT_EQ(look.cluster_count, 1u);
  ASSERT_TRUE(e->Lookup({"lorraine@x", ""}, &look).ok());
  EXPECT_EQ(look.creates, LookupOutcome::Creates::kNone);
  ASSERT_TRUE(e->Lookup({"george@x", "123456"}, &look).ok());
  EXPECT_EQ(look.creates, LookupOutcome::Creates::kNone);
  EXPECT_EQ(look.merges[0], 1u);
  EXPECT_EQ(look.merges[1], 2u);
  EXPECT_EQ(look.primary_id, 1u);
  ASSERT_EQ(look.cluster_count, 2u);
  EXPECT_EQ(look.clusters[0].primary_id, 1u);
  EXPECT_EQ(look.clusters[1].primary_id, 2u);
  EXPECT_EQ(e->last_seq(), seq);
  EXPECT_EQ(e->contact_count(), contacts);
  EXPECT_TRUE(e->Lookup({"", ""}, &look).IsInvalidArgument());
}

TEST_F(EngineMatchingTest, ReplayRebuildsGuardsAndCounts) {
  auto e = Make({true, "US"}, GuardSettings{2, 0});
  Identify(*e, "A@x", "(201) 555-0123");
  Identify(*e, "b@x", "201-555-0123");  // second carrier: auto guard
  GuardEntry entry;
  bool changed = false;
  ASSERT_TRUE(e->Guard(GuardField::kEmail, "Shop@x", false, true, &entry, &changed, nullptr).ok());
  ASSERT_TRUE(e->Guard(GuardField::kEmail, "gone@x", false, true, &entry, &changed, nullptr).ok());
  ASSERT_TRUE(e->Unguard(GuardField::kEmail, "gone@x", true, &entry, nullptr).ok());
  Identify(*e, "a@X", "");
  auto replayed = Make({true, "US"}, GuardSettings{2, 0});
  sink_.ReplayInto(replayed.get());
  std::vector<GuardEntry> want, got;
  e->ListGuards(&want);
  replayed->ListGuards(&got);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].value, want[i].value);
    EXPECT_EQ(got[i].reason, want[i].reason);
    EXPECT_EQ(got[i].contacts, want[i].contacts);
    EXPECT_EQ(got[i].since, want[i].since);
  }
  EXPECT_EQ(e->cluster_count(), replayed->cluster_count());
  EXPECT_EQ(e->last_seq(), replayed->last_seq());
}

TEST_F(EngineMatchingTest, ConcurrentCarriersNeverPassTheAutoGuard) {
  const std::uint64_t seed = testing::TestSeed();
  constexpr std::uint32_t kThreshold = 50;
  auto e = Make({}, GuardSettings{kThreshold, 0});
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(t));
      IdentifyOutcome out;
      for (int i = 0; i < 100; ++i) {
        const int n = next.fetch_add(1);
        const std::string phone = (rng() % 2 == 0) ? "0000000000" : "1234567890";
        e->Identify({"u" + std::to_string(n) + "@x", phone}, &out);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  std::vector<GuardEntry> guards;
  e->ListGuards(&guards);
  ASSERT_EQ(guards.size(), 2u) << "seed " << seed;
  for (const GuardEntry& g : guards) EXPECT_EQ(g.contacts, kThreshold) << g.value << " seed " << seed;
}

TEST_F(EngineMatchingTest, ConcurrentMergesNeverPassTheCap) {
  const std::uint64_t seed = testing::TestSeed();
  constexpr std::uint32_t kCap = 8;
  constexpr int kPeople = 200;
  auto e = Make({}, GuardSettings{0, kCap});
  for (int i = 0; i < kPeople; ++i) Identify(*e, "e" + std::to_string(i), "p" + std::to_string(i));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 31 + static_cast<std::uint64_t>(t));
      IdentifyOutcome out;
      for (int i = 0; i < 2000; ++i) {
        e->Identify({"e" + std::to_string(rng() % kPeople), "p" + std::to_string(rng() % kPeople)}, &out);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  IdentifyOutcome out;
  for (int i = 0; i < kPeople; ++i) {
    ASSERT_TRUE(e->Identify({"e" + std::to_string(i), ""}, &out).ok());
    EXPECT_LE(out.cluster.secondary_ids.size() + 1, kCap) << "seed " << seed;
  }
}

}  // namespace
}  // namespace idrecon
