// ValueHasher: the engine's keyed hash keeps apart values built to collide
// under std::hash, and every hasher draws its own key.
#include "engine/value_hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "std_hash_collisions.h"

namespace idrecon {
namespace {

using testing::StdHashCollisions;

TEST(StdHashCollisionsTest, ReallyCollideUnderStdHash) {
  if (!testing::kStdHashIsMurmur64A) GTEST_SKIP() << "std::hash here is not libstdc++'s 64-bit murmur";
  const std::vector<std::string> values = StdHashCollisions(1000);
  std::set<std::string> distinct(values.begin(), values.end());
  ASSERT_EQ(distinct.size(), values.size());
  const std::uint64_t h = std::hash<std::string_view>{}(values[0]);
  for (const std::string& v : values) EXPECT_EQ(std::hash<std::string_view>{}(v), h);
}

TEST(ValueHasherTest, KeyedHashSeparatesStdHashCollisions) {
  const ValueHasher hash;
  const std::vector<std::string> values = StdHashCollisions(10000);
  std::set<std::uint64_t> hashes, stripe_keys;
  for (const std::string& v : values) {
    hashes.insert(hash(v));
    stripe_keys.insert(hash(v) >> 32);  // the engine picks lock stripes by the high half
  }
  // 10^4 random 64-bit values all differ but with probability ~3e-12; the
  // 32-bit halves collide a few times at most.
  EXPECT_EQ(hashes.size(), values.size());
  EXPECT_GT(stripe_keys.size(), values.size() - 10);
}

TEST(ValueHasherTest, EveryHasherDrawsItsOwnKey) {
  // Two engines (or two runs of the server) hash the same value differently.
  const ValueHasher a, b;
  int same = 0;
  for (const std::string v : {"a@example.com", "+15550001234", "x"}) same += a(v) == b(v);
  EXPECT_EQ(same, 0);
  EXPECT_EQ(a("a@example.com"), a("a@example.com"));
}

TEST(ValueHasherTest, IsSipHash24UnderItsKey) {
  // The reference vector of the SipHash paper (Aumasson and Bernstein,
  // appendix A): key 00..0f, message 00..0e.
  ValueHasher::Key key;
  for (unsigned i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i);
  std::string message;
  for (char c = 0; c < 15; ++c) message.push_back(c);
  EXPECT_EQ(ValueHasher(key)(message), 0xa129ca6149be45e5ULL);
}

std::uint64_t SeventeenHash(std::string_view) { return 17; }

TEST(ValueHasherTest, AnInjectedHashReplacesTheKeyedOne) {
  const ValueHasher hash(&SeventeenHash);
  EXPECT_EQ(hash("anything"), 17u);
}

}  // namespace
}  // namespace idrecon
