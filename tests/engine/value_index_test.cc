#include "engine/value_index.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace idrecon {
namespace {

TEST(ValueIndexTest, CollidingHashesAreKeptApart) {
  std::map<ContactId, std::string> values = {{1, "alpha"}, {2, "beta"}, {3, "gamma"}};
  auto value_of = [&](ContactId id) { return std::string_view(values.at(id)); };
  ValueIndex index;
  EXPECT_EQ(index.Find("alpha", 7, value_of), 0u);
  index.PrepareInsert("alpha", 7);
  index.Insert("alpha", 7, 1);
  EXPECT_EQ(index.Find("beta", 7, value_of), 0u) << "same hash, different bytes: not a hit";
  index.PrepareInsert("beta", 7);
  index.Insert("beta", 7, 2);
  index.PrepareInsert("gamma", 9);
  index.Insert("gamma", 9, 3);
  EXPECT_EQ(index.Find("alpha", 7, value_of), 1u);
  EXPECT_EQ(index.Find("beta", 7, value_of), 2u);
  EXPECT_EQ(index.Find("gamma", 9, value_of), 3u);
  EXPECT_EQ(index.Find("delta", 7, value_of), 0u);
  EXPECT_EQ(index.Find("delta", 8, value_of), 0u);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.collisions(), 1u);
}

TEST(ValueIndexTest, ManyValuesOnOneHashStayApart) {
  // The overflow map is probed by bytes (a tree, not another hash table), so
  // a pile of collisions is still found value by value.
  constexpr ContactId kValues = 5000;
  std::map<ContactId, std::string> values;
  for (ContactId id = 1; id <= kValues; ++id) values[id] = "v" + std::to_string(id * 7919 % 100003);
  auto value_of = [&](ContactId id) { return std::string_view(values.at(id)); };
  ValueIndex index;
  for (ContactId id = 1; id <= kValues; ++id) {
    ASSERT_EQ(index.Find(values[id], 1, value_of), 0u) << id;
    index.PrepareInsert(values[id], 1);
    index.Insert(values[id], 1, id);
  }
  EXPECT_EQ(index.collisions(), kValues - 1);
  for (ContactId id = 1; id <= kValues; ++id) EXPECT_EQ(index.Find(values[id], 1, value_of), id);
  EXPECT_EQ(index.Find("v-not-there", 1, value_of), 0u);
  EXPECT_EQ(index.FindCollided("v-not-there"), 0u);
}

}  // namespace
}  // namespace idrecon
