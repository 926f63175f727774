// Randomized differential test: thousands of requests over small value pools
// (so merges are frequent), every response of the engine compared with the
// reference model, and every row compared at the end. The seed is printed;
// rerun one with IDRECON_SEED=<seed>.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
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
    ASSERT_EQ(Own(out.cluster), expected.view) << "request " << i << ": email '" << email << "' phone '" << phone << "'";
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

// docs/api.md §6–§8: the same comparison with normalisation on (phones in
// several spellings of few numbers, emails in mixed case), the automatic
// guard, the cluster cap, guards put and removed through the API, and
// Lookup checked against what the model then does.
TEST(EngineMatchingDifferentialTest, MatchesReferenceModel) {
  const std::uint64_t seed = SeedFromEnvOr(std::random_device{}());
  std::cout << "[ seed ] IDRECON_SEED=" << seed << "\n";
  SCOPED_TRACE("IDRECON_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  ManualClock clock(1'700'000'000'000);
  Engine::Options options{&clock, nullptr, 16, nullptr};
  options.normalization = NormalizationSettings{true, "US"};
  options.guard = GuardSettings{7, 12};
  Engine engine(options);
  const MatchKeys keys(options.normalization);
  ReferenceModel::Options model_options;
  model_options.email_key = [&keys](const std::string& v) {
    std::string scratch;
    return std::string(keys.EmailKey(v, &scratch));
  };
  model_options.phone_key = [&keys](const std::string& v) {
    std::string scratch;
    return std::string(keys.PhoneKey(v, &scratch));
  };
  model_options.max_contacts = 7;
  model_options.max_cluster = 12;
  ReferenceModel model(model_options);

  const char* kPhoneForms[] = {"+1 201-555-01%02d", "(201) 555-01%02d", "201.555.01%02d", "2015550 1%02d"};
  auto email = [&]() -> std::string {
    if (rng() % 5 == 0) return "";
    std::string v = "User" + std::to_string(rng() % 150) + "@Example.com";
    if (rng() % 2) std::transform(v.begin(), v.end(), v.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
    return v;
  };
  auto phone = [&]() -> std::string {
    if (rng() % 5 == 0) return "";
    char buf[40];
    std::snprintf(buf, sizeof(buf), kPhoneForms[rng() % 4], static_cast<int>(rng() % 90));
    return buf;
  };
  for (int i = 0; i < 3000; ++i) {
    clock.Advance(static_cast<Millis>(rng() % 20));
    if (rng() % 50 == 0) {  // the API's guards
      const bool on_email = rng() % 2;
      const std::string v = on_email ? email() : phone();
      if (v.empty()) continue;
      const std::string key = on_email ? model_options.email_key(v) : model_options.phone_key(v);
      GuardEntry entry;
      bool changed = false;
      if (rng() % 2) {
        ASSERT_TRUE(engine.Guard(on_email ? GuardField::kEmail : GuardField::kPhone, v, false, true, &entry, &changed,
                                 nullptr).ok());
        model.Guard(on_email, key);
      } else {
        const Status s = engine.Unguard(on_email ? GuardField::kEmail : GuardField::kPhone, v, true, &entry, nullptr);
        ASSERT_EQ(s.ok(), model.Unguard(on_email, key)) << s.ToString() << " request " << i;
      }
      continue;
    }
    const std::string e = email(), p = phone();
    if (e.empty() && p.empty()) continue;
    LookupOutcome look;
    const Status ls = engine.Lookup({e, p}, &look);
    const std::size_t rows_before = model.rows().size();
    IdentifyOutcome out;
    const Status s = engine.Identify({e, p}, &out);
    const auto want = model.Identify(e, p, clock.NowMillis());
    const std::string where = "request " + std::to_string(i) + ": '" + e + "' '" + p + "'";
    ASSERT_EQ(out.guarded, want.guarded) << where;
    ASSERT_EQ(look.guarded, want.guarded) << where;
    if (want.result == ReferenceModel::Result::kGuarded) {
      ASSERT_TRUE(s.IsGuarded()) << s.ToString() << " " << where;
      ASSERT_TRUE(ls.IsGuarded()) << where;
      continue;
    }
    ASSERT_TRUE(ls.ok()) << ls.ToString() << " " << where;
    if (want.result == ReferenceModel::Result::kClusterCap) {
      ASSERT_TRUE(s.IsClusterCap()) << s.ToString() << " " << where;
      ASSERT_EQ(out.cap_clusters[0], want.cap[0]) << where;
      ASSERT_EQ(out.cap_clusters[1], want.cap[1]) << where;
      ASSERT_TRUE(look.refused_by_cap) << where;
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.ToString() << " " << where;
    ASSERT_EQ(Own(out.cluster), want.view) << where;
    EXPECT_EQ(out.canonical_email, e.empty() ? "" : model_options.email_key(e)) << where;
    EXPECT_EQ(out.canonical_phone, p.empty() ? "" : model_options.phone_key(p)) << where;
    // What Lookup said Identify would do, it did.
    const bool created = model.rows().size() > rows_before;
    ASSERT_FALSE(look.refused_by_cap) << where;
    ASSERT_EQ(look.creates == LookupOutcome::Creates::kNone, !created) << where;
    if (created) {
      ASSERT_EQ(look.creates == LookupOutcome::Creates::kPrimary, model.rows().back().linked_id == 0) << where;
    }
    ASSERT_EQ(look.merges[0] != 0, out.merged) << where;
    if (look.creates != LookupOutcome::Creates::kPrimary) {
      ASSERT_EQ(look.primary_id, want.view.primary) << where;
    }
  }
  for (const auto& r : model.rows()) {
    ContactRow row;
    ASSERT_TRUE(engine.GetContact(r.id, &row).ok());
    EXPECT_EQ(row.linked_id, r.linked_id) << r.id;
    EXPECT_EQ(row.updated_at, r.updated_at) << r.id;
  }
  std::vector<GuardEntry> guards;
  engine.ListGuards(&guards);
  std::cout << "[ info ] " << model.rows().size() << " contacts, " << guards.size() << " guarded values\n";
}

INSTANTIATE_TEST_SUITE_P(
    Pools, EngineDifferentialTest,
    ::testing::Values(Params{"tiny", 6, 6, 3000, nullptr}, Params{"small", 40, 40, 5000, nullptr},
                      Params{"lopsided", 200, 15, 5000, nullptr}, Params{"colliding", 30, 30, 3000, &LengthHash}),
    [](const ::testing::TestParamInfo<Params>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace idrecon
