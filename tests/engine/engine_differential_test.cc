// Randomized differential test: thousands of requests over small value pools
// (so merges are frequent), every response of the engine compared with the
// reference model, and every row compared at the end. The seed is printed;
// rerun one with IDRECON_SEED=<seed>.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "engine/engine.h"
#include "engine_test_util.h"
#include "reference_model.h"

namespace idrecon {
namespace {

using testing::Own;
using testing::ReferenceModel;

std::uint64_t SeedFromEnvOr(std::uint64_t fallback) {
  const char* s = std::getenv("IDRECON_SEED");
  return s ? std::strtoull(s, nullptr, 10) : fallback;
}

std::uint64_t LengthHash(std::string_view s) { return s.size(); }  // collides constantly

struct Params {
  const char* name;
  int email_pool;
  int phone_pool;
  int requests;
  std::uint64_t (*hash)(std::string_view);
};

void PrintTo(const Params& p, std::ostream* os) { *os << p.name; }

class EngineDifferentialTest : public ::testing::TestWithParam<Params> {};

TEST_P(EngineDifferentialTest, MatchesReferenceModel) {
  const Params& p = GetParam();
  const std::uint64_t seed = SeedFromEnvOr(std::random_device{}());
  std::cout << "[ seed ] IDRECON_SEED=" << seed << "\n";
  SCOPED_TRACE("IDRECON_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);

  ManualClock clock(1'700'000'000'000);
  Engine engine(Engine::Options{&clock, nullptr, 16, p.hash});
  ReferenceModel model;

  auto pick = [&](int pool, const char* prefix, const char* suffix) -> std::string {
    // One in five: absent; one in ten of the rest: padded with whitespace.
    if (rng() % 5 == 0) return "";
    std::string v = prefix + std::to_string(rng() % pool) + suffix;
    if (rng() % 10 == 0) v = " \t" + v + "\r\n";
    return v;
  };

  for (int i = 0; i < p.requests; ++i) {
    // Time moves forward mostly, stands still often, and sometimes steps back.
    const int step = static_cast<int>(rng() % 10);
    if (step < 6) clock.Advance(static_cast<Millis>(rng() % 50));
    else if (step == 9) clock.Advance(-static_cast<Millis>(rng() % 200));

    const std::string email = pick(p.email_pool, "user", "@example.com");
    const std::string phone = pick(p.phone_pool, "+1555", "");
    IdentifyOutcome out;
    Status s = engine.Identify({email, phone}, &out);
    const std::string te(TrimAsciiWhitespace(email)), tp(TrimAsciiWhitespace(phone));
    if (te.empty() && tp.empty()) {
      ASSERT_TRUE(s.IsInvalidArgument()) << "request " << i;
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    const auto expected = model.Identify(te, tp, clock.NowMillis());
    ASSERT_EQ(Own(out.cluster), expected) << "request " << i << ": email '" << email << "' phone '" << phone << "'";
  }

  ASSERT_EQ(engine.contact_count(), model.rows().size());
  std::size_t primaries = 0;
  for (const auto& r : model.rows()) {
    ContactRow row;
    ASSERT_TRUE(engine.GetContact(r.id, &row).ok());
    EXPECT_EQ(row.email, r.email) << r.id;
    EXPECT_EQ(row.phone, r.phone) << r.id;
    EXPECT_EQ(row.linked_id, r.linked_id) << r.id;
    EXPECT_EQ(row.is_primary, r.linked_id == 0) << r.id;
    EXPECT_EQ(row.created_at, r.created_at) << r.id;
    EXPECT_EQ(row.updated_at, r.updated_at) << r.id;
    primaries += r.linked_id == 0;
  }
  EXPECT_EQ(engine.cluster_count(), primaries);
  std::cout << "[ info ] " << model.rows().size() << " contacts in " << primaries << " clusters\n";
}

INSTANTIATE_TEST_SUITE_P(
    Pools, EngineDifferentialTest,
    ::testing::Values(Params{"tiny", 6, 6, 3000, nullptr}, Params{"small", 40, 40, 5000, nullptr},
                      Params{"lopsided", 200, 15, 5000, nullptr}, Params{"colliding", 30, 30, 3000, &LengthHash}),
    [](const ::testing::TestParamInfo<Params>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace idrecon
