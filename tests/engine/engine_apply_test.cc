// Engine::Apply: replaying the changes an engine emitted rebuilds the same
// state (the basis of recovery), and a change that does not fit is refused.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine_test_util.h"

namespace idrecon {
namespace {

using testing::Own;

void ExpectSameState(const Engine& a, const Engine& b) {
  ASSERT_EQ(a.contact_count(), b.contact_count());
  ASSERT_EQ(a.cluster_count(), b.cluster_count());
  ASSERT_EQ(a.last_seq(), b.last_seq());
  for (ContactId id = 1; id <= a.contact_count(); ++id) {
    ContactRow x, y;
    ASSERT_TRUE(a.GetContact(id, &x).ok());
    ASSERT_TRUE(b.GetContact(id, &y).ok());
    EXPECT_EQ(x.email, y.email) << id;
    EXPECT_EQ(x.phone, y.phone) << id;
    EXPECT_EQ(x.linked_id, y.linked_id) << id;
    EXPECT_EQ(x.created_at, y.created_at) << id;
    EXPECT_EQ(x.updated_at, y.updated_at) << id;
  }
}

TEST(EngineApplyTest, ReplayingChangesRebuildsTheSameState) {
  const std::uint64_t seed = std::random_device{}();
  std::cout << "[ seed ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  ManualClock clock(1000);
  testing::RecordingSink sink;
  Engine live(Engine::Options{&clock, &sink, 16, nullptr});
  for (int i = 0; i < 3000; ++i) {
    clock.Advance(static_cast<Millis>(rng() % 3));
    std::string e = rng() % 4 ? "e" + std::to_string(rng() % 60) : "";
    std::string p = rng() % 4 || e.empty() ? "p" + std::to_string(rng() % 60) : "";
    IdentifyOutcome out;
    ASSERT_TRUE(live.Identify({e, p}, &out).ok());
  }
  ManualClock other(0);
  Engine replayed(Engine::Options{&other, nullptr, 4, nullptr});
  for (const Change& c : sink.Changes()) ASSERT_TRUE(replayed.Apply(c).ok()) << c.seq;
  ExpectSameState(live, replayed);

  // The replayed engine answers like the live one and continues the ids.
  IdentifyOutcome a, b;
  ASSERT_TRUE(live.Identify({"e1", "brand-new"}, &a).ok());
  ASSERT_TRUE(replayed.Identify({"e1", "brand-new"}, &b).ok());
  EXPECT_EQ(Own(a.cluster), Own(b.cluster));
  EXPECT_EQ(a.first_change_seq, b.first_change_seq);
}

TEST(EngineApplyTest, RefusesChangesThatDoNotFit) {
  ManualClock clock(0);
  Engine engine(Engine::Options{&clock, nullptr, 4, nullptr});
  Change c;
  c.kind = Change::Kind::kCreateContact;
  c.seq = 1;
  c.id = 2;  // the next id is 1
  c.email = "a@x";
  EXPECT_TRUE(engine.Apply(c).IsCorruption());
  c.id = 1;
  c.linked_to = 5;  // no such primary
  EXPECT_TRUE(engine.Apply(c).IsCorruption());
  c.linked_to = 0;
  c.email = "";
  EXPECT_TRUE(engine.Apply(c).IsCorruption()) << "neither email nor phone";
  c.email = "a@x";
  ASSERT_TRUE(engine.Apply(c).ok());
  EXPECT_TRUE(engine.Apply(c).IsCorruption()) << "seq must increase";

  Change d;
  d.kind = Change::Kind::kDemote;
  d.seq = 2;
  d.id = 1;
  d.linked_to = 1;
  EXPECT_TRUE(engine.Apply(d).IsCorruption()) << "demote under itself";
  d.linked_to = 3;
  EXPECT_TRUE(engine.Apply(d).IsCorruption()) << "no such contact";
  EXPECT_EQ(engine.contact_count(), 1u);
  EXPECT_EQ(engine.cluster_count(), 1u);
}

}  // namespace
}  // namespace idrecon
