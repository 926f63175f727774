// Values built to collide under std::hash (tests/engine/std_hash_collisions.h)
// are ordinary values to the engine: with its default keyed hash, with
// std::hash injected (the collisions are then real, all in one overflow map
// and one lock stripe) and with a hash under which everything collides, each
// one finds its own contact, joins only what it should, and RestoreAll of
// the rows rebuilds the same state.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine_test_util.h"
#include "std_hash_collisions.h"

namespace idrecon {
namespace {

using testing::Own;

std::uint64_t StdHash(std::string_view s) { return std::hash<std::string_view>{}(s); }
std::uint64_t OneHash(std::string_view) { return 99; }

struct FloodParams {
  const char* name;
  std::uint64_t (*hash)(std::string_view);
};

class EngineFloodTest : public ::testing::TestWithParam<FloodParams> {};

// Each flood value i is contact i's email; contacts 2j and 2j+1 also share
// phone j, so each pair is one cluster.
void ExpectFloodAnswers(Engine& engine, const std::vector<std::string>& flood) {
  IdentifyOutcome out;
  for (std::size_t i = 0; i < flood.size(); ++i) {
    ASSERT_TRUE(engine.Identify({flood[i], ""}, &out).ok());
    ASSERT_FALSE(out.created_contact) << i;
    const auto first = static_cast<ContactId>(i / 2 * 2 + 1);
    ASSERT_EQ(out.cluster.primary_id, first) << i;
    ASSERT_EQ(out.cluster.emails.size(), 2u) << i;
    EXPECT_EQ(out.cluster.emails[0], flood[first - 1]);
  }
}

TEST_P(EngineFloodTest, CollidingValuesStayApartAndRestore) {
  constexpr std::size_t kValues = 3000;
  const std::vector<std::string> flood = testing::StdHashCollisions(kValues);
  ManualClock clock(1000);
  Engine engine(Engine::Options{&clock, nullptr, 16, GetParam().hash});
  IdentifyOutcome out;
  for (std::size_t i = 0; i < kValues; ++i) {
    clock.Advance(1);
    ASSERT_TRUE(engine.Identify({flood[i], "+1" + std::to_string(i / 2)}, &out).ok());
    ASSERT_TRUE(out.created_contact) << i;
    ASSERT_EQ(out.cluster.primary_id, static_cast<ContactId>(i / 2 * 2 + 1)) << i;
  }
  EXPECT_EQ(engine.cluster_count(), kValues / 2);
  ExpectFloodAnswers(engine, flood);

  // Joining two pairs through two colliding values.
  ASSERT_TRUE(engine.Identify({flood[10], "+1" + std::to_string(20 / 2)}, &out).ok());
  EXPECT_TRUE(out.merged);
  EXPECT_EQ(out.cluster.primary_id, 11u);
  EXPECT_EQ(out.cluster.secondary_ids, (std::vector<ContactId>{12, 21, 22}));

  const std::vector<testing::OwnedRow> rows = testing::Rows(engine);
  ManualClock clock2(1000);
  Engine::Options options{&clock2, nullptr, 16, GetParam().hash};
  options.restore_threads = 2;
  Engine restored(options);
  ASSERT_TRUE(restored.RestoreAll(testing::VectorRows(rows)).ok());
  restored.FinishRestore(engine.last_seq());
  EXPECT_EQ(restored.cluster_count(), engine.cluster_count());
  ASSERT_EQ(testing::Rows(restored), rows);
  IdentifyOutcome x, y;
  for (std::size_t i = 0; i < kValues; i += 7) {
    ASSERT_TRUE(engine.Identify({flood[i], ""}, &x).ok());
    ASSERT_TRUE(restored.Identify({flood[i], ""}, &y).ok());
    ASSERT_FALSE(y.created_contact) << i;
    ASSERT_EQ(Own(x.cluster), Own(y.cluster)) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Hashes, EngineFloodTest,
                         ::testing::Values(FloodParams{"keyed_default", nullptr}, FloodParams{"std_hash", &StdHash},
                                           FloodParams{"all_colliding", &OneHash}),
                         [](const ::testing::TestParamInfo<FloodParams>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace idrecon
