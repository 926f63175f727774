#include "engine/value_index.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace idrecon {
namespace {

// The carrier Find names, 0 for none.
template <class Matches>
ContactId Carrier(ValueIndex& index, std::string_view key, std::uint64_t hash, const Matches& matches) {
  const ValueIndex::Entry* e = index.Find(key, hash, matches);
  return e == nullptr ? 0 : e->carrier;
}

TEST(ValueIndexTest, CollidingHashesAreKeptApart) {
  std::map<ContactId, std::string> values = {{1, "alpha"}, {2, "beta"}, {3, "gamma"}};
  ValueIndex index;
  std::string_view probe;
  auto matches = [&](ContactId id) { return std::string_view(values.at(id)) == probe; };
  auto find = [&](std::string_view key, std::uint64_t hash) {
    probe = key;
    return Carrier(index, key, hash, matches);
  };
  EXPECT_EQ(find("alpha", 7), 0u);
  index.PrepareInsert("alpha", 7);
  index.Insert("alpha", 7, 1);
  EXPECT_EQ(find("beta", 7), 0u) << "same hash, different bytes: not a hit";
  index.PrepareInsert("beta", 7);
  index.Insert("beta", 7, 2);
  index.PrepareInsert("gamma", 9);
  index.Insert("gamma", 9, 3);
  EXPECT_EQ(find("alpha", 7), 1u);
  EXPECT_EQ(find("beta", 7), 2u);
  EXPECT_EQ(find("gamma", 9), 3u);
  EXPECT_EQ(find("delta", 7), 0u);
  EXPECT_EQ(find("delta", 8), 0u);
  probe = "beta";
  ASSERT_NE(index.Find("beta", 7, matches), nullptr);
  EXPECT_EQ(index.Find("beta", 7, matches)->carriers, 1u) << "a new value has its one carrier";
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.collisions(), 1u);
}

TEST(ValueIndexTest, ManyValuesOnOneHashStayApart) {
  // The overflow map is probed by bytes (a tree, not another hash table), so
  // a pile of collisions is still found value by value.
  constexpr ContactId kValues = 5000;
  std::map<ContactId, std::string> values;
  for (ContactId id = 1; id <= kValues; ++id) values[id] = "v" + std::to_string(id * 7919 % 100003);
  ValueIndex index;
  std::string_view probe;
  auto matches = [&](ContactId id) { return std::string_view(values.at(id)) == probe; };
  auto find = [&](std::string_view key) {
    probe = key;
    return Carrier(index, key, 1, matches);
  };
  for (ContactId id = 1; id <= kValues; ++id) {
    ASSERT_EQ(find(values[id]), 0u) << id;
    index.PrepareInsert(values[id], 1);
    index.Insert(values[id], 1, id);
  }
  EXPECT_EQ(index.collisions(), kValues - 1);
  for (ContactId id = 1; id <= kValues; ++id) EXPECT_EQ(find(values[id]), id);
  EXPECT_EQ(find("v-not-there"), 0u);
  EXPECT_EQ(index.FindCollided("v-not-there"), nullptr);
}

}  // namespace
}  // namespace idrecon
