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
  index.Insert("alpha", 7, 1);
  EXPECT_EQ(index.Find("beta", 7, value_of), 0u) << "same hash, different bytes: not a hit";
  index.Insert("beta", 7, 2);
  index.Insert("gamma", 9, 3);
  EXPECT_EQ(index.Find("alpha", 7, value_of), 1u);
  EXPECT_EQ(index.Find("beta", 7, value_of), 2u);
  EXPECT_EQ(index.Find("gamma", 9, value_of), 3u);
  EXPECT_EQ(index.Find("delta", 7, value_of), 0u);
  EXPECT_EQ(index.Find("delta", 8, value_of), 0u);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.collisions(), 1u);
}

}  // namespace
}  // namespace idrecon
